import type { Context, Next } from 'koa';
import { ADMIN_ERROR_STATUS, AdminError, adminErrorCodeFor } from '@shared/errors';
import { ScimCompatError } from '../scim/compat';
import { ScimError, type ScimErrorStatus } from '../scim/errors';
import { isStoreDown, STORE_UNAVAILABLE, storeErrorAsAdmin, type Logger } from '../services/admin-dispatch';
import { PasswordHasherBusyError } from '../services/password-hasher';
import type { ScimRequestContext } from '../services/identities/identity-service';
import { StoreNoTenantError } from '../store/errors';
import { bearerToken } from './admin-auth';
import { areaOf, isMisdirectedApiRequest, TENANT_SCIM_BASE, TOKEN_SCIM_BASE } from './areas';
import { ADMIN_BASE_PATH } from '@shared/session';
import { ADMIN_JSON_TYPE, answerJson, SCIM_JSON_TYPE } from './json-text';
import { noteServerFault } from './server-faults';
import type { ScimState } from './scim/auth';

/** Koa's own HTTP errors (body too large, bad method) carry a status and an `expose` flag. */
interface HttpLikeError {
  status: number;
  expose?: boolean;
  message: string;
  headers?: Record<string, string>;
}

function isHttpLikeError(error: unknown): error is HttpLikeError {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as HttpLikeError).status === 'number' &&
    typeof (error as HttpLikeError).message === 'string'
  );
}

/**
 * The single place where a thrown value becomes a response. Each area keeps its own format: RFC 7644
 * §3.12 bodies on SCIM paths, seed 004's `{detail, code}` on the admin API, plain text elsewhere.
 * Unknown errors become a generic 500 and are logged here with their detail; no stack leaves.
 */
export function errorMiddleware(log: Logger) {
  return async function renderErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw notFoundFor(ctx);
      }
      // The routers answer a method a path does not take with a bare 405 (or a method no route
      // has with a 501), and set `Allow` (RFC 9110 §15.5.6): the body is said here, the header kept.
      if ((ctx.status === 405 || ctx.status === 501) && ctx.body === undefined) {
        throw methodRefused(ctx.status, ctx.method, ctx.response.get('Allow'));
      }
    } catch (error) {
      const area = areaOf(ctx.path);
      if (isServerFault(error)) noteServerFault(ctx, error);
      if (error instanceof ScimCompatError) (ctx.state as { errorFlag?: string }).errorFlag = error.flag;
      if (area === 'scim') renderScim(ctx, toScimError(error, log, (ctx.state as ScimState).scim));
      else if (area === 'admin') renderAdmin(ctx, toAdminError(error, log));
      else renderPlain(ctx, error, log);
    }
  };
}

/** An error whose status and message are meant for the client (a 4xx, or a 501 for a method). */
function isClientFacing(error: unknown): error is HttpLikeError {
  return isHttpLikeError(error) && (error.status < 500 || error.status === 501) && error.expose !== false;
}

/**
 * An error whose own message the client is not shown (a failed store, a bug): its client is told
 * only that the server failed, so the request log keeps what it was (see server-faults.ts).
 */
export function isServerFault(error: unknown): boolean {
  if (error instanceof ScimError || error instanceof AdminError) return false;
  if (error instanceof StoreNoTenantError || error instanceof PasswordHasherBusyError) return false;
  return !isClientFacing(error);
}

/** A method the path does not take (405), or one no route has (501, PROPFIND, say): the client's mistake. */
function methodRefused(status: 405 | 501, method: string, allow: string): HttpLikeError {
  const message =
    status === 501
      ? `The server does not support the ${method} method.`
      : `${method} is not allowed here${allow ? `; this path takes ${allow}` : ''}.`;
  return { status, expose: true, message };
}

function notFoundFor(ctx: Context): Error {
  const area = areaOf(ctx.path);
  if (area === 'scim') return ScimError.notFound(`No SCIM endpoint at ${ctx.path}.`);
  if (area === 'admin') return new AdminError('not_found', `No admin endpoint at ${ctx.method} ${ctx.path}.`);
  if (isMisdirectedApiRequest(ctx.method, ctx.get('Authorization'))) {
    return Object.assign(
      new Error(
        `Not found: ${ctx.path} is neither a SCIM nor an admin API path. SCIM is at ${TOKEN_SCIM_BASE} ` +
          `(the token names the tenant) or ${TENANT_SCIM_BASE.replace(':tenantId', '{tenant_id}')}; ` +
          `the admin API at ${ADMIN_BASE_PATH}.`,
      ),
      { status: 404, expose: true },
    );
  }
  return Object.assign(new Error('Not found'), { status: 404, expose: true });
}

/**
 * A tenant that went while the request ran, said as the request's own check says it ("deleted
 * while this request ran, with its SCIM tokens"): the store refuses a write to a gone tenant before
 * the check in its transaction is reached, and the first step of a Bulk request cut by a tenant
 * delete said 404 "not found" while every later one said 401 (admin probe, session 40).
 */
function tenantGone(
  error: StoreNoTenantError,
  caller: Pick<ScimRequestContext, 'stillAuthorized'> | undefined,
): ScimError {
  try {
    caller?.stillAuthorized?.();
  } catch (refusal) {
    if (refusal instanceof ScimError) return refusal;
  }
  return ScimError.notFound(`Tenant ${error.tenantId} not found.`);
}

/** Any error as the SCIM error a client is shown; the unexpected ones are logged here, with detail. */
export function toScimError(
  error: unknown,
  log: Logger,
  caller?: Pick<ScimRequestContext, 'stillAuthorized'>,
): ScimError {
  if (error instanceof ScimError) return error;
  // RFC 7644 §3.12 has no 503; 500 with a detail that says what happened and what to do.
  if (isStoreDown(error)) return new ScimError(500, STORE_UNAVAILABLE);
  if (error instanceof StoreNoTenantError) return tenantGone(error, caller);
  // Not a failure of the server: a burst of password writes, answered so that clients retry.
  if (error instanceof PasswordHasherBusyError) {
    return ScimError.busy(`${error.message}; try again in a few seconds.`, error.retryAfterSeconds);
  }
  if (isClientFacing(error)) {
    const status = error.status as ScimErrorStatus;
    try {
      return new ScimError(status, error.message);
    } catch {
      // A status RFC 7644 does not list for errors: report it as a plain bad request.
      return new ScimError(400, error.message);
    }
  }
  log.error('SCIM request failed:', error);
  return ScimError.internal();
}

function toAdminError(error: unknown, log: Logger): { status: number; error: AdminError } {
  const known = error instanceof AdminError ? error : storeErrorAsAdmin(error);
  if (known) return { status: ADMIN_ERROR_STATUS[known.code], error: known };
  if (isClientFacing(error)) {
    const code = adminErrorCodeFor(error.status) ?? 'validation_failed';
    return { status: error.status, error: new AdminError(code, error.message) };
  }
  log.error('admin request failed:', error);
  return { status: 500, error: new AdminError('internal', 'Internal error; details are in the server log.') };
}

function renderScim(ctx: Context, error: ScimError): void {
  ctx.status = error.status;
  if (error.status === 401) ctx.set('WWW-Authenticate', bearerChallenge(ctx, 'scimdesk'));
  if (error.retryAfterSeconds !== undefined) ctx.set('Retry-After', String(error.retryAfterSeconds));
  answerJson(ctx, SCIM_JSON_TYPE, error.toBody());
}

function renderAdmin(ctx: Context, { status, error }: { status: number; error: AdminError }): void {
  ctx.status = status;
  if (status === 401) ctx.set('WWW-Authenticate', bearerChallenge(ctx, 'scimdesk-admin'));
  // Seed 004: validation → `{ detail: [{loc, msg, type}] }`; everything else `{ detail, code }`.
  answerJson(
    ctx,
    ADMIN_JSON_TYPE,
    error.code === 'validation_failed' && error.issues.length > 0
      ? { detail: error.issues }
      : { detail: error.message, code: error.code },
  );
}

/**
 * RFC 6750 §3.1: a request that presented a bearer token which was refused (unknown, expired,
 * revoked) is told `error="invalid_token"`, so that a client knows to get a new one; a request
 * without credentials gets no error code.
 */
function bearerChallenge(ctx: Context, realm: string): string {
  return bearerToken(ctx) === undefined ? `Bearer realm="${realm}"` : `Bearer realm="${realm}", error="invalid_token"`;
}

function renderPlain(ctx: Context, error: unknown, log: Logger): void {
  if (isClientFacing(error)) {
    ctx.status = error.status;
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = error.message;
    return;
  }
  log.error('console request failed:', error);
  ctx.status = 500;
  ctx.type = 'text/plain; charset=utf-8';
  ctx.body = 'Internal server error';
}
