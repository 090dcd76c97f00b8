import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AdminTokens, looksLikeAdminToken } from '../../../src-main/auth/admin-tokens';

const key = new Uint8Array(randomBytes(32));

function clockAt(ms: number) {
  let now = ms;
  return { now: () => now, set: (value: number) => (now = value) };
}

describe('admin tokens', () => {
  it('verifies a token it issued, until it expires', async () => {
    const clock = clockAt(Date.UTC(2026, 0, 1));
    const tokens = new AdminTokens(key, clock);
    const issued = await tokens.issue(3600);
    expect(issued.expiresAt.toISOString()).toBe('2026-01-01T01:00:00.000Z');
    expect(await tokens.verify(issued.token)).toEqual({ ok: true, validForMs: 3_600_000 });
    clock.set(Date.UTC(2026, 0, 1, 0, 59, 0));
    expect(await tokens.verify(issued.token)).toEqual({ ok: true, validForMs: 60_000 });
    clock.set(Date.UTC(2026, 0, 1, 1, 0, 1));
    expect(await tokens.verify(issued.token)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses a token signed with another key', async () => {
    const clock = clockAt(Date.now());
    const other = await new AdminTokens(new Uint8Array(randomBytes(32)), clock).issue(60);
    expect(await new AdminTokens(key, clock).verify(other.token)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('refuses a token whose payload was altered', async () => {
    const tokens = new AdminTokens(key, clockAt(Date.now()));
    const [header, , signature] = (await tokens.issue(60)).token.split('.');
    const forged = Buffer.from(JSON.stringify({ sub: 'admin', exp: 4102444800 })).toString('base64url');
    expect(await tokens.verify(`${header}.${forged}.${signature}`)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('refuses an unsigned (alg none) token', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(
      JSON.stringify({ iss: 'scimdesk', aud: 'scimdesk:admin', sub: 'admin', exp: 4102444800 }),
    ).toString('base64url');
    const tokens = new AdminTokens(key, clockAt(Date.now()));
    expect(await tokens.verify(`${header}.${payload}.`)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('tells admin tokens from SCIM tokens by shape', () => {
    expect(looksLikeAdminToken('aaa.bbb.ccc')).toBe(true);
    expect(looksLikeAdminToken('scimdesk_abcdef')).toBe(false);
    expect(looksLikeAdminToken('a.b')).toBe(false);
  });
});
