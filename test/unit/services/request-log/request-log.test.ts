import { appendFile, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRequestLog, type RequestLog } from '../../../../src-main/services/request-log';
import { clock, input, quietLog, readAll, useTempDirs } from './helpers';

const tempDir = useTempDirs();

async function open(dataDir: string, limits = {}, log = quietLog()): Promise<RequestLog> {
  return createRequestLog({ dataDir, clock, log, limits });
}

async function segmentBytes(dataDir: string): Promise<number> {
  const dir = join(dataDir, 'request-log');
  let total = 0;
  for (const name of await readdir(dir)) if (name.endsWith('.jsonl')) total += (await stat(join(dir, name))).size;
  return total;
}

const page = { page: 1, per_page: 200 };

describe('request log: record, get, list', () => {
  it('records an entry, redacted, readable before and after it reaches the disk', async () => {
    const dir = await tempDir();
    const log = await open(dir);
    log.record(
      input(1, {
        query: '?access_token=qs-secret-123&filter=userName%20eq%20%22a%22',
        flags: ['lenient-boolean'],
        request: {
          headers: { authorization: 'Bearer hdr-secret-123' },
          body: { userName: 'a', password: 'pw-secret-123' },
        },
      }),
    );
    const pending = await log.get('1');
    await log.flush();
    const written = await log.get('1');
    expect(written).toEqual(pending);
    expect(written).toMatchObject({
      id: '1',
      seq: 1,
      method: 'POST',
      tenant_id: 'tenant-a',
      token: { id: 'tok-1', name: 'Entra provisioning' },
      query: 'access_token=[redacted]&filter=userName%20eq%20%22a%22',
      flags: ['lenient-boolean'],
      request: { headers: { authorization: 'Bearer [redacted]' }, body: { userName: 'a', password: '[redacted]' } },
      response: { truncated: false },
    });
    const text = JSON.stringify(written) + (await readAll(dir));
    for (const secret of ['qs-secret-123', 'hdr-secret-123', 'pw-secret-123']) expect(text).not.toContain(secret);
    expect(await log.get('2')).toBeUndefined();
    expect(await log.get('not-a-number')).toBeUndefined();
    // One id per entry, as the list gives it.
    for (const other of ['01', '+1', '1.0', '0']) expect(await log.get(other), other).toBeUndefined();
    await log.close();
  });

  it('filters by tenant, method, status, path, time, and pages newest first', async () => {
    const log = await open(await tempDir());
    const plan = [
      { tenant_id: 'a', method: 'GET', status: 200, path: '/scim/v2/Users' },
      { tenant_id: 'a', method: 'POST', status: 201, path: '/scim/v2/Users' },
      { tenant_id: 'b', method: 'PATCH', status: 404, path: '/scim/v2/Groups/g1' },
      { tenant_id: 'b', method: 'GET', status: 409, path: '/scim/v2/Groups' },
      { tenant_id: null, method: 'GET', status: 500, path: '/api/v1/admin/tenants' },
    ];
    for (let n = 1; n <= 50; n++) log.record(input(n, plan[n % plan.length]));
    await log.flush();
    const all = await log.list(page);
    expect(all.total).toBe(50);
    expect(all.items.map((item) => item.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 50 - i));

    expect((await log.list({ ...page, tenant_id: 'a' })).total).toBe(20);
    expect((await log.list({ ...page, method: 'get' })).total).toBe(30);
    expect((await log.list({ ...page, status: 404 })).total).toBe(10);
    expect((await log.list({ ...page, status: '4xx' })).total).toBe(20);
    expect((await log.list({ ...page, status: '5XX' })).total).toBe(10);
    expect((await log.list({ ...page, path: 'groups' })).total).toBe(20);
    expect((await log.list({ ...page, tenant_id: 'b', status: '4xx', method: 'PATCH' })).total).toBe(10);
    const since = new Date(Date.parse('2024-05-01T10:00:00.000Z') + 41_000).toISOString();
    expect((await log.list({ ...page, since })).items.map((item) => item.seq)).toEqual([
      50, 49, 48, 47, 46, 45, 44, 43, 42, 41,
    ]);
    expect((await log.list({ ...page, until: Date.parse('2024-05-01T10:00:03.000Z') })).total).toBe(3);
    // Entries are stamped to the millisecond; digits past it are not dropped from the bounds.
    expect((await log.list({ ...page, since: '2024-05-01T10:00:41.0001Z' })).items[0]?.seq).toBe(50);
    expect((await log.list({ ...page, since: '2024-05-01T10:00:41.0001Z' })).total).toBe(9);
    expect((await log.list({ ...page, since: '2024-05-01T10:00:41.000000Z' })).total).toBe(10);
    expect((await log.list({ ...page, until: '2024-05-01T10:00:03.0009Z' })).total).toBe(3);

    const second = await log.list({ page: 2, per_page: 15 });
    expect(second).toMatchObject({ total: 50, page: 2, per_page: 15 });
    expect(second.items.map((item) => item.seq)).toEqual(Array.from({ length: 15 }, (_, i) => 35 - i));
    expect((await log.list({ page: 9, per_page: 15 })).items).toEqual([]);
    await log.close();
  });

  it('searches free text over path, query, token name and bodies, on disk and buffered', async () => {
    const log = await open(await tempDir());
    log.record(input(1, { path: '/scim/v2/Users/NeedlePath' }));
    log.record(input(2, { query: 'filter=displayName%20eq%20needlequery' }));
    log.record(input(3, { token: { id: 't', name: 'Okta NEEDLE token' } }));
    log.record(input(4, { request: { body: { displayName: 'Needle "in" request' } } }));
    log.record(input(5, { response: { body: { detail: 'needle in response' } } }));
    log.record(input(6));
    await log.flush();
    log.record(input(7, { request: { body: 'raw needle text' } })); // still buffered
    const found = await log.list({ ...page, q: 'NEEDLE' });
    expect(found.items.map((item) => item.seq)).toEqual([7, 5, 4, 3, 2, 1]);
    expect((await log.list({ ...page, q: 'needle "in"' })).items.map((item) => item.seq)).toEqual([4]);
    expect((await log.list({ ...page, q: 'needle', tenant_id: 'other' })).total).toBe(0);
    expect((await log.list({ ...page, q: 'password-that-is-not-there' })).total).toBe(0);
    await log.close();
  });

  it('finds entries by the compatibility flags they name', async () => {
    const log = await open(await tempDir());
    log.record(input(1, { flags: ['opCaseInsensitive', 'booleanStrings'] }));
    log.record(input(2, { flags: [] }));
    await log.flush();
    log.record(input(3, { flags: ['opCaseInsensitive'] })); // still buffered
    expect((await log.list({ ...page, q: 'opcaseinsensitive' })).items.map((item) => item.seq)).toEqual([3, 1]);
    expect((await log.list({ ...page, q: 'booleanStrings' })).items.map((item) => item.seq)).toEqual([1]);
    await log.close();
  });

  it('lists what came after a seq, a slow request that ended last included, where a poll by time misses it', async () => {
    const log = await open(await tempDir());
    const at = (n: number) => Date.parse('2024-05-01T10:00:00.000Z') + n * 1000;
    log.record(input(1, { started_at: at(1) }));
    log.record(input(2, { started_at: at(3) })); // the newest a poll has seen
    log.record(input(3, { started_at: at(2), path: '/scim/v2/Bulk' })); // started before 2, ended after it
    const seen = await log.list({ ...page, until: new Date(at(3)).toISOString() });
    expect(seen.items.map((item) => item.seq)).toEqual([3, 2, 1]);
    const byTime = await log.list({ ...page, since: new Date(at(3) + 1).toISOString() });
    expect(byTime.total).toBe(0);
    const bySeq = await log.list({ ...page, after_seq: 2 });
    expect(bySeq.items.map((item) => [item.seq, item.path])).toEqual([[3, '/scim/v2/Bulk']]);
    expect((await log.list({ ...page, after_seq: 0 })).total).toBe(3);
    await log.close();
  });

  it("searches what requests and answers carried, not the log's own key names, and quotes as typed", async () => {
    const log = await open(await tempDir());
    log.record(input(1, { request: { headers: {}, body: '{"userName":"narwhal-g2-6"}', bodyIsJson: true } }));
    log.record(input(2, { response: { headers: { 'www-authenticate': 'Bearer realm="scimdesk"' } }, status: 401 }));
    log.record(input(3, { status: 500, error: { message: 'Store error: disk full' } }));
    await log.flush();
    log.record(input(4, { request: { headers: {}, body: { note: 'bytes and truncated, as words' } } })); // buffered
    const seqs = async (q: string) => (await log.list({ ...page, q })).items.map((item) => item.seq);
    // Words of every entry's detail ("error":null, "truncated":false, "bytes":…, "headers":…).
    expect(await seqs('error')).toEqual([3]);
    expect(await seqs('truncated')).toEqual([4]);
    expect(await seqs('"bytes"')).toEqual([]);
    expect(await seqs('false')).toEqual([]);
    expect(await seqs('request')).toEqual([]);
    // A quoted value as the body holds it, and as a header holds it.
    expect(await seqs('"narwhal-g2-6"')).toEqual([1]);
    expect(await seqs('username":"narwhal')).toEqual([1]);
    expect(await seqs('realm="scimdesk"')).toEqual([2]);
    // Header names are searched too.
    expect(await seqs('www-authenticate')).toEqual([2]);
    // Not the letters of an escape: "Sales\nManager" reads as two lines, not as "nmanager".
    log.record(input(5, { request: { headers: {}, body: { title: 'Sales\nManager', note: 'ring\u0007bell' } } }));
    expect(await seqs('manager')).toEqual([5]);
    expect(await seqs('nmanager')).toEqual([]);
    expect(await seqs('bell')).toEqual([5]);
    expect(await seqs('0007bell')).toEqual([]);
    await log.close();
  });

  it('takes requests without a credential at a bounded rate, keeping less of each; never the others', async () => {
    let now = Date.parse('2024-05-01T10:00:00.000Z');
    const log = await createRequestLog({
      dataDir: await tempDir(),
      clock: { now: () => now },
      log: quietLog(),
      limits: { anonymousBurst: 5, anonymousPerSecond: 2 },
    });
    const anonymous = (n: number) =>
      input(n, {
        anonymous: true,
        token: null,
        status: 401,
        query: `x=${'a'.repeat(60_000)}`,
        request: { headers: {}, body: 'b'.repeat(60_000) },
      });
    // A web page's flood: 20 at once, of which the burst is kept; a real request in the middle is.
    for (let n = 1; n <= 20; n++) log.record(n === 10 ? input(n) : anonymous(n));
    now += 2_000; // four more refilled
    for (let n = 21; n <= 30; n++) log.record(anonymous(n));
    const listed = (await log.list(page)).items;
    expect(listed.filter((item) => item.token === null)).toHaveLength(5 + 4);
    expect(listed.some((item) => item.status === 201)).toBe(true);
    expect(await log.stats()).toMatchObject({ anonymous_dropped: 30 - 1 - 9 });
    // Each kept with its path and query cut at 2,048 characters and its body at 4 KiB.
    const kept = listed.find((item) => item.token === null)!;
    expect(kept.query.length).toBeLessThanOrEqual(2_049);
    const detail = await log.get(kept.id);
    expect(detail?.request).toMatchObject({ truncated: true });
    expect(JSON.stringify(detail?.request.body).length).toBeLessThan(5_000);
    await log.close();
  });

  it('finds a look-up by the value it looked for, however its query was encoded', async () => {
    const log = await open(await tempDir());
    log.record(input(1, { query: 'filter=userName%20eq%20%22zo%C3%AB%40contoso.com%22' }));
    log.record(input(2, { query: 'filter=userName+eq+%22plain%40contoso.com%22&bad=%FF' }));
    await log.flush();
    expect((await log.list({ ...page, q: 'zoë@contoso.com' })).items.map((item) => item.seq)).toEqual([1]);
    expect((await log.list({ ...page, q: 'userName eq "plain@' })).items.map((item) => item.seq)).toEqual([2]);
    expect((await log.list({ ...page, q: 'zo%C3%AB' })).items.map((item) => item.seq)).toEqual([1]);
    await log.close();
  });

  it('keeps a body past the limit as its first bytes, flagged', async () => {
    const log = await open(await tempDir(), { bodyLimitBytes: 256 });
    log.record(
      input(1, { response: { body: { members: Array.from({ length: 100 }, (_, i) => ({ value: `m${i}` })) } } }),
    );
    await log.flush();
    const entry = await log.get('1');
    expect(entry?.response.truncated).toBe(true);
    expect(typeof entry?.response.body).toBe('string');
    expect(entry?.response.bytes).toBeGreaterThan(256);
    expect(entry?.request.truncated).toBe(false);
    await log.close();
  });

  it('never throws from record, whatever it is given', async () => {
    const log = await open(await tempDir());
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = cyclic;
    expect(() => log.record(input(1, { request: { body: cyclic } }))).not.toThrow();
    expect(() => log.record(input(2, { request: { body: { big: 10n } } }))).not.toThrow();
    expect(() =>
      log.record({ ...input(3), status: Number.NaN, started_at: Number.NaN, flags: undefined }),
    ).not.toThrow();
    await log.flush();
    expect((await log.stats()).entries).toBe(2); // the BigInt body cannot be serialized: that entry is dropped
    expect((await log.stats()).dropped).toBe(1);
    expect((await log.get('1'))?.request.body).toMatchObject({ a: 1 });
    await log.close();
  });
});

describe('request log: caps', () => {
  it('keeps the newest maxEntries and deletes segments with nothing left', async () => {
    const dir = await tempDir();
    const log = await open(dir, { maxEntries: 50, segmentBytes: 4096 });
    for (let n = 1; n <= 300; n++) {
      log.record(input(n));
      if (n % 40 === 0) await log.flush();
    }
    await log.flush();
    const all = await log.list(page);
    expect(all.total).toBe(50);
    expect(all.items.at(-1)?.seq).toBe(251);
    expect(await log.stats()).toMatchObject({ entries: 50, evicted: 250 });
    expect(await log.get('250')).toBeUndefined();
    expect((await log.get('251'))?.seq).toBe(251);
    // Only segments holding retained entries remain: at most ~50 entries' worth plus one segment.
    const oneEntry = (await segmentBytes(dir)) / 300;
    expect(await segmentBytes(dir)).toBeLessThan(50 * 1200 + 4096);
    expect(oneEntry).toBeGreaterThan(0);
    await log.close();
  });

  it('keeps the bytes on disk under maxBytes, dropping the oldest segments', async () => {
    const dir = await tempDir();
    const maxBytes = 32 * 1024;
    const log = await open(dir, { maxBytes, segmentBytes: 4096 });
    for (let n = 1; n <= 400; n++) {
      log.record(input(n));
      if (n % 25 === 0) await log.flush();
    }
    await log.flush();
    const onDisk = await segmentBytes(dir);
    expect(onDisk).toBeLessThanOrEqual(maxBytes);
    expect((await log.stats()).bytes).toBe(onDisk);
    const all = await log.list(page);
    expect(all.items[0]?.seq).toBe(400);
    expect(all.total).toBeLessThan(400);
    expect(all.total).toBeGreaterThan(10);
    // What is listed can be read, what is not was evicted.
    const oldestKept = all.items.at(-1)!.seq;
    expect((await log.get(String(oldestKept)))?.seq).toBe(oldestKept);
    expect(await log.get(String(oldestKept - 1))).toBeUndefined();
    await log.close();
  });

  it('caps one tenant without touching the others, and remembers the cap', async () => {
    const dir = await tempDir();
    const log = await open(dir);
    log.setTenantLimits('tenant-a', { maxEntries: 5 });
    for (let n = 1; n <= 40; n++) log.record(input(n, { tenant_id: n % 2 ? 'tenant-a' : 'tenant-b' }));
    expect((await log.list({ ...page, tenant_id: 'tenant-a' })).items.map((item) => item.seq)).toEqual([
      39, 37, 35, 33, 31,
    ]);
    expect((await log.list({ ...page, tenant_id: 'tenant-b' })).total).toBe(20);
    await log.close();

    const reopened = await open(dir);
    expect((await reopened.list({ ...page, tenant_id: 'tenant-a' })).total).toBe(5);
    reopened.record(input(41, { tenant_id: 'tenant-a' }));
    expect((await reopened.list({ ...page, tenant_id: 'tenant-a' })).items[0]?.seq).toBe(41);
    expect((await reopened.list({ ...page, tenant_id: 'tenant-a' })).total).toBe(5);
    reopened.setTenantLimits('tenant-a', { maxEntries: 2 });
    expect((await reopened.list({ ...page, tenant_id: 'tenant-a' })).total).toBe(2);
    reopened.setTenantLimits('tenant-a', null);
    reopened.record(input(42, { tenant_id: 'tenant-a' }));
    expect((await reopened.list({ ...page, tenant_id: 'tenant-a' })).total).toBe(3);
    await reopened.close();
  });

  it('says so when its saved state cannot be read, and starts without it', async () => {
    const dir = await tempDir();
    const log = await open(dir);
    log.record(input(1));
    await log.close();
    await writeFile(join(dir, 'request-log', 'meta.json'), '{ not json');
    const quiet = quietLog();
    const reopened = await createRequestLog({ dataDir: dir, clock, log: quiet });
    expect(quiet.lines).toEqual([expect.stringMatching(/meta\.json is not JSON; started without it/)]);
    reopened.record(input(2));
    expect((await reopened.list(page)).items.map((item) => item.seq)).toEqual([2, 1]);
    await reopened.close();
  });

  it('does not bring back what a cap removed when the cap is raised and the log reopened', async () => {
    const dir = await tempDir();
    const log = await open(dir);
    log.setTenantLimits('tenant-a', { maxEntries: 5 });
    log.record(input(1, { tenant_id: 'tenant-a' }));
    await log.flush(); // one removed entry on disk, the others still in the write buffer
    for (let n = 2; n <= 40; n++) log.record(input(n, { tenant_id: n % 2 ? 'tenant-a' : 'tenant-b' }));
    log.setTenantLimits('tenant-a', { maxEntries: 1000 });
    const kept = [39, 37, 35, 33, 31];
    expect((await log.list({ ...page, tenant_id: 'tenant-a' })).items.map((item) => item.seq)).toEqual(kept);
    await log.close();

    const reopened = await open(dir);
    expect((await reopened.list({ ...page, tenant_id: 'tenant-a' })).items.map((item) => item.seq)).toEqual(kept);
    expect((await reopened.list({ ...page, tenant_id: 'tenant-b' })).total).toBe(20);
    reopened.record(input(41, { tenant_id: 'tenant-a' }));
    expect((await reopened.list({ ...page, tenant_id: 'tenant-a' })).total).toBe(6);
    await reopened.close();
  });

  it('does not bring back a purged tenant from lines its cap removed earlier', async () => {
    const dir = await tempDir();
    const log = await open(dir, { segmentBytes: 4096 });
    log.setTenantLimits('tenant-a', { maxEntries: 2 });
    // A's early entries are evicted into segments that keep live entries of B.
    for (let n = 1; n <= 30; n++) {
      log.record(input(n, { tenant_id: n % 3 === 0 ? 'tenant-a' : 'tenant-b' }));
      if (n % 5 === 0) await log.flush();
    }
    await log.purgeTenant('tenant-a');
    expect((await log.list({ ...page, tenant_id: 'tenant-a' })).total).toBe(0);
    await log.close();
    // Nothing of it on disk either: not its lines, nor its name in meta.json.
    const files = await readdir(join(dir, 'request-log'));
    const text = (await Promise.all(files.map((name) => readFile(join(dir, 'request-log', name), 'utf8')))).join('');
    expect(text).toContain('tenant-b');
    expect(text).not.toContain('tenant-a');
    const reopened = await open(dir, { segmentBytes: 4096 });
    expect((await reopened.list({ ...page, tenant_id: 'tenant-a' })).total).toBe(0);
    expect((await reopened.list({ ...page, tenant_id: 'tenant-b' })).total).toBe(20);
    await reopened.close();
  });

  it('purges a tenant from memory at once and from disk when the promise resolves', async () => {
    const dir = await tempDir();
    const log = await open(dir, { segmentBytes: 4096 });
    const marker = (n: number) => `purge-marker-${n}`;
    for (let n = 1; n <= 60; n++) {
      const tenant = n % 3 === 0 ? 'doomed' : 'kept';
      log.record(
        input(n, { tenant_id: tenant, request: { body: { note: tenant === 'doomed' ? marker(n) : 'fine' } } }),
      );
      if (n === 30) await log.flush();
    }
    const purged = log.purgeTenant('doomed'); // half on disk, half still buffered
    expect((await log.list({ ...page, tenant_id: 'doomed' })).total).toBe(0);
    await purged;
    await log.flush();
    expect(await readAll(dir)).not.toContain('purge-marker');
    const kept = await log.list({ ...page, tenant_id: 'kept' });
    expect(kept.total).toBe(40);
    for (const item of kept.items) expect((await log.get(item.id))?.request.body).toEqual({ note: 'fine' });
    await log.close();
    const reopened = await open(dir);
    expect((await reopened.list(page)).total).toBe(40);
    await reopened.close();
  });
});

describe('request log: restarts', () => {
  it('continues seq after a clean restart, and reindexes what was written', async () => {
    const dir = await tempDir();
    const first = await open(dir);
    for (let n = 1; n <= 10; n++) first.record(input(n));
    await first.close();
    const second = await open(dir);
    expect(await second.stats()).toMatchObject({ entries: 10, last_seq: 10 });
    second.record(input(11));
    expect((await second.list(page)).items[0]?.seq).toBe(11);
    expect((await second.get('3'))?.request.body).toMatchObject({ userName: 'user3@contoso.example' });
    await second.close();
  });

  it('never reuses a seq after a crash, even for entries that never reached the disk', async () => {
    const dir = await tempDir();
    const crashed = await open(dir);
    for (let n = 1; n <= 10; n++) crashed.record(input(n));
    await crashed.flush();
    for (let n = 11; n <= 15; n++) crashed.record(input(n)); // streamed live, lost with the process
    const reopened = await open(dir);
    expect((await reopened.stats()).entries).toBe(10);
    reopened.record(input(16));
    const newest = (await reopened.list(page)).items[0]!;
    expect(newest.seq).toBeGreaterThan(15);
    await reopened.close();
    await crashed.close();
  });

  it('tolerates a torn last line', async () => {
    const dir = await tempDir();
    const first = await open(dir);
    for (let n = 1; n <= 5; n++) first.record(input(n));
    await first.close();
    const segments = (await readdir(join(dir, 'request-log'))).filter((name) => name.endsWith('.jsonl'));
    await appendFile(join(dir, 'request-log', segments.at(-1)!), '{"id":"6","seq":6,"time":"2024-05-01T1');
    const second = await open(dir);
    expect(await second.stats()).toMatchObject({ entries: 5, corrupt_lines: 0 });
    second.record(input(7));
    await second.close();
    const third = await open(dir);
    expect((await third.list(page)).items.map((item) => item.seq)).toEqual([expect.any(Number), 5, 4, 3, 2, 1]);
    expect((await third.stats()).corrupt_lines).toBe(0);
    const newest = (await third.list(page)).items[0]!;
    expect((await third.get(newest.id))?.request.body).toMatchObject({ userName: 'user7@contoso.example' });
    await third.close();
  });
});
