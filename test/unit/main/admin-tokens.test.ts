import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AdminSignouts, SIGNOUTS_FILE } from '../../../src-main/auth/admin-signouts';
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
    expect(await tokens.verify(issued.token)).toMatchObject({ ok: true, validForMs: 3_600_000 });
    clock.set(Date.UTC(2026, 0, 1, 0, 59, 0));
    expect(await tokens.verify(issued.token)).toMatchObject({ ok: true, validForMs: 60_000 });
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

describe('signing admin tokens out', () => {
  async function folder() {
    const dir = await mkdtemp(join(tmpdir(), 'scimdesk-signouts-'));
    return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
  }

  it('refuses a signed-out token from then on, and forgets it once it would have expired anyway', async () => {
    const data = await folder();
    try {
      const clock = clockAt(Date.UTC(2026, 0, 1));
      const tokens = new AdminTokens(key, clock, await AdminSignouts.open(data.dir, clock));
      const [first, second] = [await tokens.issue(60), await tokens.issue(3600)];
      const check = await tokens.verify(first.token);
      if (!check.ok) throw new Error('not valid');
      await tokens.signOut(check);
      expect(await tokens.verify(first.token)).toEqual({ ok: false, reason: 'signed_out' });
      expect(await tokens.verify(second.token)).toMatchObject({ ok: true });
      expect(JSON.parse(await readFile(join(data.dir, SIGNOUTS_FILE), 'utf8'))).toEqual({
        version: 1,
        signed_out: [{ jti: check.jti, exp: check.exp }],
      });
      // Two minutes on, the first token is expired anyway: the next write leaves it out.
      clock.set(Date.UTC(2026, 0, 1, 0, 2));
      const other = await tokens.verify(second.token);
      if (!other.ok) throw new Error('not valid');
      await tokens.signOut(other);
      const kept = JSON.parse(await readFile(join(data.dir, SIGNOUTS_FILE), 'utf8')) as { signed_out: unknown[] };
      expect(kept.signed_out).toEqual([{ jti: other.jti, exp: other.exp }]);
    } finally {
      await data.remove();
    }
  });

  it('takes the sign-out back when it cannot be written, so a retry can write it', async () => {
    const data = await folder();
    const clock = clockAt(Date.now());
    const tokens = new AdminTokens(key, clock, await AdminSignouts.open(data.dir, clock));
    const issued = await tokens.issue(60);
    const check = await tokens.verify(issued.token);
    if (!check.ok) throw new Error('not valid');
    await data.remove(); // the folder is gone: the write fails
    await expect(tokens.signOut(check)).rejects.toThrow(/ENOENT/);
    expect(await tokens.verify(issued.token)).toMatchObject({ ok: true });
  });
});
