/**
 * Request log benchmarks (issue #7). Figures, not assertions (DESIGN.md §6). Runs on a temporary
 * data folder that is removed afterwards; about 20-30 s on 2 cores (most of it writing ~240 MB).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  createRequestLog,
  startRequestLogThread,
  type RequestLog,
  type RequestLogInput,
} from '../../src-main/services/request-log';
import type { BenchRow } from './types';

const quiet = { error: () => undefined, warn: () => undefined, info: () => undefined };
const clock = { now: () => Date.now() };

/** A PUT /Users/{id} as Entra sends it, with the server's answer: ~1.1 KB each way. */
function scimRequest(n: number): RequestLogInput {
  const id = randomUUID();
  const userName = `user${n}@contoso.example`;
  const user = {
    schemas: [
      'urn:ietf:params:scim:schemas:core:2.0:User',
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
    ],
    externalId: randomUUID(),
    userName,
    active: true,
    displayName: `User Number ${n}`,
    title: 'Senior Provisioning Engineer',
    preferredLanguage: 'en-US',
    name: { formatted: `User Number ${n}`, familyName: 'Number', givenName: 'User' },
    emails: [{ primary: true, type: 'work', value: userName }],
    phoneNumbers: [
      { type: 'work', value: '+1 555 0100' },
      { type: 'mobile', value: '+1 555 0199' },
    ],
    addresses: [
      {
        type: 'work',
        streetAddress: '1 Microsoft Way',
        locality: 'Redmond',
        region: 'WA',
        postalCode: '98052',
        country: 'US',
      },
    ],
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': {
      employeeNumber: String(100000 + n),
      department: 'Identity',
      costCenter: 'CC-42',
      organization: 'Contoso',
      manager: { value: randomUUID() },
    },
  };
  const response = {
    ...user,
    id,
    meta: {
      resourceType: 'User',
      created: '2024-05-01T10:00:00Z',
      lastModified: '2024-05-01T10:00:00Z',
      version: 'W/"1"',
      location: `http://127.0.0.1:8585/scim/v2/Users/${id}`,
    },
  };
  return {
    method: 'PUT',
    path: `/scim/v2/Users/${id}`,
    query: '',
    tenant_id: `tenant-${n % 5}`,
    token: { id: 'tok-1', name: 'Entra provisioning' },
    source: 'idp',
    status: n % 50 === 0 ? 409 : 200,
    duration_ms: 2.5,
    request: {
      headers: {
        authorization: 'Bearer scimdesk_0123456789abcdef0123456789abcdef',
        'content-type': 'application/scim+json',
        'user-agent': 'Azure AD SCIM Client',
      },
      body: user,
    },
    response: { headers: { 'content-type': 'application/scim+json', etag: 'W/"1"' }, body: response },
    flags: n % 7 === 0 ? ['lenient-boolean'] : [],
    started_at: Date.now(),
  };
}

function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

async function timed<T>(run: () => Promise<T>, repeat: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < repeat; i++) await run();
  return (performance.now() - start) / repeat;
}

async function recordThroughput(dir: string): Promise<BenchRow[]> {
  const log = await createRequestLog({ dataDir: dir, clock, log: quiet });
  const inputs = Array.from({ length: 20_000 }, (_, n) => scimRequest(n));
  const start = performance.now();
  for (const input of inputs) log.record(input);
  const elapsed = performance.now() - start;
  await log.close();
  return [
    {
      name: 'record throughput (synchronous part)',
      value: inputs.length / (elapsed / 1000),
      unit: 'entries/s',
      note: '~1.1 KB bodies each way',
    },
    {
      name: 'event-loop cost per record',
      value: (elapsed * 1000) / inputs.length,
      unit: 'µs',
      note: 'redact + serialize + index',
    },
  ];
}

/**
 * The app's mode: the log on its worker thread (the build's `request-log-worker.js`; `npm run bench`
 * builds first). Entries arrive as the server hands them over (bodies as JSON text, a few per turn
 * of the event loop); the figure is the request thread's busy time per entry, batching included.
 */
async function recordThroughThread(dir: string): Promise<BenchRow[]> {
  const workerUrl = pathToFileURL(fileURLToPath(new URL('../../out/main/request-log-worker.js', import.meta.url)));
  const log = await startRequestLogThread({ workerUrl, dataDir: dir, log: quiet });
  const inputs = Array.from({ length: 20_000 }, (_, n) => {
    const input = scimRequest(n);
    return {
      ...input,
      request: { ...input.request, body: JSON.stringify(input.request.body) },
      response: { ...input.response, body: JSON.stringify(input.response.body) },
    };
  });
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  const before = performance.eventLoopUtilization();
  const start = performance.now();
  for (let n = 0; n < inputs.length; n++) {
    log.record(inputs[n] as RequestLogInput);
    if (n % 8 === 7) await turn();
  }
  await log.flush();
  const elapsed = performance.now() - start;
  const busy = performance.eventLoopUtilization(before);
  await log.close();
  return [
    {
      name: 'event-loop cost per record, log on its worker thread',
      value: (busy.active * 1000) / inputs.length,
      unit: 'µs',
      note: 'hand-over only; the worker does the rest',
    },
    {
      name: 'worker thread: entries recorded and on their way to disk',
      value: inputs.length / (elapsed / 1000),
      unit: 'entries/s',
    },
  ];
}

async function fill(log: RequestLog, count: number): Promise<void> {
  for (let n = 0; n < count; n++) {
    log.record(scimRequest(n));
    if (n % 2000 === 1999) await log.flush(); // as the timer would, without waiting 200 ms
  }
  await log.flush();
}

async function atCapacity(dir: string): Promise<BenchRow[]> {
  collectGarbage();
  const before = process.memoryUsage().heapUsed;
  const log = await createRequestLog({ dataDir: dir, clock, log: quiet });
  await fill(log, 100_000);
  collectGarbage();
  const heap = process.memoryUsage().heapUsed - before;
  const stats = await log.stats();
  const listMs = await timed(() => log.list({ tenant_id: 'tenant-3', status: '4xx', page: 1, per_page: 50 }), 20);
  const pageMs = await timed(() => log.list({ page: 100, per_page: 50 }), 20);
  const indexedTextMs = await timed(() => log.list({ q: 'entra provisioning', page: 1, per_page: 50 }), 5);
  const bodyTextMs = await timed(() => log.list({ q: 'User Number 99999', page: 1, per_page: 50 }), 3);
  // Every entry holds these. A word no key of the detail holds is confirmed by the text alone; a
  // key's part (`byte`) has each line read part by part (query.ts lineMatches).
  const everyBodyMs = await timed(() => log.list({ q: 'User Number', page: 1, per_page: 50 }), 3);
  const partsLoop = monitorEventLoopDelay({ resolution: 1 });
  partsLoop.enable();
  const byPartsMs = await timed(() => log.list({ q: 'byte', page: 1, per_page: 50 }), 3);
  partsLoop.disable();
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  await log.list({ q: 'nothing matches this', page: 1, per_page: 50 });
  loop.disable();
  await log.close();
  const reopenStart = performance.now();
  const reopened = await createRequestLog({ dataDir: dir, clock, log: quiet });
  const reopenMs = performance.now() - reopenStart;
  await reopened.close();
  return [
    {
      name: 'entries retained',
      value: stats.entries,
      unit: 'entries',
      note: `${(stats.bytes / 2 ** 20).toFixed(0)} MiB on disk`,
    },
    { name: 'heap at capacity', value: heap / 2 ** 20, unit: 'MiB', note: 'index only; bodies stay on disk' },
    { name: 'list (tenant + 4xx), 100k entries', value: listMs, unit: 'ms' },
    { name: 'list (page 100), 100k entries', value: pageMs, unit: 'ms' },
    { name: 'free text, indexed fields match', value: indexedTextMs, unit: 'ms', note: 'path/query/token name' },
    { name: 'free text over bodies, 100k entries', value: bodyTextMs, unit: 'ms', note: 'reads every line from disk' },
    { name: 'longest stall during body search', value: loop.max / 1e6, unit: 'ms', note: 'reads in 1 MiB spans' },
    { name: 'free text every entry holds, 100k entries', value: everyBodyMs, unit: 'ms', note: 'no key holds it' },
    {
      name: "free text in the detail's own keys, 100k entries",
      value: byPartsMs,
      unit: 'ms',
      note: `each line parsed to search its parts; longest stall ${(partsLoop.max / 1e6).toFixed(1)} ms (log worker)`,
    },
    { name: 'open (reindex) at capacity', value: reopenMs, unit: 'ms' },
  ];
}

async function sustained(dir: string): Promise<BenchRow[]> {
  const log = await createRequestLog({ dataDir: dir, clock, log: quiet });
  const loop = monitorEventLoopDelay({ resolution: 1 });
  const seconds = 4;
  let n = 0;
  loop.enable();
  await new Promise<void>((resolve) => {
    const started = performance.now();
    const tick = setInterval(() => {
      // 1,000 per second, in 10 ms slices as requests would arrive.
      const due = Math.floor(((performance.now() - started) / 1000) * 1000);
      while (n < due) log.record(scimRequest(n++));
      if (performance.now() - started >= seconds * 1000) {
        clearInterval(tick);
        resolve();
      }
    }, 10);
  });
  loop.disable();
  const stats = await log.stats();
  await log.close();
  return [
    { name: '1,000 requests/s logged, 4 s', value: n / seconds, unit: 'entries/s', note: `${stats.dropped} dropped` },
    {
      name: 'longest event-loop stall at 1,000/s',
      value: loop.max / 1e6,
      unit: 'ms',
      note: `p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms`,
    },
  ];
}

export async function benchRequestLog(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const run of [recordThroughput, recordThroughThread, atCapacity, sustained]) {
    const dir = await mkdtemp(join(tmpdir(), 'scimdesk-bench-log-'));
    try {
      rows.push(...(await run(dir)));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return rows;
}

// `npx tsx --tsconfig tsconfig.node.json test/bench/request-log.ts` runs this suite alone.
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*test\/bench\//, 'test/bench/'))) {
  for (const row of await benchRequestLog())
    console.log(`${row.name}: ${row.value.toFixed(2)} ${row.unit} ${row.note ?? ''}`);
}
