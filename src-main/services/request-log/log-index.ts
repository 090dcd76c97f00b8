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

/** The in-memory index of the request log: every retained entry, oldest first. */
export class LogIndex {
  private readonly all = new RowQueue();
  private readonly byTenant = new Map<string, RowQueue>();
  /** Rows by the id the server gave their request: how a history version finds its request. */
  private readonly byRequestId = new Map<string, LogRow>();

  get size(): number {
    return this.all.live;
  }

  append(row: LogRow): void {
    this.all.push(row);
    if (row.requestId !== undefined) this.byRequestId.set(row.requestId, row);
    if (row.tenant !== null) {
      let queue = this.byTenant.get(row.tenant);
      if (!queue) this.byTenant.set(row.tenant, (queue = new RowQueue()));
      queue.push(row);
    }
  }

  /** Marks a row removed; false when it already was. */
  remove(row: LogRow): boolean {
    if (row.removed) return false;
    row.removed = true;
    this.all.onRemoved();
    if (row.requestId !== undefined && this.byRequestId.get(row.requestId) === row)
      this.byRequestId.delete(row.requestId);
    if (row.tenant !== null) {
      const queue = this.byTenant.get(row.tenant);
      queue?.onRemoved();
      if (queue && queue.live === 0) this.byTenant.delete(row.tenant);
    }
    return true;
  }

  oldest(): LogRow | undefined {
    return this.all.oldest();
  }

  tenantSize(tenant: string): number {
    return this.byTenant.get(tenant)?.live ?? 0;
  }

  oldestOfTenant(tenant: string): LogRow | undefined {
    return this.byTenant.get(tenant)?.oldest();
  }

  /** Live rows of one tenant (a snapshot, safe to remove while iterating). */
  rowsOfTenant(tenant: string): LogRow[] {
    return (this.byTenant.get(tenant)?.rows ?? []).filter((row) => !row.removed);
  }

  /** Position of the first row with seq > `seq` in the backing array. */
  private firstIndexAfter(seq: number): number {
    const rows = this.all.rows;
    let low = 0;
    let high = rows.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (rows[mid]!.seq <= seq) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** The first retained row after `seq`, for the live feed's cursors. */
  firstAfter(seq: number): LogRow | undefined {
    const rows = this.all.rows;
    for (let i = this.firstIndexAfter(seq); i < rows.length; i++) {
      const row = rows[i]!;
      if (!row.removed) return row;
    }
    return undefined;
  }

  /** The retained row of the request with this id. */
  byRequest(requestId: string): LogRow | undefined {
    return this.byRequestId.get(requestId);
  }

  get(seq: number): LogRow | undefined {
    const row = this.all.rows[this.firstIndexAfter(seq - 1)];
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
