/**
 * `GET /openapi.json` — the OpenAPI 3.1 document (openapi/index.ts) — and `GET /docs`, Swagger UI
 * (npm `swagger-ui-dist`) served from node_modules, so the docs work offline with no CDN.
 *
 * Both are public: the document describes routes, never data, and "Try it out" sends whatever
 * token the reader pastes, from the reader's own browser. The page is a string in this file (the
 * build copies no static files next to the sources), its only script is a same-origin file served
 * from memory, and it runs under a CSP as strict as the console's: no inline script, no inline
 * style, no `unsafe-eval`, nothing from another origin. Swagger UI's `BaseLayout` is used because
 * the `StandaloneLayout` top bar draws a logo whose SVG carries an inline `<style>`, the one thing
 * that CSP refuses; the top bar only offers a URL box that would fetch other documents anyway.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { send } from '@koa/send';
import type Koa from 'koa';
import type { Context, Next } from 'koa';
import type { SchemaRegistry } from '@shared/scim/registry';
import type { ServerCapabilities } from '../scim/service-provider-config';
import { buildOpenApiDocument } from './openapi/index';

export const OPENAPI_PATH = '/openapi.json';
export const DOCS_PATH = '/docs';
export const VIEWER_PACKAGE = 'swagger-ui-dist';

export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  // swagger-ui.css draws its icons as data: SVGs.
  "img-src 'self' data:",
  "font-src 'self'",
  // "Try it out" and the document itself: same origin only.
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The viewer's files the page uses (source maps for devtools); nothing else in the package is served. */
const VIEWER_FILES = new Set([
  'swagger-ui-bundle.js',
  'swagger-ui-bundle.js.map',
  'swagger-ui.css',
  'swagger-ui.css.map',
  'favicon-16x16.png',
  'favicon-32x32.png',
]);

const INIT_SCRIPT = 'scimdesk-init.js';

/* Absolute asset URLs, so the page works at /docs and /docs/ alike. */
const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>scimdesk API</title>
    <link rel="stylesheet" href="${DOCS_PATH}/swagger-ui.css">
    <link rel="icon" type="image/png" sizes="32x32" href="${DOCS_PATH}/favicon-32x32.png">
    <link rel="icon" type="image/png" sizes="16x16" href="${DOCS_PATH}/favicon-16x16.png">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${DOCS_PATH}/swagger-ui-bundle.js"></script>
    <script src="${DOCS_PATH}/${INIT_SCRIPT}"></script>
  </body>
</html>
`;

/*
 * validatorUrl null: no badge fetched from validator.swagger.io. queryConfigEnabled false: a
 * `?url=` in the page address must not point the viewer at another document. deepLinking: tags and
 * operations get addresses (`/docs#/scim`, seed 002).
 */
const INIT = `window.ui = SwaggerUIBundle({
  url: ${JSON.stringify(OPENAPI_PATH)},
  dom_id: '#swagger-ui',
  layout: 'BaseLayout',
  presets: [SwaggerUIBundle.presets.apis],
  deepLinking: true,
  validatorUrl: null,
  queryConfigEnabled: false,
  persistAuthorization: false,
  displayRequestDuration: true,
  defaultModelsExpandDepth: 0,
});
`;

export interface ApiDocsOptions {
  registry: SchemaRegistry;
  capabilities: ServerCapabilities;
  /** info.version; read from scimdesk's package.json when not given. */
  version?: string;
  /** Where the viewer's files are; found through node_modules when not given (tests point it elsewhere). */
  viewerDir?: () => string | undefined;
}

/** The folder of the installed viewer package, or undefined when it is not installed. */
export function findViewerDir(): string | undefined {
  try {
    return dirname(createRequire(import.meta.url).resolve(`${VIEWER_PACKAGE}/package.json`));
  } catch {
    return undefined;
  }
}

/**
 * scimdesk's own version. The module may sit in src-main/http (tests, tsx) or in a chunk under
 * out/main (the build, possibly inside app.asar), so look upwards for the package.json named
 * "scimdesk" rather than at a fixed relative path.
 */
export async function readOwnVersion(from = dirname(fileURLToPath(import.meta.url))): Promise<string> {
  for (let dir = from; ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (pkg.name === 'scimdesk' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // No package.json here (or an unreadable one): keep looking upwards.
    }
    if (dirname(dir) === dir) return '0.0.0';
  }
}

function secureHeaders(ctx: Context): void {
  ctx.set('Content-Security-Policy', DOCS_CSP);
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('X-Frame-Options', 'DENY');
}

/** Serves /openapi.json and /docs; mount before the console's static files, which would 404 them. */
export function apiDocs(options: ApiDocsOptions) {
  const viewerDir = options.viewerDir ?? findViewerDir;
  // Built on first request: the registry and capabilities are fixed for the server's lifetime.
  let document: Promise<string> | undefined;
  const documentText = () =>
    (document ??= (async () => {
      const version = options.version ?? (await readOwnVersion());
      return JSON.stringify(buildOpenApiDocument(options.registry, options.capabilities, version));
    })());

  return async function serveApiDocs(ctx: Context, next: Next): Promise<void> {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    if (ctx.path === OPENAPI_PATH) {
      ctx.type = 'application/json; charset=utf-8';
      ctx.set('Cache-Control', 'no-cache');
      ctx.set('X-Content-Type-Options', 'nosniff');
      ctx.body = await documentText();
      return;
    }
    if (ctx.path !== DOCS_PATH && !ctx.path.startsWith(`${DOCS_PATH}/`)) return next();

    const dir = viewerDir();
    if (dir === undefined) {
      ctx.status = 503;
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body =
        `The API docs viewer is not installed (npm package ${VIEWER_PACKAGE}). ` +
        `Run \`npm install\` in the scimdesk folder. The document itself is at ${OPENAPI_PATH}.`;
      return;
    }
    secureHeaders(ctx);
    const file = ctx.path.slice(DOCS_PATH.length + 1);
    if (file === '' || file === 'index.html') {
      ctx.type = 'text/html; charset=utf-8';
      ctx.set('Cache-Control', 'no-cache');
      ctx.body = PAGE;
    } else if (file === INIT_SCRIPT) {
      ctx.type = 'text/javascript; charset=utf-8';
      ctx.set('Cache-Control', 'no-cache');
      ctx.body = INIT;
    } else if (VIEWER_FILES.has(file)) {
      // The viewer's files change only with the package version; an hour of caching is plenty.
      await send(ctx, file, { root: dir, maxage: 3600 * 1000 });
    } else {
      ctx.status = 404;
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = 'Not found';
    }
  };
}

/** The one line create-app.ts needs: `mountApiDocs(app, { registry, capabilities })`. */
export function mountApiDocs(app: Koa, options: ApiDocsOptions): void {
  app.use(apiDocs(options));
}
