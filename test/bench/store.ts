/**
 * Store benchmarks (issue #6). Figures, not assertions (DESIGN.md §6); targets are in the notes.
 * Everything runs on a temporary data folder that is removed afterwards; about 30-50 s on 2 cores.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { foldKey } from '@shared/scim/index-keys';
import type { UserDoc } from '../../src-main/store/documents';
import { openDurableStore, type DurableStore } from '../../src-main/store/durable-store';
import { SortedIndex } from '../../src-main/store/sorted-index';
import type { BenchRow } from './types';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WRITERS = 16;
const WRITES_PER_WRITER = 250;
const ROUNDS = 3;
const KEEP_JOURNAL = { closeCheckpointBytes: Number.MAX_SAFE_INTEGER, checkpointBytes: Number.MAX_SAFE_INTEGER };

const GIVEN = ['Adele', 'Bjørn', 'Chen', 'Dana', 'Emeka', 'Farah', 'Goran', 'Hana', 'Ines', 'Jonas'];
const FAMILY = ['Vance', 'Okafor', 'Lindqvist', 'Moreau', 'Tanaka', 'Kowalski', 'Haddad', 'Silva'];

/** A user shaped like what Entra ID or Okta provisions; about 330 bytes of JSON. */
export function benchUser(n: number): UserDoc {
  const given = GIVEN[n % GIVEN.length] as string;
  const family = FAMILY[n % FAMILY.length] as string;
  const userName = `${given}.${family}.${n}@contoso.example`.toLowerCase();
  return {
    id: randomUUID(),
    userName,
    externalId: randomUUID(),
    name: { givenName: given, familyName: family, formatted: `${given} ${family}` },
    displayName: `${given} ${family}`,
    emails: [{ value: userName, type: 'work', primary: true }],
    active: true,
  };
}

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'scimdesk-bench-'));
}

async function withTenant(dir: string, options = KEEP_JOURNAL): Promise<DurableStore> {
  const store = await openDurableStore(dir, options);
  await store.putTenant({ id: 't', name: 'Bench', created_at: '2024-05-01T10:00:00.000Z', delete_mode: 'delete' });
  return store;
}

async function fill(store: DurableStore, count: number): Promise<UserDoc[]> {
  const users: UserDoc[] = [];
  for (let start = 0; start < count; start += 1000) {
    const batch = Array.from({ length: Math.min(1000, count - start) }, (_, i) => benchUser(start + i));
    await store.write('t', (tx) => batch.forEach((user) => tx.put('users', user)));
    users.push(...batch);
  }
  return users;
}

/** 16 writers, each awaiting its own durable write before the next: what concurrent IdP requests do. */
async function durableWrites(): Promise<{ store: number; bare: number; flushesPerWrite: number }> {
  // Alternating rounds, best of each: the disk's flush time drifts, and whoever ran second would pay.
  let store = 0;
  let bare = 0;
  let flushesPerWrite = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const dir = await tempDir();
    try {
      bare = Math.max(bare, await bareGroupCommit(join(dir, 'bare.log')));
      const result = await storeWrites(join(dir, 'store'));
      store = Math.max(store, result.rate);
      flushesPerWrite = result.flushesPerWrite;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return { store, bare, flushesPerWrite };
}

async function storeWrites(dir: string): Promise<{ rate: number; flushesPerWrite: number }> {
  const store = await withTenant(dir);
  const users = prepared();
  const started = performance.now();
  await Promise.all(
    users.map(async (mine) => {
      for (const user of mine) await store.write('t', (tx) => tx.put('users', user));
    }),
  );
  const rate = (WRITERS * WRITES_PER_WRITER) / ((performance.now() - started) / 1000);
  const { records, flushes } = store.stats().journal;
  await store.close();
  return { rate, flushesPerWrite: flushes / records };
}

/** The users each writer will write, made before the clock starts (for both sides alike). */
function prepared(): UserDoc[][] {
  return Array.from({ length: WRITERS }, (_, w) =>
    Array.from({ length: WRITES_PER_WRITER }, (_, k) => benchUser(w * WRITES_PER_WRITER + k)),
  );
}

/**
 * The floor to compare with: appending the same lines with the same group commit (queue while a
 * flush runs, then one write and one fdatasync for everything queued), and nothing else.
 */
async function bareGroupCommit(file: string): Promise<number> {
  const handle = await open(file, 'a');
  let queue: { bytes: Buffer; done: () => void }[] = [];
  let running = false;
  const drain = async () => {
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      await handle.write(Buffer.concat(batch.map((item) => item.bytes)));
      await handle.datasync();
      for (const item of batch) item.done();
    }
    running = false;
  };
  const append = (line: string) =>
    new Promise<void>((done) => {
      queue.push({ bytes: Buffer.from(line), done });
      if (!running) {
        running = true;
        void drain();
      }
    });
  const users = prepared();
  let seq = 0;
  const started = performance.now();
  await Promise.all(
    users.map(async (mine) => {
      for (const user of mine) await append(`${JSON.stringify({ seq: ++seq, ops: [{ op: 'put', doc: user }] })}\n`);
    }),
  );
  const rate = (WRITERS * WRITES_PER_WRITER) / ((performance.now() - started) / 1000);
  await handle.close();
  return rate;
}

/**
 * Nanoseconds per lookup, by id and by userName (eq through the sorted index). `spread` probes keys
 * drawn from the whole population; otherwise 1,000 keys are probed over and over, which compares the
 * algorithms at both sizes without charging the larger one for CPU cache misses alone.
 */
function lookupCost(store: DurableStore, users: UserDoc[], spread: boolean): { byId: number; byUserName: number } {
  const tenant = store.tenant('t');
  if (!tenant) throw new Error('no tenant');
  const distinct = spread ? users.length : 1000;
  const sample = Array.from({ length: distinct }, (_, i) => users[(i * 7919) % users.length] as UserDoc);
  const ids = Array.from({ length: 200_000 }, (_, i) => (sample[i % distinct] as UserDoc).id);
  const keys = Array.from({ length: 200_000 }, (_, i) => foldKey((sample[i % distinct] as UserDoc).userName));
  let found = 0;
  let started = performance.now();
  for (const id of ids) if (tenant.get('users', id)) found++;
  const byId = ((performance.now() - started) * 1e6) / ids.length;
  started = performance.now();
  for (const key of keys) {
    for (const id of tenant.candidates.lookup({ resource: 'User', index: 'userName', match: 'eq', key })) {
      if (id) found++;
    }
  }
  const byUserName = ((performance.now() - started) * 1e6) / keys.length;
  if (found !== ids.length * 2) throw new Error('lookups missed');
  return { byId, byUserName };
}

/** The same id probes against a bare Map: how much of the size effect is V8's Map and the CPU cache. */
function bareMapCost(users: UserDoc[]): number {
  const map = new Map(users.map((user) => [JSON.parse(JSON.stringify(user.id)) as string, user]));
  const ids = Array.from({ length: 200_000 }, (_, i) => (users[((i % 1000) * 7919) % users.length] as UserDoc).id);
  let found = 0;
  const started = performance.now();
  for (const id of ids) if (map.get(id)) found++;
  if (found !== ids.length) throw new Error('lookups missed');
  return ((performance.now() - started) * 1e6) / ids.length;
}

/** Microseconds per userName index update (remove + insert) at a given size. */
function indexUpdateCost(size: number): number {
  const index = new SortedIndex();
  index.load(Array.from({ length: size }, (_, i) => [`user.${(i * 7919) % size}@contoso.example`, `id${i}`] as const));
  const rounds = 20_000;
  const started = performance.now();
  for (let i = 0; i < rounds; i++) {
    const key = `user.${(i * 104729) % size}@contoso.example`;
    index.insert(`${key}.renamed`, `new${i}`);
    index.remove(`${key}.renamed`, `new${i}`);
  }
  return ((performance.now() - started) * 1000) / rounds;
}

async function openInChild(dir: string): Promise<{ openMs: number; rss: number; heapUsed: number; users: number }> {
  const child = fileURLToPath(new URL('../fixtures/store/bench-open.ts', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', child, dir], {
    cwd: ROOT,
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) as string) as {
    openMs: number;
    rss: number;
    heapUsed: number;
    users: number;
  };
}

/** The longest event-loop stall while a checkpoint of the whole store runs, measured from outside. */
async function checkpointStall(
  store: DurableStore,
): Promise<{ stallMs: number; reportedMs: number; durationMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  let longestGap = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    longestGap = Math.max(longestGap, now - last);
    last = now;
  }, 1);
  histogram.enable();
  const stats = await store.checkpoint(true);
  histogram.disable();
  clearInterval(ticker);
  if (!stats) throw new Error('no checkpoint ran');
  return {
    stallMs: Math.max(longestGap - 1, histogram.max / 1e6),
    reportedMs: stats.longestStallMs,
    durationMs: stats.durationMs,
  };
}

export async function benchStore(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];

  const writes = await durableWrites();
  rows.push(
    { name: 'store: durable writes, 16 concurrent writers', value: Math.round(writes.store), unit: 'writes/s' },
    { name: 'bare: fdatasync append, same group commit', value: Math.round(writes.bare), unit: 'writes/s' },
    {
      name: 'store vs bare append',
      value: Number((writes.store / writes.bare).toFixed(2)),
      unit: 'ratio',
      note: `target >= 0.5; ${writes.flushesPerWrite.toFixed(2)} fdatasync per write`,
    },
  );

  const smallDir = await tempDir();
  const bigDir = await tempDir();
  try {
    const small = await withTenant(smallDir);
    const smallUsers = await fill(small, 1000);
    lookupCost(small, smallUsers, false); // warm up the JIT before either size is timed
    const smallCost = lookupCost(small, smallUsers, false);
    bareMapCost(smallUsers);
    const smallBare = bareMapCost(smallUsers);
    await small.close();

    const big = await withTenant(bigDir);
    const fillStarted = performance.now();
    const bigUsers = await fill(big, 100_000);
    const fillMs = performance.now() - fillStarted;
    const bigCost = lookupCost(big, bigUsers, false);
    const bigSpread = lookupCost(big, bigUsers, true);
    const bigBare = bareMapCost(bigUsers);
    rows.push(
      { name: 'lookup by id, 1,000 users', value: round(smallCost.byId), unit: 'ns/op' },
      {
        name: 'lookup by id, 100,000 users',
        value: round(bigCost.byId),
        unit: 'ns/op',
        note:
          `${pct(bigCost.byId, smallCost.byId)} vs 1,000 (target within 30%); a bare Map on the same probes: ` +
          `${round(smallBare)} → ${round(bigBare)} ns (${pct(bigBare, smallBare)}); keys spread over all 100,000: ` +
          `${round(bigSpread.byId)} ns`,
      },
      { name: 'lookup by userName, 1,000 users', value: round(smallCost.byUserName), unit: 'ns/op' },
      {
        name: 'lookup by userName, 100,000 users',
        value: round(bigCost.byUserName),
        unit: 'ns/op',
        note: `${pct(bigCost.byUserName, smallCost.byUserName)} vs 1,000 (target within 30%); keys spread over all 100,000: ${round(bigSpread.byUserName)} ns`,
      },
      { name: 'userName index update, 1,000 keys', value: round(indexUpdateCost(1000), 2), unit: 'µs/op' },
      {
        name: 'userName index update, 100,000 keys',
        value: round(indexUpdateCost(100_000), 2),
        unit: 'µs/op',
        note: 'remove + insert in the block-sorted index',
      },
      { name: 'bulk load 100,000 users (1,000 per commit)', value: Math.round(fillMs), unit: 'ms' },
    );

    const stall = await checkpointStall(big);
    rows.push({
      name: 'checkpoint of 100,000 users: longest event-loop stall',
      value: round(stall.stallMs, 1),
      unit: 'ms',
      note: `store's own measure ${round(stall.reportedMs, 1)} ms; whole checkpoint ${Math.round(stall.durationMs)} ms`,
    });

    // A journal tail after the snapshot, so that the cold start replays as well as loads.
    await Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        for (let k = 0; k < 300; k++) {
          const user = bigUsers[w * 300 + k] as UserDoc;
          await big.write('t', (tx) => tx.merge('users', user.id, { active: false }));
        }
      }),
    );
    await big.close();

    const opened = await openInChild(bigDir);
    if (opened.users !== 100_000) throw new Error(`child saw ${opened.users} users`);
    rows.push(
      {
        name: 'cold start, 100,000 users (snapshot + 4,800-record journal)',
        value: Math.round(opened.openMs),
        unit: 'ms',
        note: 'target <= 3000; lock, read, validate, replay, rebuild indexes',
      },
      {
        name: 'resident memory, 100,000 users',
        value: Math.round(opened.rss / (1024 * 1024)),
        unit: 'MB',
        note: `target <= 300; heap ${Math.round(opened.heapUsed / (1024 * 1024))} MB; fresh child process after gc`,
      },
    );
  } finally {
    await rm(smallDir, { recursive: true, force: true });
    await rm(bigDir, { recursive: true, force: true });
  }
  return rows;
}

function round(value: number, digits = 0): number {
  return Number(value.toFixed(digits));
}

function pct(value: number, base: number): string {
  const delta = ((value - base) / base) * 100;
  return `${delta >= 0 ? '+' : ''}${delta.toFixed(0)}%`;
}
