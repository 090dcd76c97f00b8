import { describe, expect, it } from 'vitest';
import { MAX_PASSWORDS_PER_REQUEST, planChunks } from '../../../src-main/seed/bulk';
import { generateDirectory, managerOf, MAX_GROUP_MEMBERS, seedSlug } from '../../../src-main/seed/generator';
import { createRandom } from '../../../src-main/seed/prng';
import { groupBody, userBody } from '../../../src-main/seed/scim-bodies';

describe('createRandom', () => {
  it('is deterministic per seed and stays in range', () => {
    const a = createRandom('s');
    const b = createRandom('s');
    const c = createRandom('t');
    const seqA = Array.from({ length: 50 }, () => a.next());
    expect(Array.from({ length: 50 }, () => b.next())).toEqual(seqA);
    expect(Array.from({ length: 50 }, () => c.next())).not.toEqual(seqA);
    expect(seqA.every((x) => x >= 0 && x < 1)).toBe(true);
    const ints = Array.from({ length: 1000 }, () => a.int(3, 5));
    expect(new Set(ints)).toEqual(new Set([3, 4, 5]));
  });
});

describe('seedSlug', () => {
  it('keeps a plain seed as it is and tells apart seeds that read alike', () => {
    expect(seedSlug('demo')).toBe('demo');
    expect(seedSlug('team-42')).toBe('team-42');
    const alike = ['alpha', 'Alpha', 'alpha!', 'ALPHA ', 'Ωmega', 'ψ', 'a'.repeat(24) + 'x', 'a'.repeat(24) + 'y'];
    expect(new Set(alike.map(seedSlug)).size).toBe(alike.length);
    for (const seed of alike) expect(seedSlug(seed)).toMatch(/^[a-z0-9-]{1,24}$/);
  });
});

describe('generateDirectory', () => {
  const options = { users: 500, groups: 30, seed: '42' };

  it('gives the same directory for the same seed, a different one for another', () => {
    expect(generateDirectory(options)).toEqual(generateDirectory(options));
    const other = generateDirectory({ ...options, seed: '43' });
    expect(other.users.map((u) => u.userName)).not.toEqual(generateDirectory(options).users.map((u) => u.userName));
  });

  it('makes exactly N unique users and M groups', () => {
    const directory = generateDirectory(options);
    expect(directory.users).toHaveLength(500);
    expect(directory.groups).toHaveLength(30);
    expect(new Set(directory.users.map((u) => u.userName.toLowerCase())).size).toBe(500);
    expect(new Set(directory.users.map((u) => u.externalId)).size).toBe(500);
    expect(new Set(directory.groups.map((g) => g.displayName)).size).toBe(30);
    expect(directory.users.every((u) => u.userName === u.email && u.email.endsWith('@42.example.com'))).toBe(true);
  });

  it('builds a reporting tree where every manager comes first and heads a department', () => {
    const { users } = generateDirectory(options);
    expect(users[0]).toMatchObject({ title: 'Chief Executive Officer', department: 'Executive' });
    expect(users[0]!.manager).toBeUndefined();
    for (const user of users.slice(1)) {
      expect(user.manager).toBe(managerOf(user.index));
      expect(user.manager!).toBeLessThan(user.index);
      if (user.manager !== 0) expect(user.department).toBe(users[user.manager!]!.department);
      // Managers stay active, so nobody reports to a leaver.
      expect(users[user.manager!]!.active).toBe(true);
    }
  });

  it('fills groups with distinct existing users, within the size limit', () => {
    const { users, groups } = generateDirectory(options);
    for (const group of groups) {
      expect(new Set(group.members).size).toBe(group.members.length);
      expect(group.members.length).toBeLessThanOrEqual(MAX_GROUP_MEMBERS);
      expect(group.members.every((m) => m >= 0 && m < users.length)).toBe(true);
    }
    expect(groups.some((g) => g.members.length > 0)).toBe(true);
  });

  it('adds passwords only when asked', () => {
    expect(generateDirectory(options).users.some((u) => u.password !== undefined)).toBe(false);
    const withPasswords = generateDirectory({ ...options, users: 5, passwords: true });
    expect(withPasswords.users.every((u) => typeof u.password === 'string' && u.password.length >= 12)).toBe(true);
  });

  it('handles empty directories', () => {
    expect(generateDirectory({ users: 0, groups: 3, seed: 'x' }).groups.every((g) => g.members.length === 0)).toBe(
      true,
    );
  });
});

describe('planChunks', () => {
  const directory = generateDirectory({ users: 2500, groups: 40, seed: 'plan' });

  it('respects maxOperations and keeps users in order, groups last', () => {
    const chunks = planChunks(directory, { maxOperations: 300, maxPayloadSize: 4 * 1024 * 1024 }, 'Org');
    expect(chunks.every((c) => c.ops.length <= 300)).toBe(true);
    const ops = chunks.flatMap((c) => c.ops);
    expect(ops).toHaveLength(2540);
    expect(ops.slice(0, 2500).map((o) => o.index)).toEqual(directory.users.map((u) => u.index));
    expect(ops.slice(2500).every((o) => o.kind === 'group')).toBe(true);
  });

  it('respects maxPayloadSize', () => {
    const limits = { maxOperations: 1000, maxPayloadSize: 64 * 1024 };
    const chunks = planChunks(directory, limits, 'Org');
    expect(chunks.length).toBeGreaterThan(10);
    // Each chunk, serialised as the loader does (ids as long as UUIDs), stays under the limit.
    const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
    for (const chunk of chunks) {
      const operations = chunk.ops.map((op) =>
        op.kind === 'user'
          ? {
              method: 'POST',
              path: '/Users',
              bulkId: `u${op.index}`,
              data: userBody(directory.users[op.index]!, id(0), 'Org'),
            }
          : {
              method: 'POST',
              path: '/Groups',
              bulkId: `g${op.index}`,
              data: groupBody(directory.groups[op.index]!, directory.groups[op.index]!.members.map(id)),
            },
      );
      const bytes = Buffer.byteLength(
        JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: operations }),
      );
      expect(bytes).toBeLessThanOrEqual(limits.maxPayloadSize);
    }
  });

  it('sends at most MAX_PASSWORDS_PER_REQUEST users with a password in one request, each hashed in turn', () => {
    const withPasswords = generateDirectory({ users: 1000, groups: 5, seed: 'plan', passwords: true });
    const chunks = planChunks(withPasswords, { maxOperations: 1000, maxPayloadSize: 4 * 1024 * 1024 }, 'Org');
    const hashed = chunks.map((c) => c.ops.filter((op) => op.kind === 'user').length);
    expect(Math.max(...hashed)).toBe(MAX_PASSWORDS_PER_REQUEST);
    expect(chunks.flatMap((c) => c.ops)).toHaveLength(1005);
    // Without passwords, the same users go in one request.
    const plain = planChunks(
      generateDirectory({ users: 1000, groups: 5, seed: 'plan' }),
      { maxOperations: 1000, maxPayloadSize: 4 * 1024 * 1024 },
      'Org',
    );
    expect(plain[0]!.ops).toHaveLength(1000);
  });

  it('depends only on earlier chunks', () => {
    const chunks = planChunks(directory, { maxOperations: 200, maxPayloadSize: 4 * 1024 * 1024 }, 'Org');
    for (const chunk of chunks) for (const dep of chunk.dependsOn) expect(dep).toBeLessThan(chunk.number);
    expect(chunks.some((c) => c.dependsOn.size > 0)).toBe(true);
  });
});
