/**
 * kill -9 at random moments during a storm of concurrent writes (DESIGN.md §4): after every kill the
 * store opens unaided (the next child does it, taking over the stale lock and cutting a torn line),
 * and at the end every acknowledged write is there and every acknowledged delete is gone.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { foldKey } from '@shared/scim/index-keys';
import { openDurableStore } from '../../../src-main/store/durable-store';
import { runFixture } from './children';

const ROUNDS = 20;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scimdesk-crash-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('crash recovery under SIGKILL', () => {
  it(`loses no acknowledged write across ${ROUNDS} kills at random moments`, { timeout: 90_000 }, async () => {
    const present = new Set<string>(); // acknowledged put, no delete tried
    const gone = new Set<string>(); // acknowledged delete
    let acked = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const child = runFixture('crash-writer.ts', [dir, String(round)]);
      await child.waitFor('ready');
      // Random moment: from "right after open" to well into the storm (checkpoints included).
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 300));
      child.process.kill('SIGKILL');
      const { signal } = await child.exited;
      expect(signal, child.stderr()).toBe('SIGKILL');
      for (const line of child.lines) {
        const [kind, action, id] = line.split(' ');
        if (kind === 'ack' && action === 'put' && id) {
          present.add(id);
          acked++;
        } else if (kind === 'try' && action === 'del' && id) present.delete(id);
        else if (kind === 'ack' && action === 'del' && id) gone.add(id);
      }
    }
    expect(acked).toBeGreaterThan(ROUNDS); // the storm really ran

    const store = await openDurableStore(dir);
    try {
      const tenant = store.tenant('t');
      if (!tenant) throw new Error('tenant t is missing');
      const members = new Set((tenant.get('groups', 'g')?.members ?? []).map((m) => m.value));
      const missing = [...present].filter((id) => !tenant.get('users', id) || !members.has(id));
      expect(missing, 'acknowledged writes missing after the kills').toEqual([]);
      const resurrected = [...gone].filter((id) => tenant.get('users', id) || members.has(id));
      expect(resurrected, 'acknowledged deletes undone by the kills').toEqual([]);
      // The indexes rebuilt on open agree with the documents.
      for (const id of [...present].slice(0, 200)) {
        const lookup = { resource: 'User', index: 'userName', match: 'eq', key: foldKey(`User.${id}`) } as const;
        expect([...tenant.candidates.lookup(lookup)]).toEqual([id]);
        expect(tenant.groupsOf(id)).toEqual(['g']);
      }
    } finally {
      await store.close();
    }
  });
});
