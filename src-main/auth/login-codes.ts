import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../clock';

export const LOGIN_CODE_TTL_MS = 10 * 60 * 1000;
/** Enough for every console URL a person could plausibly open; beyond that the oldest go. */
const MAX_OUTSTANDING = 64;

/**
 * One-time login codes for the headless console (DESIGN.md §3): valid ten minutes, single use,
 * kept in memory only (a restart invalidates them). Only their hashes are held.
 */
export class LoginCodes {
  private readonly outstanding = new Map<string, number>();

  constructor(private readonly clock: Clock) {}

  issue(): string {
    const code = randomBytes(18).toString('base64url');
    this.outstanding.set(hash(code), this.clock.now() + LOGIN_CODE_TTL_MS);
    while (this.outstanding.size > MAX_OUTSTANDING) {
      const oldest = this.outstanding.keys().next().value;
      if (oldest === undefined) break;
      this.outstanding.delete(oldest);
    }
    return code;
  }

  /** True once for a valid, unexpired code; false for unknown, used or expired ones. */
  redeem(code: string): boolean {
    const key = hash(code);
    const expiresAt = this.outstanding.get(key);
    if (expiresAt === undefined) return false;
    this.outstanding.delete(key);
    return this.clock.now() < expiresAt;
  }
}

function hash(code: string): string {
  return createHash('sha256').update(code).digest('base64url');
}
