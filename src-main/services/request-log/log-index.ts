import type { RequestSource } from '@shared/request-log';
import type { LogRow } from './entry';

/**
 * A queue of rows in `seq` order where rows may be removed from anywhere (per-tenant caps, purges,
 * drops) by marking them; marked rows are squeezed out once they are the majority, so every
 * operation is amortised O(1) and `seq` lookups are a binary search.
 */
class RowQueue {
  rows: LogRow[] = [];
  private head = 0;
  private dead = 0;
  live = 0;

  push(row: LogRow): void {
    this.rows.push(row);
    this.live++;
  }

  /** Call after marking a row of this queue removed. */
  onRemoved(): void {
    this.live--;
    this.dead++;
    if (this.dead > 1024 && this.dead > this.live) this.compact();
  }

  oldest(): LogRow | undefined {
    while (this.head < this.rows.length && this.rows[this.head]!.removed) this.head++;
    return this.rows[this.head];
  }

  private compact(): void {
    this.rows = this.rows.filter((row) => !row.removed);
    this.head = 0;
    this.dead = 0;
  }
}

/** Past this many, a tenant's oldest tombstones are forgotten (see `Tombstones`). */
const MAX_TOMBSTONES_PER_TENANT = 100_000;

/**
 * The seqs of one tenant's removed entries, ascending: what a stream that follows only this tenant
 * has missed. A removed entry keeps nothing but its seq here (8 bytes), and only the newest
 * MAX_TOMBSTONES_PER_TENANT are kept; below `knownFrom` the record is incomplete.
 */
class Tombstones {
  seqs: number[] = [];
  knownFrom = 0;

  add(seq: number): void {
    // Removal is oldest first almost always; a drop of a pending entry may come before an older
    // entry's eviction, so the rare out-of-order seq is inserted in place.
    let at = this.seqs.length;
    while (at > 0 && this.seqs[at - 1]! > seq) at--;
    this.seqs.splice(at, 0, seq);
    if (this.seqs.length > MAX_TOMBSTONES_PER_TENANT) {
      const forget = this.seqs.length - MAX_TOMBSTONES_PER_TENANT / 2;
      this.knownFrom = this.seqs[forget - 1]! + 1;
      this.seqs = this.seqs.slice(forget);
    }
  }

  /** How many recorded seqs lie in (after, upTo]. */
  countBetween(after: number, upTo: number): number {
    return firstIndexAfter(this.seqs, upTo, (seq) => seq) - firstIndexAfter(this.seqs, after, (seq) => seq);
  }
}

/** Position of the first element with a key > `seq` in an array ascending by that key. */
function firstIndexAfter<T>(items: readonly T[], seq: number, keyOf: (item: T) => number): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (keyOf(items[mid]!) <= seq) low = mid + 1;
    else high = mid;
  }
  return low;
}

const seqOf = (row: LogRow) => row.seq;

/**
 * A request made with no credential the server took: refused for it (401), or an IdP's request with
 * no token of this server, answered before any token was asked for (a 405 for `GET /Bulk`, a 404,
 * discovery). Anyone who knows a tenant's URL can send these: told apart by status alone, a
 * hundred `GET …/Bulk` with a made-up token pushed out every entry of the tenant's real traffic.
 */
export const refusedForCredential = (entry: {
  readonly status: number;
  readonly token: unknown;
  readonly source: RequestSource;
}) => entry.status === 401 || (entry.source === 'idp' && entry.token === null);
const isRefused = (row: LogRow) => refusedForCredential(row);

/** The in-memory index of the request log: every retained entry, oldest first. */
export class LogIndex {
  private readonly all = new RowQueue();
  /** Every entry refused for its credential, of any tenant or none, which the global cap keeps apart. */
  private readonly refused = new RowQueue();
  private readonly byTenant = new Map<string, RowQueue>();
  /** A tenant's entries refused for their credential (refusedForCredential), which its cap keeps apart (see enforceCounts). */
  private readonly refusedByTenant = new Map<string, RowQueue>();
  /** Kept after a tenant's last entry goes (and after a purge): its streams still count what they missed. */
  private readonly tombstones = new Map<string, Tombstones>();
  /** Rows by the id the server gave their request: how a history version finds its request. */
  private readonly byRequestId = new Map<string, LogRow>();

  get size(): number {
    return this.all.live;
  }

  append(row: LogRow): void {
    this.all.push(row);
    if (row.requestId !== undefined) this.byRequestId.set(row.requestId, row);
    if (isRefused(row)) this.refused.push(row);
    if (row.tenant !== null) {
      let queue = this.byTenant.get(row.tenant);
      if (!queue) this.byTenant.set(row.tenant, (queue = new RowQueue()));
      queue.push(row);
      if (isRefused(row)) {
        let refused = this.refusedByTenant.get(row.tenant);
        if (!refused) this.refusedByTenant.set(row.tenant, (refused = new RowQueue()));
        refused.push(row);
      }
    }
  }

  /** Marks a row removed; false when it already was. */
  remove(row: LogRow): boolean {
    if (row.removed) return false;
    row.removed = true;
    this.all.onRemoved();
    if (isRefused(row)) this.refused.onRemoved();
    if (row.requestId !== undefined && this.byRequestId.get(row.requestId) === row)
      this.byRequestId.delete(row.requestId);
    if (row.tenant !== null) {
      this.noteRemoved(row.tenant, row.seq);
      const queue = this.byTenant.get(row.tenant);
      queue?.onRemoved();
      if (queue && queue.live === 0) this.byTenant.delete(row.tenant);
      const refused = isRefused(row) ? this.refusedByTenant.get(row.tenant) : undefined;
      refused?.onRemoved();
      if (refused && refused.live === 0) this.refusedByTenant.delete(row.tenant);
    }
    return true;
  }

  oldest(): LogRow | undefined {
    return this.all.oldest();
  }

  get refusedSize(): number {
    return this.refused.live;
  }

  oldestRefused(): LogRow | undefined {
    return this.refused.oldest();
  }

  /** A tenant's entry that is gone: removed here, or found removed on disk at start-up. */
  noteRemoved(tenant: string, seq: number): void {
    let tombstones = this.tombstones.get(tenant);
    if (!tombstones) this.tombstones.set(tenant, (tombstones = new Tombstones()));
    tombstones.add(seq);
  }

  tenantSize(tenant: string): number {
    return this.byTenant.get(tenant)?.live ?? 0;
  }

  oldestOfTenant(tenant: string): LogRow | undefined {
    return this.byTenant.get(tenant)?.oldest();
  }

  refusedSizeOfTenant(tenant: string): number {
    return this.refusedByTenant.get(tenant)?.live ?? 0;
  }

  oldestRefusedOfTenant(tenant: string): LogRow | undefined {
    return this.refusedByTenant.get(tenant)?.oldest();
  }

  /** Live rows of one tenant (a snapshot, safe to remove while iterating). */
  rowsOfTenant(tenant: string): LogRow[] {
    return (this.byTenant.get(tenant)?.rows ?? []).filter((row) => !row.removed);
  }

  /** The first retained row after `seq`, for the live feed's cursors; `tenant` narrows to its rows. */
  firstAfter(seq: number, tenant?: string): LogRow | undefined {
    const rows = tenant === undefined ? this.all.rows : this.byTenant.get(tenant)?.rows;
    if (!rows) return undefined;
    for (let i = firstIndexAfter(rows, seq, seqOf); i < rows.length; i++) {
      const row = rows[i]!;
      if (!row.removed) return row;
    }
    return undefined;
  }

  /**
   * How many of a tenant's entries with a seq in (after, upTo] were removed, as far as this index
   * saw them go; `knownFrom` is the first seq from which that count is complete.
   */
  removedOfTenant(tenant: string, after: number, upTo: number): { count: number; knownFrom: number } {
    const tombstones = this.tombstones.get(tenant);
    return tombstones
      ? { count: tombstones.countBetween(after, upTo), knownFrom: tombstones.knownFrom }
      : { count: 0, knownFrom: 0 };
  }

  /** The retained row of the request with this id. */
  byRequest(requestId: string): LogRow | undefined {
    return this.byRequestId.get(requestId);
  }

  get(seq: number): LogRow | undefined {
    const row = this.all.rows[firstIndexAfter(this.all.rows, seq - 1, seqOf)];
    return row && row.seq === seq && !row.removed ? row : undefined;
  }

  /** Retained rows, newest first; `tenant` narrows to that tenant's queue. */
  *newestFirst(tenant?: string | null): Generator<LogRow> {
    const rows = tenant === undefined || tenant === null ? this.all.rows : (this.byTenant.get(tenant)?.rows ?? []);
    for (let i = rows.length - 1; i >= 0; i--) {
      const row = rows[i]!;
      if (!row.removed) yield row;
    }
  }
}
