import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Context, Next } from 'koa';
import type { Clock } from '../clock';
import { MAX_IGNORED_LISTED, type IgnoredTarget, type RequestLogError } from '@shared/request-log';
import type { ScimToken } from '@shared/scim-token';
import type { RequestLog, RequestLogInput } from '../services/request-log/index';
import { tokenMeantIn } from './admin-auth';
import { withUnreservedDecoded } from '@shared/percent-encoding';
import { areaOf, isMisdirectedApiRequest } from './areas';
import { latin1AsSent } from './bytes-as-text';
import { listenerAnswerOn, type ListenerRefusal } from './listener';
import { requestIdSource } from './request-ids';
import { serverFaultsOf } from './server-faults';
import { whenStreamEnds, type StreamOutcome } from './streamed-answer';
import { queuedBehindAnother, whenQueuedAnswerEnds } from './queued-answer';
import type { PresumedCaller, ScimState } from './scim/auth';

/** What handlers leave on ctx.state for the request log. */
export interface CaptureState extends ScimState {
  /** The request body's text, as received (the log parses and redacts it). */
  requestBody?: unknown;
  /** `requestBody` parsed as a JSON object or array. */
  requestBodyIsJson?: boolean;
  /** The whole body's size, where `requestBody` holds only its head (a body refused for its size). */
  requestBodyBytes?: number;
  /** The JSON text of an object answered with (`answerJsonText`), and that object. */
  responseJson?: string;
  responseValue?: object;
  /** False where bodies carry one-time secrets (the console's login code exchange). */
  captureBodies?: boolean;
  /** The query string as logged, where the request's own must not be (search text over the log). */
  loggedQuery?: string;
  /** The compatibility flag named by the error that ended the request, if any. */
  errorFlag?: string;
  /** What failed inside a request answered with success (a Bulk's failed operations). */
  partialFailure?: { message: string; code?: string } | undefined;
  /** The client went away while sending the body: bytes that came, and the length it announced. */
  bodyCutShort?: { received: number; expected: number | undefined };
}

/**
 * The status logged for a request whose client closed the connection before any answer was sent
 * (nginx's "client closed request"; no HTTP status says it, and the client saw none).
 */
export const CLIENT_CLOSED_REQUEST = 499;

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
    if (area === 'console' && !isMisdirectedApiRequest(ctx.method, ctx.get('Authorization'))) return next();
    // Such a request is logged only when no console file answered it (see isMisdirectedApiRequest).
    const unlessServed = area === 'console';
    // As sent: the SCIM routes read `…/scim/v2//Users` as `…/scim/v2/Users`.
    const path = ctx.path;
    const requestId = nextRequestId();
    (ctx.state as CaptureState).requestId = requestId;
    const startedAt = clock.now();
    const started = performance.now();
    try {
      await next();
    } finally {
      if (!unlessServed || ctx.status === 404) await recordEntry();
    }

    async function recordEntry(): Promise<void> {
      const durationMs = performance.now() - started;
      const state = ctx.state as CaptureState;
      const bodies = state.captureBodies !== false;
      const scim = state.scim;
      const caller = scim ?? (area !== 'admin' ? await presume(ctx) : undefined);
      const flags: string[] = [...(scim?.compat?.fired ?? [])];
      if (state.errorFlag && !flags.includes(state.errorFlag)) flags.push(state.errorFlag);
      const unsent = ctx.response.writable ? undefined : answerNotSent(ctx, state);
      const entry: RequestLogInput = {
        request_id: requestId,
        method: ctx.method,
        path,
        query: state.loggedQuery ?? ctx.querystring,
        tenant_id: caller?.tenantId ?? tenantInPath(path),
        tenant_in_path: caller?.tenantId === undefined,
        token: caller?.token ? { id: caller.token.id, name: caller.token.name } : null,
        source: area === 'admin' ? 'admin' : (caller?.source ?? 'idp'),
        status: unsent?.status ?? ctx.status,
        duration_ms: durationMs,
        request: {
          headers: headersAsSent(ctx.req),
          body: bodies ? state.requestBody : undefined,
          bodyIsJson: state.requestBodyIsJson === true,
          ...(bodies && state.requestBodyBytes !== undefined ? { bytes: state.requestBodyBytes } : {}),
        },
        response: unsent?.response ?? {
          headers: ctx.response.headers,
          // Koa sends no body to a HEAD (nor to a 304): the log shows what went out, not what was built.
          body: bodies && ctx.method !== 'HEAD' ? ctx.body : undefined,
          // Only while the body is still the text sendScim wrote (an error may have replaced it).
          bodyIsJson: typeof ctx.body === 'string' && ctx.body === state.responseJson,
        },
        flags,
        anonymous: ctx.req.headers.authorization === undefined,
        ...(scim?.ignored?.length ? { ignored: listedIgnored(scim.ignored) } : {}),
        error: withCause(
          unsent?.error ??
            (ctx.status >= 400 ? errorOf(answered(ctx, state), state.authRefusal) : (state.partialFailure ?? null)),
          serverFaultsOf(ctx),
        ),
        started_at: startedAt,
      };
      // Called before Koa writes the response: `record` only queues the entry (for the log's
      // thread, or for the next turn of the event loop when the log runs here; see
      // services/index.ts), so it costs the request no redaction or serialization. A streamed
      // answer (an export) is recorded when it ends, with its size and how it ended.
      const recordAsSent = () =>
        whenStreamEnds(ctx, (streamed) =>
          requestLog.record(streamed ? withStreamOutcome(entry, streamed, performance.now() - started) : entry),
        );
      // A pipelined request's answer waits for the one ahead of it: a client that hangs up meanwhile
      // never gets it, and its entry said 200 with no error (HTTP lifecycle probe). Such an entry is
      // recorded once the answer is sent, or said never sent once the connection is gone.
      if (unsent === undefined && queuedBehindAnother(ctx.res)) {
        whenQueuedAnswerEnds(ctx.res, ctx.req.socket, (sent) => {
          if (sent) return recordAsSent();
          const gone = answerNotSent(ctx, state);
          requestLog.record({
            ...entry,
            status: gone.status,
            error: gone.error,
            ...(gone.response ? { response: gone.response } : {}),
          });
        });
        return;
      }
      recordAsSent();
    }
  };
}

/**
 * Files what the listener answered itself (a request Node's parser refused, a missing Host, an
 * unmet Expect): the app never saw it, so an IdP whose framing was bad or who left out Host left
 * no trace in the log. Headers come as far as they were read; no body was. A SCIM token among them
 * files the entry under its tenant, as `presumedCaller` does for the app's refusals: on `/scim/v2`
 * the path names none, and the tenant's log showed nothing.
 */
export function recordListenerRefusals(
  requestLog: RequestLog,
  clock: Clock,
  identify: (secret: string) => ScimToken | undefined = () => undefined,
) {
  const nextRequestId = requestIdSource();
  return (refusal: ListenerRefusal): void => {
    const { path, query } = splitTarget(refusal.target);
    const area = areaOf(path);
    if (area === 'console') return;
    const token = area === 'scim' ? tokenIn(refusal.headers, identify) : undefined;
    requestLog.record({
      request_id: nextRequestId(),
      method: refusal.method,
      path,
      query,
      tenant_id: token?.tenant_id ?? (area === 'scim' ? tenantInPath(path) : null),
      tenant_in_path: token === undefined,
      token: token ? { id: token.id, name: token.name } : null,
      source: area === 'admin' ? 'admin' : 'idp',
      duration_ms: 0,
      request: { headers: refusal.headers },
      ...listenersAnswer(refusal.status, refusal.answer),
      flags: [],
      started_at: clock.now(),
      anonymous: refusal.headers.authorization === undefined,
    });
  };
}

/** A streamed answer's entry: its time and size run to the stream's end, which may be an error. */
function withStreamOutcome(entry: RequestLogInput, streamed: StreamOutcome, durationMs: number): RequestLogInput {
  return {
    ...entry,
    duration_ms: durationMs,
    // The head kept of what was sent, never the stream itself (an export keeps none).
    response: { ...entry.response, body: streamed.head, bodyIsJson: false, bytes: streamed.bytes },
    error: entry.error ?? streamed.error,
  };
}

/** The error as the client was told it, and what failed inside the server to make it, if anything. */
function withCause(error: RequestLogError | null, cause: string | undefined): RequestLogError | null {
  return error && cause ? { ...error, cause } : error;
}

/** The SCIM token of the one Authorization header (two are ambiguous, and name nobody). */
function tokenIn(
  headers: ListenerRefusal['headers'],
  identify: (secret: string) => ScimToken | undefined,
): ScimToken | undefined {
  const authorization = headers.authorization;
  const secret = typeof authorization === 'string' ? tokenMeantIn(authorization) : undefined;
  try {
    return secret ? identify(secret) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The request headers as sent. Node's `headers` keeps only the first of a repeated Authorization or
 * Content-Type, which hid why a request was refused ("more than one Authorization header");
 * `headersDistinct` keeps each. A header the listener filled in (Host for HTTP/1.0) is added.
 */
function headersAsSent(req: IncomingMessage): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (!values) continue;
    const shown = values.map(latin1AsSent);
    out[name] = shown.length === 1 ? shown[0]! : shown;
  }
  if (out.host === undefined && req.headers.host !== undefined) out.host = req.headers.host;
  return out;
}

/** The path and query of a request target, in origin form (`/a?b`) or absolute form (`http://h/a?b`). */
function splitTarget(target: string): { path: string; query: string } {
  const origin = target.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '');
  const question = origin.indexOf('?');
  const path = (question < 0 ? origin : origin.slice(0, question)) || '/';
  return { path, query: question < 0 ? '' : origin.slice(question + 1) };
}

interface UnsentAnswer {
  status: number;
  error: RequestLogError;
  /** What the client got instead, when that was not the app's answer. */
  response?: RequestLogInput['response'];
}

/**
 * What the client was told when the app's answer can no longer be sent: the listener's own answer
 * (a request whose body was still arriving when its time ran out: 408), or nothing, the client
 * having closed the connection. The log said the app's answer (a 400 "body could not be read", or
 * a 201 the IdP never saw and retries into a 409) as if the client had received it.
 */
function answerNotSent(ctx: Context, state: CaptureState): UnsentAnswer {
  const listener = listenerAnswerOn(ctx.req.socket);
  if (listener) return listenersAnswer(listener.status, listener);
  const cut = state.bodyCutShort;
  if (cut) {
    const of = cut.expected === undefined ? '' : ` of ${cut.expected}`;
    return {
      status: CLIENT_CLOSED_REQUEST,
      error: {
        message: `The client closed the connection while sending the body (${cut.received}${of} bytes came); nothing was answered.`,
      },
      response: { headers: {}, body: undefined },
    };
  }
  const answer =
    ctx.status >= 400 ? `${ctx.status}: ${errorOf(answered(ctx, state), state.authRefusal).message}` : ctx.status;
  return {
    status: CLIENT_CLOSED_REQUEST,
    error: { message: `The client closed the connection before the answer (${answer}) was sent.` },
  };
}

/** An answer the listener sent itself (always a refusal, in its path's error format), as logged. */
function listenersAnswer(status: number, answer: { type: string; body: string }): Required<UnsentAnswer> {
  return {
    status,
    error: errorOf(parsedOrText(answer.body), undefined),
    response: { headers: { 'content-type': answer.type }, body: answer.body },
  };
}

function parsedOrText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { detail: text };
  }
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
  // Read as the routers read it (`/%61pi/v1/tenants/…` is a tenant path).
  const named = /^\/api\/v1\/tenants\/([^/]+)\/scim\/v2/.exec(withUnreservedDecoded(path))?.[1];
  if (!named) return null;
  try {
    return decodeURIComponent(named);
  } catch {
    return named;
  }
}

/** The error as both error formats state it (SCIM `detail`/`scimType`, admin `detail`/`code`). */
/** The body as a value: the object its JSON text was made from, while that text is still the body. */
function answered(ctx: Context, state: CaptureState): unknown {
  return state.responseJson !== undefined && ctx.body === state.responseJson ? state.responseValue : ctx.body;
}

function errorOf(body: unknown, authRefusal: string | undefined) {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  // A text answer (the console's 404, the listener's refusals off the API paths) is its own message;
  // all of them are this server's words, none repeats the request.
  const text = typeof body === 'string' && /^[^{[\s]/.test(body.trim()) ? body.trim().slice(0, 300) : undefined;
  const detail =
    typeof b.detail === 'string' ? b.detail : Array.isArray(b.detail) ? validationMessage(b.detail) : (text ?? 'error');
  const code = typeof b.scimType === 'string' ? b.scimType : typeof b.code === 'string' ? b.code : undefined;
  const message = authRefusal ? `${detail} (credential refused: ${authRefusal})` : detail;
  return code ? { message, code } : { message };
}

/**
 * An admin 422's `detail` list as one message, each issue where it was found: "validation failed"
 * alone did not say which field of the request was wrong.
 */
function validationMessage(issues: readonly unknown[]): string {
  const said = issues.map((issue) => {
    const { loc, msg } = (typeof issue === 'object' && issue !== null ? issue : {}) as { loc?: unknown; msg?: unknown };
    const where = Array.isArray(loc) ? loc.join('.') : '';
    const what = typeof msg === 'string' ? msg : 'invalid';
    return where ? `${where}: ${what}` : what;
  });
  return said.length > 0 ? said.join('; ') : 'validation failed';
}
