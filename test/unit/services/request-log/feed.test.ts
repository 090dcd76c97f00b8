import { describe, expect, it } from 'vitest';
import { createRequestLog } from '../../../../src-main/services/request-log';
import type { RequestLogEvent } from '../../../../src-shared/request-log';
import { clock, collector, input, quietLog, seqsOf, useTempDirs } from './helpers';

const tempDir = useTempDirs();
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('request log: live feed', () => {
  it('delivers live entries only when subscribed without afterSeq', async () => {
    const log = await createRequestLog({ dataDir: await tempDir(), clock, log: quietLog() });
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
    const first = await createRequestLog({ dataDir: dir, clock, log: quietLog() });
    const live = collector();
    first.subscribe({ afterSeq: 0 }, live.listener);
    for (let n = 1; n <= 30; n++) first.record(input(n));
    await live.until(30);
    await first.close();
    const lastSeen = 18; // the stream broke after event 18

    const second = await createRequestLog({ dataDir: dir, clock, log: quietLog() });
    const resumed = collector();
    second.subscribe({ afterSeq: lastSeen }, resumed.listener);
    for (let n = 31; n <= 35; n++) second.record(input(n));
    await resumed.until(17);
    await second.flush();
    expect(seqsOf(resumed.events)).toEqual(range(19, 35));
    await second.close();
  });

  it('replays a large backlog in order, without repeats, interleaved with new entries', async () => {
    const log = await createRequestLog({ dataDir: await tempDir(), clock, log: quietLog() });
    for (let n = 1; n <= 2000; n++) log.record(input(n));
    const { events, listener, until } = collector();
    log.subscribe({ afterSeq: 500 }, listener);
    for (let n = 2001; n <= 2100; n++) log.record(input(n));
    await until(1600);
    expect(seqsOf(events)).toEqual(range(501, 2100));
    await log.close();
  });

  it('says how many entries were evicted before the first one it can replay', async () => {
    const log = await createRequestLog({
      dataDir: await tempDir(),
      clock,
      log: quietLog(),
      limits: { maxEntries: 10 },
    });
    for (let n = 1; n <= 30; n++) log.record(input(n));
    const { events, listener, until } = collector();
    log.subscribe({ afterSeq: 5 }, listener);
    await until(11);
    expect(events[0]).toEqual({ type: 'gap', missed: 15, seq: 20 });
    expect(seqsOf(events.slice(1))).toEqual(range(21, 30));
    await log.close();
  });

  it('gives a slow subscriber a gap instead of a growing queue', async () => {
    const log = await createRequestLog({
      dataDir: await tempDir(),
      clock,
      log: quietLog(),
      limits: { maxEntries: 20 },
    });
    const events: RequestLogEvent[] = [];
    let release: () => void = () => undefined;
    let firstDelivered: () => void = () => undefined;
    const delivered = new Promise<void>((resolve) => (firstDelivered = resolve));
    const blocked = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    log.subscribe({}, (event) => {
      events.push(event);
      calls++;
      if (calls === 1) {
        firstDelivered();
        return blocked; // a stream waiting for 'drain'
      }
      return undefined;
    });
    log.record(input(1));
    await delivered;
    for (let n = 2; n <= 100; n++) log.record(input(n));
    await log.flush();
    expect(events).toHaveLength(1); // nothing was queued for it meanwhile
    release();
    await new Promise<void>((resolve) => {
      const check = () => (events.length >= 22 ? resolve() : setImmediate(check));
      check();
    });
    expect(events[1]).toEqual({ type: 'gap', missed: 79, seq: 80 });
    expect(seqsOf(events.slice(2))).toEqual(range(81, 100));
    await log.close();
  });

  it('reports entries dropped while the disk was failing as a gap, to a resuming subscriber', async () => {
    const log = await createRequestLog({
      dataDir: await tempDir(),
      clock,
      log: quietLog(),
      limits: { maxBufferedBytes: 4 * 1024 },
    });
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
});
