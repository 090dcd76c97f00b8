import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { Clock } from '../clock';

const ISSUER = 'scimdesk';
const AUDIENCE = 'scimdesk:admin';
const ALGORITHM = 'HS256';

export interface IssuedAdminToken {
  token: string;
  expiresAt: Date;
}

/** `validForMs`: how long until the token's `exp`, for a connection it opens (a live log stream). */
export type AdminTokenCheck = { ok: true; validForMs: number } | { ok: false; reason: 'expired' | 'invalid' };

/**
 * Admin tokens are HS256 JWTs signed with the data folder's key. They are stateless, so
 * `scimdesk admin-token` can mint one in another process and the running server accepts it.
 */
export class AdminTokens {
  constructor(
    private readonly key: Uint8Array,
    private readonly clock: Clock,
  ) {}

  async issue(ttlSeconds: number): Promise<IssuedAdminToken> {
    const issuedAt = Math.floor(this.clock.now() / 1000);
    const expiresAt = issuedAt + ttlSeconds;
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('admin')
      .setJti(randomUUID())
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .sign(this.key);
    return { token, expiresAt: new Date(expiresAt * 1000) };
  }

  async verify(token: string): Promise<AdminTokenCheck> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: [ALGORITHM],
        currentDate: new Date(this.clock.now()),
        requiredClaims: ['exp', 'sub'],
      });
      // requiredClaims makes `exp` present, and jose has checked it is a number.
      return { ok: true, validForMs: (payload.exp as number) * 1000 - this.clock.now() };
    } catch (error) {
      if (error instanceof errors.JWTExpired) return { ok: false, reason: 'expired' };
      return { ok: false, reason: 'invalid' };
    }
  }
}

/** Admin tokens look like JWTs (three base64url parts); SCIM tokens carry the scimdesk_ prefix. */
export function looksLikeAdminToken(token: string): boolean {
  return /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token);
}
