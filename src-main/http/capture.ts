import { performance } from 'node:perf_hooks';
import type { Context, Next } from 'koa';
import type { Clock } from '../clock';
import { MAX_IGNORED_LISTED, type IgnoredTarget } from '@shared/request-log';
import type { RequestLog, RequestLogInput } from '../services/request-log/index';
import { areaOf } from './areas';
import { requestIdSource } from './request-ids';
import type { PresumedCaller, ScimState } from './scim/auth';

/** What handlers leave on ctx.state for the request log. */
export interface CaptureState extends ScimState {
  /** The request body's text, as received (the log parses and redacts it). */
  requestBody?: unknown;
  /** `requestBody` parsed as a JSON object or array. */
  requestBodyIsJson?: boolean;
  /** The JSON text of an object that `sendScim` answered with. */
  responseJson?: string;
  /** False where bodies carry one-time secrets (the console's login code exchange). */
  captureBodies?: boolean;
  /** The query string as logged, where the request's own must not be (search text over the log). */
  loggedQuery?: string;
  /** The compatibility flag named by the error that ended the request, if any. */
  errorFlag?: string;
  /** What failed inside a request answered with success (a Bulk's failed operations). */
  partialFailure?: { message: string; code?: string } | undefined;
}

/**
 * Feeds the request log (DESIGN.md §4) with every SCIM and admin request: who called, what was sent,
 * what was answered, which compatibility flags fired. It runs outside the error middleware, so it
 * sees the final status and body. `record` is synchronous and never throws: logging cannot fail or
 * slow a request. Console files are not logged (they are not provisioning traffic).
 */
export function captureRequests(
  requestLog: RequestLog,
  clock: Clock,
  presume: (ctx: Context) => Promise<PresumedCaller | undefined> = () => Promise.resolve(undefined),
) {
  const nextRequestId = requestIdSource();
  return async function capture(ctx: Context, next: Next): Promise<void> {
    const area = areaOf(ctx.path);
    if (area === 'console') return next();
    const requestId = nextRequestId();
    (ctx.state as CaptureState).requestId = requestId;
    const startedAt = clock.now();
    const started = performance.now();
    try {
      await next();
    } finally {
      const durationMs = performance.now() - started;
      const state = ctx.state as CaptureState;
      const bodies = state.captureBodies !== false;
      const scim = state.scim;
      const caller = scim ?? (area === 'scim' ? await presume(ctx) : undefined);
      const flags: string[] = [...(scim?.compat?.fired ?? [])];
      if (state.errorFlag && !flags.includes(state.errorFlag)) flags.push(state.errorFlag);
      const path = ctx.path;
      const entry: RequestLogInput = {
        request_id: requestId,
        method: ctx.method,
        path,
        query: state.loggedQuery ?? ctx.querystring,
        tenant_id: caller?.tenantId ?? tenantInPath(path),
        token: caller?.token ? { id: caller.token.id, name: caller.token.name } : null,
        source: area === 'admin' ? 'admin' : (caller?.source ?? 'idp'),
        status: ctx.status,
        duration_ms: durationMs,
        request: {
          headers: ctx.request.headers,
          body: bodies ? state.requestBody : undefined,
          bodyIsJson: state.requestBodyIsJson === true,
        },
        response: {
          headers: ctx.response.headers,
          body: bodies ? ctx.body : undefined,
          // Only while the body is still the text sendScim wrote (an error may have replaced it).
          bodyIsJson: typeof ctx.body === 'string' && ctx.body === state.responseJson,
        },
        flags,
        ...(scim?.ignored?.length ? { ignored: listedIgnored(scim.ignored) } : {}),
        error: ctx.status >= 400 ? errorOf(ctx.body, state.authRefusal) : (state.partialFailure ?? null),
        started_at: startedAt,
      };
      // Called before Koa writes the response: `record` only queues the entry (for the log's
      // thread, or for the next turn of the event loop when the log runs here; see
      // services/index.ts), so it costs the request no redaction or serialization.
      requestLog.record(entry);
    }
  };
}

/**
 * The first ignored targets, and how many more: a body with thousands of unknown keys must not
 * make an entry (and the hand-over to the log's thread) that large.
 */
function listedIgnored(ignored: readonly IgnoredTarget[]): IgnoredTarget[] {
  if (ignored.length <= MAX_IGNORED_LISTED) return [...ignored];
  const more = ignored.length - MAX_IGNORED_LISTED;
  return [...ignored.slice(0, MAX_IGNORED_LISTED), { target: '…', reason: `${more} more not listed` }];
}

/** The tenant a tenant-path request named, when no credential said which (refused requests). */
function tenantInPath(path: string): string | null {
  const named = /^\/api\/v1\/tenants\/([^/]+)\/scim\/v2/.exec(path)?.[1];
  if (!named) return null;
  try {
    return decodeURIComponent(named);
  } catch {
    return named;
  }
}

/** The error as both error formats state it (SCIM `detail`/`scimType`, admin `detail`/`code`). */
function errorOf(body: unknown, authRefusal: string | undefined) {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const detail = typeof b.detail === 'string' ? b.detail : Array.isArray(b.detail) ? 'validation failed' : 'error';
  const code = typeof b.scimType === 'string' ? b.scimType : typeof b.code === 'string' ? b.code : undefined;
  const message = authRefusal ? `${detail} (credential refused: ${authRefusal})` : detail;
  return code ? { message, code } : { message };
}
