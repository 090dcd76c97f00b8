import { describe, expect, it } from 'vitest';
import { createRequestLog } from '../../../../src-main/services/request-log';
import type { RequestLogEvent } from '../../../../src-shared/request-log';
import { clock, collector, input, quietLog, seqsOf, useTempDirs } from './helpers';

const tempDir = useTempDirs();
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** A request log in `dataDir` (a fresh folder when none is given) with the given caps. */
async function openLog(limits?: Parameters<typeof createRequestLog>[0]['limits'], dataDir?: string) {
  return createRequestLog({ dataDir: dataDir ?? (await tempDir()), clock, log: quietLog(), limits });
}

/** A listener that stalls on its first event, like a stream waiting for 'drain', until released. */
function stallingListener() {
  const events: RequestLogEvent[] = [];
  let release: () => void = () => undefined;
  let firstDelivered: () => void = () => undefined;
  const delivered = new Promise<void>((resolve) => (firstDelivered = resolve));
  const blocked = new Promise<void>((resolve) => (release = resolve));
  const listener = (event: RequestLogEvent) => {
    events.push(event);
    if (events.length > 1) return undefined;
    firstDelivered();
    return blocked;
  };
  const until = (count: number) =>
    new Promise<void>((resolve) => {
      const check = () => (events.length >= count ? resolve() : setImmediate(check));
      check();
    });
  return { events, listener, delivered, release: () => release(), until };
}

describe('request log: live feed', () => {
  it('delivers live entries only when subscribed without afterSeq', async () => {
    const log = await openLog();
    for (let n = 1; n <= 3; n++) log.record(input(n));
    const { events, listener, until } = collector();
    const stop = log.subscribe({}, listener);
    for (let n = 4; n <= 6; n++) log.record(input(n));
    await until(3);
    expect(seqsOf(events)).toEqual([4, 5, 6]);
    expect(events[0]).toMatchObject({
      type: 'entry',
      entry: { id: '4', path: '/scim/v2/Users', tenant_id: 'tenant-a' },
    });
    stop();
    log.record(input(7));
    await log.flush();
    expect(seqsOf(events)).toEqual([4, 5, 6]);
    await log.close();
  });

  it('resumes after afterSeq without loss or repetition, across a restart', async () => {
    const dir = await tempDir();
    const first = await openLog(undefined, dir);
    const live = collector();
    first.subscribe({ afterSeq: 0 }, live.listener);
    for (let n = 1; n <= 30; n++) first.record(input(n));
    await live.until(30);
    await first.close();
    const lastSeen = 18; // the stream broke after event 18

    const second = await openLog(undefined, dir);
    const resumed = collector();
    second.subscribe({ afterSeq: lastSeen }, resumed.listener);
    for (let n = 31; n <= 35; n++) second.record(input(n));
    await resumed.until(17);
    await second.flush();
    expect(seqsOf(resumed.events)).toEqual(range(19, 35));
    await second.close();
  });

  it('replays a large backlog in order, without repeats, interleaved with new entries', async () => {
    const log = await openLog();
    for (let n = 1; n <= 2000; n++) log.record(input(n));
    const { events, listener, until } = collector();
    log.subscribe({ afterSeq: 500 }, listener);
    for (let n = 2001; n <= 2100; n++) log.record(input(n));
    await until(1600);
    expect(seqsOf(events)).toEqual(range(501, 2100));
    await log.close();
  });

  it('says how many entries were evicted before the first one it can replay', async () => {
    const log = await openLog({ maxEntries: 10 });
    for (let n = 1; n <= 30; n++) log.record(input(n));
    const { events, listener, until } = collector();
    log.subscribe({ afterSeq: 5 }, listener);
    await until(11);
    expect(events[0]).toEqual({ type: 'gap', missed: 15, seq: 20 });
    expect(seqsOf(events.slice(1))).toEqual(range(21, 30));
    await log.close();
  });

  it('gives a slow subscriber a gap instead of a growing queue', async () => {
    const log = await openLog({ maxEntries: 20 });
    const { events, listener, delivered, release, until } = stallingListener();
    log.subscribe({}, listener);
    log.record(input(1));
    await delivered;
    for (let n = 2; n <= 100; n++) log.record(input(n));
    await log.flush();
    expect(events).toHaveLength(1); // nothing was queued for it meanwhile
    release();
    await until(22);
    expect(events[1]).toEqual({ type: 'gap', missed: 79, seq: 80 });
    expect(seqsOf(events.slice(2))).toEqual(range(81, 100));
    await log.close();
  });

  it('reports entries dropped while the disk was failing as a gap, to a resuming subscriber', async () => {
    const log = await openLog({ maxBufferedBytes: 4 * 1024 });
    // Without a flush in between, the buffer bound alone drops the oldest entries.
    for (let n = 1; n <= 50; n++) log.record(input(n));
    const dropped = (await log.stats()).dropped;
    expect(dropped).toBeGreaterThan(0);
    const { events, listener, until } = collector();
    log.subscribe({ afterSeq: 0 }, listener);
    await until(1 + 50 - dropped);
    expect(events[0]).toEqual({ type: 'gap', missed: dropped, seq: dropped });
    expect(seqsOf(events.slice(1))).toEqual(range(dropped + 1, 50));
    await log.close();
  });

  it('removes a subscriber whose listener throws, and keeps serving the others', async () => {
    const quiet = quietLog();
    const log = await createRequestLog({ dataDir: await tempDir(), clock, log: quiet });
    const good = collector();
    log.subscribe({}, () => {
      throw new Error('socket closed');
    });
    log.subscribe({}, good.listener);
    log.record(input(1));
    log.record(input(2));
    await good.until(2);
    expect((await log.stats()).subscribers).toBe(1);
    expect(quiet.lines.some((line) => line.includes('subscriber failed'))).toBe(true);
    await log.close();
  });

  describe('a feed that follows one tenant', () => {
    const of = (tenant: string) => ({ tenant_id: tenant });

    it("says nothing of another tenant's evicted entries, and counts its own exactly, across a restart", async () => {
      const dir = await tempDir();
      const first = await openLog(undefined, dir);
      // Tenant b keeps only its 2 newest entries: seqs 2–9 of its 10 go.
      first.setTenantLimits('tenant-b', { maxEntries: 2 });
      first.record(input(1, of('tenant-a')));
      // Each written before the next pushes it out, so its line stays on disk below b's floor.
      for (let n = 2; n <= 11; n++) {
        first.record(input(n, of('tenant-b')));
        await first.flush();
      }
      first.record(input(12, of('tenant-a')));
      const followA = collector();
      const followB = collector();
      const everything = collector();
      first.subscribe({ afterSeq: 0, filter: { tenant_id: 'tenant-a' } }, followA.listener);
      first.subscribe({ afterSeq: 0, filter: { tenant_id: 'tenant-b' } }, followB.listener);
      first.subscribe({ afterSeq: 0 }, everything.listener);
      await Promise.all([followA.until(2), followB.until(3), everything.until(5)]);
      await first.flush();
      expect(seqsOf(followA.events)).toEqual([1, 12]);
      expect(seqsOf(followB.events)).toEqual(['gap:8@9', 10, 11]);
      expect(seqsOf(everything.events)).toEqual([1, 'gap:8@9', 10, 11, 12]);
      await first.close();

      // The lines below tenant b's floor are still on disk; a restarted log knows whose they were.
      const second = await openLog(undefined, dir);
      const resumedA = collector();
      const resumedB = collector();
      second.subscribe({ afterSeq: 0, filter: { tenant_id: 'tenant-a' } }, resumedA.listener);
      second.subscribe({ afterSeq: 1, filter: { tenant_id: 'tenant-b' } }, resumedB.listener);
      second.record(input(13, of('tenant-a')));
      await Promise.all([resumedA.until(3), resumedB.until(3)]);
      await second.flush();
      expect(seqsOf(resumedA.events)).toEqual([1, 12, 13]);
      expect(seqsOf(resumedB.events)).toEqual(['gap:8@9', 10, 11]);
      await second.close();
    });

    it("gives a slow subscriber no gap for what other tenants' traffic pushed out", async () => {
      const log = await openLog({ maxEntries: 20 });
      const { events, listener, delivered, release, until } = stallingListener();
      log.subscribe({ filter: { tenant_id: 'tenant-a' } }, listener);
      log.record(input(1, of('tenant-a')));
      await delivered;
      log.record(input(2, of('tenant-a')));
      // 100 of tenant b's entries push everything older than seq 83 out, seq 2 among them.
      for (let n = 3; n <= 102; n++) log.record(input(n, of('tenant-b')));
      log.record(input(103, of('tenant-a')));
      release();
      await until(3);
      await log.flush();
      expect(seqsOf(events)).toEqual([1, 'gap:1@102', 103]);
      await log.close();
    });

    it('counts every seq it cannot place as missed when resuming from before the oldest line on disk', async () => {
      const dir = await tempDir();
      const first = await openLog({ maxEntries: 5 }, dir);
      for (let n = 1; n <= 10; n++) first.record(input(n, of(n % 2 === 0 ? 'tenant-a' : 'tenant-b')));
      await first.close();
      // Only seqs 6–10 are retained; whose seqs 1–5 were, the restarted log cannot tell.
      const second = await openLog({ maxEntries: 5 }, dir);
      const { events, listener, until } = collector();
      second.subscribe({ afterSeq: 0, filter: { tenant_id: 'tenant-a' } }, listener);
      await until(4);
      expect(seqsOf(events)).toEqual(['gap:5@5', 6, 8, 10]);
      await second.close();
    });

    it('counts entries removed before they were ever written as missed, after a restart', async () => {
      const dir = await tempDir();
      const first = await openLog(undefined, dir);
      first.setTenantLimits('tenant-b', { maxEntries: 1 });
      first.record(input(1, of('tenant-a')));
      // Pushed out at once, before any write: no line says they were tenant b's.
      for (let n = 2; n <= 4; n++) first.record(input(n, of('tenant-b')));
      first.record(input(5, of('tenant-a')));
      await first.close();
      const second = await openLog(undefined, dir);
      const { events, listener, until } = collector();
      second.subscribe({ afterSeq: 1, filter: { tenant_id: 'tenant-a' } }, listener);
      await until(2);
      expect(seqsOf(events)).toEqual(['gap:2@4', 5]);
      await second.close();
    });

    it('passes what its other filters do not match in silence; a gap still counts every entry gone', async () => {
      const log = await openLog({ maxEntries: 6 });
      const failed = (n: number) => input(n, { status: 409 });
      for (let n = 1; n <= 4; n++) log.record(n % 2 === 0 ? failed(n) : input(n));
      for (let n = 5; n <= 10; n++) log.record(n === 7 || n === 10 ? failed(n) : input(n));
      const { events, listener, until } = collector();
      log.subscribe({ afterSeq: 0, filter: { tenant_id: 'tenant-a', status: '4xx' } }, listener);
      await until(3);
      await log.flush();
      // Seqs 1–4 are gone: whether each was a 409 nobody can say any more, so all four count.
      expect(seqsOf(events)).toEqual(['gap:4@4', 7, 10]);
      await log.close();
    });
  });

  it('tells a feed following a tenant that it was deleted, with no gap for its entries, and goes on', async () => {
    const log = await openLog();
    for (let n = 1; n <= 3; n++) log.record(input(n));
    const followed = collector();
    const stalled = stallingListener();
    const everything = collector();
    log.subscribe({ afterSeq: 0, filter: { tenant_id: 'tenant-a' } }, followed.listener);
    log.subscribe({ afterSeq: 0, filter: { tenant_id: 'tenant-a' } }, stalled.listener);
    log.subscribe({ afterSeq: 0 }, everything.listener);
    await followed.until(3);
    await stalled.delivered;
    await log.purgeTenant('tenant-a');
    // An IdP still calling the deleted tenant's URL is logged under its id: what the reader is after.
    log.record(input(4, { tenant_id: 'tenant-a', status: 401 }));
    log.record(input(5, { tenant_id: 'tenant-b' }));
    await followed.until(5);
    // A stalled reader gets it once it reads again, after what it was being given.
    stalled.release();
    await stalled.until(3);
    await everything.until(5);
    expect(seqsOf(followed.events)).toEqual([1, 2, 3, 'tenant_deleted:tenant-a', 4]);
    expect(seqsOf(stalled.events)).toEqual([1, 'tenant_deleted:tenant-a', 4]);
    expect(seqsOf(everything.events).slice(-2)).toEqual([4, 5]);
    await log.close();
  });
});
