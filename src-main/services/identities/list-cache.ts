import type { ResourceKind } from '@shared/scim/index-keys';

/** Every match of one list query, in list order: `kinds[i]` is the type of `ids[i]`. */
export interface MatchedList {
  readonly kinds: readonly ResourceKind[];
  readonly ids: readonly string[];
  /** totalResults: ids.length, or more when only the total was asked for (count=0; ids then empty). */
  readonly total: number;
}

/**
 * The matches of the last few list queries, each valid for one version of its tenant's users and
 * groups (`TenantReader.identitiesVersion`). A filter no index answers scans the whole collection
 * (~175 ms at 100,000 users) and sorting costs as much again: a client paging through such a
 * result would pay that on every page. With the matches kept, the next page of an unchanged tenant
 * costs the page. Any write to the tenant's identities changes its version, so a hit is always what
 * a fresh scan would return.
 */
export class ListCache {
  /** Least recently used first. */
  private readonly entries = new Map<string, { version: number; list: MatchedList }>();

  constructor(private readonly capacity = 4) {}

  get(key: string, version: number): MatchedList | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.version !== version) return undefined;
    this.entries.set(key, entry);
    return entry.list;
  }

  set(key: string, version: number, list: MatchedList): void {
    this.entries.delete(key);
    this.entries.set(key, { version, list });
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.capacity) break;
      this.entries.delete(oldest);
    }
  }
}
