import * as nodeFs from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { openFresh, ownedByAnother } from '../../store/fs-util';

/**
 * Append-only segment files for the request log and the resource history: a folder of
 * `0000000001.jsonl`, `0000000002.jsonl`... each a run of lines `<head>\t<body>\n`.
 *
 * The head is a small JSON object the owner indexes in memory at start; the body is read back by
 * offset only when someone asks for it. Splitting at the first tab works because JSON text never
 * contains a raw tab (RFC 8259 §7: control characters inside strings are escaped).
 *
 * Durability is deliberately weaker than the store's journal (DESIGN.md §4 covers identities, not
 * logs): writes are batched and never fsync'd, so a power cut may lose the last moments of log.
 * A torn last line is cut off on open. Writes are positional, so a failed write is undone by
 * truncating back to the last good length and can simply be retried.
 */

export interface Loc {
  segment: number;
  offset: number;
  length: number;
}

export interface SegmentInfo {
  id: number;
  bytes: number;
}

/**
 * Owner-only, as the store's journal and the signing key are: the request log keeps request
 * bodies, the history full copies of users, which other local users must not read.
 */
const PRIVATE_FILE = 0o600;

/** The part of `node:fs/promises` used here; tests pass a wrapper that fails on demand. */
export type SegmentIo = Pick<typeof nodeFs, 'open' | 'readdir' | 'unlink' | 'rename' | 'mkdir' | 'chmod' | 'stat'>;

/** A folder of segments that another account owns (see SegmentFiles.open). */
export class ForeignFolderError extends Error {
  override readonly name = 'ForeignFolderError';
}

export interface SegmentFilesOptions {
  /** A segment is closed and a new one started once it holds this many bytes. */
  segmentBytes: number;
  io?: SegmentIo;
}

const NAME = /^(\d{10})\.jsonl$/;
const SCAN_CHUNK = 1024 * 1024;
/** Segments kept open for reading; the least recently read beyond this are closed. */
const MAX_READERS = 8;

/** A read handle shared by the reads of one segment; closed once retired and unused. */
interface Reader {
  readonly handle: Promise<FileHandle>;
  users: number;
  retired: boolean;
}
const TAB = 0x09;
const NEWLINE = 0x0a;

/** A failed append; `written` are the lines that did reach a segment before the failure. */
export class AppendError extends Error {
  override readonly name = 'AppendError';
  constructor(
    cause: unknown,
    readonly written: Loc[],
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

export function segmentName(id: number): string {
  return `${String(id).padStart(10, '0')}.jsonl`;
}

async function writeFully(handle: FileHandle, data: Buffer, position: number): Promise<void> {
  let done = 0;
  // A bounded loop: each pass writes at least one byte or throws.
  while (done < data.length) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
    if (bytesWritten <= 0) throw new Error('write made no progress');
    done += bytesWritten;
  }
}

export class SegmentFiles {
  private readonly io: SegmentIo;
  private readonly list: SegmentInfo[] = [];
  private active: { info: SegmentInfo; handle: FileHandle } | undefined;
  private sealed = false;
  /**
   * Open read handles by segment. A caps roll rebuilds thousands of resources from many small
   * reads; opening and closing the file around each one tripled its thread-pool round trips.
   */
  private readonly readers = new Map<number, Reader>();

  private constructor(
    readonly dir: string,
    private readonly options: SegmentFilesOptions,
  ) {
    this.io = options.io ?? nodeFs;
  }

  /**
   * Opens (creating) the folder and reads every segment in order, calling `onLine` with each
   * complete line's head. Anything after the last newline of a file is a torn write: cut off.
   */
  static async open(
    dir: string,
    options: SegmentFilesOptions,
    onLine: (head: string, loc: Loc) => void,
  ): Promise<SegmentFiles> {
    const files = new SegmentFiles(dir, options);
    await files.io.mkdir(dir, { recursive: true, mode: 0o700 });
    // Earlier builds made these folders 0755 and their files 0644: made private on open. Best
    // effort, as on the segments: a file system without modes (FAT) refuses, and loses nothing.
    await files.io.chmod(dir, 0o700).catch(() => undefined);
    // In a data folder other accounts can write to (a shared --data), one of them could have made
    // this folder first, or a link to one of its own: it would read every body and user written here.
    const owner = (await files.io.stat(dir)).uid;
    if (ownedByAnother(owner)) {
      throw new ForeignFolderError(
        `${dir} belongs to another user (uid ${owner}), who could read what is written there; ` +
          `move it away to start a new one, or run scimdesk as that user`,
      );
    }
    const ids = (await files.io.readdir(dir))
      .map((name) => NAME.exec(name)?.[1])
      .filter((id): id is string => id !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    for (const id of ids) files.list.push({ id, bytes: await files.scanSegment(id, onLine) });
    return files;
  }

  private path(id: number): string {
    return join(this.dir, segmentName(id));
  }

  private async scanSegment(id: number, onLine: (head: string, loc: Loc) => void): Promise<number> {
    const handle = await this.io.open(this.path(id), 'r+');
    try {
      await handle.chmod(PRIVATE_FILE).catch(() => undefined);
      const size = (await handle.stat()).size;
      let carry: Buffer = Buffer.alloc(0);
      let carryStart = 0;
      let position = 0;
      while (position < size) {
        const chunk = Buffer.allocUnsafe(Math.min(SCAN_CHUNK, size - position));
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
        if (bytesRead <= 0) break;
        const data =
          carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
        let start = 0;
        for (let nl = data.indexOf(NEWLINE, start); nl >= 0; nl = data.indexOf(NEWLINE, start)) {
          const tab = data.indexOf(TAB, start);
          const headEnd = tab >= 0 && tab < nl ? tab : nl;
          onLine(data.toString('utf8', start, headEnd), {
            segment: id,
            offset: carryStart + start,
            length: nl + 1 - start,
          });
          start = nl + 1;
        }
        carry = data.subarray(start);
        carryStart += start;
        position += bytesRead;
      }
      // carryStart is the end of the last complete line; the rest is torn.
      if (carryStart < size) await handle.truncate(carryStart);
      return carryStart;
    } finally {
      await handle.close();
    }
  }

  get segments(): readonly SegmentInfo[] {
    return this.list;
  }

  get totalBytes(): number {
    let total = 0;
    for (const info of this.list) total += info.bytes;
    return total;
  }

  /** The segment the next append goes to, if one is open. */
  get activeId(): number | undefined {
    return this.sealed ? undefined : this.list.at(-1)?.id;
  }

  /** The next append starts a new segment (before a rewrite or a deletion of the current one). */
  async seal(): Promise<void> {
    this.sealed = true;
    const active = this.active;
    this.active = undefined;
    await active?.handle.close().catch(() => undefined);
  }

  private async openActive(): Promise<{ info: SegmentInfo; handle: FileHandle }> {
    const last = this.list.at(-1);
    if (this.active) return this.active;
    if (last && !this.sealed && last.bytes < this.options.segmentBytes) {
      this.active = { info: last, handle: await this.io.open(this.path(last.id), 'r+') };
    } else {
      const info = { id: (last?.id ?? 0) + 1, bytes: 0 };
      const handle = await openFresh(this.path(info.id), this.io);
      this.list.push(info);
      this.sealed = false;
      this.active = { info, handle };
    }
    return this.active;
  }

  /**
   * Appends complete lines (each ending in `\n`), starting a new segment whenever the current one
   * is full; returns where each line went. On failure the partial write is cut back off and an
   * `AppendError` says which lines did get written, so the caller retries only the rest.
   */
  async append(lines: readonly Buffer[]): Promise<Loc[]> {
    const locs: Loc[] = [];
    let index = 0;
    while (index < lines.length) {
      let active: { info: SegmentInfo; handle: FileHandle };
      try {
        active = await this.openActive();
        if (active.info.bytes > 0 && active.info.bytes + (lines[index]?.length ?? 0) > this.options.segmentBytes) {
          await this.seal();
          active = await this.openActive();
        }
      } catch (error) {
        throw new AppendError(error, locs);
      }
      const batch: Buffer[] = [];
      let bytes = active.info.bytes;
      const start = bytes;
      while (index < lines.length) {
        const line = lines[index] as Buffer;
        if (batch.length > 0 && bytes + line.length > this.options.segmentBytes) break;
        locs.push({ segment: active.info.id, offset: bytes, length: line.length });
        batch.push(line);
        bytes += line.length;
        index++;
      }
      try {
        await writeFully(active.handle, Buffer.concat(batch), start);
      } catch (error) {
        locs.length -= batch.length;
        await active.handle.truncate(start).catch(() => this.seal());
        throw new AppendError(error, locs);
      }
      active.info.bytes = bytes;
    }
    return locs;
  }

  /** One line, or undefined when its segment is gone (deleted by the caps meanwhile). */
  async read(loc: Loc): Promise<Buffer | undefined> {
    return this.readSpan(loc.segment, loc.offset, loc.length);
  }

  async readSpan(segment: number, offset: number, length: number): Promise<Buffer | undefined> {
    const reader = this.reader(segment);
    reader.users++;
    try {
      const handle = await reader.handle;
      const buffer = Buffer.allocUnsafe(length);
      const { bytesRead } = await handle.read(buffer, 0, length, offset);
      return bytesRead === length ? buffer : undefined;
    } catch {
      // Gone (removed by the caps meanwhile) or unreadable: the next read opens it afresh.
      this.retire(segment, reader);
      return undefined;
    } finally {
      reader.users--;
      if (reader.retired && reader.users === 0) closeReader(reader);
    }
  }

  /** The segment's read handle, opened on first use; the least recently used beyond MAX_READERS go. */
  private reader(segment: number): Reader {
    let reader = this.readers.get(segment);
    if (reader) {
      this.readers.delete(segment); // re-inserted below: the map's order is the order of use
    } else {
      reader = { handle: this.io.open(this.path(segment), 'r'), users: 0, retired: false };
      reader.handle.catch(() => undefined); // a failed open is reported to the read that waits on it
    }
    this.readers.set(segment, reader);
    for (const [id, oldest] of this.readers) {
      if (this.readers.size <= MAX_READERS) break;
      this.retire(id, oldest);
    }
    return reader;
  }

  /**
   * Stops handing out the segment's read handle (the file is being replaced or deleted, or too
   * many are open); reads already using it finish on it first.
   */
  private retire(segment: number, reader = this.readers.get(segment)): void {
    if (!reader) return;
    if (this.readers.get(segment) === reader) this.readers.delete(segment);
    reader.retired = true;
    if (reader.users === 0) closeReader(reader);
  }

  async remove(segment: number): Promise<void> {
    if (this.activeId === segment) await this.seal();
    this.retire(segment);
    const at = this.list.findIndex((info) => info.id === segment);
    if (at < 0) return;
    await this.io.unlink(this.path(segment)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    this.list.splice(at, 1);
  }

  /**
   * Rewrites a segment keeping only the given lines (in order), for purges: the removed bytes must
   * really leave the disk. Written aside, fsync'd and renamed over, so a crash leaves either the
   * old file or the new one; fsync'd because a purged tenant's data coming back would be a leak.
   * `renamed` learns the new places as soon as the new file is in place, before the folder's
   * fsync: a read in between must not use the old offsets.
   */
  async rewrite(
    segment: number,
    keep: readonly Loc[],
    renamed?: (locs: (Loc | undefined)[]) => void,
  ): Promise<(Loc | undefined)[]> {
    if (keep.length === 0) {
      await this.remove(segment);
      return [];
    }
    if (this.activeId === segment) await this.seal();
    const info = this.list.find((candidate) => candidate.id === segment);
    if (!info) return [];
    const parts: Buffer[] = [];
    // One per kept line, in the same order: undefined for a line that could not be read.
    const locs: (Loc | undefined)[] = [];
    let offset = 0;
    for (const loc of keep) {
      const line = await this.read(loc);
      if (!line) {
        locs.push(undefined);
        continue;
      }
      parts.push(line);
      locs.push({ segment, offset, length: line.length });
      offset += line.length;
    }
    const temp = `${this.path(segment)}.tmp`;
    const handle = await openFresh(temp, this.io);
    try {
      await writeFully(handle, Buffer.concat(parts), 0);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await this.io.rename(temp, this.path(segment));
    this.retire(segment); // its handle reads the old file
    renamed?.(locs);
    await this.syncDir();
    info.bytes = offset;
    return locs;
  }

  private async syncDir(): Promise<void> {
    try {
      const dir = await this.io.open(this.dir, 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    } catch {
      // Some platforms cannot fsync a directory; the rename itself is still atomic.
    }
  }

  /** Flushes the open segment to disk (once, at close; never per entry). */
  async close(): Promise<void> {
    for (const segment of [...this.readers.keys()]) this.retire(segment);
    const active = this.active;
    this.active = undefined;
    if (!active) return;
    try {
      await active.handle.sync();
    } finally {
      await active.handle.close();
    }
  }
}

function closeReader(reader: Reader): void {
  reader.handle.then((handle) => handle.close()).catch(() => undefined);
}
