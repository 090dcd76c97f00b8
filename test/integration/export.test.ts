import { connect } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RequestLogEntry } from '@shared/request-log';
import { systemClock } from '../../src-main/clock';
import { createServices } from '../../src-main/services/index';
import { openDurableStore } from '../../src-main/store/durable-store';
import { startTestServer, tempDataDir, type TestServer } from './harness';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

/**
 * The heap still in use after a full collection: what the export holds on to. heapUsed without a
 * collection also counts garbage not yet collected, which varies with GC timing from run to run.
 */
function liveHeap(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed;
}

describe('export of a filtered list (seed 003)', () => {
  let server: TestServer;
  let base: string;
  let admin: string;
  beforeAll(async () => {
    server = await startTestServer();
    admin = await server.adminToken();
    const tenant = (await (
      await fetch(`${server.url}/api/v1/admin/tenants`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'Export' }),
      })
    ).json()) as { id: string };
    base = `${server.url}/api/v1/tenants/${tenant.id}/scim/v2`;
    for (const [name, extra] of [
      ['ann', { title: 'Engineer', [ENTERPRISE]: { department: 'R&D' } }],
      ['bob', { name: { givenName: '=HYPERLINK("x")', familyName: 'Smith, Jr.' } }],
      ['cat', { emails: [{ value: 'cat@work' }, { value: 'cat@home', primary: true }] }],
      [
        'dan',
        {
          emails: [
            { value: 'dan@work', type: 'work' },
            { value: 'dan@home', type: 'home' },
          ],
        },
      ],
    ] as const) {
      await fetch(`${base}/Users`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/scim+json' },
        body: JSON.stringify({ userName: `${name}@example.com`, ...extra }),
      });
    }
  });
  afterAll(() => server.stop());

  const get = (query: string, headers: Record<string, string> = {}) =>
    fetch(`${base}/Users${query}`, { headers: { Authorization: `Bearer ${admin}`, ...headers } });

  it('streams NDJSON in id order, honouring filter and attributes', async () => {
    const response = await get(
      `?format=ndjson&filter=${encodeURIComponent('userName ne "bob@example.com"')}&attributes=userName`,
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    const rows = (await response.text())
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { id: string; userName: string; title?: string });
    expect(rows.map((r) => r.userName).sort()).toEqual(['ann@example.com', 'cat@example.com', 'dan@example.com']);
    expect(rows.map((r) => r.id)).toEqual([...rows.map((r) => r.id)].sort());
    expect(rows[0]).not.toHaveProperty('title');
  });

  it('negotiates Accept with its q-values, and says the answer varies with it', async () => {
    const typeFor = async (accept: string) => {
      const response = await get('', { Accept: accept });
      expect(response.headers.get('vary')).toMatch(/Accept/i);
      await response.arrayBuffer();
      return response.headers.get('content-type');
    };
    expect(await typeFor('text/csv')).toBe('text/csv; charset=utf-8');
    expect(await typeFor('application/scim+json, text/csv;q=0')).toBe('application/scim+json; charset=utf-8');
    expect(await typeFor('text/csv;q=0.5, application/x-ndjson')).toBe('application/x-ndjson; charset=utf-8');
    expect(await typeFor('*/*')).toBe('application/scim+json; charset=utf-8');
    expect(await typeFor('application/json, text/csv')).toBe('application/scim+json; charset=utf-8');
    // A tie goes to the SCIM answer, whatever order the client lists them in.
    for (const tie of [
      'text/csv, application/scim+json',
      'text/csv;q=1, application/scim+json;q=1',
      'application/x-ndjson, application/scim+json',
      'application/*',
    ]) {
      expect(await typeFor(tie), tie).toBe('application/scim+json; charset=utf-8');
    }
    expect(await typeFor('text/*')).toBe('text/csv; charset=utf-8');
  });

  it('answers Accept: application/x-ndjson the same way', async () => {
    const response = await get('', { Accept: 'application/x-ndjson' });
    expect(response.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="users.ndjson"');
    expect((await response.text()).trim().split('\n')).toHaveLength(4);
  });

  it('writes CSV with one column per singular attribute and every value of multi-valued ones', async () => {
    const response = await get('?format=csv');
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="users.csv"');
    const [header, ...lines] = (await response.text()).trim().split('\r\n');
    const columns = header!.split(',');
    expect(columns).toEqual(
      expect.arrayContaining(['userName', 'name.givenName', 'emails', `${ENTERPRISE}:department`]),
    );
    expect(columns).not.toContain('password');
    const cat = lines.find((l) => l.includes('cat@example.com'))!;
    // Every email, the primary first, one per line of the quoted cell.
    expect(cat).toContain('"cat@home\ncat@work"');
    const bob = lines.find((l) => l.includes('bob@example.com'))!;
    // Quoted per RFC 4180, and a formula is defused.
    expect(bob).toContain('"Smith, Jr."');
    expect(bob).toContain(`"'=HYPERLINK(""x"")"`);
    // `attributes` chooses the columns too.
    const some = (await (await get('?format=csv&attributes=userName,emails')).text()).split('\r\n');
    expect(some[0]).toBe('id,userName,emails');
    // Asked for by a sub-attribute, the values are still primary first.
    const values = (await (await get('?format=csv&attributes=emails.value')).text()).split('\r\n');
    expect(values.find((l) => l.includes('cat@'))).toContain('"cat@home\ncat@work"');
  });

  it('shows what an element says when only its qualifiers were asked for, not an empty cell', async () => {
    const text = await (
      await get(`?format=csv&attributes=emails.type&filter=${encodeURIComponent('userName eq "dan@example.com"')}`)
    ).text();
    expect(text.split('\r\n')[1]).toMatch(/,"work\nhome"$/);
  });

  it('refuses an unknown format and a bad filter before streaming', async () => {
    expect((await get('?format=xml')).status).toBe(400);
    const bad = await get('?format=csv&filter=nope');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ scimType: 'invalidFilter' });
  });

  it('refuses paging and sorting, which an export cannot honour, rather than sending everything', async () => {
    const paged = await get('?format=csv&count=2&sortBy=userName');
    expect(paged.status).toBe(400);
    expect(await paged.json()).toMatchObject({
      scimType: 'invalidValue',
      detail:
        'An export (csv) streams every match in id order, so count, sortBy do not apply: leave them out, or ask for a page as SCIM JSON.',
    });
    expect((await get('?startIndex=3', { Accept: 'application/x-ndjson' })).status).toBe(400);
    // The same parameters on a SCIM page are fine.
    expect((await get('?count=2&sortBy=userName')).status).toBe(200);
  });
});

describe('export of 100,000 users', () => {
  const total = 100_000;
  let data: Awaited<ReturnType<typeof tempDataDir>>;
  let server: TestServer;
  let admin: string;
  let exportUrl: string;
  beforeAll(async () => {
    data = await tempDataDir();
    const store = await openDurableStore(data.dir);
    const services = await createServices({ store, clock: systemClock, dataDir: data.dir, log: console });
    const tenant = await services.tenants.create({ name: 'Big' });
    const ctx = { tenantId: tenant.id, baseUrl: 'http://x/scim/v2' };
    let next = 0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < total) {
          const n = next++;
          await services.identities.create('User', { userName: `user${n}@big.example`, displayName: `User ${n}` }, ctx);
        }
      }),
    );
    await services.close();
    await store.close();
    server = await startTestServer({ dataDir: data.dir });
    admin = await server.adminToken();
    exportUrl = `${server.url}/api/v1/tenants/${tenant.id}/scim/v2/Users?format=ndjson`;
  }, 240_000);
  afterAll(async () => {
    await server?.stop();
    await data?.remove();
  });

  /** The log entry of the newest export, once the server has filed it (when the stream ended). */
  async function exportEntry(after: number): Promise<RequestLogEntry> {
    return vi.waitFor(
      async () => {
        const list = (await (
          await fetch(`${server.url}/api/v1/admin/request-logs?per_page=1&q=format%3Dndjson`, {
            headers: { Authorization: `Bearer ${admin}` },
          })
        ).json()) as { items: { id: string; seq: number }[] };
        const [row] = list.items;
        if (!row || row.seq <= after) throw new Error('the export is not logged yet');
        return (await (
          await fetch(`${server.url}/api/v1/admin/request-logs/${row.id}`, {
            headers: { Authorization: `Bearer ${admin}` },
          })
        ).json()) as RequestLogEntry;
      },
      { timeout: 10_000, interval: 50 },
    );
  }

  /** The newest seq in the log, so that an entry filed later can be told from earlier ones. */
  async function newestSeq(): Promise<number> {
    const list = (await (
      await fetch(`${server.url}/api/v1/admin/request-logs?per_page=1`, {
        headers: { Authorization: `Bearer ${admin}` },
      })
    ).json()) as { items: { seq: number }[] };
    return list.items[0]?.seq ?? 0;
  }

  it('streams without memory growing with the export, and logs how much it sent', { timeout: 120_000 }, async () => {
    const before = await newestSeq();
    const baseline = liveHeap();
    let peak = baseline;
    let bytes = 0;
    let lines = 0;
    let nextSample = 0;
    const response = await fetch(exportUrl, { headers: { Authorization: `Bearer ${admin}` } });
    const reader = response.body!.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      for (const byte of value) if (byte === 10) lines += 1;
      if (bytes >= nextSample) {
        peak = Math.max(peak, liveHeap());
        nextSample += 4 * 1024 * 1024;
      }
    }
    expect(lines).toBe(total);
    // A buffered export would hold the whole text (twice, as UTF-16); a streamed one holds a chunk.
    expect(peak - baseline).toBeLessThan(bytes / 2);
    // The log files it when the stream ends: its size is what the client read, its time the stream's.
    const entry = await exportEntry(before);
    expect(entry).toMatchObject({ status: 200, has_error: false, error: null });
    expect(entry.response).toMatchObject({ body: null, bytes });
  });

  it('warns of no listener leak when a client resets its connection mid-export', { timeout: 60_000 }, async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    try {
      const url = new URL(exportUrl);
      await new Promise<void>((resolve) => {
        const socket = connect(Number(url.port), url.hostname);
        let read = 0;
        socket.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > 100 * 1024 && !socket.destroyed) socket.resetAndDestroy();
        });
        socket.on('error', () => undefined);
        socket.on('close', () => resolve());
        socket.write(
          `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${admin}\r\n\r\n`,
        );
      });
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((warning) => warning.startsWith('MaxListenersExceededWarning'))).toEqual([]);
  });

  it('logs an export its client left before the end, with how much had been sent', { timeout: 60_000 }, async () => {
    const before = await newestSeq();
    const abort = new AbortController();
    const response = await fetch(exportUrl, { headers: { Authorization: `Bearer ${admin}` }, signal: abort.signal });
    const reader = response.body!.getReader();
    let read = 0;
    while (read < 64 * 1024) read += (await reader.read()).value?.byteLength ?? Infinity;
    abort.abort();
    const entry = await exportEntry(before);
    expect(entry).toMatchObject({
      status: 200,
      has_error: true,
      error: {
        message: expect.stringMatching(
          /^The client closed the connection after [\d,]+ resources \([\d,]+ bytes\) had been written to it; the rest was not\.$/,
        ),
      },
    });
    expect(entry.response.bytes).toBeGreaterThanOrEqual(read);
    // Sockets buffer some megabytes at most: the entry is not a whole export's 100,000 resources.
    expect(entry.error!.message).not.toContain('100,000 resources');
  });
});
