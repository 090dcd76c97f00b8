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
      const user = await services.identities.create('User', scimUserBody(i), ctx, { attributes: 'userName' });
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

/** Lookups by id and by `userName eq`, and pages of 100 anywhere in the list, against `users` users. */
async function lookups(users: number): Promise<{ byId: number; byFilter: number; page: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'scimdesk-bench-http-'));
  const data = await seed(dir, users);
  const server = await startChild(['out/main/cli.js', 'serve', '--port', '0', '--data', dir]);
  const headers = { Authorization: `Bearer ${data.secret}` };
  try {
    const byIdRequest = () => ({ method: 'GET' as const, path: `/scim/v2/Users/${pick(data.ids)}` });
    const byFilterRequest = () => ({
      method: 'GET' as const,
      path: `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${pick(data.userNames)}"`)}`,
    });
    await measure({
      url: server.url,
      headers,
      duration: 1,
      requests: [{ setupRequest: (r) => ({ ...r, ...byIdRequest() }) }],
    });
    const byId = await measure({
      url: server.url,
      headers,
      requests: [{ setupRequest: (r) => ({ ...r, ...byIdRequest() }) }],
    });
    const byFilter = await measure({
      url: server.url,
      headers,
      requests: [{ setupRequest: (r) => ({ ...r, ...byFilterRequest() }) }],
    });
    // Okta's import: unfiltered pages of 100 through the whole directory.
    const pageRequest = () => ({
      method: 'GET' as const,
      path: `/scim/v2/Users?startIndex=${1 + 100 * Math.floor(Math.random() * (users / 100))}&count=100`,
    });
    const page = await measure({
      url: server.url,
      headers,
      requests: [{ setupRequest: (r) => ({ ...r, ...pageRequest() }) }],
    });
    return { byId, byFilter, page };
  } finally {
    await stopChild(server.child);
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Issue #8's HTTP figures: durable creates over HTTP beside a bare node:http server doing one
 * group-committed fsync'd append per POST (the machine's limit), in the same run; GET by id and
 * `userName eq` with 100,000 users against 1,000.
 */
export async function benchHttpScim(): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'scimdesk-bench-http-'));
  const { secret } = await seed(dir, 0);
  const scimdesk = await startChild(['out/main/cli.js', 'serve', '--port', '0', '--data', dir]);
  const bare = await startChild(['test/bench/bare-fsync-server.js']);
  let creates: Awaited<ReturnType<typeof measureWithCpu>>;
  let limit: Awaited<ReturnType<typeof measureWithCpu>>;
  try {
    let n = 0;
    const createRequest = () => ({
      method: 'POST' as const,
      path: '/scim/v2/Users',
      headers: { Authorization: `Bearer ${secret}`, 'Content-Type': 'application/scim+json' },
      body: JSON.stringify(scimUserBody(n++)),
    });
    await measure({
      url: scimdesk.url,
      duration: 1,
      requests: [{ setupRequest: (r) => ({ ...r, ...createRequest() }) }],
    });
    const creating = { requests: [{ setupRequest: (r: autocannon.Request) => ({ ...r, ...createRequest() }) }] };
    creates = await measureWithCpu({ url: scimdesk.url, ...creating }, scimdesk.child.pid);
    limit = await measureWithCpu({ url: bare.url, ...creating }, bare.child.pid);
  } finally {
    await stopChild(scimdesk.child);
    await stopChild(bare.child);
    await rm(dir, { recursive: true, force: true });
  }
  const small = await lookups(1_000);
  const large = await lookups(100_000);
  const cpuRows = (label: string, cpu: { processUs: number; mainUs: number } | undefined): BenchRow[] =>
    cpu
      ? [
          { name: `${label}: CPU per request, event-loop thread`, value: cpu.mainUs, unit: 'µs' },
          { name: `${label}: CPU per request, all threads`, value: cpu.processUs, unit: 'µs' },
        ]
      : [];
  return [
    {
      name: 'POST /Users durable creates',
      value: creates.rate,
      unit: 'req/s',
      note: `${CONNECTIONS} connections, target ≥ 2,000`,
    },
    {
      name: 'bare node:http, group-committed fsync append',
      value: limit.rate,
      unit: 'req/s',
      note: 'the limit, same run',
    },
    { name: 'creates / limit', value: creates.rate / limit.rate, unit: 'ratio', note: 'target ≥ 0.5' },
    ...cpuRows('scimdesk create', creates.cpu),
    ...cpuRows('bare append', limit.cpu),
    { name: 'GET /Users/{id}, 1,000 users', value: small.byId, unit: 'req/s' },
    {
      name: 'GET /Users/{id}, 100,000 users',
      value: large.byId,
      unit: 'req/s',
      note: `${pct(large.byId, small.byId)} vs 1,000`,
    },
    { name: 'filter userName eq, 1,000 users', value: small.byFilter, unit: 'req/s' },
    {
      name: 'filter userName eq, 100,000 users',
      value: large.byFilter,
      unit: 'req/s',
      note: `${pct(large.byFilter, small.byFilter)} vs 1,000 (target within 30%)`,
    },
    { name: 'GET /Users pages of 100, 1,000 users', value: small.page, unit: 'req/s' },
    {
      name: 'GET /Users pages of 100, 100,000 users',
      value: large.page,
      unit: 'req/s',
      note: `${pct(large.page, small.page)} vs 1,000 (any startIndex)`,
    },
  ];
}

function pct(value: number, reference: number): string {
  const change = (value / reference - 1) * 100;
  return `${change >= 0 ? '+' : ''}${change.toFixed(0)}%`;
}
