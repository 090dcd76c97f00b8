/**
 * Every place in a text where any of many strings occurs, found in one pass: Aho–Corasick's
 * automaton over UTF-16 code units. The log scrubs an entry of each secret its request carried, and
 * a Bulk of 1,000 users carries 1,000 passwords; comparing the text with each in turn was too slow
 * past a few hundred, so such entries were logged without their bodies.
 *
 * Written here because the packages looked at fall short: modern-ahocorasick matches whole grapheme
 * clusters (a password followed by a combining mark in the text would not be found, and a secret
 * is any run of code units), and ahocorasick (1.0.2, 2016) is unmaintained and reports matches as
 * words, not positions.
 */
export class SecretMatcher {
  /** Child of a node by code unit, keyed `node * 0x10000 + unit`: one map, not one per node. */
  private readonly edges = new Map<number, number>();
  /** Per node: its depth (the length of the prefix it stands for). */
  private readonly depth: Int32Array;
  /** Per node: the node for the longest proper suffix of its prefix that is also in the trie. */
  private readonly fail: Int32Array;
  /** Per node: the length of the longest pattern ending there (itself or along `fail`), or 0. */
  private readonly longest: Int32Array;
  /** The longest pattern's length: how far back a cut text must be read (`prefixAtEnd`). */
  readonly maxLength: number;

  constructor(patterns: Iterable<string>) {
    const depth = [0];
    const ends: boolean[] = [false];
    // Children in insertion order per node, for the breadth-first walk that sets `fail`.
    const children: number[][] = [[]];
    const units: number[] = [0];
    let maxLength = 0;
    for (const pattern of patterns) {
      if (pattern.length === 0) continue;
      maxLength = Math.max(maxLength, pattern.length);
      let node = 0;
      for (let i = 0; i < pattern.length; i++) {
        const unit = pattern.charCodeAt(i);
        let next = this.edges.get(node * 0x10000 + unit);
        if (next === undefined) {
          next = depth.length;
          depth.push(depth[node]! + 1);
          ends.push(false);
          children.push([]);
          units.push(unit);
          children[node]!.push(next);
          this.edges.set(node * 0x10000 + unit, next);
        }
        node = next;
      }
      ends[node] = true;
    }
    const count = depth.length;
    this.depth = Int32Array.from(depth);
    this.fail = new Int32Array(count);
    this.longest = new Int32Array(count);
    this.maxLength = maxLength;
    const queue = [...children[0]!];
    for (const child of queue) this.longest[child] = ends[child] ? 1 : 0;
    for (let head = 0; head < queue.length; head++) {
      const node = queue[head]!;
      for (const child of children[node]!) {
        this.fail[child] = this.step(this.fail[node]!, units[child]!);
        // A pattern ending at the child is longer than any along its fail chain.
        this.longest[child] = ends[child] ? this.depth[child]! : this.longest[this.fail[child]!]!;
        queue.push(child);
      }
    }
  }

  /** The state after reading `unit` in `state`. */
  private step(state: number, unit: number): number {
    for (;;) {
      const next = this.edges.get(state * 0x10000 + unit);
      if (next !== undefined) return next;
      if (state === 0) return 0;
      state = this.fail[state]!;
    }
  }

  /** Whether any pattern occurs in `text`. */
  occursIn(text: string): boolean {
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      state = this.step(state, text.charCodeAt(i));
      if (this.longest[state]! > 0) return true;
    }
    return false;
  }

  /**
   * The stretches of `text` covered by occurrences, as sorted `[start, end)` pairs. Overlapping
   * occurrences are joined, so no character of any occurrence is left out (replacing one secret
   * before another left the part of the second outside the first); touching ones stay apart.
   */
  covered(text: string): [number, number][] {
    const stretches: [number, number][] = [];
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      state = this.step(state, text.charCodeAt(i));
      const length = this.longest[state]!;
      if (length === 0) continue;
      let start = i + 1 - length;
      // Those it overlaps end at or before i, and may start before or after it.
      while (stretches.length > 0 && start < stretches[stretches.length - 1]![1]) {
        start = Math.min(start, stretches.pop()![0]);
      }
      stretches.push([start, i + 1]);
    }
    return stretches;
  }

  /** `text` with every covered stretch replaced by `replacement`. */
  replaceIn(text: string, replacement: string): string {
    const stretches = this.covered(text);
    if (stretches.length === 0) return text;
    let out = '';
    let at = 0;
    for (const [start, end] of stretches) {
      out += text.slice(at, start) + replacement;
      at = end;
    }
    return out + text.slice(at);
  }

  /**
   * The length of the longest end of `text` that begins a pattern: what is left of a secret when
   * a text is cut inside one.
   */
  prefixAtEnd(text: string): number {
    let state = 0;
    for (let i = Math.max(0, text.length - this.maxLength); i < text.length; i++) {
      state = this.step(state, text.charCodeAt(i));
    }
    return this.depth[state]!;
  }
}
