import type { Context, Next } from 'koa';
import { AdminError } from '@shared/errors';
import { looksLikeAdminToken, type AdminTokens } from '../auth/admin-tokens';

export function bearerToken(ctx: Context): string | undefined {
  const header = ctx.get('Authorization');
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** Admin API gate: an admin JWT opens it; a SCIM token is recognised and refused with 403. */
export function requireAdminToken(tokens: AdminTokens) {
  return async function adminGate(ctx: Context, next: Next): Promise<void> {
    const token = bearerToken(ctx);
    if (!token) throw new AdminError('unauthorized', 'Send an admin token: "Authorization: Bearer <token>".');
    if (!looksLikeAdminToken(token)) {
      if (token.startsWith('scimdesk_')) {
        throw new AdminError('forbidden', 'A SCIM token cannot be used on the admin API; use an admin token.');
      }
      throw new AdminError('unauthorized', 'The bearer token is not a scimdesk admin token.');
    }
    const check = await tokens.verify(token);
    if (!check.ok) {
      throw new AdminError(
        'unauthorized',
        check.reason === 'expired' ? 'The admin token has expired.' : 'The admin token is not valid.',
      );
    }
    await next();
  };
}
