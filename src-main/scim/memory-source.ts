import { DEFAULT_INDEXES, type IndexSpec } from './plan';
import { foldKey, type CandidateSource, type IndexLookup, type ResourceKind } from '@shared/scim/index-keys';
import { isRecord, type ResourceData } from './values';

interface BuiltIndex {
  readonly spec: IndexSpec;
  readonly exact: Map<string, Set<string>>;
  /** Keys sorted by code unit, for prefix probes (binary search to the first key ≥ prefix). */
  readonly sorted: readonly string[];
}

/**
 * A reference CandidateSource over arrays of resources, built the obvious way. The SCIM core's
 * tests use it to check plans against full scans; the store's tests can hold the real indexes to
 * the same answers. Resources must carry a string `id` and canonical attribute names.
 */
export function createMemoryCandidateSource(
  resources: Partial<Record<ResourceKind, readonly ResourceData[]>>,
  indexes: readonly IndexSpec[] = DEFAULT_INDEXES,
): CandidateSource {
  const built = new Map<string, BuiltIndex>();
  for (const spec of indexes) {
    const exact = new Map<string, Set<string>>();
    for (const r of resources[spec.resource] ?? []) {
      const id = r['id'];
      if (typeof id !== 'string') continue;
      for (const raw of keysAt(r, spec.path)) {
        const key = spec.folded ? foldKey(raw) : raw;
        let ids = exact.get(key);
        if (!ids) exact.set(key, (ids = new Set()));
        ids.add(id);
      }
    }
    const sorted = spec.prefix ? [...exact.keys()].sort(byCodeUnit) : [];
    built.set(`${spec.resource}/${spec.index}`, { spec, exact, sorted });
  }
  const allIds = (kind: ResourceKind): string[] =>
    (resources[kind] ?? []).map((r) => r['id']).filter((id): id is string => typeof id === 'string');

  return {
    all: allIds,
    *lookup(l: IndexLookup) {
      const index = built.get(`${l.resource}/${l.index}`);
      if (!index) throw new Error(`no index ${l.index} on ${l.resource}`);
      if (l.match === 'eq') {
        yield* index.exact.get(l.key) ?? [];
        return;
      }
      if (!index.spec.prefix) throw new Error(`index ${l.index} is not sorted`);
      for (let i = lowerBound(index.sorted, l.key); i < index.sorted.length; i++) {
        const key = index.sorted[i] as string;
        if (!key.startsWith(l.key)) break;
        yield* index.exact.get(key) ?? [];
      }
    },
  };
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function lowerBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as string) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** String values at a dotted path ("emails.value"), through multi-valued attributes. */
function keysAt(resource: ResourceData, path: string): string[] {
  let level: unknown[] = [resource];
  for (const part of path.split('.')) {
    const next: unknown[] = [];
    for (const v of level) {
      if (!isRecord(v)) continue;
      const child = v[part];
      if (Array.isArray(child)) next.push(...child);
      else if (child !== undefined && child !== null) next.push(child);
    }
    level = next;
  }
  return level.filter((v): v is string => typeof v === 'string');
}
