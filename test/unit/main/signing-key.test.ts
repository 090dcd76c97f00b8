import { execFileSync } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadOrCreateSigningKey, SIGNING_KEY_FILE, SigningKeyError } from '../../../src-main/auth/signing-key';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scimdesk-key-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('admin-token signing key', () => {
  it('creates a 32-byte key readable by its owner only', async () => {
    const key = await loadOrCreateSigningKey(dir);
    expect(key).toHaveLength(32);
    const { mode } = await stat(join(dir, SIGNING_KEY_FILE));
    expect(mode & 0o777).toBe(0o600);
  });

  it('returns the same key on every later load', async () => {
    const first = await loadOrCreateSigningKey(dir);
    const second = await loadOrCreateSigningKey(dir);
    expect(Buffer.from(second).equals(Buffer.from(first))).toBe(true);
  });

  it('gives every concurrent caller the one key that was written', async () => {
    const keys = await Promise.all(Array.from({ length: 16 }, () => loadOrCreateSigningKey(dir)));
    const distinct = new Set(keys.map((key) => Buffer.from(key).toString('hex')));
    expect(distinct.size).toBe(1);
    const onDisk = Buffer.from((await readFile(join(dir, SIGNING_KEY_FILE), 'utf8')).trim(), 'base64url');
    expect(distinct.has(onDisk.toString('hex'))).toBe(true);
  });

  it('creates the data folder when it does not exist yet', async () => {
    const nested = join(dir, 'a', 'b');
    await loadOrCreateSigningKey(nested);
    expect((await stat(join(nested, SIGNING_KEY_FILE))).isFile()).toBe(true);
  });

  it.runIf(process.platform !== 'win32')('refuses a key file that other users can read', async () => {
    await loadOrCreateSigningKey(dir);
    await chmod(join(dir, SIGNING_KEY_FILE), 0o644);
    await expect(loadOrCreateSigningKey(dir)).rejects.toThrow(/readable by other users.*chmod 600/);
  });

  // Needs root to give the key another owner; skipped where the tests run as another user.
  it.runIf(process.getuid?.() === 0)('refuses a key file another user owns, who could sign admin tokens', async () => {
    const file = join(dir, SIGNING_KEY_FILE);
    await loadOrCreateSigningKey(dir);
    await chown(file, 4242, 4242);
    await expect(loadOrCreateSigningKey(dir)).rejects.toThrow(/belongs to another user \(uid 4242\)/);
  });

  // A link is not followed, not even to a good key: another account could point it at its own.
  it.runIf(process.platform !== 'win32')('refuses a key file that is a symbolic link', async () => {
    const elsewhere = await mkdtemp(join(tmpdir(), 'scimdesk-key-elsewhere-'));
    try {
      await loadOrCreateSigningKey(elsewhere);
      await symlink(join(elsewhere, SIGNING_KEY_FILE), join(dir, SIGNING_KEY_FILE));
      await expect(loadOrCreateSigningKey(dir)).rejects.toThrow(
        /is a symbolic link; the key must be a file of its own/,
      );
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  it.runIf(process.platform !== 'win32')('refuses a key that is a folder or a named pipe, naming it', async () => {
    const key = join(dir, SIGNING_KEY_FILE);
    await mkdir(key, { mode: 0o700 });
    await expect(loadOrCreateSigningKey(dir)).rejects.toThrow(`${key} is not a file; delete it to make a new key`);
    await rm(key, { recursive: true });
    execFileSync('mkfifo', ['-m', '600', key]);
    await expect(loadOrCreateSigningKey(dir)).rejects.toThrow(`${key} is not a file`);
  });

  it('refuses a key file that does not hold a key', async () => {
    await writeFile(join(dir, SIGNING_KEY_FILE), 'short\n', { mode: 0o600 });
    await expect(loadOrCreateSigningKey(dir)).rejects.toBeInstanceOf(SigningKeyError);
  });
});
