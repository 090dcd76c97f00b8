import type { Context, Next } from 'koa';
import { AdminError } from '@shared/errors';
import { isScimTokenShaped, SCIM_TOKEN_PREFIX } from '@shared/scim-token';
import { looksLikeAdminToken, type AdminTokens, type ValidAdminToken } from '../auth/admin-tokens';
import { headerLines } from './header-lines';

/** The bearer token of the request's one Authorization header; none when it has two or more. */
export function bearerToken(ctx: Context): string | undefined {
  if (repeatedAuthorization(ctx)) return undefined;
  return bearerIn(ctx.get('Authorization'));
}

/** The token of an Authorization header's value (`Bearer <token>`), if it holds one. */
export function bearerIn(header: string): string | undefined {
  return /^Bearer[ ]+(\S+)\s*$/i.exec(header)?.[1];
}

/**
 * What is wrong with an Authorization header that holds no `Bearer <token>`, said without echoing
 * it (it may hold a secret). These are the mistakes made when pasting a token into an IdP: a field
 * that adds "Bearer " itself, given "Bearer <token>", sends "Bearer Bearer <token>"; a field that
 * sends the header as typed, given the token alone, sends no scheme. Undefined for no header.
 */
export function authorizationProblem(header: string): string | undefined {
  const value = header.trim();
  if (value === '') return undefined;
  if (/^Bearer\s+Bearer(\s|$)/i.test(value)) {
    return 'The Authorization header says "Bearer" twice: where the token is asked for, give the token alone, without "Bearer ".';
  }
  if (/^Bearer$/i.test(value)) return 'The Authorization header says "Bearer" but holds no token after it.';
  if (/^Bearer\s/i.test(value)) {
    return 'The Authorization header holds more than one word after "Bearer": send "Bearer <token>", the token with no spaces in it.';
  }
  const scheme = /^([A-Za-z][A-Za-z-]{0,19})\s+\S/.exec(value)?.[1];
  if (scheme)
    return `This server takes bearer tokens, not ${scheme} credentials: send "Authorization: Bearer <token>".`;
  return 'The Authorization header holds a token with no scheme before it: send "Authorization: Bearer <token>".';
}

/**
 * The token a malformed Authorization header was meant to carry ("Bearer Bearer <token>", the
 * token with no scheme, or after another scheme: Okta's `SSWS <token>` pasted for a SCIM app), so
 * that the request log can name the tenant whose IdP sent it. Never used to authenticate.
 */
export function misplacedBearer(header: string): string | undefined {
  const value = header.trim();
  return (
    /^Bearer\s+Bearer\s+(\S+)$/i.exec(value)?.[1] ??
    /^(?!Bearer$)(\S+)$/i.exec(value)?.[1] ??
    /^(?!Bearer\s)[A-Za-z][A-Za-z-]{0,19}\s+(\S+)$/i.exec(value)?.[1]
  );
}

/**
 * The token an Authorization header's value was meant to carry, well-formed or not (see
 * misplacedBearer), for the request log to name who sent it. Never used to authenticate.
 */
export function tokenMeantIn(header: string): string | undefined {
  return quotedBearer(header) ?? bearerIn(header) ?? misplacedBearer(header);
}

/** The token of `Bearer "<token>"`: quotes a script or a configuration file kept around it. */
export function quotedBearer(header: string): string | undefined {
  return /^Bearer[ ]+(["'])(\S+)\1\s*$/i.exec(header.trim())?.[2];
}

export const QUOTED_TOKEN = 'The bearer token is in quotes: send it without them ("Authorization: Bearer <token>").';

/**
 * The one value of an Authorization header sent more than once, each time the same (a proxy that
 * adds the header the client already sent): for the request log to name who sent it, never to
 * authenticate (two are refused all the same).
 */
export function repeatedAuthorizationValue(ctx: Context): string | undefined {
  const raw = ctx.req.rawHeaders;
  let value: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]?.toLowerCase() !== 'authorization') continue;
    if (value !== undefined && raw[i + 1] !== value) return undefined;
    value = raw[i + 1];
  }
  return value;
}

/**
 * Authorization is not a list (RFC 9110 §11.6.2), so two of them are ambiguous. Node keeps the first
 * and drops the rest; a proxy that adds its own must not thereby decide who the server sees.
 */
export function repeatedAuthorization(ctx: Context): boolean {
  return headerLines(ctx, 'authorization') > 1;
}

export const REPEATED_AUTHORIZATION = 'The request has more than one Authorization header; send exactly one.';

/** Admin API gate: an admin JWT opens it; a SCIM token is recognised and refused with 403. */
export function requireAdminToken(tokens: AdminTokens) {
  return async function adminGate(ctx: Context, next: Next): Promise<void> {
    const token = bearerToken(ctx);
    if (!token) {
      throw new AdminError(
        'unauthorized',
        repeatedAuthorization(ctx)
          ? REPEATED_AUTHORIZATION
          : (authorizationProblem(ctx.get('Authorization')) ?? 'Send an admin token: "Authorization: Bearer <token>".'),
      );
    }
    if (!looksLikeAdminToken(token)) {
      if (isScimTokenShaped(token)) {
        throw new AdminError('forbidden', 'A SCIM token cannot be used on the admin API; use an admin token.');
      }
      // Not a credential at all, even one of the wrong kind (RFC 6750 §3.1: invalid_token, 401).
      throw new AdminError(
        'unauthorized',
        token.startsWith(SCIM_TOKEN_PREFIX)
          ? 'The bearer token is not a scimdesk admin token, nor a whole SCIM token (it may have been cut when copied).'
          : 'The bearer token is not a scimdesk admin token.',
      );
    }
    const check = await tokens.verify(token);
    if (!check.ok) throw new AdminError('unauthorized', REFUSED_ADMIN_TOKEN[check.reason]);
    (ctx.state as AdminGateState).adminTokenValidForMs = check.validForMs;
    (ctx.state as AdminGateState).adminToken = check;
    await next();
  };
}

/**
 * A request the gate let through, held to its token again: signed out or expired while its body
 * was still arriving (a slow client has 120 s), it is not run. The gate checked the headers only,
 * and a token signed out "for good" still created a SCIM token when the rest of its body came
 * (admin probe, session 40). The SCIM paths do the same in the store transaction.
 */
export function refuseEndedAdminToken(ctx: Context, tokens: AdminTokens): void {
  const token = (ctx.state as AdminGateState).adminToken;
  if (!token) throw new Error('the admin gate let a request through without its token');
  const refusal = tokens.refusalNow(token);
  if (refusal) {
    throw new AdminError(
      'unauthorized',
      refusal === 'expired'
        ? 'The admin token expired while this request was being sent; nothing was changed.'
        : 'The admin token was signed out while this request was being sent; nothing was changed. scimdesk admin-token prints a new one.',
    );
  }
}

/** Why an admin token is refused, on the admin API and on the SCIM paths alike. */
export const REFUSED_ADMIN_TOKEN = {
  expired: 'The admin token has expired.',
  invalid: 'The admin token is not valid.',
  signed_out: 'The admin token was signed out. scimdesk admin-token prints a new one.',
} as const;

export interface AdminGateState {
  /** Set by the gate: how long the request's admin token stays valid (a stream ends then). */
  adminTokenValidForMs?: number;
  /** Set by the gate: the request's admin token, as checked (for signing it out). */
  adminToken?: ValidAdminToken;
}
