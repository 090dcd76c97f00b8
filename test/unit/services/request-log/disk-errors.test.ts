import * as fs from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createRequestLog } from '../../../../src-main/services/request-log';
import type { SegmentIo } from '../../../../src-main/services/request-log/segment-files';
import { clock, input, quietLog, useTempDirs } from './helpers';

const tempDir = useTempDirs();

/** node:fs/promises, except that writes fail (ENOSPC) while `full` is set — after half the bytes. */
function flakyDisk() {
  const state = { full: false };
  const io: SegmentIo = {
    ...fs,
    open: (async (...args: Parameters<typeof fs.open>) => {
      const handle = await fs.open(...args);
      return new Proxy(handle, {
        get(target, property, receiver) {
          if (property === 'write') {
            return async (buffer: Buffer, offset: number, length: number, position: number) => {
              if (!state.full) return target.write(buffer, offset, length, position);
              await target.write(buffer, offset, Math.floor(length / 2), position); // a torn write
              throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
            };
          }
          const value: unknown = Reflect.get(target, property, receiver);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      }) as FileHandle;
    }) as typeof fs.open,
  };
  return { io, state };
}

describe('request log: a failing disk', () => {
  it('keeps record from throwing, bounds the buffer, reports, and recovers without duplicates', async () => {
    const dir = await tempDir();
    const { io, state } = flakyDisk();
    const quiet = quietLog();
    const log = await createRequestLog({ dataDir: dir, clock, log: quiet, io, limits: { maxBufferedBytes: 8 * 1024 } });
    for (let n = 1; n <= 5; n++) log.record(input(n));
    await log.flush();

    state.full = true;
    for (let n = 6; n <= 60; n++) {
      expect(() => log.record(input(n))).not.toThrow();
      if (n % 10 === 0) await log.flush();
    }
    const failing = await log.stats();
    expect(failing.write_errors).toBeGreaterThan(1);
    expect(failing.last_error).toContain('ENOSPC');
    expect(failing.dropped).toBeGreaterThan(0);
    expect(failing.bytes).toBeLessThan(5 * 2000 + 8 * 1024 + 2000);
    // One message per failure streak, not one per attempt.
    expect(quiet.lines.filter((line) => line.includes('writing failed'))).toHaveLength(1);

    state.full = false;
    await log.flush();
    expect((await log.stats()).buffered).toBe(0);
    expect(quiet.lines.some((line) => line.includes('works again'))).toBe(true);
    const kept = (await log.list({ page: 1, per_page: 200 })).items.map((item) => item.seq);
    expect(kept).toHaveLength(60 - failing.dropped);
    await log.close();

    // The torn halves were cut off: a restart reads exactly what was acknowledged as kept.
    const reopened = await createRequestLog({ dataDir: dir, clock, log: quietLog() });
    expect((await reopened.list({ page: 1, per_page: 200 })).items.map((item) => item.seq)).toEqual(kept);
    expect((await reopened.stats()).corrupt_lines).toBe(0);
    for (const seq of kept) expect((await reopened.get(String(seq)))?.seq).toBe(seq);
    await reopened.close();
  });

  it('says at its close how many entries it could not write, rather than closing as if all were kept', async () => {
    const dir = await tempDir();
    const { io, state } = flakyDisk();
    const log = await createRequestLog({ dataDir: dir, clock, log: quietLog(), io });
    state.full = true;
    for (let n = 1; n <= 3; n++) log.record(input(n));
    await expect(log.close()).rejects.toThrow(
      /^3 request log entries could not be written and are lost \(segment write: ENOSPC: no space left on device\)$/,
    );
  });
});
