import * as fs from 'node:fs/promises';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type * as MetaFile from '../../../../src-main/services/request-log/meta-file';
import { createRequestLog, type RequestLog } from '../../../../src-main/services/request-log';
import { clock, input, quietLog, useTempDirs } from './helpers';

/** Counts meta.json writes, which are the file's whole content each time. */
const writes = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../../../src-main/services/request-log/meta-file', async (importOriginal) => {
  const real = await importOriginal<typeof MetaFile>();
  return {
    ...real,
    writeLogMeta: async (...args: Parameters<typeof real.writeLogMeta>) => {
      writes.count++;
      return real.writeLogMeta(...args);
    },
  };
});

const tempDir = useTempDirs();

describe("request log: tenants' own caps", () => {
  it('writes meta.json a few times, not once per tenant, when every tenant sets its cap at start', async () => {
    const dir = await tempDir();
    const log = await createRequestLog({ dataDir: dir, clock, log: quietLog(), limits: { maxEntries: 1000 } });
    await log.flush();
    writes.count = 0;
    for (let n = 0; n < 2000; n++) log.setTenantLimits(`tenant-${n}`, { maxEntries: n % 2 === 0 ? 10 : 1000 });
    await log.flush();
    await log.close();
    // The close writes once more (the seq reservation); the 2,000 caps took one or two writes.
    expect(writes.count).toBeLessThanOrEqual(3);
    // A cap at the log's own is none: only the 1,000 smaller ones are kept.
    const meta = JSON.parse(await readFile(join(dir, 'request-log', 'meta.json'), 'utf8')) as {
      tenant_limits: Record<string, unknown>;
    };
    expect(Object.keys(meta.tenant_limits)).toHaveLength(1000);
    expect(meta.tenant_limits['tenant-0']).toEqual({ maxEntries: 10 });
    expect(meta.tenant_limits['tenant-1']).toBeUndefined();
  });

  it('still holds a tenant to its cap after a restart, and drops a cap raised to the log’s own', async () => {
    const dir = await tempDir();
    const log = await createRequestLog({ dataDir: dir, clock, log: quietLog(), limits: { maxEntries: 1000 } });
    log.setTenantLimits('tenant-a', { maxEntries: 2 });
    for (let n = 1; n <= 5; n++) log.record(input(n));
    await log.close();
    const again = await createRequestLog({ dataDir: dir, clock, log: quietLog(), limits: { maxEntries: 1000 } });
    for (let n = 6; n <= 8; n++) again.record(input(n));
    expect((await again.list({ page: 1, per_page: 50, tenant_id: 'tenant-a' })).items.map((i) => i.seq)).toEqual([
      8, 7,
    ]);
    again.setTenantLimits('tenant-a', { maxEntries: 5000 });
    for (let n = 9; n <= 11; n++) again.record(input(n));
    expect((await again.list({ page: 1, per_page: 50, tenant_id: 'tenant-a' })).total).toBe(5);
    await again.close();
  });
});

/** An entry refused for its credential. */
const refused = { status: 401, token: null, response: { headers: {}, body: { status: '401' } } };

/** After 8 accepted entries (seqs 1–8) and 100 refused ones (9–108) under a cap of 10: half each. */
const newestFiveOfEach = [
  ...[108, 107, 106, 105, 104].map((seq) => [seq, 401]),
  ...[8, 7, 6, 5, 4].map((seq) => [seq, 201]),
];

/** What the log keeps, newest first, as [seq, status], of one tenant or of all. */
const kept = async (log: RequestLog, tenant?: string) =>
  (await log.list({ page: 1, per_page: 50, ...(tenant === undefined ? {} : { tenant_id: tenant }) })).items.map(
    (item) => [item.seq, item.status],
  );

describe('request log: deleted tenants', () => {
  it('removes the lines of tenants deleted together in one rewrite of each segment, not one per tenant', async () => {
    const dir = await tempDir();
    const rewrites: string[] = [];
    const io = {
      ...fs,
      open: (async (...args: Parameters<typeof fs.open>) => {
        if (String(args[0]).endsWith('.tmp') && args[1] === 'w') rewrites.push(String(args[0]));
        return fs.open(...args);
      }) as typeof fs.open,
    };
    const log = await createRequestLog({
      dataDir: dir,
      clock,
      log: quietLog(),
      io,
      limits: { segmentBytes: 64 * 1024 },
    });
    const tenants = Array.from({ length: 10 }, (_, t) => `tenant-${t}`);
    for (let n = 1; n <= 200; n++) log.record(input(n, { tenant_id: tenants[n % 10]! }));
    await log.flush();
    const segments = (await fs.readdir(join(dir, 'request-log'))).filter((name) => name.endsWith('.jsonl')).length;
    expect(segments).toBeGreaterThan(1);

    await Promise.all(tenants.slice(0, 9).map((tenant) => log.purgeTenant(tenant)));
    // The first delete's rewrite may begin before the others come: at most two rewrites per segment.
    expect(rewrites.length).toBeLessThanOrEqual(2 * segments);
    const text = (
      await Promise.all(
        (await fs.readdir(join(dir, 'request-log'))).map((name) => fs.readFile(join(dir, 'request-log', name), 'utf8')),
      )
    ).join('');
    for (const tenant of tenants.slice(0, 9)) expect(text).not.toContain(`"${tenant}"`);
    expect((await log.list({ page: 1, per_page: 100 })).total).toBe(20);
    await log.close();
  });

  it('lets requests refused for their credential take at most half a tenant’s cap, before and after a restart', async () => {
    const dir = await tempDir();
    const limits = { maxEntries: 1000 };
    const log = await createRequestLog({ dataDir: dir, clock, log: quietLog(), limits });
    log.setTenantLimits('tenant-a', { maxEntries: 10 });
    for (let n = 1; n <= 8; n++) log.record(input(n));
    // A flood with a wrong token at the tenant's URL.
    for (let n = 9; n <= 108; n++) log.record(input(n, refused));
    expect(await kept(log, 'tenant-a')).toEqual(newestFiveOfEach);
    await log.close();
    const again = await createRequestLog({ dataDir: dir, clock, log: quietLog(), limits });
    expect(await kept(again, 'tenant-a')).toEqual(newestFiveOfEach);
    // Under half, a refusal ages with the rest: an IdP whose token went bad still shows why it fails.
    again.setTenantLimits('tenant-b', { maxEntries: 4 });
    for (let n = 109; n <= 112; n++) again.record(input(n, { tenant_id: 'tenant-b' }));
    again.record(input(113, { ...refused, tenant_id: 'tenant-b' }));
    const ofB = await again.list({ page: 1, per_page: 50, tenant_id: 'tenant-b' });
    expect(ofB.items.map((item) => [item.seq, item.status])).toEqual([
      [113, 401],
      [112, 201],
      [111, 201],
      [110, 201],
    ]);
    await again.close();
  });

  it('counts as refused a request answered before any token was asked for, when it carried none the server took', async () => {
    const dir = await tempDir();
    const log = await createRequestLog({ dataDir: dir, clock, log: quietLog(), limits: { maxEntries: 1000 } });
    log.setTenantLimits('tenant-a', { maxEntries: 10 });
    for (let n = 1; n <= 8; n++) log.record(input(n));
    // `GET …/Bulk` (405), an unknown endpoint (404) and discovery (200) with a made-up token.
    const statuses = [405, 404, 200];
    for (let n = 9; n <= 108; n++) log.record(input(n, { token: null, status: statuses[n % 3]! }));
    const shown = await kept(log, 'tenant-a');
    expect(shown.filter(([seq]) => seq! <= 8).map(([seq]) => seq)).toEqual([8, 7, 6, 5, 4]);
    expect(shown).toHaveLength(10);
    // The console's requests carry the admin token, which the log does not name: they are no refusals.
    log.setTenantLimits('tenant-b', { maxEntries: 4 });
    for (let n = 109; n <= 116; n++) log.record(input(n, { tenant_id: 'tenant-b', token: null, source: 'console' }));
    expect((await kept(log, 'tenant-b')).map(([seq]) => seq)).toEqual([116, 115, 114, 113]);
    await log.close();
  });

  it('lets requests refused for their credential take at most half of the whole log, from any tenant or none', async () => {
    const dir = await tempDir();
    const limits = { maxEntries: 10 };
    const log = await createRequestLog({ dataDir: dir, clock, log: quietLog(), limits });
    for (let n = 1; n <= 8; n++) log.record(input(n));
    // Wrong tokens at other tenants' URLs and at /scim/v2, where no tenant and so no tenant cap applies.
    for (let n = 9; n <= 108; n++) log.record(input(n, { ...refused, tenant_id: n % 2 === 0 ? null : `tenant-${n}` }));
    expect(await kept(log)).toEqual(newestFiveOfEach);
    await log.close();
    const again = await createRequestLog({ dataDir: dir, clock, log: quietLog(), limits });
    expect(await kept(again)).toEqual(newestFiveOfEach);
    await again.close();
  });
});
