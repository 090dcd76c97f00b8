/*
 * Security posture of the HTTP server (DESIGN.md §5), in the order the middleware applies it:
 * - it listens on 127.0.0.1 unless told otherwise (see listener.ts; a non-loopback bind warns);
 * - no CORS: no Access-Control-* header is ever sent, so other web origins cannot read answers;
 * - every admin route needs an admin token (HS256 JWT, signed with the data folder's key),
 *   except the one-time-code exchange; SCIM tokens are refused on the admin API;
 * - request bodies are capped (1 MiB) and read only as JSON;
 * - errors never carry stack traces; unknown failures are logged here and answered with a bare 500;
 * - every SCIM and admin request is captured in the request log, with credentials, cookies,
 *   token-like query parameters and passwords redacted; the login-code exchange keeps no bodies.
 */
import Koa, { type Middleware, type Next } from 'koa';
import type { AdminHandlers } from '@shared/contract';
import type { SchemaRegistry } from '@shared/scim/registry';
import type { AdminTokens } from '../auth/admin-tokens';
import type { LoginCodes } from '../auth/login-codes';
import type { ServerCapabilities } from '../scim/service-provider-config';
import type { Clock } from '../clock';
import type { Logger } from '../services/admin-dispatch';
import type { FeedFilter, RequestLog } from '../services/request-log/index';
import type { IdentityService } from '../services/identities/identity-service';
import type { ScimTokenService } from '../services/scim-tokens';
import type { DurableStore } from '../store/durable-store';
import { createAdminRouter } from './admin-router';
import { mountApiDocs } from './api-docs';
import { withUnreservedDecoded } from '@shared/percent-encoding';
import { areaOf } from './areas';
import { captureRequests } from './capture';
import { serveConsole } from './console-static';
import { errorMiddleware } from './error-middleware';
import { answeringWhatIsDurable } from './durable-answers';
import { refusingInvalidHost } from './public-origin';
import { presumedCaller } from './scim/auth';
import { scimRoutes } from './scim/router';

export interface HttpAppDeps {
  handlers: AdminHandlers;
  tokens: AdminTokens;
  loginCodes: LoginCodes;
  capabilities: ServerCapabilities;
  rendererDir: string;
  sessionTtlSeconds: number;
  log: Logger;
  registry: SchemaRegistry;
  identities: IdentityService;
  scimTokens: ScimTokenService;
  store: DurableStore;
  requestLog: RequestLog;
  requireLogFilterOwners: (filter: FeedFilter) => Promise<void>;
  clock: Clock;
  streams: Set<() => void>;
}

/**
 * Sends each request to its own area's routers only. A router tests every one of its routes
 * against a path: skipping the admin API's routes on SCIM traffic (and the reverse) saves that on
 * every request, and one dispatch is one middleware layer instead of one per router.
 */
type AreaMiddleware<T> = (ctx: T, next: Next) => Promise<unknown>;

function byArea<A, S>(
  admin: { allowedMethods: AreaMiddleware<A>; routes: AreaMiddleware<A> },
  scim: AreaMiddleware<S>,
): Middleware {
  return (ctx, next) => {
    const area = areaOf(ctx.path);
    if (area === 'console') return next();
    if (ctx.path.includes('%')) ctx.path = withUnreservedDecoded(ctx.path);
    if (area === 'scim') return scim(ctx as S, next);
    // As app.use(allowedMethods) then app.use(routes): allowedMethods answers 405/501 after routes.
    return admin.allowedMethods(ctx as A, () => admin.routes(ctx as A, next));
  };
}

/**
 * On every answer, errors included: `nosniff`, so that a browser never reads a JSON answer (or the
 * plain-text 404 of a path that is no API path, `/scim/v2;x`, which echoes the path) as a script or
 * a page; and on the admin API `no-store`, whose answers carry a new SCIM token's secret, a
 * session's admin token and the request log's user data, none of which belongs in a cache.
 */
function apiResponseHeaders() {
  return async function setApiHeaders(ctx: Koa.Context, next: Koa.Next): Promise<void> {
    ctx.set('X-Content-Type-Options', 'nosniff');
    if (areaOf(ctx.path) === 'admin') ctx.set('Cache-Control', 'no-store');
    await next();
  };
}

export function createHttpApp(deps: HttpAppDeps): Koa {
  const app = new Koa();
  // Koa would print every error itself; ours are rendered and logged by errorMiddleware.
  app.silent = true;

  const admin = createAdminRouter(deps);

  app.use(captureRequests(deps.requestLog, deps.clock, presumedCaller({ ...deps, adminTokens: deps.tokens })));
  app.use(errorMiddleware(deps.log));
  app.use(apiResponseHeaders());
  app.use(refusingInvalidHost());
  app.use(answeringWhatIsDurable(deps.store));
  app.use(
    byArea(
      { allowedMethods: admin.allowedMethods(), routes: admin.routes() },
      scimRoutes({ ...deps, adminTokens: deps.tokens }),
    ),
  );
  mountApiDocs(app, { registry: deps.registry, capabilities: deps.capabilities });
  app.use(serveConsole(deps.rendererDir));
  return app;
}
