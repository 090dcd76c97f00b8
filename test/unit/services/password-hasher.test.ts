import { afterAll, describe, expect, it } from 'vitest';
import { createPasswordHasher, PasswordHasherBusyError } from '../../../src-main/services/password-hasher';

// Cheap parameters: the tests are about behaviour, not cost.
const hasher = createPasswordHasher({ workers: 2, params: { N: 2 ** 10, r: 8, p: 1, keyLength: 32 } });
afterAll(() => hasher.close());

describe('password hasher', () => {
  it('produces a salted PHC-style scrypt string that verifies', async () => {
    const encoded = await hasher.hash('correct horse battery staple');
    expect(encoded).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    expect(encoded).not.toContain('correct horse');
    await expect(hasher.verify('correct horse battery staple', encoded)).resolves.toBe(true);
    await expect(hasher.verify('correct horse battery stapl', encoded)).resolves.toBe(false);
  });

  it('salts every hash differently', async () => {
    const [a, b] = await Promise.all([hasher.hash('same'), hasher.hash('same')]);
    expect(a).not.toBe(b);
  });

  it('handles many concurrent hashes with a small pool', async () => {
    const passwords = Array.from({ length: 20 }, (_, i) => `pw-${i}-ünïcode-🔑`);
    const hashes = await Promise.all(passwords.map((pw) => hasher.hash(pw)));
    const checks = await Promise.all(passwords.map((pw, i) => hasher.verify(pw, hashes[i]!)));
    expect(checks.every(Boolean)).toBe(true);
  });

  it('refuses malformed or absurd encodings instead of hashing with them', async () => {
    await expect(hasher.verify('x', 'plaintext')).resolves.toBe(false);
    await expect(hasher.verify('x', '$scrypt$ln=30,r=8,p=1$AAAA$AAAA')).resolves.toBe(false);
  });

  it('refuses work beyond its queue limit at once', async () => {
    const tiny = createPasswordHasher({ workers: 1, maxQueued: 1, params: { N: 2 ** 10, r: 8, p: 1, keyLength: 32 } });
    try {
      await tiny.hash('after the measuring hash a start makes');
      const first = tiny.hash('a'); // taken by the worker
      const second = tiny.hash('b'); // queued
      await expect(tiny.hash('c')).rejects.toBeInstanceOf(PasswordHasherBusyError);
      // One that waits its turn (a Bulk operation) is queued however many wait.
      const inTurn = tiny.hash('d', { inTurn: true });
      await expect(Promise.all([first, second, inTurn])).resolves.toHaveLength(3);
    } finally {
      await tiny.close();
    }
  });

  it('refuses a burst beyond its wait limit from the start, before any hash is measured', async () => {
    const fresh = createPasswordHasher({
      workers: 1,
      maxWaitMs: 1000,
      params: { N: 2 ** 10, r: 8, p: 1, keyLength: 32 },
    });
    try {
      // In one turn, as an IdP's first sync after a start: no hash has finished to measure by.
      const burst = Array.from({ length: 40 }, (_, i) => fresh.hash(`burst-${i}`));
      const settled = await Promise.allSettled(burst);
      const refused = settled.filter((result) => result.status === 'rejected');
      expect(refused.length).toBeGreaterThan(20);
      expect(refused.every((result) => result.reason instanceof PasswordHasherBusyError)).toBe(true);
    } finally {
      await fresh.close();
    }
  });

  it('refuses a hash that would wait longer than its limit, saying about how long the wait is', async () => {
    const slow = createPasswordHasher({ workers: 1, maxWaitMs: 1, params: { N: 2 ** 14, r: 8, p: 1, keyLength: 32 } });
    try {
      await slow.hash('timed'); // sets the time per hash
      const first = slow.hash('a'); // taken by the worker
      const second = slow.hash('b'); // queued: nothing waited before it
      const refused = slow.hash('c'); // one hash (several ms) already waits: over 1 ms
      await expect(refused).rejects.toBeInstanceOf(PasswordHasherBusyError);
      await expect(refused).rejects.toMatchObject({ retryAfterSeconds: expect.any(Number) });
      await expect(Promise.all([first, second])).resolves.toHaveLength(2);
    } finally {
      await slow.close();
    }
  });
});
