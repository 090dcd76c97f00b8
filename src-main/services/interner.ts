/**
 * Shares equal strings and lists of strings (tenant ids, actors, attribute names, compatibility
 * flags) between the entries of a log or a history: most entries repeat a few values, and one
 * frozen shared copy costs nothing per entry, where a copy each costs memory for as long as the
 * entry lives (100,000 of them by default). Bounded, since the values come from clients.
 */
const NO_ITEMS: readonly string[] = Object.freeze([]);

export class Interner {
  private readonly strings = new Map<string, string>();
  private readonly lists = new Map<string, readonly string[]>();
  /**
   * The list returned last. Consecutive entries mostly repeat it (every create of a kind names the
   * same attributes), and comparing item by item costs a third of joining and hashing the key.
   */
  private lastList: readonly string[] | undefined;

  constructor(private readonly maxEach = 10_000) {}

  string<T extends string | null>(value: T): T {
    if (value === null) return value;
    const known = this.strings.get(value);
    if (known !== undefined) return known as T;
    if (this.strings.size < this.maxEach) this.strings.set(value, value);
    return value;
  }

  list(list: readonly string[]): readonly string[] {
    // The empty list (no flags fired, mostly) would otherwise take the place of the last list.
    if (list.length === 0) return NO_ITEMS;
    if (this.lastList && sameItems(this.lastList, list)) return this.lastList;
    const key = list.join('\u0000');
    const known = this.lists.get(key);
    // Two lists can share a key only if their strings hold U+0000; then they are compared in full.
    if (known && sameItems(known, list)) return (this.lastList = known);
    const copy = Object.freeze([...list]);
    if (this.lists.size < this.maxEach) this.lists.set(key, copy);
    return (this.lastList = copy);
  }
}

function sameItems(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
