/**
 * A hash index from a key to the ids that have it. Most keys (an externalId, an email, a member value
 * in one group) belong to exactly one id, so a single id is kept as a bare string and only promoted
 * to a Set when a second id arrives: at 100,000 users that saves a Set per key.
 */
export class MultiMap {
  private readonly map = new Map<string, string | Set<string>>();

  add(key: string, id: string): void {
    const current = this.map.get(key);
    if (current === undefined) this.map.set(key, id);
    else if (typeof current === 'string') {
      if (current !== id) this.map.set(key, new Set([current, id]));
    } else current.add(id);
  }

  remove(key: string, id: string): void {
    const current = this.map.get(key);
    if (current === undefined) return;
    if (typeof current === 'string') {
      if (current === id) this.map.delete(key);
      return;
    }
    current.delete(id);
    if (current.size === 1) this.map.set(key, current.values().next().value as string);
  }

  has(key: string, id: string): boolean {
    const current = this.map.get(key);
    return current === id || (typeof current === 'object' && current.has(id));
  }

  /** Whether any id has the key. */
  hasKey(key: string): boolean {
    return this.map.has(key);
  }

  /** A copy, so that callers may write while they iterate. */
  get(key: string): string[] {
    const current = this.map.get(key);
    if (current === undefined) return [];
    return typeof current === 'string' ? [current] : [...current];
  }

  get keyCount(): number {
    return this.map.size;
  }
}
