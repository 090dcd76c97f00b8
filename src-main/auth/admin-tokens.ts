import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { Clock } from '../clock';
import type { AdminSignouts } from './admin-signouts';

const ISSUER = 'scimdesk';
const AUDIENCE = 'scimdesk:admin';
const ALGORITHM = 'HS256';

export interface IssuedAdminToken {
  token: string;
  expiresAt: Date;
}

/** `validForMs`: how long until the token's `exp`, for a connection it opens (a live log stream). */
export type AdminTokenCheck =
  | { ok: true; validForMs: number; jti: string; exp: number }
  | { ok: false; reason: 'expired' | 'invalid' | 'signed_out' };
export type ValidAdminToken = Extract<AdminTokenCheck, { ok: true }>;

/**
 * Admin tokens are HS256 JWTs signed with the data folder's key. They are stateless, so
 * `scimdesk admin-token` can mint one in another process and the running server accepts it.
 * A server also remembers the tokens signed out before they expire (`signouts`).
 */
export class AdminTokens {
  constructor(
    private readonly key: Uint8Array,
    private readonly clock: Clock,
    private readonly signouts?: AdminSignouts,
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

  /** Ends a verified token before its expiry, for good; resolves once that is on disk. */
  async signOut(check: ValidAdminToken): Promise<void> {
    if (!this.signouts) throw new Error('these admin tokens have no sign-out list');
    await this.signouts.add(check.jti, check.exp);
  }

  /**
   * Why a token that verified is no longer good, if it is not: signed out or expired since. Cheap
   * and synchronous, for work that goes on under one verification (an export, a Bulk request) to
   * check between its steps, as it does a SCIM token's.
   */
  refusalNow(check: ValidAdminToken): 'expired' | 'signed_out' | undefined {
    if (this.signouts?.has(check.jti)) return 'signed_out';
    return this.clock.now() >= check.exp * 1000 ? 'expired' : undefined;
  }

  async verify(token: string): Promise<AdminTokenCheck> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: [ALGORITHM],
        currentDate: new Date(this.clock.now()),
        requiredClaims: ['exp', 'sub', 'jti'],
      });
      // requiredClaims makes `exp` and `jti` present, and jose has checked `exp` is a number.
      const exp = payload.exp as number;
      const jti = String(payload.jti);
      if (this.signouts?.has(jti)) return { ok: false, reason: 'signed_out' };
      return { ok: true, validForMs: exp * 1000 - this.clock.now(), jti, exp };
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
