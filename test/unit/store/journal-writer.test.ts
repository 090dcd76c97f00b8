import { constants } from 'node:fs';
import { readdir, readFile, readlink, type FileHandle } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { encodeRecord, listSegments } from '../../../src-main/store/journal-format';
import { JournalWriter, MAX_BATCH_CHARS } from '../../../src-main/store/journal-writer';
import { useTempDirs } from './tmp-dir';

const tempDir = useTempDirs();

/** The sequence numbers of the records in the folder's first segment, in file order. */
async function seqsInFirstSegment(dir: string): Promise<number[]> {
  const [segment] = await listSegments(dir);
  return (await readFile(segment?.file as string, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line.slice(9)) as { seq: number }).seq);
}

describe('journal writer (group commit)', () => {
  it('shares flushes between concurrent appends and writes them all, in order', async () => {
    const dir = await tempDir();
    const writer = await JournalWriter.open(dir, [], 1);
    let seq = 0;
    // Each writer appends again the moment its previous append is acknowledged: the pattern that
    // once found the drain loop finishing with an item left in the queue.
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let k = 0; k < 40; k++) await writer.append(encodeRecord(++seq, ['{"op":"tenant.delete","tenant":"t"}']));
      }),
    );
    const { records, flushes } = writer.stats;
    expect(records).toBe(640);
    expect(flushes).toBeLessThan(records);
    await writer.close();
    expect(await seqsInFirstSegment(dir)).toEqual(Array.from({ length: 640 }, (_, i) => i + 1));
  });

  it('splits what queued behind a slow write into writes of bounded size, all kept in order', async () => {
    // A batch is joined into one string: unbounded, a few hundred large bodies queued behind a
    // slow disk would pass the longest string V8 can make and fail the store.
    const dir = await tempDir();
    const writer = await JournalWriter.open(dir, [], 1);
    const padding = 'x'.repeat(4 * 1024 * 1024);
    const count = Math.ceil((2.5 * MAX_BATCH_CHARS) / padding.length);
    const appended = Array.from({ length: count }, (_, i) =>
      writer.append(encodeRecord(i + 1, [JSON.stringify({ op: 'tenant.delete', tenant: padding })])),
    );
    await Promise.all(appended);
    expect(writer.stats).toMatchObject({ records: count, flushes: 3 });
    await writer.close();
    expect(await seqsInFirstSegment(dir)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
  });

  it('puts records queued before a rotation in the old segment and later ones in the new', async () => {
    const dir = await tempDir();
    const writer = await JournalWriter.open(dir, [], 1);
    const line = (seq: number) => encodeRecord(seq, ['{"op":"tenant.delete","tenant":"t"}']);
    const first = [writer.append(line(1)), writer.append(line(2))];
    const rotated = writer.rotate(3);
    const second = writer.append(line(3));
    const covered = await rotated;
    await Promise.all([...first, second]);
    expect(covered.map((s) => s.firstSeq)).toEqual([1]);
    expect((await listSegments(dir)).map((s) => s.firstSeq)).toEqual([1, 3]);
    await writer.remove(covered);
    expect((await listSegments(dir)).map((s) => s.firstSeq)).toEqual([3]);
    await writer.close();
  });

  it('settles once what was queued before is durable, while later writes keep coming', async () => {
    const dir = await tempDir();
    const writer = await JournalWriter.open(dir, [], 1);
    const line = (seq: number) => encodeRecord(seq, ['{"op":"tenant.delete","tenant":"t"}']);
    let seq = 0;
    const before = [writer.append(line(++seq)), writer.append(line(++seq))];
    let beforeDone = false;
    void Promise.all(before).then(() => (beforeDone = true));
    let settledAt: number | undefined;
    const barrier = writer.settled().then(() => (settledAt = seq));
    // Steady writers that stop by themselves: the writer is never idle until they do.
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let k = 0; k < 50; k++) await writer.append(line(++seq));
      }),
    );
    await barrier;
    expect(beforeDone).toBe(true);
    expect(settledAt).toBeLessThan(seq);
    await writer.close();
  });

  it('refuses an append that races close, instead of leaving it waiting forever', async () => {
    const writer = await JournalWriter.open(await tempDir(), [], 1);
    const outcome = Promise.resolve()
      .then(() => writer.append('{"seq":1}\n'))
      .then(
        () => 'written',
        (error: Error) => error.message,
      );
    await writer.close();
    expect(await outcome).toMatch(/closed/);
  });

  it('cuts a failed batch back off the segment, so records answered with an error do not come back', async () => {
    // A disk that fails part-way: the first record of the batch and part of the second reach the
    // file, then the write reports an error. Both writers are told their change failed.
    const dir = await tempDir();
    const writer = await JournalWriter.open(dir, [], 1);
    const line = (seq: number) => encodeRecord(seq, ['{"op":"tenant.delete","tenant":"t"}']);
    await writer.append(line(1));
    const handle = (writer as unknown as { handle: FileHandle }).handle;
    const realWrite = handle.write.bind(handle) as (buffer: Buffer, offset: number, length: number) => Promise<unknown>;
    Object.assign(handle, {
      write: async (buffer: Buffer, offset: number) => {
        await realWrite(buffer, offset, line(2).length + 5);
        throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
      },
    });
    const failed = await Promise.allSettled([writer.append(line(2)), writer.append(line(3))]);
    expect(failed.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
    await writer.close();
    expect(await readFile((await listSegments(dir))[0]?.file as string, 'utf8')).toBe(line(1));
  });

  // A SIGKILL keeps the page cache, so the crash tests cannot tell a durable write from a cached
  // one; this checks the flag that makes each journal write durable, on the open segment itself.
  it.runIf(process.platform === 'linux')('writes new and reopened segments with O_DSYNC (Linux)', async () => {
    const dir = await tempDir();
    const flagsOfSegment = async (): Promise<number> => {
      for (const fd of await readdir('/proc/self/fd')) {
        const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
        if (!target.startsWith(dir) || !target.endsWith('.log')) continue;
        const info = await readFile(`/proc/self/fdinfo/${fd}`, 'utf8');
        return parseInt(/^flags:\s+(\d+)/m.exec(info)?.[1] ?? '0', 8);
      }
      throw new Error('no open journal segment');
    };
    const created = await JournalWriter.open(dir, [], 1);
    expect(await flagsOfSegment()).toSatisfy((flags: number) => (flags & constants.O_DSYNC) === constants.O_DSYNC);
    await created.append(encodeRecord(1, ['{"op":"tenant.delete","tenant":"t"}']));
    await created.close();
    const reopened = await JournalWriter.open(dir, await listSegments(dir), 2);
    expect(await flagsOfSegment()).toSatisfy((flags: number) => (flags & constants.O_DSYNC) === constants.O_DSYNC);
    await reopened.close();
  });
});
