import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { systemClock } from '../../src-main/clock';
import { createServices } from '../../src-main/services/index';
import { openDurableStore } from '../../src-main/store/durable-store';
import { runConcurrently, scimUserBody } from './bench-users';
import { cpuTimes, startChild, stopChild, type CpuTimes } from './children';
import type { BenchRow } from './types';

const CONNECTIONS = 16;
const SECONDS = 5;
/**
 * Load before any measured round. V8 compiles scimdesk's request path over its first seconds
 * under load (about 600 optimized compiles, most of them in the first 4 s; a handful per second
 * after that, by --trace-opt), and those compiles run on the same two cores. A round that starts
 * cold measures the compiler, not the server: cold 6 s runs made 35-55 % fewer creates than warm
 * ones in the same minutes. The bare server's few functions are compiled within milliseconds; it
 * gets the same warm-up.
 */
const WARM_UP_SECONDS = 6;

/** A data folder with one tenant, `users` benchmark users and a SCIM token, made through the services. */
async function seed(dir: string, users: number): Promise<{ secret: string; ids: string[]; userNames: string[] }> {
  const store = await openDurableStore(dir);
  const services = await createServices({ store, clock: systemClock, dataDir: dir, log: console });
  try {
    const tenant = await services.tenants.create({ name: 'Bench' });
    const ctx = { tenantId: tenant.id, baseUrl: 'http://127.0.0.1/scim/v2' };
    const ids: string[] = [];
    const userNames: string[] = [];
    await runConcurrently(users, 64, async (i) => {
      const { resource: user } = await services.identities.create('User', scimUserBody(i), ctx, {
        attributes: 'userName',
      });
      ids.push(String(user.id));
      userNames.push(String(user.userName));
    });
    const token = await services.scimTokens.create({ tenant_id: tenant.id, name: 'bench' });
    return { secret: token.token, ids, userNames };
  } finally {
    await services.close();
    await store.close();
  }
}

async function measure(options: autocannon.Options): Promise<number> {
  return (await measureWithCpu(options)).rate;
}

/** Requests per second, and the server's CPU µs per request (all threads, main thread) where /proc tells. */
async function measureWithCpu(
  options: autocannon.Options,
  pid?: number,
): Promise<{ rate: number; cpu?: { processUs: number; mainUs: number } }> {
  const before = cpuTimes(pid);
  const result = await autocannon({ connections: CONNECTIONS, duration: SECONDS, ...options });
  const after = cpuTimes(pid);
  if (result.errors > 0 || result.non2xx > 0) {
    throw new Error(`${options.url}: ${result.non2xx} non-2xx answers and ${result.errors} errors`);
  }
  const perRequest = (a: CpuTimes, b: CpuTimes) => ({
    processUs: ((b.processMs - a.processMs) * 1000) / result.requests.total,
    mainUs: ((b.mainMs - a.mainMs) * 1000) / result.requests.total,
  });
  return { rate: result.requests.average, ...(before && after ? { cpu: perRequest(before, after) } : {}) };
}

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)] as T;
}

/**
 * This machine's speed moves by 2-4x within minutes, so figures that are compared are measured in
 * alternating rounds (A, B, A, B, …) and each is the median of its rounds: a slow minute then costs
 * both sides alike instead of deciding the comparison.
 */
const ROUNDS = 3;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function range(values: readonly number[], digits: number): string {
  const f = (v: number) => v.toFixed(digits);
  return `${f(Math.min(...values))}–${f(Math.max(...values))}`;
}

interface LookupServer {
  url: string;
  headers: Record<string, string>;
  byId: () => { method: 'GET'; path: string };
  byFilter: () => { method: 'GET'; path: string };
  page: () => { method: 'GET'; path: string };
  filteredPage: () => { method: 'GET'; path: string };
}

/** A server with `users` benchmark users, and the three kinds of lookup against it. */
async function lookupServer(users: number): Promise<{ server: LookupServer; stop: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'scimdesk-bench-http-'));
  const data = await seed(dir, users);
  const child = await startChild(['out/main/cli.js', 'serve', '--port', '0', '--data', dir]);
  const server: LookupServer = {
    url: child.url,
    headers: { Authorization: `Bearer ${data.secret}` },
    byId: () => ({ method: 'GET', path: `/scim/v2/Users/${pick(data.ids)}` }),
    byFilter: () => ({
      method: 'GET',
      path: `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${pick(data.userNames)}"`)}`,
    }),
    // Okta's import: unfiltered pages of 100 anywhere in the directory.
    page: () => ({
      method: 'GET',
      path: `/scim/v2/Users?startIndex=${1 + 100 * Math.floor(Math.random() * (users / 100))}&count=100`,
    }),
    // A client paging through a filter no index answers (every benchmark user is active).
    filteredPage: () => ({
      method: 'GET',
      path: `/scim/v2/Users?filter=active%20eq%20true&startIndex=${1 + 100 * Math.floor(Math.random() * (users / 100))}&count=100`,
    }),
  };
  return {
    server,
    stop: async () => {
      await stopChild(child.child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const LOOKUP_KINDS = ['byId', 'byFilter', 'page', 'filteredPage'] as const;
type LookupKind = (typeof LOOKUP_KINDS)[number];

/** Medians of alternating rounds against the 1,000-user and the 100,000-user server. */
async function lookups(): Promise<Record<LookupKind, { small: number; large: number }>> {
  const small = await lookupServer(1_000);
  try {
    const large = await lookupServer(100_000);
    try {
      const rate = (server: LookupServer, kind: LookupKind, duration = SECONDS) =>
        measure({
          url: server.url,
          headers: server.headers,
          duration,
          requests: [{ setupRequest: (r) => ({ ...r, ...server[kind]() }) }],
        });
      for (const kind of LOOKUP_KINDS) {
        await rate(small.server, kind, WARM_UP_SECONDS / 2);
        await rate(large.server, kind, WARM_UP_SECONDS / 2);
      }
      const out = {} as Record<LookupKind, { small: number; large: number }>;
      for (const kind of LOOKUP_KINDS) {
        const smallRates: number[] = [];
        const largeRates: number[] = [];
        for (let round = 0; round < ROUNDS; round++) {
          smallRates.push(await rate(small.server, kind));
          largeRates.push(await rate(large.server, kind));
        }
        out[kind] = { small: median(smallRates), large: median(largeRates) };
      }
      return out;
    } finally {
      await large.stop();
    }
  } finally {
    await small.stop();
  }
}

type Measured = Awaited<ReturnType<typeof measureWithCpu>>;

/**
 * Issue #8's HTTP figures: durable creates over HTTP beside a bare node:http server doing one
 * group-committed fsync'd append per POST (the machine's limit), in alternating rounds; GET by id
 * and `userName eq` with 100,000 users against 1,000.
 */
export async function benchHttpScim(): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'scimdesk-bench-http-'));
  const { secret } = await seed(dir, 0);
  const scimdesk = await startChild(['out/main/cli.js', 'serve', '--port', '0', '--data', dir]);
  const bare = await startChild(['test/bench/bare-fsync-server.js']);
  const creates: Measured[] = [];
  const limits: Measured[] = [];
  try {
    let n = 0;
    const createRequest = () => ({
      method: 'POST' as const,
      path: '/scim/v2/Users',
      headers: { Authorization: `Bearer ${secret}`, 'Content-Type': 'application/scim+json' },
      body: JSON.stringify(scimUserBody(n++)),
    });
    const creating = { requests: [{ setupRequest: (r: autocannon.Request) => ({ ...r, ...createRequest() }) }] };
    await measure({ url: scimdesk.url, duration: WARM_UP_SECONDS, ...creating });
    await measure({ url: bare.url, duration: WARM_UP_SECONDS, ...creating });
    for (let round = 0; round < ROUNDS; round++) {
      creates.push(await measureWithCpu({ url: scimdesk.url, ...creating }, scimdesk.child.pid));
      limits.push(await measureWithCpu({ url: bare.url, ...creating }, bare.child.pid));
    }
  } finally {
    await stopChild(scimdesk.child);
    await stopChild(bare.child);
    await rm(dir, { recursive: true, force: true });
  }
  const found = await lookups();
  const ratios = creates.map((c, i) => c.rate / (limits[i] as Measured).rate);
  const cpuRows = (label: string, runs: Measured[]): BenchRow[] => {
    const cpus = runs.flatMap((run) => (run.cpu ? [run.cpu] : []));
    if (cpus.length === 0) return [];
    return [
      { name: `${label}: CPU per request, event-loop thread`, value: median(cpus.map((c) => c.mainUs)), unit: 'µs' },
      { name: `${label}: CPU per request, all threads`, value: median(cpus.map((c) => c.processUs)), unit: 'µs' },
    ];
  };
  const roundsNote = `median of ${ROUNDS} alternating rounds`;
  return [
    {
      name: 'POST /Users durable creates',
      value: median(creates.map((c) => c.rate)),
      unit: 'req/s',
      note: `${CONNECTIONS} connections, target ≥ 2,000; ${range(
        creates.map((c) => c.rate),
        0,
      )}`,
    },
    {
      name: 'bare node:http, group-committed fsync append',
      value: median(limits.map((c) => c.rate)),
      unit: 'req/s',
      note: `the limit; ${range(
        limits.map((c) => c.rate),
        0,
      )}`,
    },
    {
      name: 'creates / limit',
      value: median(ratios),
      unit: 'ratio',
      note: `target ≥ 0.5; per round ${range(ratios, 2)}`,
    },
    ...cpuRows('scimdesk create', creates),
    ...cpuRows('bare append', limits),
    { name: 'GET /Users/{id}, 1,000 users', value: found.byId.small, unit: 'req/s', note: roundsNote },
    {
      name: 'GET /Users/{id}, 100,000 users',
      value: found.byId.large,
      unit: 'req/s',
      note: `${pct(found.byId.large, found.byId.small)} vs 1,000 (target within 30%)`,
    },
    { name: 'filter userName eq, 1,000 users', value: found.byFilter.small, unit: 'req/s', note: roundsNote },
    {
      name: 'filter userName eq, 100,000 users',
      value: found.byFilter.large,
      unit: 'req/s',
      note: `${pct(found.byFilter.large, found.byFilter.small)} vs 1,000 (target within 30%)`,
    },
    { name: 'GET /Users pages of 100, 1,000 users', value: found.page.small, unit: 'req/s', note: roundsNote },
    {
      name: 'GET /Users pages of 100, 100,000 users',
      value: found.page.large,
      unit: 'req/s',
      note: `${pct(found.page.large, found.page.small)} vs 1,000 (any startIndex)`,
    },
    {
      name: 'pages of 100, filter active eq true, 1,000 users',
      value: found.filteredPage.small,
      unit: 'req/s',
      note: roundsNote,
    },
    {
      name: 'pages of 100, filter active eq true, 100,000 users',
      value: found.filteredPage.large,
      unit: 'req/s',
      note: `${pct(found.filteredPage.large, found.filteredPage.small)} vs 1,000 (matches kept between pages)`,
    },
  ];
}

function pct(value: number, reference: number): string {
  const change = (value / reference - 1) * 100;
  return `${change >= 0 ? '+' : ''}${change.toFixed(0)}%`;
}
