import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createResourceHistory,
  type JsonObject,
  type ResourceHistory,
  type ResourceHistoryLimits,
} from '../../../../src-main/services/resource-history';

const log = { error: () => undefined, warn: () => undefined, info: () => undefined };
const T0 = Date.parse('2024-05-01T10:00:00.000Z');
const meta = (n: number) => ({ time: T0 + n * 1000, actor: 'Entra provisioning', request_id: `req.${n}` });

const TENANTS = ['tnt-ALPHA-q7x1', 'tnt-BRAVO-z9k4', 'tnt-CHARLIE-m3p8'] as const;
const RES = [
  { kind: 'User', id: 'u1' },
  { kind: 'User', id: 'u2' },
  { kind: 'Group', id: 'g1' },
] as const;

type Edit = {
  k: 'displayName' | 'title' | 'active' | 'given' | 'emailAdd' | 'emailDrop' | 'dropTitle' | 'big' | 'member';
  n: number;
};
type Op =
  | { t: 'write'; tenant: number; res: number; edits: Edit[] }
  | { t: 'delete'; tenant: number; res: number }
  | { t: 'flush' }
  | { t: 'bgflush' }
  | { t: 'yield' }
  | { t: 'purge'; tenant: number }
  | { t: 'reopen' };

const editArb: fc.Arbitrary<Edit> = fc.record({
  k: fc.constantFrom('displayName', 'title', 'active', 'given', 'emailAdd', 'emailDrop', 'dropTitle', 'big', 'member'),
  n: fc.nat(40),
});

const opArb = (concurrent: boolean): fc.Arbitrary<Op> =>
  fc.oneof(
    {
      weight: 12,
      arbitrary: fc.record({
        t: fc.constant('write' as const),
        tenant: fc.nat(2),
        res: fc.nat(2),
        edits: fc.array(editArb, { maxLength: 3 }),
      }),
    },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('delete' as const), tenant: fc.nat(2), res: fc.nat(2) }) },
    { weight: 3, arbitrary: fc.constant({ t: 'flush' as const }) },
    { weight: concurrent ? 2 : 0, arbitrary: fc.constant({ t: 'bgflush' as const }) },
    { weight: concurrent ? 2 : 0, arbitrary: fc.constant({ t: 'yield' as const }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('purge' as const), tenant: fc.nat(2) }) },
    { weight: 1, arbitrary: fc.constant({ t: 'reopen' as const }) },
  );

const limitsArb: fc.Arbitrary<Partial<ResourceHistoryLimits>> = fc.record({
  segmentBytes: fc.integer({ min: 1024, max: 8192 }),
  maxRecords: fc.integer({ min: 5, max: 60 }),
  maxBytes: fc.integer({ min: 8 * 1024, max: 64 * 1024 }),
  maxBufferedBytes: fc.oneof(fc.constant(64 * 1024 * 1024), fc.integer({ min: 1500, max: 8000 })),
  flushIntervalMs: fc.constant(1e7),
});

function initial(kind: string, id: string, n: number): JsonObject {
  return kind === 'User'
    ? {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        id,
        userName: `user-${id}-${n}@example.com`,
        name: { givenName: 'Barbara', familyName: 'Jensen' },
        emails: [{ value: `${id}@example.com`, type: 'work', primary: true }],
        active: true,
      }
    : { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], id, displayName: `group ${n}`, members: [] };
}

function mutate(before: JsonObject, edits: Edit[]): JsonObject {
  const r = structuredClone(before) as Record<string, unknown>;
  for (const { k, n } of edits) {
    switch (k) {
      case 'displayName':
        r['displayName'] = `name ${n}`;
        break;
      case 'title':
        r['title'] = `title ${n % 5}`;
        break;
      case 'active':
        r['active'] = n % 2 === 0;
        break;
      case 'given':
        r['name'] = { ...((r['name'] as object) ?? {}), givenName: `Given${n % 4}` };
        break;
      case 'emailAdd':
        r['emails'] = [...((r['emails'] as unknown[]) ?? []), { value: `e${n}@example.com`, type: 'other' }];
        break;
      case 'emailDrop': {
        const e = (r['emails'] as unknown[]) ?? [];
        if (e.length > 0) r['emails'] = e.filter((_, i) => i !== n % e.length);
        break;
      }
      case 'dropTitle':
        delete r['title'];
        break;
      case 'big':
        r['notes'] = 'x'.repeat(150 + n * 40);
        break;
      case 'member': {
        const m = (r['members'] as unknown[]) ?? [];
        r['members'] = n % 3 === 0 && m.length > 0 ? m.slice(1) : [...m, { value: `m${n}` }];
        break;
      }
    }
  }
  return r as JsonObject;
}

interface Model {
  alive: boolean;
  current: JsonObject | null;
  newest: number;
  versions: Map<number, { state: JsonObject | null; type: string; seq: number }>;
  tailUncertain: boolean;
}

async function filesText(dataDir: string): Promise<string> {
  const dir = join(dataDir, 'history');
  const names = await readdir(dir).catch(() => [] as string[]);
  return (await Promise.all(names.map((n) => readFile(join(dir, n), 'utf8').catch(() => '')))).join('\n');
}

const fail = (msg: string): never => {
  throw new Error(msg);
};

async function runCase(limits: Partial<ResourceHistoryLimits>, ops: Op[], trace: string[]): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'hist-prop-'));
  try {
    let h: ResourceHistory = await createResourceHistory({ dataDir, log, limits });
    const models = new Map<string, Model>();
    const key = (t: number, r: number) => `${t}/${r}`;
    for (let t = 0; t < 3; t++)
      for (let r = 0; r < 3; r++)
        models.set(key(t, r), { alive: false, current: null, newest: 0, versions: new Map(), tailUncertain: false });
    const purged = new Set<number>();
    let seenDropped = 0;
    let seq = 0;
    const background: Promise<void>[] = [];

    const observeDrops = () => {
      const d = h.stats().dropped;
      if (d > seenDropped) for (const m of models.values()) m.tailUncertain = true;
      seenDropped = d;
    };

    const timelineOf = (hh: ResourceHistory, t: number, r: number) =>
      hh.timeline(TENANTS[t]!, RES[r]!.kind, RES[r]!.id, { page: 1, per_page: 10_000 });

    const check = async (label: string) => {
      observeDrops();
      const st = h.stats();
      if (st.write_errors !== 0) fail(`${label}: write_errors ${st.write_errors}: ${st.last_error}`);
      for (let t = 0; t < 3; t++) {
        for (let r = 0; r < 3; r++) {
          const m = models.get(key(t, r))!;
          const tl = timelineOf(h, t, r);
          const vs = tl.items.map((i) => i.version).reverse();
          const where = `${label}: ${TENANTS[t]} ${RES[r]!.id}`;
          if (tl.total !== vs.length) fail(`${where}: total ${tl.total} != ${vs.length}`);
          for (let i = 1; i < vs.length; i++)
            if (vs[i] !== vs[i - 1]! + 1) fail(`${where}: not contiguous ${JSON.stringify(vs)}`);
          if (vs.length > 0) {
            const max = vs.at(-1)!;
            if (max > m.newest) fail(`${where}: lists v${max} beyond newest recorded v${m.newest}`);
            if (max < m.newest && !m.tailUncertain)
              fail(`${where}: newest v${m.newest} not listed (lists ${JSON.stringify(vs)}), dropped=${st.dropped}`);
          }
          if (purged.has(t) && vs.length > 0) fail(`${where}: purged tenant still listed`);
          for (const item of tl.items) {
            const exp = m.versions.get(item.version);
            if (!exp) fail(`${where}: v${item.version} unknown to the model`);
            if (item.kind !== exp!.type) fail(`${where}: v${item.version} kind ${item.kind} != ${exp!.type}`);
            if (item.request_id !== `req.${exp!.seq}`)
              fail(`${where}: v${item.version} request ${item.request_id} != req.${exp!.seq}`);
            const got = await h.version(TENANTS[t]!, RES[r]!.kind, RES[r]!.id, item.version);
            if (!got) fail(`${where}: v${item.version} listed but cannot be rebuilt (listed ${JSON.stringify(vs)})`);
            try {
              expect(got!.resource).toEqual(exp!.state);
            } catch {
              fail(
                `${where}: v${item.version} rebuilt wrong: ${JSON.stringify(got!.resource)} != ${JSON.stringify(exp!.state)}`,
              );
            }
          }
          if (m.tailUncertain) {
            // Pending is empty now: whatever the buffer bound dropped is settled.
            m.newest = vs.at(-1) ?? 0;
            m.tailUncertain = false;
          }
        }
      }
      if (process.env['PROP_DEBUG']) {
        trace.push(
          `  [${label}] timelines: ${[0, 1, 2]
            .flatMap((t) =>
              [0, 1, 2].map(
                (r) =>
                  `${t}/${r}=${JSON.stringify(
                    timelineOf(h, t, r)
                      .items.map((i) => i.version)
                      .reverse(),
                  )}`,
              ),
            )
            .join(' ')}`,
        );
        const dir = join(dataDir, 'history');
        for (const n of (await readdir(dir)).sort()) {
          const lines = (await readFile(join(dir, n), 'utf8')).split('\n').filter(Boolean);
          trace.push(
            `    ${n}: ${lines
              .map((l) => {
                const hd = JSON.parse(l.split('\t')[0]!);
                return `${TENANTS.indexOf(hd.tenant)}/${hd.id}/v${hd.v}/${hd.role[0]}`;
              })
              .join(' ')}`,
          );
        }
      }
      if (purged.size > 0) {
        const text = await filesText(dataDir);
        for (const t of purged) if (text.includes(TENANTS[t]!)) fail(`${label}: purged ${TENANTS[t]} found on disk`);
      }
    };

    for (const [index, op] of ops.entries()) {
      const label = `op#${index} ${JSON.stringify(op)}`;
      switch (op.t) {
        case 'write': {
          const m = models.get(key(op.tenant, op.res))!;
          const { kind, id } = RES[op.res]!;
          const tenant = TENANTS[op.tenant]!;
          seq++;
          if (!m.alive) {
            const resource = mutate(initial(kind, id, seq), op.edits);
            const v = h.recordCreate(tenant, kind, resource, meta(seq));
            if (v === undefined) fail(`${label}: recordCreate returned undefined`);
            m.versions.set(v!, { state: resource, type: 'create', seq });
            m.newest = v!;
            m.alive = true;
            m.current = resource;
          } else {
            const after = mutate(m.current!, op.edits);
            const v = h.recordChange(tenant, kind, id, m.current!, after, meta(seq));
            const same = isDeepStrictEqual(after, m.current);
            if (v === undefined) {
              if (!same && h.stats().dropped === seenDropped)
                fail(`${label}: recordChange returned undefined for a change`);
              m.current = after; // the store has it, even when the buffer bound dropped it
            } else {
              if (same) fail(`${label}: recordChange returned v${v} for no change`);
              m.versions.set(v, { state: after, type: 'change', seq });
              m.newest = v;
              m.current = after;
            }
          }
          purged.delete(op.tenant);
          trace.push(`${label} -> newest v${m.newest}`);
          break;
        }
        case 'delete': {
          const m = models.get(key(op.tenant, op.res))!;
          if (!m.alive) break;
          seq++;
          const v = h.recordDelete(TENANTS[op.tenant]!, RES[op.res]!.kind, RES[op.res]!.id, meta(seq));
          if (v === undefined) fail(`${label}: recordDelete returned undefined`);
          m.versions.set(v!, { state: null, type: 'delete', seq });
          m.newest = v!;
          m.alive = false;
          m.current = null;
          purged.delete(op.tenant);
          trace.push(`${label} -> v${v}`);
          break;
        }
        case 'flush':
          await h.flush();
          await Promise.all(background.splice(0));
          trace.push(`${label} stats=${JSON.stringify(h.stats())}`);
          await check(label);
          break;
        case 'bgflush':
          background.push(h.flush());
          trace.push(label);
          break;
        case 'yield':
          await new Promise((resolve) => setImmediate(resolve));
          trace.push(label);
          break;
        case 'purge': {
          await h.purgeTenant(TENANTS[op.tenant]!);
          for (let r = 0; r < 3; r++) {
            const m = models.get(key(op.tenant, r))!;
            m.alive = false;
            m.current = null;
            m.newest = 0;
            m.versions.clear();
            m.tailUncertain = false;
          }
          purged.add(op.tenant);
          trace.push(`${label} stats=${JSON.stringify(h.stats())}`);
          await check(label);
          break;
        }
        case 'reopen': {
          await h.flush();
          await Promise.all(background.splice(0));
          await check(`${label} (before close)`);
          const before = [0, 1, 2].flatMap((t) => [0, 1, 2].map((r) => timelineOf(h, t, r).items));
          const { records, resources } = h.stats();
          await h.close();
          h = await createResourceHistory({ dataDir, log, limits });
          seenDropped = 0;
          const after = [0, 1, 2].flatMap((t) => [0, 1, 2].map((r) => timelineOf(h, t, r).items));
          trace.push(`${label} stats=${JSON.stringify(h.stats())}`);
          try {
            expect(after.map((items) => items.map((i) => i.version))).toEqual(
              before.map((items) => items.map((i) => i.version)),
            );
            expect(after).toEqual(before);
          } catch (error) {
            fail(`${label}: timelines differ after reopen:\n${(error as Error).message}`);
          }
          const st = h.stats();
          if (st.records !== records || st.resources !== resources)
            fail(`${label}: stats after reopen ${st.records}/${st.resources} != ${records}/${resources}`);
          await check(`${label} (after reopen)`);
          break;
        }
      }
      observeDrops();
    }
    await h.flush();
    await Promise.all(background.splice(0));
    await check('end');
    await h.close();
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

// A few dozen runs in the suite (about half a second each); PROP_RUNS, FUZZ_SEED (see
// test/fast-check-seed.ts), PROP_PATH and PROP_DEBUG=1 (a trace of timelines and segment files) for
// a deeper or a replayed run.
const NUM_RUNS = Number(process.env['PROP_RUNS'] ?? 24);
const PATH = process.env['PROP_PATH'];

describe('resource history under random caps, purges and restarts (property)', () => {
  it.each([
    ['one operation at a time', false],
    ['flushes running under later operations', true],
  ])(
    'keeps every listed version rebuildable, contiguous and stable across restarts: %s',
    async (_, concurrent) => {
      const details = await fc.check(
        fc.asyncProperty(
          limitsArb,
          fc.array(opArb(concurrent), { minLength: 20, maxLength: 250, size: 'max' }),
          async (limits, ops) => {
            await runCase(limits, ops, []);
          },
        ),
        { numRuns: NUM_RUNS, ...(PATH === undefined ? {} : { path: PATH }) },
      );
      if (details.failed && details.counterexample) {
        const [limits, ops] = details.counterexample;
        const trace: string[] = [];
        let message = '';
        await runCase(limits, ops, trace).catch((error: unknown) => (message = String(error)));
        throw new Error(
          [
            message || String(details.errorInstance),
            `replay with FUZZ_SEED=${details.seed} PROP_PATH=${details.counterexamplePath} PROP_DEBUG=1`,
            `limits=${JSON.stringify(limits)}`,
            ...trace,
          ].join('\n'),
        );
      }
    },
    300_000,
  );

  it('writes no base a purge dropped while the caps rebuilt other resources (a case the property found)', async () => {
    const write = (tenant: number): Op => ({ t: 'write', tenant, res: 0, edits: [] });
    const rename = (tenant: number): Op => ({ t: 'write', tenant, res: 0, edits: [{ k: 'displayName', n: 0 }] });
    const limits = { segmentBytes: 1024, maxRecords: 5, maxBytes: 8192, flushIntervalMs: 10_000_000 };
    const ops: Op[] = [
      write(0),
      write(1),
      write(2),
      { t: 'reopen' },
      { t: 'delete', tenant: 2, res: 0 },
      { t: 'bgflush' },
      rename(0),
      rename(1),
      { t: 'yield' },
      { t: 'yield' },
      { t: 'purge', tenant: 0 },
      { t: 'flush' },
    ];
    await runCase(limits, ops, []);
  });
});
