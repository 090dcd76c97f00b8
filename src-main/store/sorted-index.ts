/**
 * An ordered multimap from string keys to ids, for indexes that answer prefix queries (userName).
 *
 * A sorted list of blocks (like Python's sortedcontainers): each block is a small sorted array, and
 * the blocks are in order. Finding a key is two binary searches; inserting or removing moves at most
 * one block's worth of entries, so a write costs O(log n + B) instead of the O(n) of one big sorted
 * array. Keys compare by UTF-16 code units, so every key that starts with a prefix lies in one
 * contiguous range.
 *
 * Inserts are buffered: a create only appends to `pending`, and the first read (or remove) after
 * writes sorts the buffer into the blocks. Reads are rare next to writes during an IdP's import,
 * and in the server a sorted insert costs several cache misses per step of its binary searches
 * (~6% of a create's CPU in the http-scim bench, issue #8), where an append costs none.
 */

interface Entry {
  readonly key: string;
  readonly id: string;
}

/** Blocks split above this size; ~1,000 keeps inserts cheap and the block list short at 100k. */
const MAX_BLOCK = 1024;

function compare(a: Entry, key: string, id: string): number {
  if (a.key !== key) return a.key < key ? -1 : 1;
  if (a.id !== id) return a.id < id ? -1 : 1;
  return 0;
}

export class SortedIndex {
  private blocks: Entry[][] = [];
  private count = 0;
  /** Inserted but not yet in the blocks; in no order, possibly with duplicates. */
  private pending: Entry[] = [];

  get size(): number {
    this.settle();
    return this.count;
  }

  /** Replaces the contents in O(n log n); used when a tenant is loaded, instead of n inserts. */
  load(entries: Iterable<readonly [key: string, id: string]>): void {
    const all: Entry[] = [];
    for (const [key, id] of entries) all.push({ key, id });
    all.sort((a, b) => compare(a, b.key, b.id));
    this.pending = [];
    this.fill(all);
  }

  insert(key: string, id: string): void {
    this.pending.push({ key, id });
  }

  /** Moves the buffered inserts into the blocks. */
  private settle(): void {
    const pending = this.pending;
    if (pending.length === 0) return;
    this.pending = [];
    // A few inserts go in one by one; many (an import, then a read) are sorted and merged in one
    // pass over everything, O(n + k log k) instead of k sorted inserts.
    if (pending.length * 64 < this.count) {
      for (const entry of pending) this.insertNow(entry.key, entry.id);
      return;
    }
    pending.sort((a, b) => compare(a, b.key, b.id));
    const merged: Entry[] = [];
    const push = (entry: Entry) => {
      const last = merged[merged.length - 1];
      if (!last || compare(last, entry.key, entry.id) !== 0) merged.push(entry);
    };
    let p = 0;
    for (const block of this.blocks) {
      for (const entry of block) {
        while (p < pending.length && compare(pending[p] as Entry, entry.key, entry.id) < 0) push(pending[p++] as Entry);
        push(entry);
      }
    }
    while (p < pending.length) push(pending[p++] as Entry);
    this.fill(merged);
  }

  /** Replaces the blocks with `sorted` (in order, without duplicates), in half-full blocks. */
  private fill(sorted: Entry[]): void {
    this.blocks = [];
    for (let start = 0; start < sorted.length; start += MAX_BLOCK / 2) {
      this.blocks.push(sorted.slice(start, start + MAX_BLOCK / 2));
    }
    this.count = sorted.length;
  }

  private insertNow(key: string, id: string): void {
    if (this.blocks.length === 0) {
      this.blocks.push([{ key, id }]);
      this.count = 1;
      return;
    }
    // Keys that only grow (the created-order index: each new resource is the newest) go at the end
    // without a search.
    const lastBlock = this.blocks.length - 1;
    const tail = this.blocks[lastBlock] as Entry[];
    const last = tail[tail.length - 1];
    const appends = last !== undefined && compare(last, key, id) < 0;
    const b = appends ? lastBlock : this.blockFor(key, id);
    const block = this.blocks[b] as Entry[];
    const at = appends ? block.length : lowerBound(block, key, id);
    const existing = block[at];
    if (existing && compare(existing, key, id) === 0) return;
    block.splice(at, 0, { key, id });
    this.count++;
    if (block.length > MAX_BLOCK) this.blocks.splice(b + 1, 0, block.splice(MAX_BLOCK / 2));
  }

  remove(key: string, id: string): boolean {
    this.settle();
    if (this.blocks.length === 0) return false;
    const b = this.blockFor(key, id);
    const block = this.blocks[b] as Entry[];
    const at = lowerBound(block, key, id);
    const existing = block[at];
    if (!existing || compare(existing, key, id) !== 0) return false;
    block.splice(at, 1);
    this.count--;
    if (block.length === 0) this.blocks.splice(b, 1);
    return true;
  }

  /** Ids whose key equals `key`. */
  equal(key: string): string[] {
    const out: string[] = [];
    for (const entry of this.from(key)) {
      if (entry.key !== key) break;
      out.push(entry.id);
    }
    return out;
  }

  /** Ids whose key starts with `prefix`, in key order. */
  prefix(prefix: string): string[] {
    const out: string[] = [];
    for (const entry of this.from(prefix)) {
      if (!entry.key.startsWith(prefix)) break;
      out.push(entry.id);
    }
    return out;
  }

  /**
   * Up to `count` ids from position `offset` (0-based) in key order: whole blocks are skipped by
   * their length, so a page deep into 100,000 entries costs about 100 block lengths, not a walk.
   */
  slice(offset: number, count: number): string[] {
    this.settle();
    const start = Math.max(0, Math.floor(offset));
    return this.entriesAt(start, start + Math.max(0, count)).map((entry) => entry.id);
  }

  /**
   * `slice` counted from the other end: keys from last to first, the ids of one key still in
   * ascending order, as a list sorted descending breaks ties (see sort.ts), so that its pages never
   * shuffle either.
   */
  sliceFromEnd(offset: number, count: number): string[] {
    this.settle();
    const skip = Math.max(0, Math.floor(offset));
    const end = this.count - skip;
    if (end <= 0 || count <= 0) return [];
    let lo = Math.max(0, end - count);
    let hi = end;
    // A run of equal keys that the page's edges cut is read whole, to put its ids in order.
    const first = this.keyAt(lo);
    const last = this.keyAt(hi - 1);
    while (lo > 0 && this.keyAt(lo - 1) === first) lo--;
    while (hi < this.count && this.keyAt(hi) === last) hi++;
    const window = this.entriesAt(lo, hi);
    const out: string[] = [];
    for (let runEnd = window.length; runEnd > 0;) {
      const key = (window[runEnd - 1] as Entry).key;
      let runStart = runEnd - 1;
      while (runStart > 0 && (window[runStart - 1] as Entry).key === key) runStart--;
      for (let i = runStart; i < runEnd; i++) out.push((window[i] as Entry).id);
      runEnd = runStart;
    }
    // `out` begins at position this.count - hi counted from the end.
    const from = skip - (this.count - hi);
    return out.slice(from, from + count);
  }

  /** The entries at positions [start, end), whole blocks skipped by their length. */
  private entriesAt(start: number, end: number): Entry[] {
    const out: Entry[] = [];
    let skip = start;
    for (const block of this.blocks) {
      if (out.length >= end - start) break;
      if (skip >= block.length) {
        skip -= block.length;
        continue;
      }
      for (let i = skip; i < block.length && out.length < end - start; i++) out.push(block[i] as Entry);
      skip = 0;
    }
    return out;
  }

  private keyAt(position: number): string | undefined {
    return this.entriesAt(position, position + 1)[0]?.key;
  }

  /** Every entry in order; for tests and checks. */
  *entries(): IterableIterator<readonly [string, string]> {
    this.settle();
    for (const block of this.blocks) for (const entry of block) yield [entry.key, entry.id];
  }

  /** Entries from the first one whose key is >= `key`. */
  private *from(key: string): IterableIterator<Entry> {
    this.settle();
    if (this.blocks.length === 0) return;
    // The empty id sorts before every real id, so this finds the first entry with this key.
    let b = this.blockFor(key, '');
    let at = lowerBound(this.blocks[b] as Entry[], key, '');
    for (; b < this.blocks.length; b++, at = 0) {
      const block = this.blocks[b] as Entry[];
      for (; at < block.length; at++) yield block[at] as Entry;
    }
  }

  /** The block where (key, id) is or would be inserted: the last block whose first entry is <= it. */
  private blockFor(key: string, id: string): number {
    let lo = 0;
    let hi = this.blocks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      const first = (this.blocks[mid] as Entry[])[0] as Entry;
      if (compare(first, key, id) <= 0) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

function lowerBound(block: Entry[], key: string, id: string): number {
  let lo = 0;
  let hi = block.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compare(block[mid] as Entry, key, id) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
