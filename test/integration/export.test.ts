import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
    expect(rows.map((r) => r.userName).sort()).toEqual(['ann@example.com', 'cat@example.com']);
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
  });

  it('answers Accept: application/x-ndjson the same way', async () => {
    const response = await get('', { Accept: 'application/x-ndjson' });
    expect(response.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    expect((await response.text()).trim().split('\n')).toHaveLength(3);
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
  });

  it('refuses an unknown format and a bad filter before streaming', async () => {
    expect((await get('?format=xml')).status).toBe(400);
    const bad = await get('?format=csv&filter=nope');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ scimType: 'invalidFilter' });
  });
});

describe('export of 100,000 users', () => {
  it('streams without memory growing with the export', { timeout: 240_000 }, async () => {
    const data = await tempDataDir();
    const store = await openDurableStore(data.dir);
    const services = await createServices({ store, clock: systemClock, dataDir: data.dir, log: console });
    const tenant = await services.tenants.create({ name: 'Big' });
    const ctx = { tenantId: tenant.id, baseUrl: 'http://x/scim/v2' };
    const total = 100_000;
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

    const server = await startTestServer({ dataDir: data.dir });
    try {
      const admin = await server.adminToken();
      const baseline = liveHeap();
      let peak = baseline;
      let bytes = 0;
      let lines = 0;
      let nextSample = 0;
      const response = await fetch(`${server.url}/api/v1/tenants/${tenant.id}/scim/v2/Users?format=ndjson`, {
        headers: { Authorization: `Bearer ${admin}` },
      });
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
    } finally {
      await server.stop();
      await data.remove();
    }
  });
});
