/**
 * Ranges of seqs, added in ascending order, that can be counted over any span in O(log n): the
 * seqs a restarted log finds no line for (see request-log.ts `unplaced`). A log whose entries are
 * mostly removed before they reach the disk (a tiny tenant cap under heavy traffic) can leave a
 * hole between almost every pair of lines, so past MAX_RANGES neighbours are merged: the count then
 * takes in the few seqs between them too, which errs on the side of "you may have missed these".
 */
const MAX_RANGES = 65_536;

export class SeqRanges {
  private starts: number[] = [];
  private ends: number[] = [];
  /** before[i]: how many seqs the ranges before i hold. */
  private before: number[] = [0];

  constructor(private readonly maxRanges = MAX_RANGES) {}

  get size(): number {
    return this.starts.length;
  }

  /** Adds [from, to] (inclusive); it must lie above every range added so far. Empty ranges are ignored. */
  add(from: number, to: number): void {
    if (to < from) return;
    const last = this.ends.length - 1;
    if (last >= 0 && from <= this.ends[last]! + 1) {
      this.ends[last] = Math.max(this.ends[last]!, to);
      this.before[last + 1] = this.before[last]! + this.ends[last]! - this.starts[last]! + 1;
      return;
    }
    this.starts.push(from);
    this.ends.push(to);
    this.before.push(this.before[this.before.length - 1]! + to - from + 1);
    if (this.starts.length > this.maxRanges) this.mergePairs();
  }

  /** How many seqs of the ranges lie in (after, upTo]. */
  countIn(after: number, upTo: number): number {
    return upTo > after ? this.countUpTo(upTo) - this.countUpTo(after) : 0;
  }

  /** How many seqs of the ranges are <= seq. */
  private countUpTo(seq: number): number {
    // The first range that starts above seq; every range before it starts at or below it.
    let low = 0;
    let high = this.starts.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.starts[mid]! <= seq) low = mid + 1;
      else high = mid;
    }
    if (low === 0) return 0;
    const i = low - 1;
    return this.before[i]! + Math.min(seq, this.ends[i]!) - this.starts[i]! + 1;
  }

  private mergePairs(): void {
    const starts: number[] = [];
    const ends: number[] = [];
    for (let i = 0; i < this.starts.length; i += 2) {
      starts.push(this.starts[i]!);
      ends.push(this.ends[Math.min(i + 1, this.ends.length - 1)]!);
    }
    this.starts = starts;
    this.ends = ends;
    this.before = [0];
    for (let i = 0; i < starts.length; i++) this.before.push(this.before[i]! + ends[i]! - starts[i]! + 1);
  }
}
