/**
 * The journal's write path, with group commit.
 *
 * A commit is acknowledged only after its line is written and fdatasync'd. While one fdatasync is in
 * flight, further commits queue up; when it returns, everything queued is written with one write and
 * made durable with one more fdatasync. Under load, N concurrent writers share one disk flush
 * instead of paying N of them, and an idle store still flushes a lone write at once (no timer).
 *
 * A flush starts at the end of the current turn of the event loop (setImmediate), not at the first
 * append: the requests the loop is handling in this turn join it. On the create benchmark that
 * raised the records per flush from ~6 to ~8; each flush costs the kernel about half a millisecond
 * of CPU on this kind of machine, which the batch now shares.
 *
 * Where the platform has it, segments are opened with O_DSYNC, so one write is also the flush: a
 * commit then waits for one thread-pool round trip instead of two (write, then fdatasync). Under
 * load each round trip also waits its turn on a busy event loop, so this halves the time a batch
 * spends between "queued" and "acknowledged" (issue #8). Elsewhere (see DSYNC), write + fdatasync.
 *
 * A rotation marker in the queue starts a new segment: every record queued before it goes to the old
 * segment, everything after it to the new one. A checkpoint uses this to cut the journal exactly at
 * the sequence number its snapshot covers, without stopping writes.
 */
import { constants } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StoreFailedError } from './errors';
import { syncFolder, writeAll } from './fs-util';
import { segmentFile, type SegmentInfo } from './journal-format';

/**
 * O_DSYNC on Linux only. Elsewhere segments are flushed with fdatasync: Windows has no O_DSYNC, and
 * on macOS an O_DSYNC write does not flush the drive's cache, while libuv's fdatasync there is
 * fcntl(F_FULLFSYNC), which does.
 */
const DSYNC: number | undefined = process.platform === 'linux' ? constants.O_DSYNC : undefined;
const APPEND_FLAGS = DSYNC === undefined ? 'a' : constants.O_WRONLY | constants.O_APPEND | DSYNC;
const CREATE_FLAGS =
  DSYNC === undefined ? 'wx' : constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL | DSYNC;

/** Resolves in this turn's check phase, after the I/O callbacks (new requests) the loop is running. */
/** What one write takes at most (characters of journal text); the rest waits for the next write. */
export const MAX_BATCH_CHARS = 32 * 1024 * 1024;

function endOfTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}
type Item = ({ kind: 'record'; line: string } | { kind: 'rotate'; firstSeq: number }) & Waiter;

export interface JournalStats {
  records: number;
  /** Durable writes (O_DSYNC writes or fdatasync calls); records / flushes is the group-commit factor. */
  flushes: number;
  /** Bytes in all segments not yet covered by a snapshot. */
  bytes: number;
}

export class JournalWriter {
  private readonly queue: Item[] = [];
  /** Set and cleared synchronously by drain(), so an append can never find it stale. */
  private running = false;
  private draining: Promise<void> = Promise.resolve();
  /** Settles (never rejects) when the item queued last so far has: items finish in queue order. */
  /** What the last queued item returned (items settle in order): `settled()` waits for it. */
  private last: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private records = 0;
  private flushes = 0;

  private constructor(
    private readonly dir: string,
    private handle: FileHandle,
    /** Oldest first; the last one is being appended to. */
    private segments: SegmentInfo[],
  ) {}

  /** Continues the last segment, or starts one at `nextSeq` when there is none. */
  static async open(dir: string, segments: SegmentInfo[], nextSeq: number): Promise<JournalWriter> {
    const last = segments.at(-1);
    if (last) return new JournalWriter(dir, await open(last.file, APPEND_FLAGS, 0o600), [...segments]);
    const created = await createSegment(dir, nextSeq);
    return new JournalWriter(dir, created.handle, [created.segment]);
  }

  get stats(): JournalStats {
    return { records: this.records, flushes: this.flushes, bytes: this.segments.reduce((n, s) => n + s.bytes, 0) };
  }

  /** Resolves once the line is durable. */
  append(line: string): Promise<void> {
    return this.enqueue({ kind: 'record', line });
  }

  /**
   * Starts a new segment at `firstSeq` after everything queued so far is durable. Resolves with the
   * segments that came before it, which a snapshot covering `firstSeq - 1` makes removable.
   */
  async rotate(firstSeq: number): Promise<SegmentInfo[]> {
    await this.enqueue({ kind: 'rotate', firstSeq });
    return this.segments.slice(0, -1);
  }

  /** Deletes segments a snapshot now covers. */
  async remove(covered: readonly SegmentInfo[]): Promise<void> {
    for (const segment of covered) await unlink(segment.file);
    this.segments = this.segments.filter((segment) => !covered.includes(segment));
    if (covered.length > 0) await syncFolder(this.dir);
  }

  /**
   * Resolves when everything queued so far is durable (or has failed). A barrier, not a wait for an
   * idle writer: under steady writes the queue is never empty, and a caller (a transaction that
   * changed nothing) must not wait for writes that came after it.
   */
  settled(): Promise<void> {
    const ignore = () => undefined;
    return this.last.then(ignore, ignore);
  }

  async close(): Promise<void> {
    // Idle, not just settled: nothing may be running when the file closes.
    while (this.running) await this.draining;
    this.failure ??= new StoreFailedError('the journal is closed');
    await this.handle.close();
  }

  private enqueue(fields: { kind: 'record'; line: string } | { kind: 'rotate'; firstSeq: number }): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const done = new Promise<void>((resolve, reject) => {
      this.queue.push({ ...fields, resolve, reject });
      if (!this.running) {
        this.running = true;
        this.draining = endOfTurn().then(() => this.drain());
      }
    });
    this.last = done;
    return done;
  }

  /**
   * Runs while the queue has items. `running` is cleared in the same synchronous step that finds the
   * queue empty: clearing it any later (say, in a .finally) leaves a window in which an append made
   * by a just-acknowledged writer sees `running` still set and is never written.
   */
  private async drain(): Promise<void> {
    for (;;) {
      if (this.queue.length === 0 || this.failure) {
        this.running = false;
        // Appended after the failure (or after close) while this drain waited for its turn.
        if (this.failure) for (const item of this.queue.splice(0)) item.reject(this.failure);
        return;
      }
      const head = this.queue[0] as Item;
      let taken = 0;
      try {
        if (head.kind === 'rotate') {
          taken = 1;
          await this.startSegment(head.firstSeq);
        } else {
          // Up to MAX_BATCH_CHARS per write: the batch is joined into one string first, and a
          // string cannot hold more than ~512 Mi characters (a slow disk under large bodies).
          let chars = 0;
          while (taken < this.queue.length) {
            const item = this.queue[taken] as Item;
            if (item.kind !== 'record' || (taken > 0 && chars + item.line.length > MAX_BATCH_CHARS)) break;
            chars += item.line.length;
            taken++;
          }
          const batch = this.queue.slice(0, taken) as Extract<Item, { kind: 'record' }>[];
          // One encoding per write, not one per record and a copy into the batch.
          const bytes = Buffer.from(batch.length === 1 ? head.line : batch.map((item) => item.line).join(''), 'utf8');
          await writeAll(this.handle, bytes);
          if (DSYNC === undefined) await this.handle.datasync();
          (this.segments.at(-1) as SegmentInfo).bytes += bytes.length;
          this.records += batch.length;
          this.flushes++;
        }
      } catch (cause) {
        const undone = head.kind === 'record' ? await this.cutBackToAcknowledged() : undefined;
        this.fail(cause as Error, undone);
        continue;
      }
      for (const item of this.queue.splice(0, taken)) item.resolve();
      await endOfTurn();
    }
  }

  private async startSegment(firstSeq: number): Promise<void> {
    // Already there: a checkpoint that crashed after rotating left this (necessarily empty) segment.
    if ((this.segments.at(-1) as SegmentInfo).firstSeq === firstSeq) return;
    const created = await createSegment(this.dir, firstSeq);
    await this.handle.close();
    this.handle = created.handle;
    this.segments.push(created.segment);
  }

  /**
   * A failed batch may have reached the file in part or in full (a write that stopped half-way, an
   * O_DSYNC write or fdatasync that reported an error after the data landed). Its writers are told
   * it failed, so it must not come back on the next start: the segment is cut back to what was
   * acknowledged. Returns why that was impossible, if it was (a disk that fails writes may fail this too).
   */
  private async cutBackToAcknowledged(): Promise<Error | undefined> {
    const segment = this.segments.at(-1) as SegmentInfo;
    try {
      // Through a handle of its own: on Windows the append-only handle may not truncate (EPERM).
      const cutter = await open(segment.file, 'r+');
      try {
        await cutter.truncate(segment.bytes);
        await cutter.datasync();
      } finally {
        await cutter.close();
      }
      return undefined;
    } catch (error) {
      return error as Error;
    }
  }

  /** After a failed write or flush nothing later may be acknowledged: see StoreFailedError. */
  private fail(cause: Error, notUndone?: Error): void {
    const residue = notUndone
      ? `; what it wrote could not be cut off (${notUndone.message}), so the failed changes may reappear after a restart`
      : '';
    this.failure = new StoreFailedError(`journal write failed: ${cause.message}${residue}`, { cause });
    for (const item of this.queue.splice(0)) item.reject(this.failure);
  }
}

async function createSegment(dir: string, firstSeq: number): Promise<{ handle: FileHandle; segment: SegmentInfo }> {
  const file = segmentFile(dir, firstSeq);
  const handle = await open(file, CREATE_FLAGS, 0o600);
  // The new name must be durable before a record in it is acknowledged.
  await syncFolder(dirname(file));
  return { handle, segment: { file, firstSeq, bytes: 0 } };
}
