import { chmod, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DurableStore, openDurableStore } from '../../../src-main/store/durable-store';
import type { ScimTokenRecord, TenantRecord } from '../../../src-main/store/documents';
import { StoreClosedError, StoreDataError, StoreOpenError } from '../../../src-main/store/errors';
import { useTempDirs } from './tmp-dir';

const tempDir = useTempDirs();
const tenant = (id: string): TenantRecord => ({
  id,
  name: `Tenant ${id}`,
  created_at: '2024-05-01T10:00:00.000Z',
  delete_mode: 'delete',
});

async function withTenant(dir: string): Promise<DurableStore> {
  const store = await openDurableStore(dir);
  await store.putTenant(tenant('t1'));
  return store;
}

describe('a put as journaled', () => {
  it('is what JSON.stringify writes of the change, and put returns the stored document serialized', async () => {
    const dir = await tempDir();
    const store = await withTenant(dir);
    const ids = new Set<string>();
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1 }),
        fc.string(),
        fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }),
        fc.boolean(),
        async (id, userName, extra, withUndefined) => {
          if (ids.has(id)) return;
          ids.add(id);
          const doc = { ...extra, id, userName, ...(withUndefined ? { gone: undefined } : {}) };
          const returned = await store.write('t1', (tx) => tx.put('users', doc));
          const stored = store.tenant('t1')?.get('users', id);
          expect(returned).toBe(JSON.stringify(stored));
          const journal = (await readdir(dir)).filter((name) => name.startsWith('journal-'));
          const text = (await Promise.all(journal.map((name) => readFile(join(dir, name), 'utf8')))).join('');
          const op = JSON.stringify({ op: 'put', tenant: 't1', collection: 'users', id, doc });
          expect(text).toContain(`"ops":[${op}]}`);
        },
      ),
      { numRuns: 60 },
    );
    await store.close();
  });
});

describe('durable store API', () => {
  it("lists a member's groups in the same order before and after a checkpoint and reopen", async () => {
    const dir = await tempDir();
    const store = await withTenant(dir);
    await store.write('t1', (tx) => {
      tx.put('users', { id: 'u1', userName: 'Alice' });
      tx.put('groups', { id: 'g-a', displayName: 'A' });
      tx.put('groups', { id: 'g-b', displayName: 'B' });
    });
    // Joined in the order opposite to the groups' own.
    await store.write('t1', (tx) => tx.changeMembers('g-b', { add: [{ value: 'u1', type: 'User' }] }));
    await store.write('t1', (tx) => tx.changeMembers('g-a', { add: [{ value: 'u1', type: 'User' }] }));
    const before = store.tenant('t1')?.groupsOf('u1');
    await store.checkpoint(true);
    await store.close();
    const again = await openDurableStore(dir);
    expect(again.tenant('t1')?.groupsOf('u1')).toEqual(before);
    expect(before).toEqual(['g-a', 'g-b']);
    await again.close();
  });

  it('writes a snapshot from now on when one under way captured the state before a change', async () => {
    const dir = await tempDir();
    const store = await withTenant(dir);
    await store.write('t1', (tx) => tx.put('users', { id: 'u1', userName: 'before@example.com' }));
    const underWay = store.checkpoint(true); // captures the state now
    await store.write('t1', (tx) => tx.put('users', { id: 'u2', userName: 'after@example.com' }));
    await store.checkpointFromNow();
    await underWay;
    expect(await readFile(join(dir, 'db.json'), 'utf8')).toContain('after@example.com');
    // Asked for together while one runs, they share the one after it, which holds both changes.
    // (A write changes the state at once and resolves once durable; not awaited, nothing runs between.)
    const running = store.checkpoint(true);
    const third = store.write('t1', (tx) => tx.put('users', { id: 'u3', userName: 'third@example.com' }));
    const first = store.checkpointFromNow();
    const fourth = store.write('t1', (tx) => tx.put('users', { id: 'u4', userName: 'fourth@example.com' }));
    const second = store.checkpointFromNow();
    expect(second).toBe(first);
    await Promise.all([running, third, fourth, first]);
    expect(await readFile(join(dir, 'db.json'), 'utf8')).toContain('fourth@example.com');
    await store.close();
  });

  it('tells when its snapshot was written, by this run or the one before', async () => {
    const dir = await tempDir();
    const store = await withTenant(dir);
    await store.write('t1', (tx) => tx.put('users', { id: 'u1', userName: 'Alice' }));
    const before = store.stats().snapshotWrittenAt;
    await store.checkpoint(true);
    const written = store.stats().snapshotWrittenAt;
    expect(written).toBeGreaterThan(0);
    expect(written).not.toBe(before);
    await store.close();
    const again = await openDurableStore(dir);
    // Read from the file: the checkpoint on close (if any) or the one above.
    expect(again.stats().snapshotWrittenAt).toBeGreaterThanOrEqual(Math.floor(written ?? 0) - 1000);
    await again.close();
  });

  it.runIf(process.platform !== 'win32')(
    'makes a snapshot and journal others can read private again on open',
    async () => {
      const dir = await tempDir();
      const store = await withTenant(dir);
      await store.write('t1', (tx) => tx.put('users', { id: 'u1', userName: 'Alice' }));
      await store.checkpoint(true);
      await store.write('t1', (tx) => tx.put('users', { id: 'u2', userName: 'Bob' }));
      await store.close();
      // As a restore or `cp -r` under umask 022 leaves them.
      const files = (await readdir(dir)).filter((name) => name === 'db.json' || name.startsWith('journal-'));
      expect(files).toContain('db.json');
      for (const name of files) await chmod(join(dir, name), 0o644);
      const again = await openDurableStore(dir);
      for (const name of files) expect([name, (await stat(join(dir, name))).mode & 0o777]).toEqual([name, 0o600]);
      await again.close();
    },
  );

  it('removes the half-written snapshot a crashed checkpoint left, and opens what db.json holds', async () => {
    const dir = await tempDir();
    const store = await withTenant(dir);
    await store.write('t1', (tx) => tx.put('users', { id: 'u1', userName: 'Alice' }));
    await store.close();
    await writeFile(join(dir, 'db.json.tmp'), '{"version":');
    const again = await openDurableStore(dir);
    expect(again.tenant('t1')?.get('users', 'u1')?.userName).toBe('Alice');
    expect(await readdir(dir)).not.toContain('db.json.tmp');
    await again.close();
  });

  it('keeps what was written across a reopen', async () => {
    const dir = await tempDir();
    const store = await withTenant(dir);
    await store.write('t1', (tx) => {
      tx.put('users', { id: 'u1', userName: 'Alice', emails: [{ value: 'alice@example.com', type: 'work' }] });
      tx.put('groups', { id: 'g1', displayName: 'Staff', members: [{ value: 'u1', type: 'User' }] });
      tx.put('settings', { id: 'tenant', profile: 'entra' });
    });
    await store.close();

    const again = await openDurableStore(dir);
    expect(again.listTenants()).toEqual([tenant('t1')]);
    const view = again.tenant('t1');
    expect(view?.get('users', 'u1')?.userName).toBe('Alice');
    expect(view?.groupsOf('u1')).toEqual(['g1']);
    expect(view?.settings()).toEqual({ id: 'tenant', profile: 'entra' });
    expect([
      ...(view?.candidates.lookup({ resource: 'User', index: 'emails.value', match: 'eq', key: 'alice@example.com' }) ??
        []),
    ]).toEqual(['u1']);
    await again.close();
  });

  it('undoes a transaction that throws, and refuses an async one', async () => {
    const store = await withTenant(await tempDir());
    await expect(
      store.write('t1', (tx) => {
        tx.put('users', { id: 'u1', userName: 'a' });
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(store.tenant('t1')?.count('users')).toBe(0);
    await expect(store.write('t1', async (tx) => tx.put('users', { id: 'u2', userName: 'b' }))).rejects.toThrow(
      'synchronous',
    );
    expect(store.tenant('t1')?.get('users', 'u2')).toBeUndefined();
    expect(store.stats().seq).toBe(1); // only the tenant
    await store.close();
  });

  it('reads its own writes inside a transaction, through the indexes', async () => {
    const store = await withTenant(await tempDir());
    const seen = await store.write('t1', (tx) => {
      tx.put('users', { id: 'u1', userName: 'Bulk.User' });
      return [...tx.candidates.lookup({ resource: 'User', index: 'userName', match: 'eq', key: 'bulk.user' })];
    });
    expect(seen).toEqual(['u1']);
    await store.close();
  });

  it('freezes stored documents and refuses ones without their key fields', async () => {
    const store = await withTenant(await tempDir());
    const doc = { id: 'u1', userName: 'a', name: { givenName: 'A' } };
    await store.write('t1', (tx) => tx.put('users', doc));
    // A plain-JSON document is kept as given, so the caller cannot change it behind the store's back.
    expect(() => {
      doc.userName = 'changed by the caller afterwards';
    }).toThrow(TypeError);
    expect(() => {
      doc.name.givenName = 'changed deeper';
    }).toThrow(TypeError);
    const stored = store.tenant('t1')?.get('users', 'u1');
    expect(stored?.name).toEqual({ givenName: 'A' });
    expect(stored?.userName).toBe('a');
    expect(() => {
      (stored as { userName: string }).userName = 'x';
    }).toThrow(TypeError);
    await expect(
      store.write('t1', (tx) => tx.put('users', { id: 'u2' } as unknown as { id: string; userName: string })),
    ).rejects.toThrow(StoreDataError);
    await expect(store.write('nope', () => undefined)).rejects.toThrow(StoreDataError);
    await store.close();
  });

  it('journals a membership change as a delta, not the whole group', async () => {
    const dir = await tempDir();
    const store = await withTenant(dir);
    const members = Array.from({ length: 2000 }, (_, i) => ({ value: `u${i}` }));
    await store.write('t1', (tx) => tx.put('groups', { id: 'g1', displayName: 'Big', members }));
    const journal = async () => {
      const names = (await readdir(dir)).filter((n) => n.startsWith('journal-'));
      let total = 0;
      for (const name of names) total += (await stat(join(dir, name))).size;
      return total;
    };
    const before = await journal();
    await store.write('t1', (tx) => tx.changeMembers('g1', { add: [{ value: 'new' }], remove: ['u5'] }));
    expect((await journal()) - before).toBeLessThan(300);
    const group = store.tenant('t1')?.get('groups', 'g1');
    expect(group?.members).toHaveLength(2000);
    expect(group?.members?.at(-1)).toEqual({ value: 'new' });
    expect(store.tenant('t1')?.groupsOf('u5')).toEqual([]);
    await store.close();
  });

  it('removes a deleted user from its groups in the same record', async () => {
    const store = await withTenant(await tempDir());
    await store.write('t1', (tx) => {
      tx.put('users', { id: 'u1', userName: 'a' });
      tx.put('groups', { id: 'g1', displayName: 'One', members: [{ value: 'u1' }, { value: 'u2' }] });
      tx.put('groups', { id: 'g2', displayName: 'Two', members: [{ value: 'u1' }] });
      tx.put('groups', { id: 'g3', displayName: 'Three', members: [{ value: 'u2' }] });
    });
    const seq = store.stats().seq;
    const changed = await store.write('t1', (tx) => {
      tx.delete('users', 'u1');
      return tx.removeFromAllGroups('u1');
    });
    expect(changed.sort()).toEqual(['g1', 'g2']);
    expect(store.stats().seq).toBe(seq + 1);
    expect(store.tenant('t1')?.get('groups', 'g2')?.members).toEqual([]);
    await store.close();
  });

  it('finds SCIM tokens by hash across tenants, and forgets them with their tenant', async () => {
    const store = await withTenant(await tempDir());
    const token: ScimTokenRecord = {
      id: 'tok1',
      tenant_id: 't1',
      name: 'Entra',
      token_hash: 'abc123',
      token_prefix: 'scim_ab',
      created_at: '2024-05-01T10:00:00.000Z',
      expires_at: null,
      last_used_at: null,
      revoked_at: null,
    };
    await store.write('t1', (tx) => tx.put('scimTokens', token));
    expect(store.findScimToken('abc123')).toEqual({ tenant: 't1', token });
    await store.write('t1', (tx) => tx.merge('scimTokens', 'tok1', { last_used_at: '2024-05-02T00:00:00.000Z' }));
    expect(store.findScimToken('abc123')?.token.last_used_at).toBe('2024-05-02T00:00:00.000Z');
    expect(await store.deleteTenant('t1')).toBe(true);
    expect(store.findScimToken('abc123')).toBeUndefined();
    expect(store.listTenants()).toEqual([]);
    await store.close();
    await expect(async () => store.listTenants()).rejects.toThrow(StoreClosedError);
  });

  it('opens a walking-skeleton (version 1) db.json and refuses one from a newer version', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'db.json'), JSON.stringify({ version: 1, tenants: [tenant('old')] }));
    const store = await openDurableStore(dir);
    expect(store.listTenants()).toEqual([tenant('old')]);
    await store.checkpoint();
    await store.close();
    expect(JSON.parse(await readFile(join(dir, 'db.json'), 'utf8')).version).toBe(2);

    const newer = await tempDir();
    await writeFile(join(newer, 'db.json'), JSON.stringify({ version: 99, tenants: [] }));
    await expect(openDurableStore(newer)).rejects.toThrow(StoreOpenError);
    await expect(openDurableStore(newer)).rejects.toThrow(/newer scimdesk/);
  });
});
