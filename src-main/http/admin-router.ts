import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { adminContract, type AdminHandlers, type AdminOperation } from '@shared/contract';
import { ADMIN_OPERATION_NAMES } from '@shared/contract-ops';
import { AdminError } from '@shared/errors';
import { RequestLogQuery } from '@shared/request-log';
import { ADMIN_BASE_PATH, SessionRequest } from '@shared/session';
import type { AdminTokens } from '../auth/admin-tokens';
import type { LoginCodes } from '../auth/login-codes';
import { closestName, dispatchAdminOperation, zodIssues } from '../services/admin-dispatch';
import type { FeedFilter, RequestLog } from '../services/request-log/index';
import type { CaptureState } from './capture';
import { refuseEndedAdminToken, requireAdminToken, type AdminGateState } from './admin-auth';
import { streamRequestLog } from './log-stream';
import { openApiPath } from './openapi/admin-paths';
import { JsonBodyError, readJsonBody } from './json-body';
import { ADMIN_JSON_TYPE, answerJson } from './json-text';

export interface AdminRouterDeps {
  handlers: AdminHandlers;
  requestLog: RequestLog;
  /** Refuses a log filter naming a tenant or token that neither exists nor has entries, as the list does. */
  requireLogFilterOwners: (filter: FeedFilter) => Promise<void>;
  /** Open live streams, each with the function that ends it. */
  streams: Set<() => void>;
  tokens: AdminTokens;
  loginCodes: LoginCodes;
  sessionTtlSeconds: number;
}

/**
 * The query with the value of `q` (free text searched for in the log: often a person's name)
 * withheld, and of a name read as a misspelt `q` (`Q`, `q_`): refused, it carries the same text.
 */
function withoutSearchText(query: string): string {
  const keyOf = (pair: string) => {
    const key = pair.split('=', 1)[0] ?? '';
    try {
      return decodeURIComponent(key.replace(/\+/g, ' '));
    } catch {
      return key;
    }
  };
  return query
    .split('&')
    .map((pair) => {
      const key = keyOf(pair);
      return key === 'q' || closestName(key, ['q']) === 'q' ? `${pair.split('=', 1)[0]}=[withheld]` : pair;
    })
    .join('&');
}

/**
 * What the log and the history show is not logged again: a read of an entry would copy it (and any
 * user data in it) into a new entry, beyond its tenant's purge and caps; nor is the search text,
 * which is user data too. Set before the admin gate and the parameter checks, so that a request
 * they refuse (401, 422) is logged the same way.
 */
function withholdObserved(ctx: Context, next: Next): Promise<unknown> {
  const state = ctx.state as CaptureState;
  state.captureBodies = false;
  state.loggedQuery = withoutSearchText(ctx.querystring);
  return next();
}

function showsObservedTraffic(operation: AdminOperation): boolean {
  return (
    operation.method === 'GET' && (operation.path.startsWith('/request-logs') || operation.path.includes('/history/'))
  );
}

/**
 * The admin API, generated from the contract table: one route per row, with and without a trailing
 * slash. Inputs merge the query (or JSON body) with the path parameters; errors say which of them
 * a bad field came from.
 */
export function createAdminRouter(deps: AdminRouterDeps): Router {
  const router = new Router({ prefix: ADMIN_BASE_PATH, strict: false });

  // The session exchange comes before the gate: it is how the console gets its first token.
  router.post('/session', async (ctx) => {
    // The one-time code and the token it buys are secrets: the request log keeps neither body.
    (ctx.state as { captureBodies?: boolean }).captureBodies = false;
    const parsed = SessionRequest.safeParse(await adminJsonBody(ctx));
    if (!parsed.success) {
      throw new AdminError(
        'validation_failed',
        'The request is not valid.',
        zodIssues(parsed.error, () => ['body']),
      );
    }
    if (!deps.loginCodes.redeem(parsed.data.code)) {
      throw new AdminError('unauthorized', 'This login code is unknown, already used or expired.');
    }
    const issued = await deps.tokens.issue(deps.sessionTtlSeconds);
    answerJson(ctx, ADMIN_JSON_TYPE, { token: issued.token, expires_at: issued.expiresAt.toISOString() });
  });

  const gate = requireAdminToken(deps.tokens);
  // Live streams by the admin token that opened them: signing a token out ends its streams too.
  const streamsOf = new Map<string, Set<() => void>>();
  const onSignOutOf = (jti: string) => (stop: () => void) => {
    const stops = streamsOf.get(jti) ?? new Set();
    streamsOf.set(jti, stops.add(stop));
    return () => {
      stops.delete(stop);
      if (stops.size === 0) streamsOf.delete(jti);
    };
  };
  // Sign-out ends the token that asks, on this server, for good (the console's "Sign out").
  router.delete('/session', gate, async (ctx) => {
    const token = (ctx.state as AdminGateState).adminToken;
    if (!token) throw new Error('the admin gate let a request through without its token');
    await deps.tokens.signOut(token);
    for (const stop of [...(streamsOf.get(token.jti) ?? [])]) stop();
    ctx.status = 204;
  });
  for (const [path, methods] of shadowingLiterals([
    ...ADMIN_OPERATION_NAMES.map((name) => adminContract[name]),
    { method: 'GET', path: '/request-logs/stream' },
  ])) {
    router.all(path, keepToOwnMethods(methods));
  }
  // Registered before the contract's `/request-logs/:id`, which would take "stream" for an id.
  router.get('/request-logs/stream', withholdObserved, gate, async (ctx) => {
    const streamFields = ['after', ...Object.keys(RequestLogQuery.shape)];
    refuseMisspeltQueryParameters(ctx.query, streamFields);
    refuseRepeatedQueryParameters(ctx.query, streamFields);
    const state = ctx.state as AdminGateState;
    await streamRequestLog(
      ctx,
      deps.requestLog,
      deps.requireLogFilterOwners,
      deps.streams,
      state.adminTokenValidForMs,
      state.adminToken && onSignOutOf(state.adminToken.jti),
    );
  });
  for (const name of ADMIN_OPERATION_NAMES) {
    const operation: AdminOperation = adminContract[name];
    // What a query may carry: the input's fields but those the path gives.
    const { params: pathFields } = openApiPath(operation.path);
    const queryFields = Object.keys(adminContract[name].input.shape).filter((field) => !pathFields.includes(field));
    router.register(
      operation.path,
      [operation.method],
      [
        ...(showsObservedTraffic(operation) ? [withholdObserved] : []),
        gate,
        async (ctx: Context) => {
          const params = ctx.params as Record<string, string>;
          const fromBody = operation.method !== 'GET' && operation.method !== 'DELETE';
          const source = fromBody ? await adminJsonBody(ctx) : ctx.query;
          refuseEndedAdminToken(ctx, deps.tokens);
          if (source !== undefined && (typeof source !== 'object' || source === null || Array.isArray(source))) {
            throw new AdminError('validation_failed', 'The request is not valid.', [
              { loc: ['body'], msg: 'Expected a JSON object', type: 'invalid_type' },
            ]);
          }
          const given = (source as Record<string, unknown> | undefined) ?? {};
          refuseContradictedPathParameters(given, params, fromBody ? 'body' : 'query');
          if (!fromBody) {
            refuseMisspeltQueryParameters(given, queryFields);
            refuseRepeatedQueryParameters(given, queryFields);
          }
          const input = { ...given, ...params };
          const output = await dispatchAdminOperation(deps.handlers, name, input, (field) =>
            typeof field === 'string' && Object.hasOwn(params, field) ? ['path'] : [fromBody ? 'body' : 'query'],
          );
          ctx.status = operation.status;
          if (operation.status !== 204) answerJson(ctx, ADMIN_JSON_TYPE, output);
        },
      ],
    );
  }
  return router;
}

/**
 * A field that the path already gives (`{"id": …}` in a PATCH of /tenants/{id}) may repeat it, as a
 * client echoing a resource back does, but not contradict it: an id is not changed that way, and
 * answering 200 for a change not made would mislead.
 */
function refuseContradictedPathParameters(
  given: Record<string, unknown>,
  params: Record<string, string>,
  where: 'body' | 'query',
): void {
  const contradicted = Object.keys(params).filter((key) => key in given && given[key] !== params[key]);
  if (contradicted.length === 0) return;
  throw new AdminError(
    'validation_failed',
    'The request is not valid.',
    contradicted.map((key) => ({
      loc: [where, key],
      msg: `The path gives ${key} as ${JSON.stringify(params[key])}; it cannot be changed, so leave it out of the ${where} or repeat the path's value.`,
      type: 'path_contradicted',
    })),
  );
}

/**
 * Query inputs are lenient (docs/architecture.md: a cache-buster must not break a list), but a
 * parameter that misspells a known one (`tenantId` for `tenant_id`) filtered nothing and listed
 * everything as if it were the selection asked for: that is refused, naming the one meant.
 */
function refuseMisspeltQueryParameters(query: Record<string, unknown>, known: readonly string[]): void {
  const misspelt = Object.keys(query).flatMap((key) => {
    if (known.includes(key)) return [];
    const meant = closestName(key, known);
    return meant === undefined ? [] : [{ key, meant }];
  });
  if (misspelt.length === 0) return;
  throw new AdminError(
    'validation_failed',
    'The request is not valid.',
    misspelt.map(({ key, meant }) => ({
      loc: ['query', key],
      msg: `Unknown query parameter; did you mean ${meant}?`,
      type: 'unrecognized_keys',
    })),
  );
}

/**
 * A known query parameter given twice is refused alike whichever it is: no admin input takes a
 * list from the query, and the schema's own message for the array Koa makes of it ("expected
 * string, received array" for `tenant_id`) differed from the paging fields' (admin probe).
 */
function refuseRepeatedQueryParameters(query: Record<string, unknown>, known: readonly string[]): void {
  const repeated = Object.keys(query).filter((key) => known.includes(key) && Array.isArray(query[key]));
  if (repeated.length === 0) return;
  throw new AdminError(
    'validation_failed',
    'The request is not valid.',
    repeated.map((key) => ({ loc: ['query', key], msg: 'must be given once', type: 'list_type' })),
  );
}

type Route = Pick<AdminOperation, 'method' | 'path'>;

/**
 * Paths without parameters that a parameterised path also matches (`/scim-tokens/endpoint-info`
 * and `/scim-tokens/:id`), each with its own methods. The literal is registered first and wins for
 * its methods; for any other the router would run the parameterised route (a PATCH answered "token
 * endpoint-info not found") or list that route's methods in a 405's `Allow`.
 */
function shadowingLiterals(routes: readonly Route[]): Map<string, Set<string>> {
  const segments = (path: string) => path.split('/');
  const matches = (pattern: string, literal: string) => {
    const p = segments(pattern);
    const l = segments(literal);
    return p.length === l.length && p.every((part, i) => part === l[i] || part.startsWith(':'));
  };
  const literals = new Map<string, Set<string>>();
  for (const route of routes) {
    if (route.path.includes(':')) continue;
    if (!routes.some((other) => other.path.includes(':') && matches(other.path, route.path))) continue;
    const methods = literals.get(route.path) ?? new Set<string>();
    literals.set(route.path, methods.add(route.method));
  }
  return literals;
}

/**
 * A 405 naming only the literal path's methods (HEAD with GET, as the router itself answers), and
 * OPTIONS answered with the same Allow, as the router's allowedMethods does on every other path.
 */
function keepToOwnMethods(methods: ReadonlySet<string>): (ctx: Context, next: Next) => Promise<void> {
  const allowed = methods.has('GET') ? new Set(['HEAD', ...methods]) : new Set(methods);
  const allow = [...allowed].join(', ');
  return async (ctx, next) => {
    if (allowed.has(ctx.method)) {
      await next();
      return;
    }
    ctx.set('Allow', allow);
    if (ctx.method === 'OPTIONS') {
      ctx.status = 200;
      ctx.body = '';
      return;
    }
    ctx.status = 405;
  };
}

async function adminJsonBody(ctx: Context): Promise<unknown> {
  try {
    return await readJsonBody(ctx);
  } catch (error) {
    if (!(error instanceof JsonBodyError)) throw error;
    if (error.problem === 'too_large') throw new AdminError('payload_too_large', error.message);
    if (error.problem === 'unsupported_media_type') throw new AdminError('unsupported_media_type', error.message);
    throw new AdminError('validation_failed', error.message, [
      { loc: ['body'], msg: error.message, type: 'json_invalid' },
    ]);
  }
}
