/**
 * The durable store: an in-memory state with indexes, a lowdb snapshot and a journal of changes.
 *
 * Write path (DESIGN.md §4): a transaction applies its changes in memory, its changes become one
 * journal line, the line is appended and fdatasync'd together with whatever else is waiting (group
 * commit), and only then does `write` resolve, so a caller acknowledges nothing that is not durable.
 *
 * Start: take the data-folder lock, read the snapshot (validated, migrated), replay the journal
 * after the position the snapshot records (a torn last line is cut off; damage elsewhere stops the
 * start), rebuild the indexes. Checkpoint: when the journal passes a size, capture the state by
 * reference, cut the journal at that point, write the snapshot in slices while writes go on, then
 * delete the segments it covers. See docs/architecture.md, "Store".
 */
import { chmod, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Low } from 'lowdb';
import type { ChangeOp, ScimTokenRecord, TenantRecord } from './documents';
import { StoreClosedError, StoreFailedError, StoreNoTenantError } from './errors';
import { encodeRecord } from './journal-format';
import { replayJournal, type TornLine } from './journal-replay';
import { JournalWriter, type JournalStats } from './journal-writer';
import { acquireLock, type DataDirLock } from './lock';
import { SnapshotAdapter } from './snapshot-adapter';
import { SNAPSHOT_VERSION, type SnapshotData } from './schemas';
import { checkedOp, StoreState } from './state';
import { TenantView, Transaction, type TenantReader, type TenantWriter } from './transaction';

export const SNAPSHOT_FILE = 'db.json';

export interface StoreLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface DurableStoreOptions {
  /** Checkpoint once the journal holds this many bytes; default 64 MiB. */
  checkpointBytes?: number;
  /** On close, checkpoint if the journal holds at least this many bytes; default 1 MiB. */
  closeCheckpointBytes?: number;
  /** Longest stretch a snapshot write holds the event loop; default 5 ms. */
  sliceMs?: number;
  log?: StoreLog;
  /**
   * Called once when a journal write or flush fails: the store then refuses all work, and only a
   * restart (which recovers from the disk) makes it usable again. The server uses it to stop.
   */
  onFailure?: (error: StoreFailedError) => void;
}

export interface CheckpointStats {
  /** The journal position the snapshot covers. */
  seq: number;
  bytes: number;
  durationMs: number;
  /** The synchronous capture of the state, the one part that cannot be sliced. */
  captureMs: number;
  /** The longest the checkpoint held the event loop at once (capture or a write slice). */
  longestStallMs: number;
  /** When it was done, epoch milliseconds. */
  finishedAt: number;
}

export interface StoreStats {
  seq: number;
  snapshotSeq: number;
  journal: JournalStats;
  lastCheckpoint: CheckpointStats | undefined;
  /** When the snapshot on disk was written (epoch ms): by this run's last checkpoint, or before it. */
  snapshotWrittenAt: number | undefined;
  /** Set when the open cut a torn last line off the journal. */
  recoveredTornLine: TornLine | undefined;
}

const DEFAULTS = { checkpointBytes: 64 * 1024 * 1024, closeCheckpointBytes: 1024 * 1024 };

const emptySnapshot = (): SnapshotData => ({ version: SNAPSHOT_VERSION, journalSeq: 0, tenants: [] });

export async function openDurableStore(dataDir: string, options: DurableStoreOptions = {}): Promise<DurableStore> {
  const lock = await acquireLock(dataDir);
  try {
    const adapter = new SnapshotAdapter(join(dataDir, SNAPSHOT_FILE), { sliceMs: options.sliceMs ?? 5 });
    const low = new Low<SnapshotData>(adapter, emptySnapshot());
    await low.read();
    // When the snapshot on disk was written, for the status until this run writes its own.
    const snapshotWrittenAt = await stat(adapter.file).then(
      (file) => file.mtimeMs,
      () => undefined,
    );
    const snapshotSeq = low.data.journalSeq;
    const state = StoreState.fromSnapshot(low.data);
    // The live state is in `state` now; holding the parsed snapshot too would double the memory.
    low.data = emptySnapshot();
    const replay = await replayJournal(dataDir, snapshotSeq, (record) => {
      for (const op of record.ops) state.apply(op);
    });
    if (replay.truncated) {
      const { file, line, bytes, complete, copy } = replay.truncated;
      options.log?.warn(
        `dropped a torn last line (${bytes} bytes) at ${file} line ${line}: ` +
          (complete
            ? 'whole but failing its checksum, most likely a write cut off by a crash'
            : 'a write cut off by a crash') +
          ('file' in copy ? `; its bytes are kept at ${copy.file}` : `; no copy could be kept (${copy.failed})`),
      );
    }
    await makePrivate([adapter.file, ...replay.segments.map((segment) => segment.file)]);
    // A checkpoint a crash cut short left its snapshot half written beside db.json (tens of MB for
    // a big store): nothing reads it, and the lock says no one else is writing it.
    await unlink(`${adapter.file}.tmp`).catch(() => undefined);
    const journal = await JournalWriter.open(dataDir, replay.segments, replay.lastSeq + 1);
    const store = new DurableStore(dataDir, options, {
      lock,
      low,
      adapter,
      state,
      journal,
      snapshotSeq,
      snapshotWrittenAt,
      replay,
    });
    if (adapter.migratedFrom !== undefined) {
      options.log?.info(`migrated ${adapter.file} from version ${adapter.migratedFrom} to ${SNAPSHOT_VERSION}`);
      await store.checkpoint(true);
    }
    return store;
  } catch (error) {
    await lock.release();
    throw error;
  }
}

interface Parts {
  lock: DataDirLock;
  low: Low<SnapshotData>;
  adapter: SnapshotAdapter;
  state: StoreState;
  journal: JournalWriter;
  snapshotSeq: number;
  snapshotWrittenAt: number | undefined;
  replay: Awaited<ReturnType<typeof replayJournal>>;
}

export class DurableStore {
  private seq: number;
  private snapshotSeq: number;
  private checkpointRun: Promise<CheckpointStats | undefined> | undefined;
  /** The checkpoint `checkpointFromNow` callers wait for while `checkpointRun` is under way. */
  private checkpointAfterRun: Promise<CheckpointStats | undefined> | undefined;
  private nextCheckpointAt: number;
  private lastCheckpoint: CheckpointStats | undefined;
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;
  private readonly limits: typeof DEFAULTS;

  /** Use openDurableStore. */
  constructor(
    readonly dataDir: string,
    private readonly options: DurableStoreOptions,
    private readonly parts: Parts,
  ) {
    this.seq = parts.replay.lastSeq;
    this.snapshotSeq = parts.snapshotSeq;
    this.limits = {
      checkpointBytes: options.checkpointBytes ?? DEFAULTS.checkpointBytes,
      closeCheckpointBytes: options.closeCheckpointBytes ?? DEFAULTS.closeCheckpointBytes,
    };
    this.nextCheckpointAt = this.limits.checkpointBytes;
  }

  // ---- reads: synchronous, from memory ----

  /** Every tenant, in no particular order (what store.ts's `data.tenants` answered). */
  listTenants(): TenantRecord[] {
    this.assertUsable();
    return [...this.parts.state.tenants.values()].map((tenant) => tenant.record);
  }

  getTenant(id: string): TenantRecord | undefined {
    this.assertUsable();
    return this.parts.state.tenants.get(id)?.record;
  }

  /** A read view of one tenant, or undefined when there is no such tenant. */
  tenant(id: string): TenantReader | undefined {
    this.assertUsable();
    const tenant = this.parts.state.tenants.get(id);
    return tenant && new TenantView(tenant);
  }

  /** The SCIM token with this secret hash, in whichever tenant it is. */
  findScimToken(tokenHash: string): { tenant: string; token: ScimTokenRecord } | undefined {
    this.assertUsable();
    return this.parts.state.findToken(tokenHash);
  }

  // ---- writes: resolve once durable ----

  /**
   * Runs `fn` as one transaction over one tenant and resolves, with fn's result, once its changes
   * are durable. `fn` must be synchronous (do async work such as password hashing before). If it
   * throws, nothing is changed and the error is rethrown. A transaction that changes nothing still
   * waits until everything it could have read is durable.
   */
  async write<R>(tenantId: string, fn: (tx: TenantWriter) => R): Promise<R> {
    this.assertUsable();
    const tenant = this.parts.state.tenants.get(tenantId);
    if (!tenant) throw new StoreNoTenantError(tenantId);
    const tx = new Transaction(this.parts.state, tenant);
    let result: R;
    try {
      result = fn(tx);
      if (isThenable(result)) throw new TypeError('a store transaction must be synchronous; await before write()');
    } catch (error) {
      tx.rollback();
      throw error;
    }
    if (tx.opsJson.length === 0) await this.settled();
    else await this.commit(tx.opsJson);
    return result;
  }

  /** Creates or replaces a tenant record (its collections are kept). */
  async putTenant(record: TenantRecord): Promise<void> {
    this.assertUsable();
    await this.commitOne({ op: 'tenant.put', tenant: record });
  }

  /** Deletes a tenant with all its documents; false when there was none. */
  async deleteTenant(id: string): Promise<boolean> {
    this.assertUsable();
    if (!this.parts.state.tenants.has(id)) return false;
    await this.commitOne({ op: 'tenant.delete', tenant: id });
    return true;
  }

  /** Resolves when every change made so far is durable. */
  async settled(): Promise<void> {
    await this.parts.journal.settled();
    if (this.failure) throw this.failure;
  }

  // ---- checkpoints and lifecycle ----

  /**
   * Writes a snapshot of the current state and drops the journal it covers. Writes go on meanwhile.
   * Resolves with figures, or undefined when there was nothing new to save (unless `force`).
   */
  checkpoint(force = false): Promise<CheckpointStats | undefined> {
    this.checkpointRun ??= this.runCheckpoint(force).finally(() => (this.checkpointRun = undefined));
    return this.checkpointRun;
  }

  /**
   * A checkpoint whose snapshot holds every change made before this call: one already under way
   * may have captured the state before them (a tenant delete's purge relies on this), so it is
   * waited for and another one written.
   */
  checkpointFromNow(): Promise<CheckpointStats | undefined> {
    const running = this.checkpointRun;
    if (!running) return this.checkpoint(true);
    // Every call made while one runs shares the one after it, which starts after all of them: the
    // deletes of several tenants that a crash left to finish write one more snapshot, not one each.
    this.checkpointAfterRun ??= running
      .catch(() => undefined)
      .then(() => {
        this.checkpointAfterRun = undefined;
        return this.checkpoint(true);
      });
    return this.checkpointAfterRun;
  }

  stats(): StoreStats {
    return {
      seq: this.seq,
      snapshotSeq: this.snapshotSeq,
      journal: this.parts.journal.stats,
      lastCheckpoint: this.lastCheckpoint,
      snapshotWrittenAt: this.lastCheckpoint?.finishedAt ?? this.parts.snapshotWrittenAt,
      recoveredTornLine: this.parts.replay.truncated,
    };
  }

  /** Waits for pending writes, checkpoints if the journal is large enough, releases the lock. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const { journal, lock } = this.parts;
    try {
      await journal.settled();
      await this.checkpointRun;
      if (!this.failure && journal.stats.bytes >= this.limits.closeCheckpointBytes) await this.checkpoint();
    } finally {
      try {
        await journal.close();
      } finally {
        // After a failed journal too: a dead process must not keep the next start out.
        await lock.release();
      }
    }
  }

  private async runCheckpoint(force: boolean): Promise<CheckpointStats | undefined> {
    const seq = this.seq;
    if (seq === this.snapshotSeq && !force) return undefined;
    const { state, journal, low, adapter } = this.parts;
    const started = performance.now();
    const capture = state.capture(seq);
    const captureMs = performance.now() - started;
    // Every change up to `seq` was queued before this marker, so the old segments hold exactly them.
    const covered = await journal.rotate(seq + 1);
    low.data = capture;
    try {
      await low.write();
    } finally {
      low.data = emptySnapshot(); // do not keep old versions of documents alive until the next one
    }
    this.snapshotSeq = seq;
    await journal.remove(covered);
    const written = adapter.lastWrite;
    this.lastCheckpoint = {
      seq,
      bytes: written?.bytes ?? 0,
      durationMs: performance.now() - started,
      captureMs,
      longestStallMs: Math.max(captureMs, written?.longestSliceMs ?? 0),
      finishedAt: Date.now(),
    };
    return this.lastCheckpoint;
  }

  private commitOne(op: ChangeOp): Promise<void> {
    const json = JSON.stringify(op);
    this.parts.state.apply(checkedOp(op, json));
    return this.commit([json]);
  }

  /** Assigns the next sequence number and waits for the record to be durable. */
  private async commit(opsJson: string[]): Promise<void> {
    const seq = ++this.seq;
    try {
      await this.parts.journal.append(encodeRecord(seq, opsJson));
    } catch (error) {
      if (this.failure) throw this.failure;
      const failure = error instanceof StoreFailedError ? error : new StoreFailedError(String(error));
      this.failure = failure;
      this.options.log?.error(`${failure.message}; the store refuses further work, restart to recover`);
      this.options.onFailure?.(failure);
      throw failure;
    }
    this.maybeCheckpoint();
  }

  private maybeCheckpoint(): void {
    const { bytes } = this.parts.journal.stats;
    if (bytes < this.nextCheckpointAt || this.checkpointRun || this.closing) return;
    this.checkpoint().then(
      () => (this.nextCheckpointAt = this.limits.checkpointBytes),
      (error: unknown) => {
        // The journal still holds everything, so this is not fatal; try again after as much again.
        this.nextCheckpointAt = bytes + this.limits.checkpointBytes;
        this.options.log?.error(`checkpoint failed: ${(error as Error).message}`);
      },
    );
  }

  private assertUsable(): void {
    if (this.failure) throw this.failure;
    if (this.closing) throw new StoreClosedError(`the store of ${this.dataDir} is closed`);
  }
}

function isThenable(value: unknown): boolean {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

/**
 * The snapshot and the journal hold password and token hashes and every user's details. The store
 * makes them 0600, but a restore or a copy (`cp -r` under a umask of 022) may leave them readable by
 * others, as the request log's segments are made private on open. Best effort: a file system
 * without modes (FAT) refuses, and loses nothing; a file not there is nothing to do.
 */
async function makePrivate(files: readonly string[]): Promise<void> {
  if (process.platform === 'win32') return;
  await Promise.all(files.map((file) => chmod(file, 0o600).catch(() => undefined)));
}
