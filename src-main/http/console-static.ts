import { stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { send } from '@koa/send';
import type { Context, Next } from 'koa';
import { areaOf, isMisdirectedApiRequest } from './areas';

/**
 * Headless console: the built renderer as static files. Its CSP matches the one the Electron window
 * enforces, so the page behaves alike in both modes. @koa/send resolves paths under `root` and
 * refuses traversal (`..`, encoded or not) and hidden files.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function serveConsole(rendererDir: string) {
  let built: Promise<boolean> | undefined;
  const isBuilt = () =>
    (built ??= stat(`${rendererDir}/index.html`).then(
      () => true,
      () => false,
    ));

  return async function consoleFiles(ctx: Context, next: Next): Promise<void> {
    if (areaOf(ctx.path) !== 'console' || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    if (!(await isBuilt())) {
      built = undefined; // look again next time: a build may have finished meanwhile
      ctx.status = 503;
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = 'The console is not built. Run `npm run build:app` in the scimdesk folder.';
      return;
    }
    ctx.set('Content-Security-Policy', CONSOLE_CSP);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('X-Frame-Options', 'DENY');
    const hashed = isHashedAsset(ctx.path);
    try {
      await send(ctx, ctx.path === '/' ? '/index.html' : ctx.path, {
        root: rendererDir,
        index: 'index.html',
        immutable: hashed,
        maxage: hashed ? 365 * 24 * 3600 * 1000 : 0,
      });
    } catch (error) {
      const status = (error as { status?: number }).status;
      if (status === 404 || status === 400 || status === 403) {
        ctx.status = 404;
        // API traffic at a mistyped path gets the 404 that says where the APIs are (errorMiddleware).
        if (isMisdirectedApiRequest(ctx.method, ctx.get('Authorization'))) return;
        ctx.type = 'text/plain; charset=utf-8';
        ctx.body = 'Not found';
        return;
      }
      throw error;
    }
  };
}

/**
 * Whether a path names a file under /assets/ (named by its content's hash, so cached for good),
 * read as @koa/send reads it: decoded and resolved. As sent, `/assets/%2e%2e/index.html` was
 * index.html marked immutable for a year.
 */
function isHashedAsset(path: string): boolean {
  try {
    // A backslash is a separator where the file is looked up on Windows (`/assets/..%5Cindex.html`).
    return posix.normalize(decodeURIComponent(path).replaceAll('\\', '/')).startsWith('/assets/');
  } catch {
    return false;
  }
}
