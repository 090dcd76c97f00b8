/**
 * The interface between the filter planner (src-main/scim) and the store's indexes
 * (src-main/store). The planner turns a filter into candidate lookups; the store answers each
 * lookup with resource ids. Candidates are always a superset: the evaluator re-checks every
 * candidate, so an index can change the cost of a query, never its answer.
 */

/** The indexes a tenant keeps (DESIGN.md §2, store issue). */
export type IndexName = 'id' | 'userName' | 'externalId' | 'emails.value' | 'displayName' | 'members.value';

export type ResourceKind = 'User' | 'Group';

/**
 * One index probe. Keys of case-insensitive attributes (userName, emails.value, displayName) are
 * case-folded by the planner with `foldKey`, so the store compares keys exactly.
 * `prefix` is only planned on sorted indexes (userName).
 */
export type IndexLookup =
  | { resource: ResourceKind; index: IndexName; match: 'eq'; key: string }
  | { resource: ResourceKind; index: IndexName; match: 'prefix'; key: string };

/** `and` intersects its parts' candidates, `or` unions them; `scan` means every resource. */
export type CandidatePlan =
  | { kind: 'scan' }
  | { kind: 'lookup'; lookup: IndexLookup }
  | { kind: 'and'; plans: CandidatePlan[] }
  | { kind: 'or'; plans: CandidatePlan[] };

/** What the store offers the planner's executor. */
export interface CandidateSource {
  /** Ids of resources whose indexed value matches; order is not significant. */
  lookup(lookup: IndexLookup): Iterable<string>;
  /** Every id of that kind, for `scan`. */
  all(resource: ResourceKind): Iterable<string>;
}

/** Case folding used for index keys of caseExact=false attributes. */
export function foldKey(value: string): string {
  return value.normalize('NFC').toLowerCase();
}
