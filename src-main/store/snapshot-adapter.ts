/**
 * The snapshot file (`db.json`) as a lowdb adapter.
 *
 * lowdb's stock JSONFile pretty-prints the whole document in one synchronous JSON.stringify and never
 * fsyncs: at 100,000 users that holds the event loop for hundreds of milliseconds, and a power cut
 * can leave an empty or half-written file behind its rename. This adapter instead
 * - writes compact JSON one document at a time, handing the event loop back every few milliseconds
 *   (each 1 MiB of output is an asynchronous write, which is where other requests run);
 * - writes a temporary file, fsyncs it, renames it over the snapshot and fsyncs the folder, so the
 *   snapshot on disk is always either the old one or the new one, complete;
 * - validates what it reads (and migrates older versions); a snapshot that fails is copied aside and
 *   the store refuses to start, naming both files, rather than starting empty over real data.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Adapter } from 'lowdb';
import { StoreOpenError } from './errors';
import { isErrno, openAside, syncFolder, writeAll } from './fs-util';
import { migrate } from './migrations';
import { describeIssue, SNAPSHOT_VERSION, SnapshotSchema, type SnapshotData } from './schemas';

export interface SnapshotWriteStats {
  bytes: number;
  durationMs: number;
  /** The longest stretch the writer held the event loop without yielding. */
  longestSliceMs: number;
}

export interface SnapshotAdapterOptions {
  /** Hand the event loop back after this long; default 5 ms. */
  sliceMs?: number;
}

/** Output is handed to the OS in pieces of about this size. */
const FLUSH_CHARS = 1 << 20;

export class SnapshotAdapter implements Adapter<SnapshotData> {
  lastWrite: SnapshotWriteStats | undefined;
  /** The version the last read found, when it was older than the current one and was migrated. */
  migratedFrom: number | undefined;
  private readonly sliceMs: number;

  constructor(
    readonly file: string,
    options: SnapshotAdapterOptions = {},
  ) {
    this.sliceMs = options.sliceMs ?? 5;
  }

  async read(): Promise<SnapshotData | null> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return null;
      throw new StoreOpenError(`cannot read ${this.file}: ${(error as Error).message}`);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      return this.refuse(`not JSON: ${(error as Error).message}`, text);
    }
    const migrated = migrate(raw);
    if (!migrated.ok) return this.refuse(migrated.reason, text);
    this.migratedFrom = migrated.from === SNAPSHOT_VERSION ? undefined : migrated.from;
    const parsed = SnapshotSchema.safeParse(migrated.data);
    if (!parsed.success) return this.refuse(describeIssue(parsed.error), text);
    // Validated above; the schema's inferred types are looser than the document types (see schemas.ts).
    return parsed.data as SnapshotData;
  }

  async write(data: SnapshotData): Promise<void> {
    const started = performance.now();
    const { temporary, handle } = await openAside(this.file);
    const out = new SlicedOutput(handle, this.sliceMs);
    try {
      out.push(`{"version":${data.version},"journalSeq":${data.journalSeq},"tenants":[`);
      for (let t = 0; t < data.tenants.length; t++) {
        const tenant = data.tenants[t] as SnapshotData['tenants'][number];
        out.push(`${t > 0 ? ',' : ''}{"record":${JSON.stringify(tenant.record)},"collections":{`);
        let first = true;
        for (const [name, docs] of Object.entries(tenant.collections)) {
          if (!docs) continue;
          out.push(`${first ? '' : ','}${JSON.stringify(name)}:[`);
          first = false;
          for (let d = 0; d < docs.length; d++) {
            out.push(d > 0 ? `,${JSON.stringify(docs[d])}` : JSON.stringify(docs[d]));
            if (out.due()) await out.flush();
          }
          out.push(']');
        }
        out.push('}}');
      }
      out.push(']}\n');
      await out.flush();
      await handle.sync();
    } catch (error) {
      await handle.close().catch(() => undefined);
      await unlink(temporary).catch(() => undefined);
      throw error;
    }
    await handle.close();
    await rename(temporary, this.file);
    await syncFolder(dirname(this.file));
    this.lastWrite = { bytes: out.bytes, durationMs: performance.now() - started, longestSliceMs: out.longestSliceMs };
  }

  /** Keeps a copy of the bad file (once per distinct content) and refuses to start. */
  private async refuse(reason: string, text: string): Promise<never> {
    const digest = createHash('sha256').update(text).digest('hex').slice(0, 12);
    const backup = `${this.file}.invalid-${digest}`;
    try {
      await copyFile(this.file, backup, constants.COPYFILE_EXCL);
    } catch (error) {
      if (!isErrno(error, 'EEXIST')) {
        throw new StoreOpenError(`${this.file} is not a valid scimdesk snapshot (${reason}); copying it failed too`);
      }
    }
    throw new StoreOpenError(
      `${this.file} is not a valid scimdesk snapshot (${reason}); a copy is kept at ${backup}. ` +
        'The store will not start over it: restore a good snapshot, or fix the file.',
    );
  }
}

/** Buffers output and tells the writer when to yield: after a time slice or a megabyte. */
class SlicedOutput {
  bytes = 0;
  longestSliceMs = 0;
  private pieces: string[] = [];
  private chars = 0;
  private sliceStart = performance.now();

  constructor(
    private readonly handle: FileHandle,
    private readonly sliceMs: number,
  ) {}

  push(text: string): void {
    this.pieces.push(text);
    this.chars += text.length;
  }

  due(): boolean {
    return this.chars >= FLUSH_CHARS || performance.now() - this.sliceStart >= this.sliceMs;
  }

  async flush(): Promise<void> {
    const buffer = Buffer.from(this.pieces.join(''), 'utf8');
    this.pieces = [];
    this.chars = 0;
    this.longestSliceMs = Math.max(this.longestSliceMs, performance.now() - this.sliceStart);
    this.bytes += buffer.length;
    await writeAll(this.handle, buffer);
    this.sliceStart = performance.now();
  }
}
