import * as fsPromises from 'node:fs/promises';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createResourceHistory,
  type JsonObject,
  type ResourceHistoryLimits,
} from '../../../../src-main/services/resource-history';
import { TrackIndex } from '../../../../src-main/services/resource-history/records';

const made: string[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'scimdesk-history-'));
  made.push(dir);
  return dir;
}

const log = { error: () => undefined, warn: () => undefined, info: () => undefined };
const T0 = Date.parse('2024-05-01T10:00:00.000Z');
const meta = (n: number, actor = 'Entra provisioning') => ({ time: T0 + n * 1000, actor, request_id: `r${n}` });

/** A base record of user u1's version 2, as an older build that read none of the others wrote it. */
function olderBuildsVersion2(tenant: string, resource: JsonObject): string {
  const head = {
    role: 'base',
    tenant,
    kind: 'User',
    id: 'u1',
    v: 2,
    type: 'change',
    time: T0 + 9000,
    actor: 'old',
    request_seq: null,
    attrs: ['title'],
    flags: [],
  };
  return `${JSON.stringify(head)}\t${JSON.stringify({ resource })}\n`;
}

function open(dataDir: string, limits: Partial<ResourceHistoryLimits> = {}, io?: typeof fsPromises) {
  return createResourceHistory({ dataDir, log, limits, ...(io ? { io } : {}) });
}

/** Everything the history's files hold, as text: what must not contain a purged tenant's data. */
async function historyText(dataDir: string): Promise<string> {
  const dir = join(dataDir, 'history');
  const texts = await Promise.all((await readdir(dir)).map((name) => readFile(join(dir, name), 'utf8')));
  return texts.join('\n');
}

async function historyBytes(dataDir: string): Promise<number> {
  const dir = join(dataDir, 'history');
  let total = 0;
  for (const name of await readdir(dir)) if (name.endsWith('.jsonl')) total += (await stat(join(dir, name))).size;
  return total;
}

const user = (patch: JsonObject = {}): JsonObject => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  id: 'u1',
  userName: 'bjensen@example.com',
  name: { givenName: 'Barbara', familyName: 'Jensen' },
  emails: [{ value: 'bjensen@example.com', type: 'work', primary: true }],
  active: true,
  ...patch,
});

/**
 * An `io` whose reads of record bodies (or, for 'writes', openings of a segment to write to) wait,
 * while the gate is closed, until the test lets each one through (`release`) or opens the gate;
 * everything else goes to the disk at once.
 */
function gatedIo(what: 'reads' | 'writes' = 'reads') {
  const waiting: (() => void)[] = [];
  let closed = false;
  const io = {
    ...fsPromises,
    open: (async (...args: Parameters<typeof fsPromises.open>) => {
      if (what === 'writes' && args[1] !== 'r' && closed) await new Promise<void>((resolve) => waiting.push(resolve));
      const handle = await fsPromises.open(...args);
      if (what === 'writes' || args[1] !== 'r' || !closed) return handle;
      const read = handle.read.bind(handle) as (...a: unknown[]) => Promise<unknown>;
      return Object.assign(handle, {
        read: async (...a: unknown[]) => {
          if (closed) await new Promise<void>((resolve) => waiting.push(resolve));
          return read(...a);
        },
      });
    }) as typeof fsPromises.open,
  };
  return {
    io,
    close: () => void (closed = true),
    /** Resolves once a read (or write) waits at the gate. */
    async nextRead(): Promise<void> {
      while (waiting.length === 0) await new Promise((resolve) => setImmediate(resolve));
    },
    /** Lets the oldest waiting read through. */
    release: () => waiting.shift()?.(),
    open(): void {
      closed = false;
      for (const release of waiting.splice(0)) release();
    },
  };
}

describe('resource history', () => {
  it('keeps a timeline, rebuilds every version and diffs any two', async () => {
    const dir = await tempDir();
    const history = await open(dir);
    const v1 = user();
    const v2 = user({ active: false });
    const v3 = user({ active: false, name: { givenName: 'Babs', familyName: 'Jensen' }, emails: [] });
    expect(history.recordCreate('t', 'User', v1, meta(1))).toBe(1);
    expect(history.recordChange('t', 'User', 'u1', v1, v2, meta(2))).toBe(2);
    expect(history.recordChange('t', 'User', 'u1', v2, v2, meta(3))).toBeUndefined(); // nothing changed
    expect(history.recordChange('t', 'User', 'u1', v2, v3, meta(4, 'console'))).toBe(3);
    const check = async (h: typeof history) => {
      const timeline = h.timeline('t', 'User', 'u1', { page: 1, per_page: 10 });
      expect(timeline.total).toBe(3);
      expect(timeline.items.map((v) => [v.version, v.kind, v.actor, v.attributes])).toEqual([
        [3, 'change', 'console', ['emails', 'name']],
        [2, 'change', 'Entra provisioning', ['active']],
        [1, 'create', 'Entra provisioning', ['active', 'emails', 'id', 'name', 'schemas', 'userName']],
      ]);
      expect(timeline.items[0]).toMatchObject({
        time: '2024-05-01T10:00:04.000Z',
        request_id: 'r4',
        request_seq: null,
      });
      expect((await h.version('t', 'User', 'u1', 1))?.resource).toEqual(v1);
      expect((await h.version('t', 'User', 'u1', 2))?.resource).toEqual(v2);
      expect((await h.version('t', 'User', 'u1', 3))?.resource).toEqual(v3);
      expect(await h.version('t', 'User', 'u1', 4)).toBeUndefined();
      expect((await h.diff('t', 'User', 'u1', 1, 3))?.changes).toEqual([
        { op: 'set', path: ['name', 'givenName'], value: 'Babs' },
        {
          op: 'elements',
          path: ['emails'],
          removed: [{ index: 0, value: (v1['emails'] as JsonObject[])[0]! }],
          added: [],
        },
        { op: 'set', path: ['active'], value: false },
      ]);
    };
    await check(history); // from the write buffer
    await history.flush();
    await check(history); // from disk
    await history.close();
    await check(await open(dir)); // after a restart
  });

  it('pages the timeline newest first', async () => {
    const history = await open(await tempDir());
    let current = user();
    history.recordCreate('t', 'User', current, meta(0));
    for (let n = 1; n <= 24; n++) {
      const next = user({ displayName: `name ${n}` });
      history.recordChange('t', 'User', 'u1', current, next, meta(n));
      current = next;
    }
    const second = history.timeline('t', 'User', 'u1', { page: 2, per_page: 10 });
    expect(second.items.map((v) => v.version)).toEqual([15, 14, 13, 12, 11, 10, 9, 8, 7, 6]);
    expect(history.timeline('t', 'User', 'u1', { page: 3, per_page: 10 }).items.map((v) => v.version)).toEqual([
      5, 4, 3, 2, 1,
    ]);
    expect(history.timeline('t', 'User', 'nobody', { page: 1, per_page: 10 })).toEqual({
      items: [],
      total: 0,
      page: 1,
      per_page: 10,
    });
    await history.close();
  });

  it('records deletion and re-creation', async () => {
    const history = await open(await tempDir());
    history.recordCreate('t', 'User', user(), meta(1));
    history.recordDelete('t', 'User', 'u1', meta(2));
    history.recordChange('t', 'User', 'u1', user(), user({ active: false }), meta(3)); // after a delete: written whole
    expect((await history.version('t', 'User', 'u1', 2))?.resource).toBeNull();
    expect((await history.version('t', 'User', 'u1', 3))?.resource).toEqual(user({ active: false }));
    expect((await history.diff('t', 'User', 'u1', 2, 3))?.changes.length).toBeGreaterThan(0);
    await history.close();
  });

  it('never stores a password, but says it changed', async () => {
    const dir = await tempDir();
    const history = await open(dir);
    const secrets = ['$scrypt$ln=15$c2FsdA$first-hash', 'clear-text-pw-1', '$scrypt$ln=15$c2FsdA$second-hash'];
    history.recordCreate('t', 'User', user({ password: secrets[0]! }), meta(1));
    history.recordChange(
      't',
      'User',
      'u1',
      user({ password: secrets[0]! }),
      user({ password: secrets[2]!, 'urn:x:ext': { password: secrets[1]! } }),
      meta(2),
    );
    expect(history.timeline('t', 'User', 'u1', { page: 1, per_page: 5 }).items[0]?.attributes).toContain('password');
    const v2 = await history.version('t', 'User', 'u1', 2);
    expect(v2?.resource).toMatchObject({ password: '[redacted]', 'urn:x:ext': { password: '[redacted]' } });
    await history.close();
    const onDisk = (await readdir(join(dir, 'history'))).map((name) => readFile(join(dir, 'history', name), 'utf8'));
    const text = (await Promise.all(onDisk)).join('\n');
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(JSON.stringify(v2)).not.toContain('hash');
  });

  it('finds a password put into a part that could still change, inside a frozen resource', async () => {
    const dir = await tempDir();
    const history = await open(dir);
    // Frozen on the outside only: what it was seen without before says nothing of it now.
    const ext: JsonObject = { note: 'x' };
    const shallow = Object.freeze(user({ 'urn:x:ext': ext }));
    history.recordCreate('t', 'User', shallow, meta(1));
    history.recordChange('t', 'User', 'u1', shallow, Object.freeze(user({ 'urn:x:ext': ext, title: 'A' })), meta(2));
    ext['password'] = 'secret-put-in-late';
    history.recordChange('t', 'User', 'u1', user({ title: 'A' }), shallow, meta(3));
    const v3 = await history.version('t', 'User', 'u1', 3);
    expect(v3?.resource).toMatchObject({ 'urn:x:ext': { password: '[redacted]' } });
    await history.close();
    expect(await historyText(dir)).not.toContain('secret-put-in-late');
  });

  it('says of a password in a diff only what the versions between changed', async () => {
    const dir = await tempDir();
    const history = await open(dir);
    const R = '[redacted]';
    // v1 as written before versions showed a password (no key); v2 a large change, so a base.
    history.recordCreate('t', 'User', user(), meta(1));
    const big = 'x'.repeat(6000);
    history.recordChange('t', 'User', 'u1', user({ password: R }), user({ password: R, displayName: big }), meta(2));
    // v3 a new password (both sides read "[redacted]"), v4 the password removed.
    const v3 = user({ password: R, displayName: big });
    history.recordChange('t', 'User', 'u1', v3, v3, { ...meta(3), passwordChanged: true });
    history.recordChange('t', 'User', 'u1', v3, user({ displayName: big }), meta(4));
    const passwordPart = async (from: number, to: number) =>
      (await history.diff('t', 'User', 'u1', from, to))?.changes.filter((c) => c.path[0] === 'password');
    expect(await passwordPart(1, 2)).toEqual([]);
    expect(await passwordPart(2, 3)).toEqual([{ op: 'set', path: ['password'], value: R }]);
    expect(await passwordPart(1, 3)).toEqual([{ op: 'set', path: ['password'], value: R }]);
    expect(await passwordPart(3, 4)).toEqual([{ op: 'unset', path: ['password'] }]);
    // Set, then removed: no password on either side, nothing to say.
    expect(await passwordPart(1, 4)).toEqual([]);
    expect(await passwordPart(4, 1)).toEqual([]);
    // A deletion takes the password with everything else; going back to before it gives it back.
    history.recordCreate('t', 'User', user({ id: 'u9', password: R }), meta(5));
    history.recordDelete('t', 'User', 'u9', meta(6));
    const deleted = async (from: number, to: number) =>
      (await history.diff('t', 'User', 'u9', from, to))?.changes.filter((c) => c.path[0] === 'password');
    expect(await deleted(1, 2)).toEqual([{ op: 'unset', path: ['password'] }]);
    expect(await deleted(2, 1)).toEqual([{ op: 'set', path: ['password'], value: R }]);
    await history.close();
  });

  it("keeps a creation the same when it takes the caller's serialization, and never a password from it", async () => {
    const dir = await tempDir();
    const history = await open(dir);
    const plain = user({ id: 'u2' });
    history.recordCreate('t', 'User', plain, meta(1), JSON.stringify(plain));
    // A caller's JSON that still holds a password is not used: the history takes it out itself.
    const withPassword = user({ id: 'u3', password: 'clear-text-pw-2' });
    history.recordCreate('t', 'User', withPassword, meta(2), JSON.stringify(withPassword));
    const nested = user({ id: 'u4', 'urn:x:ext': { PassWord: 'clear-text-pw-3' } });
    history.recordCreate('t', 'User', nested, meta(3), JSON.stringify(nested));
    await history.close();
    const reopened = await open(dir);
    expect((await reopened.version('t', 'User', 'u2', 1))?.resource).toEqual(plain);
    expect((await reopened.version('t', 'User', 'u3', 1))?.resource).toMatchObject({ password: '[redacted]' });
    expect((await reopened.version('t', 'User', 'u4', 1))?.resource).toMatchObject({
      'urn:x:ext': { PassWord: '[redacted]' },
    });
    await reopened.close();
    const onDisk = (await readdir(join(dir, 'history'))).map((name) => readFile(join(dir, 'history', name), 'utf8'));
    const text = (await Promise.all(onDisk)).join('\n');
    expect(text).not.toContain('clear-text-pw-2');
    expect(text).not.toContain('clear-text-pw-3');
  });

  it('grows linearly: single-member changes to a 10,000-member group cost one element each', async () => {
    const dir = await tempDir();
    const history = await open(dir);
    const members = Array.from({ length: 10_000 }, (_, i) => ({
      value: `user-${String(i).padStart(5, '0')}`,
      display: `User ${i}`,
    }));
    let group: JsonObject = { id: 'g1', displayName: 'Everyone', members };
    history.recordCreate('t', 'Group', group, meta(0));
    await history.flush();
    const created = await historyBytes(dir);
    const changes = 300;
    for (let n = 1; n <= changes; n++) {
      const list = group['members'] as JsonObject[];
      const next =
        n % 2
          ? [...list, { value: `new-${n}`, display: `New ${n}` }]
          : list.filter((m) => m['value'] !== `new-${n - 1}`);
      const after = { ...group, members: next };
      history.recordChange('t', 'Group', 'g1', group, after, meta(n));
      group = after;
    }
    await history.flush();
    const grown = (await historyBytes(dir)) - created;
    // A copy per change would be 300 x ~450 KB; changes are ~300 bytes each, plus at most a few bases.
    expect(grown).toBeLessThan(changes * 400 + 2 * created);
    expect((await history.version('t', 'Group', 'g1', changes + 1))?.resource).toEqual(group);
    expect((await history.version('t', 'Group', 'g1', 2))?.resource?.['members']).toHaveLength(10_001);
    await history.close();
  });

  it('grows linearly while a group is built one member at a time', async () => {
    const dir = await tempDir();
    const history = await open(dir);
    let group: JsonObject = { id: 'g1', displayName: 'Built', members: [] };
    history.recordCreate('t', 'Group', group, meta(0));
    const size = 2000;
    for (let n = 0; n < size; n++) {
      const after = {
        ...group,
        members: [...(group['members'] as JsonObject[]), { value: `user-${n}`, display: `User ${n}` }],
      };
      history.recordChange('t', 'Group', 'g1', group, after, meta(n + 1));
      group = after;
    }
    await history.flush();
    const finalSize = JSON.stringify(group).length;
    // Quadratic would be ~size/2 full copies (~100 MB); linear stays within a small multiple of the changes.
    expect(await historyBytes(dir)).toBeLessThan(12 * (size * 300 + finalSize));
    expect((await history.version('t', 'Group', 'g1', size + 1))?.resource).toEqual(group);
    expect((await history.version('t', 'Group', 'g1', 1001))?.resource?.['members']).toHaveLength(1000);
    await history.close();
  });
});

describe('resource history: caps and purge', () => {
  it('drops the oldest records first, re-basing what is kept so every listed version rebuilds', async () => {
    const dir = await tempDir();
    const history = await open(dir, { maxBytes: 48 * 1024, segmentBytes: 6 * 1024 });
    const states = new Map<number, JsonObject>();
    let current = user();
    history.recordCreate('t', 'User', current, meta(0));
    states.set(1, current);
    history.recordCreate('t', 'User', user({ id: 'old', userName: 'old' }), meta(0));
    for (let n = 1; n <= 400; n++) {
      const next = user({ displayName: `name ${n}`, title: n % 3 ? 'x' : 'y' });
      history.recordChange('t', 'User', 'u1', current, next, meta(n));
      states.set(n + 1, next);
      current = next;
      if (n % 20 === 0) await history.flush();
    }
    await history.flush();
    expect(await historyBytes(dir)).toBeLessThanOrEqual(48 * 1024);
    const timeline = history.timeline('t', 'User', 'u1', { page: 1, per_page: 200 });
    expect(timeline.total).toBeLessThan(401);
    expect(timeline.items[0]?.version).toBe(401);
    const oldestKept = timeline.items.at(-1)!.version;
    expect(oldestKept).toBeGreaterThan(1);
    expect(timeline.items.map((item) => item.version)).toEqual(
      Array.from({ length: 402 - oldestKept }, (_, i) => 401 - i),
    );
    for (const { version: v } of timeline.items) {
      expect({ v, resource: (await history.version('t', 'User', 'u1', v))?.resource }).toEqual({
        v,
        resource: states.get(v),
      });
    }
    expect(await history.version('t', 'User', 'u1', oldestKept - 1)).toBeUndefined();
    // The resource untouched since the oldest segment went has no history left.
    expect(history.timeline('t', 'User', 'old', { page: 1, per_page: 5 }).total).toBe(0);
    await history.close();
    const reopened = await open(dir, { maxBytes: 48 * 1024, segmentBytes: 6 * 1024 });
    expect((await reopened.version('t', 'User', 'u1', oldestKept))?.resource).toEqual(states.get(oldestKept));
    await reopened.close();
  });

  it('caps the number of records', async () => {
    const history = await open(await tempDir(), { maxRecords: 100, segmentBytes: 2048 });
    let current = user();
    history.recordCreate('t', 'User', current, meta(0));
    for (let n = 1; n <= 300; n++) {
      const next = user({ displayName: `n${n}` });
      history.recordChange('t', 'User', 'u1', current, next, meta(n));
      current = next;
      if (n % 10 === 0) await history.flush();
    }
    await history.flush();
    expect(history.stats().records).toBeLessThanOrEqual(100);
    expect((await history.version('t', 'User', 'u1', 301))?.resource).toEqual(current);
    await history.close();
  });

  it('keeps the same id apart across tenants and kinds, in memory and after a restart', async () => {
    const dir = await tempDir();
    const history = await open(dir);
    history.recordCreate('t1', 'User', user({ id: 'x', userName: 'one@example.com' }), meta(1));
    history.recordCreate('t2', 'User', user({ id: 'x', userName: 'two@example.com' }), meta(2));
    history.recordCreate('t1', 'Group', { id: 'x', displayName: 'Group x' }, meta(3));
    history.recordChange('t2', 'User', 'x', user({ id: 'x' }), user({ id: 'x', active: false }), meta(4));
    const versions = (h: typeof history, tenant: string, kind: 'User' | 'Group') =>
      h.timeline(tenant, kind, 'x', { page: 1, per_page: 10 }).items.map((v) => v.kind);
    const check = (h: typeof history) => {
      expect(versions(h, 't1', 'User')).toEqual(['create']);
      expect(versions(h, 't2', 'User')).toEqual(['change', 'create']);
      expect(versions(h, 't1', 'Group')).toEqual(['create']);
      expect(versions(h, 't2', 'Group')).toEqual([]);
      expect(h.stats().resources).toBe(3);
    };
    check(history);
    await history.close();
    const reopened = await open(dir);
    check(reopened);
    await reopened.purgeTenant('t1');
    expect(versions(reopened, 't1', 'Group')).toEqual([]);
    expect(versions(reopened, 't2', 'User')).toEqual(['change', 'create']);
    expect(reopened.stats().resources).toBe(1);
    await reopened.close();
  });

  it('answers a version whose records the caps drop while it is being read: gone, not a failure', async () => {
    const dir = await tempDir();
    const gate = gatedIo();
    const history = await open(dir, { segmentBytes: 2048, maxRecords: 6 }, gate.io);
    const v1 = user();
    const v2 = user({ active: false });
    const v3 = user({ active: false, title: 'Engineer' });
    history.recordCreate('t', 'User', v1, meta(1));
    history.recordChange('t', 'User', 'u1', v1, v2, meta(2));
    history.recordChange('t', 'User', 'u1', v2, v3, meta(3));
    await history.flush();
    gate.close();
    const asked = history.version('t', 'User', 'u1', 3);
    await gate.nextRead();
    // Enough other resources that the record cap drops the oldest segment, u1's records with it.
    for (let n = 0; n < 12; n++) history.recordCreate('t', 'User', user({ id: `other${n}` }), meta(10 + n));
    await history.flush();
    expect(history.timeline('t', 'User', 'u1', { page: 1, per_page: 10 }).total).toBe(0);
    gate.open();
    await expect(asked).resolves.toBeUndefined();
    await history.close();
  });

  it('removes a track from the index only while it is the one the index holds', () => {
    const tracks = new TrackIndex();
    const stale = tracks.open('t', 'User', 'x');
    tracks.delete(stale);
    const live = tracks.open('t', 'User', 'x');
    tracks.delete(stale);
    expect(tracks.get('t', 'User', 'x')).toBe(live);
    expect(tracks.size).toBe(1);
    tracks.delete(live);
    expect(tracks.get('t', 'User', 'x')).toBeUndefined();
    expect(tracks.size).toBe(0);
    expect(tracks.all()).toEqual([]);
  });

  it('purges a tenant from memory and disk', async () => {
    const dir = await tempDir();
    const history = await open(dir, { segmentBytes: 2048 });
    for (let n = 0; n < 20; n++) {
      history.recordCreate('doomed', 'User', user({ id: `d${n}`, userName: `doomed-marker-${n}` }), meta(n));
      history.recordCreate('kept', 'User', user({ id: `k${n}` }), meta(n));
      if (n === 10) await history.flush();
    }
    await history.purgeTenant('doomed');
    await history.flush();
    expect(history.timeline('doomed', 'User', 'd1', { page: 1, per_page: 5 }).total).toBe(0);
    expect((await history.version('kept', 'User', 'k3', 1))?.resource).toEqual(user({ id: 'k3' }));
    await history.close();
    expect(await historyText(dir)).not.toContain('doomed-marker');
    const reopened = await open(dir);
    expect(reopened.stats().resources).toBe(20);
    await reopened.close();
  });

  it('writes nothing back for a tenant purged while the caps rebuild one of its resources', async () => {
    const dir = await tempDir();
    const gate = gatedIo();
    const history = await open(dir, { segmentBytes: 1024, maxRecords: 8 }, gate.io);
    const v1 = user({ userName: 'doomed-marker' });
    const v2 = user({ userName: 'doomed-marker', active: false });
    const v3 = user({ userName: 'doomed-marker', active: false, title: 'Engineer' });
    history.recordCreate('doomed', 'User', v1, meta(1));
    history.recordChange('doomed', 'User', 'u1', v1, v2, meta(2));
    await history.flush();
    // Fills the first segment, so that u1's third version lands in the next one.
    history.recordCreate('kept', 'User', user({ id: 'k0' }), meta(3));
    await history.flush();
    history.recordChange('doomed', 'User', 'u1', v2, v3, meta(5));
    await history.flush();
    expect(history.stats().segments).toBe(2);
    gate.close();
    // Past the record cap: the first segment goes, and u1's version 3 must first be rebuilt whole,
    // from three reads. The tenant is purged while the last of them is on its way.
    for (let n = 1; n < 6; n++) history.recordCreate('kept', 'User', user({ id: `k${n}` }), meta(4 + n));
    const flushed = history.flush();
    for (let read = 1; read < 3; read++) {
      await gate.nextRead();
      gate.release();
    }
    await gate.nextRead();
    const purged = history.purgeTenant('doomed');
    gate.open();
    await Promise.all([flushed, purged]);
    await history.flush();
    expect(history.timeline('doomed', 'User', 'u1', { page: 1, per_page: 5 }).total).toBe(0);
    expect(history.stats()).toMatchObject({ resources: 6, records: 6 });
    await history.close();
    expect(await historyText(dir)).not.toContain('doomed-marker');
    const reopened = await open(dir);
    expect(reopened.stats().resources).toBe(6);
    await reopened.close();
  });

  it('leaves nothing on disk of a tenant purged while its records are being written', async () => {
    const dir = await tempDir();
    const gate = gatedIo('writes');
    const history = await open(dir, {}, gate.io);
    history.recordCreate('kept', 'User', user({ id: 'k0' }), meta(1));
    gate.close();
    history.recordCreate('doomed', 'User', user({ userName: 'doomed-marker' }), meta(2));
    const flushed = history.flush();
    await gate.nextRead();
    const purged = history.purgeTenant('doomed');
    gate.open();
    await Promise.all([flushed, purged]);
    expect(history.stats()).toMatchObject({ resources: 1, records: 1 });
    await history.close();
    expect(await historyText(dir)).not.toContain('doomed-marker');
    const reopened = await open(dir);
    expect(reopened.stats().resources).toBe(1);
    await reopened.close();
  });

  it('writes the next change whole after a crash, since the last moments may be missing', async () => {
    const dir = await tempDir();
    const crashed = await open(dir);
    crashed.recordCreate('t', 'User', user(), meta(1));
    await crashed.flush();
    crashed.recordChange('t', 'User', 'u1', user(), user({ active: false }), meta(2)); // lost with the process
    const reopened = await open(dir);
    expect(reopened.timeline('t', 'User', 'u1', { page: 1, per_page: 5 }).total).toBe(1);
    // The store says the user is inactive and now gets a title: version 2 must be that, not a replay onto v1.
    const after = user({ active: false, title: 'Boss' });
    reopened.recordChange('t', 'User', 'u1', user({ active: false }), after, meta(3));
    expect((await reopened.version('t', 'User', 'u1', 2))?.resource).toEqual(after);
    await reopened.close();
    await crashed.close();
  });
});

describe('resource history: numbered as the resource is', () => {
  const numbered = (n: number) => ({ ...meta(n), version: n });

  it('keeps the resource’s own numbers across a crash that lost versions: a gap, not a shift', async () => {
    const dir = await tempDir();
    const crashed = await open(dir);
    crashed.recordCreate('t', 'User', user(), numbered(1));
    await crashed.flush();
    // Versions 2 and 3 are durable in the store but were still in the history's buffer.
    crashed.recordChange('t', 'User', 'u1', user(), user({ title: 'Two' }), numbered(2));
    crashed.recordChange('t', 'User', 'u1', user({ title: 'Two' }), user({ title: 'Three' }), numbered(3));
    const reopened = await open(dir);
    const after = user({ title: 'Four' });
    reopened.recordChange('t', 'User', 'u1', user({ title: 'Three' }), after, numbered(4));
    const timeline = reopened.timeline('t', 'User', 'u1', { page: 1, per_page: 5 });
    expect(timeline.items.map((item) => item.version)).toEqual([4, 1]);
    expect((await reopened.version('t', 'User', 'u1', 4))?.resource).toEqual(after);
    expect(await reopened.version('t', 'User', 'u1', 2)).toBeUndefined();
    await reopened.close();
    await crashed.close();
  });

  it('writes a version whole when the one before it was never recorded, even after a clean start', async () => {
    const history = await open(await tempDir());
    history.recordCreate('t', 'User', user(), numbered(1));
    // Version 2 changed nothing the history keeps (it was not recorded); version 3 follows it.
    const after = user({ title: 'Three', active: false });
    history.recordChange('t', 'User', 'u1', user({ active: false }), after, numbered(3));
    expect((await history.version('t', 'User', 'u1', 3))?.resource).toEqual(after);
    await history.close();
  });
});

describe('resource history: buffer bound, caps and reads against disk jobs in flight', () => {
  const versionsOf = (h: Awaited<ReturnType<typeof open>>, id = 'u1') =>
    h.timeline('t', 'User', id, { page: 1, per_page: 500 }).items.map((item) => item.version);

  it('keeps versions on their way to disk when the buffer bound drops newer ones', async () => {
    const dir = await tempDir();
    const gate = gatedIo('writes');
    const limits = { maxBufferedBytes: 1500, flushIntervalMs: 1e6 };
    const history = await open(dir, limits, gate.io);
    const [a, b, c, d] = [user(), user({ active: false }), user({ title: 'Engineer' }), user({ title: 'Boss' })];
    gate.close();
    history.recordCreate('t', 'User', a, meta(1));
    history.recordChange('t', 'User', 'u1', a, b, meta(2));
    const flushed = history.flush(); // versions 1 and 2 wait at the gate
    await gate.nextRead();
    history.recordChange('t', 'User', 'u1', b, c, meta(3));
    // Over the bound: the oldest queued record (u1's version 3) goes, not what is being written.
    history.recordCreate('t', 'User', user({ id: 'big', displayName: 'x'.repeat(800) }), meta(4));
    history.recordChange('t', 'User', 'u1', c, d, meta(5));
    gate.open();
    await flushed;
    await history.flush();
    const before = versionsOf(history);
    expect(before).toEqual([3, 2, 1]);
    const resources = await Promise.all(before.map((v) => history.version('t', 'User', 'u1', v)));
    expect(resources.map((r) => r?.resource)).toEqual([d, b, a]);
    await history.close();
    const reopened = await open(dir);
    expect(versionsOf(reopened)).toEqual(before);
    const reread = await Promise.all(before.map((v) => reopened.version('t', 'User', 'u1', v)));
    expect(reread.map((r) => r?.resource)).toEqual([d, b, a]);
    await reopened.close();
  });

  it('says at its close how many records it could not write, rather than closing as if all were kept', async () => {
    const dir = await tempDir();
    const full = {
      ...fsPromises,
      open: (async (...args: Parameters<typeof fsPromises.open>) => {
        if (args[1] !== 'r')
          throw Object.assign(new Error('ENOSPC: no space left on device, open'), { code: 'ENOSPC' });
        return fsPromises.open(...args);
      }) as typeof fsPromises.open,
    };
    const history = await open(dir, { flushIntervalMs: 1e6 }, full);
    history.recordCreate('t', 'User', user(), meta(1));
    history.recordChange('t', 'User', 'u1', user(), user({ active: false }), meta(2));
    await expect(history.close()).rejects.toThrow(
      /^2 resource history records could not be written and are lost \(.*ENOSPC/,
    );
  });

  it('says once that writing failed and once that it works again, and keeps what it buffered meanwhile', async () => {
    const dir = await tempDir();
    const disk = { full: true };
    const io = {
      ...fsPromises,
      open: (async (...args: Parameters<typeof fsPromises.open>) => {
        if (disk.full && args[1] !== 'r') {
          throw Object.assign(new Error('ENOSPC: no space left on device, open'), { code: 'ENOSPC' });
        }
        return fsPromises.open(...args);
      }) as typeof fsPromises.open,
    };
    const lines: string[] = [];
    const told = {
      error: (text: string) => lines.push(text),
      warn: () => undefined,
      info: (text: string) => lines.push(text),
    };
    const history = await createResourceHistory({ dataDir: dir, log: told, limits: { flushIntervalMs: 1e6 }, io });
    history.recordCreate('t', 'User', user(), meta(1));
    await history.flush();
    await history.flush();
    disk.full = false;
    await history.flush();
    expect(lines).toEqual([
      expect.stringMatching(/^resource history: writing failed \(.*ENOSPC/),
      'resource history: writing works again',
    ]);
    expect((await history.version('t', 'User', 'u1', 1))?.resource).toEqual(user());
    await history.close();
  });

  it('keeps a segment whose lines it cannot read (a newer build wrote them), and writes what older builds read', async () => {
    const dir = await tempDir();
    const history = await open(dir, { segmentBytes: 1024 });
    for (let n = 1; n <= 6; n++)
      history.recordCreate('t', 'User', user({ id: `u${n}`, title: 'x'.repeat(200) }), meta(n));
    await history.close();
    const names = (await readdir(join(dir, 'history'))).filter((name) => name.endsWith('.jsonl')).sort();
    expect(names.length).toBeGreaterThan(1);
    // The head of each line carries request_seq (null), which builds before 4 December require.
    const first = join(dir, 'history', names[0]!);
    expect((await readFile(first, 'utf8')).split('\n')[0]).toContain('"request_seq":null');
    // As a later build might write them: a role this build does not know.
    const lines = (await readFile(first, 'utf8')).split('\n').filter(Boolean);
    await fsPromises.writeFile(
      first,
      lines.map((line) => line.replace('"role":"base"', '"role":"snapshot"')).join('\n') + '\n',
    );

    const reopened = await open(dir, { segmentBytes: 1024 });
    reopened.recordChange('t', 'User', 'u6', user({ id: 'u6', title: 'x'.repeat(200) }), user({ id: 'u6' }), meta(7));
    await reopened.flush();
    await reopened.close();
    // Nothing of it is live here, yet it is not deleted as empty: the later build reads it again.
    expect((await readFile(first, 'utf8')).split('\n').filter(Boolean)).toHaveLength(lines.length);
  });

  it('reads a version whose record was damaged into other JSON as gone, not as an error', async () => {
    const dir = await tempDir();
    const history = await open(dir);
    const [v1, v2] = [user(), user({ title: 'v2' })];
    history.recordCreate('t', 'User', v1, meta(1));
    history.recordChange('t', 'User', 'u1', v1, v2, meta(2));
    await history.close();
    const [name] = (await readdir(join(dir, 'history'))).filter((file) => file.endsWith('.jsonl'));
    const file = join(dir, 'history', name!);
    const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
    // The change's body still parses, and its head still names the version: what a flipped bit
    // in a value or a bad sector's neighbour can leave.
    const damaged = (line: string, body: string) => `${line.slice(0, line.indexOf('\t'))}\t${body}`;
    for (const body of ['{"changes":5}', '{"changes":[{"op":"elements","path":["emails"],"removed":7}]}']) {
      await fsPromises.writeFile(file, [lines[0], damaged(lines[1]!, body)].join('\n') + '\n');
      const reopened = await open(dir);
      await expect(reopened.version('t', 'User', 'u1', 2)).resolves.toBeUndefined();
      await expect(reopened.diff('t', 'User', 'u1', 1, 2)).resolves.toBeUndefined();
      expect((await reopened.version('t', 'User', 'u1', 1))?.resource).toEqual(v1);
      await reopened.close();
    }
  });

  it("keeps other tenants' unreadable lines through a purge, and removes the purged tenant's", async () => {
    const dir = await tempDir();
    const history = await open(dir);
    history.recordCreate('t', 'User', user({ id: 'ut' }), meta(1));
    history.recordCreate('p', 'User', user({ id: 'up' }), meta(2));
    await history.close();
    const [name] = (await readdir(join(dir, 'history'))).filter((file) => file.endsWith('.jsonl'));
    const file = join(dir, 'history', name!);
    // Tenant t's record and one more of p's, as a later build wrote them; p's readable one stays.
    const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
    const future = (line: string) => line.replace('"role":"base"', '"role":"snapshot"');
    const pFuture = future(lines[1]!).replace('"id":"up"', '"id":"up2"');
    await fsPromises.writeFile(file, [future(lines[0]!), lines[1], pFuture].join('\n') + '\n');

    const reopened = await open(dir);
    await reopened.purgeTenant('p');
    await reopened.close();
    const left = await readFile(file, 'utf8').catch(() => '');
    expect(left.split('\n').filter(Boolean)).toEqual([future(lines[0]!)]);
  });

  it('reads a version two writers each wrote as the later writer’s, whole', async () => {
    const dir = await tempDir();
    const history = await open(dir);
    const [v1, v2] = [user(), user({ title: 'by the newer build' })];
    history.recordCreate('t', 'User', v1, meta(1));
    history.recordChange('t', 'User', 'u1', v1, v2, meta(2));
    await history.close();
    // An older build, which read none of the above, wrote its own version 2 after it: a base.
    const [name] = (await readdir(join(dir, 'history'))).filter((file) => file.endsWith('.jsonl'));
    const file = join(dir, 'history', name!);
    const older = user({ title: 'by the older build' });
    await fsPromises.appendFile(file, olderBuildsVersion2('t', older));

    const reopened = await open(dir);
    const version = await reopened.version('t', 'User', 'u1', 2);
    expect(version).toMatchObject({ actor: 'old', time: new Date(T0 + 9000).toISOString(), resource: older });
    await reopened.close();
  });

  it('leaves nothing of a purged tenant on disk, records a later writer replaced included', async () => {
    const dir = await tempDir();
    const history = await open(dir, { segmentBytes: 256 });
    const [v1, v2] = [user(), user({ title: 'SECRET-A-CHANGE' })];
    history.recordCreate('p', 'User', v1, meta(1));
    history.recordChange('p', 'User', 'u1', v1, v2, meta(2));
    history.recordCreate('o', 'User', user({ id: 'o1' }), meta(3));
    await history.close();
    const segments = (await readdir(join(dir, 'history'))).filter((file) => file.endsWith('.jsonl')).sort();
    expect(segments.length).toBeGreaterThan(2);
    // An older build's own version 2 of p's user, in a segment after the others.
    const next = String(Number(segments.at(-1)!.replace('.jsonl', '')) + 1).padStart(10, '0');
    await fsPromises.writeFile(
      join(dir, 'history', `${next}.jsonl`),
      olderBuildsVersion2('p', user({ title: 'older' })),
    );

    const reopened = await open(dir, { segmentBytes: 256 });
    await reopened.purgeTenant('p');
    await reopened.close();
    expect(await historyText(dir)).not.toContain('SECRET-A-CHANGE');
  });

  it('writes the caps’ fresh base even when it does not fit the buffer bound', async () => {
    const dir = await tempDir();
    const limits = { segmentBytes: 1024, maxRecords: 4, maxBufferedBytes: 1300, flushIntervalMs: 1e6 };
    const history = await open(dir, limits);
    const [v1, v2, v3] = [user(), user({ active: false }), user({ active: false, title: 'Engineer' })];
    history.recordCreate('t', 'User', v1, meta(1));
    history.recordChange('t', 'User', 'u1', v1, v2, meta(2));
    await history.flush();
    history.recordCreate('t', 'User', user({ id: 'k0' }), meta(3));
    await history.flush();
    history.recordChange('t', 'User', 'u1', v2, v3, meta(4));
    await history.flush();
    expect(history.stats().segments).toBe(2);
    // About 1,000 bytes: within the bound alone, not with u1's rebuilt base on top.
    history.recordCreate('t', 'User', user({ id: 'k1', displayName: 'x'.repeat(750) }), meta(5));
    await history.flush(); // past the record cap: the first segment goes, u1's version 3 is rebased
    expect(history.stats()).toMatchObject({ write_errors: 0, last_error: null });
    expect(versionsOf(history)).toEqual([3]);
    expect((await history.version('t', 'User', 'u1', 3))?.resource).toEqual(v3);
    await history.close();
  });

  it.each([
    ['the same id in every tenant', ['u1', 'u1', 'u1']],
    ['ids of their own', ['a1', 'b1', 'c1']],
  ])('reads the right version while a purge rewrites its segment (%s)', async (_, ids) => {
    const dir = await tempDir();
    // Holds the folder fsync that follows the rewritten segment's rename.
    let release: (() => void) | undefined;
    let holdNext = false;
    const io = {
      ...fsPromises,
      open: (async (...args: Parameters<typeof fsPromises.open>) => {
        if (holdNext && args[0] === join(dir, 'history') && args[1] === 'r') {
          holdNext = false;
          await new Promise<void>((resolve) => (release = resolve));
        }
        return fsPromises.open(...args);
      }) as typeof fsPromises.open,
    };
    const history = await open(dir, {}, io);
    const [a, b, c] = ['A', 'B', 'C'].map((tenant, i) => user({ id: ids[i]!, userName: `tenant-${tenant}` }));
    history.recordCreate('A', 'User', a!, meta(1));
    history.recordCreate('B', 'User', b!, meta(2));
    history.recordCreate('C', 'User', c!, meta(3));
    await history.flush();
    holdNext = true;
    const purged = history.purgeTenant('A');
    while (!release) await new Promise((resolve) => setImmediate(resolve));
    // The segment is renamed over; the folder's fsync has not returned.
    expect((await history.version('B', 'User', ids[1]!, 1))?.resource).toEqual(b);
    expect((await history.version('C', 'User', ids[2]!, 1))?.resource).toEqual(c);
    release();
    await purged;
    await history.close();
  });

  it('writes the next change whole after a clean restart that followed a buffer-bound drop', async () => {
    const dir = await tempDir();
    const limits = { maxBufferedBytes: 1000, flushIntervalMs: 1e7 };
    const history = await open(dir, limits);
    const [a, b, c] = [user(), user({ title: 'Engineer' }), user({ title: 'Engineer', active: false })];
    history.recordCreate('t', 'User', a, meta(1));
    await history.flush();
    history.recordChange('t', 'User', 'u1', a, b, meta(2)); // queued, then dropped by the bound:
    history.recordCreate('t', 'User', user({ id: 'big', displayName: 'x'.repeat(700) }), meta(3));
    expect(history.stats().dropped).toBeGreaterThanOrEqual(1);
    expect(versionsOf(history)).toEqual([1]);
    await history.close();
    // Two clean restarts before the next change: the second must not forget it either.
    await (await open(dir, limits)).close();
    const reopened = await open(dir, limits);
    // The store went a -> b -> c; the history has only a. Version 2 must be c, not a with b -> c.
    expect(reopened.recordChange('t', 'User', 'u1', b, c, meta(4))).toBe(2);
    expect((await reopened.version('t', 'User', 'u1', 2))?.resource).toEqual(c);
    await reopened.close();
  });

  it('leaves no base behind for a change whose own record overflowed the buffer bound', async () => {
    const dir = await tempDir();
    const limits = { maxBufferedBytes: 6000, flushIntervalMs: 1e7 };
    const history = await open(dir, limits);
    const [a, b, c] = [user(), user({ notes: 'b'.repeat(3000) }), user({ notes: 'c'.repeat(3000) })];
    history.recordCreate('t', 'User', a, meta(1));
    await history.flush();
    history.recordChange('t', 'User', 'u1', a, b, meta(2)); // queued
    // Over the bound: versions 2 and 3 go, and the base version 3's size calls for must not come.
    history.recordChange('t', 'User', 'u1', b, c, meta(3));
    expect(versionsOf(history)).toEqual([1]);
    await history.flush();
    expect(history.stats().records).toBe(1);
    await history.close();
    const reopened = await open(dir, limits);
    expect(versionsOf(reopened)).toEqual([1]);
    await reopened.close();
  });

  it('keeps writing whole after a buffer-bound drop even when the caps rebase an older version', async () => {
    const dir = await tempDir();
    const limits = { segmentBytes: 1024, maxRecords: 3, maxBufferedBytes: 1250, flushIntervalMs: 1e7 };
    const history = await open(dir, limits);
    // Small resources, so that the record sizes put each record where the comments say.
    const small = (patch: JsonObject = {}): JsonObject => ({
      schemas: ['x'],
      id: 'u1',
      userName: 'b@example.com',
      desc: 'y'.repeat(300),
      active: true,
      ...patch,
    });
    const [a, b, c] = [small(), small({ title: 'Engineer' }), small({ title: 'Boss' })];
    const d = small({ title: 'Boss', active: false });
    history.recordCreate('t', 'User', a, meta(1));
    history.recordCreate('t', 'User', small({ id: 'k0' }), meta(2));
    await history.flush(); // the first segment: u1 version 1, k0
    history.recordChange('t', 'User', 'u1', a, b, meta(3));
    await history.flush(); // the second: u1 version 2, a change
    expect(history.stats().segments).toBe(2);
    history.recordChange('t', 'User', 'u1', b, c, meta(4)); // queued, then dropped by the bound:
    history.recordCreate('t', 'User', small({ id: 'big', notes: 'x'.repeat(500) }), meta(5));
    expect(history.stats().dropped).toBe(1);
    await history.flush(); // past the record cap: the first segment goes, version 2 is rebased
    expect(versionsOf(history)).toEqual([2]);
    // The store went b -> c -> d; version 3 must be d, not version 2 with c -> d applied.
    expect(history.recordChange('t', 'User', 'u1', c, d, meta(6))).toBe(3);
    expect((await history.version('t', 'User', 'u1', 3))?.resource).toEqual(d);
    await history.close();
  });

  it('brings back after a restart no version the caps dropped, and rebuilds every one it lists', async () => {
    const dir = await tempDir();
    const limits = { maxBytes: 48 * 1024, segmentBytes: 6 * 1024, flushIntervalMs: 1e6 };
    const history = await open(dir, limits);
    const ids = ['u1', 'u2', 'u3'];
    // Every state of each resource: version v is states[id][v - 1].
    const states = new Map(ids.map((id) => [id, [user({ id })]]));
    for (const id of ids) history.recordCreate('t', 'User', states.get(id)![0]!, meta(0));
    for (let n = 1; n <= 600; n++) {
      const id = ids[n % 3]!;
      const seen = states.get(id)!;
      const next = user({ id, displayName: `name ${n}`, title: n % 7 ? 'x' : 'y' });
      history.recordChange('t', 'User', id, seen.at(-1)!, next, meta(n));
      seen.push(next);
      if (n % 17 === 0) await history.flush();
    }
    await history.flush();
    const rebuildsAll = async (h: Awaited<ReturnType<typeof open>>) => {
      for (const id of ids) {
        for (const v of versionsOf(h, id)) {
          expect((await h.version('t', 'User', id, v))?.resource).toEqual(states.get(id)![v - 1]);
        }
      }
    };
    const before = ids.map((id) => versionsOf(history, id));
    expect(before.every((versions) => versions.length > 0)).toBe(true);
    await rebuildsAll(history);
    const { records } = history.stats();
    await history.close();
    const reopened = await open(dir, limits);
    expect(ids.map((id) => versionsOf(reopened, id))).toEqual(before);
    expect(reopened.stats().records).toBe(records);
    await rebuildsAll(reopened);
    await reopened.close();
  });
});
