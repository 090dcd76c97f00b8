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
import type { RequestLog } from '../services/request-log/index';
import type { IdentityService } from '../services/identities/identity-service';
import type { ScimTokenService } from '../services/scim-tokens';
import type { DurableStore } from '../store/durable-store';
import { createAdminRouter } from './admin-router';
import { mountApiDocs } from './api-docs';
import { areaOf, type Area } from './areas';
import { captureRequests } from './capture';
import { serveConsole } from './console-static';
import { errorMiddleware } from './error-middleware';
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
  clock: Clock;
  streams: Set<() => void>;
}

/**
 * Runs a router only for its own area. Each router tests every one of its routes against a path;
 * skipping the admin API's routes on SCIM traffic (and the reverse) saves that on every request.
 */
function onlyFor<T>(area: Area, middleware: (ctx: T, next: Next) => Promise<unknown>): Middleware {
  return (ctx, next) => (areaOf(ctx.path) === area ? middleware(ctx as T, next) : next());
}

export function createHttpApp(deps: HttpAppDeps): Koa {
  const app = new Koa();
  // Koa would print every error itself; ours are rendered and logged by errorMiddleware.
  app.silent = true;

  const admin = createAdminRouter(deps);

  app.use(captureRequests(deps.requestLog, deps.clock));
  app.use(errorMiddleware(deps.log));
  app.use(onlyFor('admin', admin.allowedMethods({ throw: true })));
  app.use(onlyFor('admin', admin.routes()));
  app.use(onlyFor('scim', scimRoutes({ ...deps, adminTokens: deps.tokens })));
  mountApiDocs(app, { registry: deps.registry, capabilities: deps.capabilities });
  app.use(serveConsole(deps.rendererDir));
  return app;
}
