/**
 * The indexes of one tenant, answering the filter planner through `CandidateSource`
 * (src-shared/scim/index-keys.ts). They are rebuilt when the store opens and updated on every change
 * by the same code path for live writes and for journal replay, so they cannot drift from the data.
 *
 * Keys of case-insensitive attributes (userName, emails.value, displayName) are folded with
 * `foldKey`, the same function the planner folds its keys with. A lookup the indexes cannot answer
 * (an unindexed attribute, or a prefix on a hash index) returns every id: candidates only need to be
 * a superset, because the evaluator re-checks each one.
 */
// Relative, not @shared: the store also runs in plain child processes (crash tests) without the alias.
import { parseDateTime } from '../../src-shared/scim/datetime';
import {
  codePointOrder,
  foldKey,
  type CandidateSource,
  type IndexLookup,
  type ResourceKind,
} from '../../src-shared/scim/index-keys';
import type { GroupDoc, UserDoc } from './documents';
import { MultiMap } from './multi-map';
import { SortedIndex } from './sorted-index';

export class TenantIndexes implements CandidateSource {
  /**
   * Sorted, for `prefix` (userName sw "...") and for a list sorted by userName. Keyed by
   * `sortedUserNameKey`: in code-point order, the order a list by userName is in (see sort.ts).
   */
  readonly userName = new SortedIndex();
  /**
   * The same keys hashed, for `eq`: `userName eq "..."` is what IdPs send before every create, and a
   * hash probe stays flat as the tenant grows where a binary search walks ~17 scattered entries.
   */
  readonly userNameEq = new MultiMap();
  readonly userExternalId = new MultiMap();
  readonly emails = new MultiMap();
  readonly groupDisplayName = new MultiMap();
  readonly groupExternalId = new MultiMap();
  /** member value → ids of the groups listing it: the reverse index behind a user's `groups`. */
  readonly members = new MultiMap();
  /**
   * Users and groups in the order of a list without sortBy (meta.created, then id; see
   * `sortResources`), so that paging through a whole directory, as Okta's import does, reads one
   * page instead of sorting every resource for every page.
   */
  readonly usersByCreated = new SortedIndex();
  readonly groupsByCreated = new SortedIndex();

  constructor(
    private readonly users: ReadonlyMap<string, UserDoc>,
    private readonly groups: ReadonlyMap<string, GroupDoc>,
  ) {}

  /** Builds every index from the current documents (on open). */
  rebuild(): void {
    this.userName.load(mapEntries(this.users.values(), (user) => [sortedUserNameKey(user), user.id]));
    this.usersByCreated.load(mapEntries(this.users.values(), (user) => [createdKey(user), user.id]));
    this.groupsByCreated.load(mapEntries(this.groups.values(), (group) => [createdKey(group), group.id]));
    for (const user of this.users.values()) this.addUserKeys(user, false);
    for (const group of this.groups.values()) this.addGroupKeys(group);
  }

  addUser(user: UserDoc): void {
    this.addUserKeys(user, true);
  }

  removeUser(user: UserDoc): void {
    this.usersByCreated.remove(createdKey(user), user.id);
    const key = foldKey(user.userName);
    this.userName.remove(codePointOrder(key), user.id);
    this.userNameEq.remove(key, user.id);
    if (user.externalId !== undefined) this.userExternalId.remove(user.externalId, user.id);
    for (const email of emailKeys(user)) this.emails.remove(email, user.id);
  }

  addGroup(group: GroupDoc): void {
    this.groupsByCreated.insert(createdKey(group), group.id);
    this.addGroupKeys(group);
  }

  private addGroupKeys(group: GroupDoc): void {
    this.groupDisplayName.add(foldKey(group.displayName), group.id);
    if (group.externalId !== undefined) this.groupExternalId.add(group.externalId, group.id);
    for (const member of group.members ?? []) this.members.add(member.value, group.id);
  }

  /** A group changed beside its members (same array): only its other keys move. */
  replaceGroupBesideMembers(previous: GroupDoc, next: GroupDoc): void {
    if (createdKey(previous) !== createdKey(next)) {
      this.groupsByCreated.remove(createdKey(previous), previous.id);
      this.groupsByCreated.insert(createdKey(next), next.id);
    }
    this.groupDisplayName.remove(foldKey(previous.displayName), previous.id);
    if (previous.externalId !== undefined) this.groupExternalId.remove(previous.externalId, previous.id);
    this.groupDisplayName.add(foldKey(next.displayName), next.id);
    if (next.externalId !== undefined) this.groupExternalId.add(next.externalId, next.id);
  }

  removeGroup(group: GroupDoc): void {
    this.groupsByCreated.remove(createdKey(group), group.id);
    this.groupDisplayName.remove(foldKey(group.displayName), group.id);
    if (group.externalId !== undefined) this.groupExternalId.remove(group.externalId, group.id);
    for (const member of group.members ?? []) this.members.remove(member.value, group.id);
  }

  /** Whether group `groupId` lists `value` as a member. */
  lists(groupId: string, value: string): boolean {
    return this.members.has(value, groupId);
  }

  /** Whether some group lists `value` as a member. */
  isListed(value: string): boolean {
    return this.members.hasKey(value);
  }

  /**
   * Ids of the groups that list `value` as a member; a user's derived `groups`. Sorted: the index
   * is filled in membership order while running but in group order by a replay, and a user's
   * representation (and its ETag) must not change with a restart.
   */
  groupsOf(value: string): string[] {
    return this.members.get(value).sort();
  }

  lookup(lookup: IndexLookup): Iterable<string> {
    const { key } = lookup;
    if (lookup.resource === 'User') {
      if (lookup.match === 'prefix') {
        // codePointOrder maps each code unit on its own, so it keeps which keys start with which.
        return lookup.index === 'userName' ? this.userName.prefix(codePointOrder(key)) : this.all('User');
      }
      switch (lookup.index) {
        case 'id':
          return this.users.has(key) ? [key] : [];
        case 'userName':
          return this.userNameEq.get(key);
        case 'externalId':
          return this.userExternalId.get(key);
        case 'emails.value':
          return this.emails.get(key);
        default:
          return this.all('User');
      }
    }
    if (lookup.match === 'prefix') return this.all('Group');
    switch (lookup.index) {
      case 'id':
        return this.groups.has(key) ? [key] : [];
      case 'displayName':
        return this.groupDisplayName.get(key);
      case 'externalId':
        return this.groupExternalId.get(key);
      case 'members.value':
        return this.members.get(key);
      default:
        return this.all('Group');
    }
  }

  all(resource: ResourceKind): Iterable<string> {
    // A copy, so that a caller may write while it iterates.
    return [...(resource === 'User' ? this.users : this.groups).keys()];
  }

  private addUserKeys(user: UserDoc, withSorted: boolean): void {
    const key = foldKey(user.userName);
    if (withSorted) {
      this.userName.insert(codePointOrder(key), user.id);
      this.usersByCreated.insert(createdKey(user), user.id);
    }
    this.userNameEq.add(key, user.id);
    if (user.externalId !== undefined) this.userExternalId.add(user.externalId, user.id);
    for (const email of emailKeys(user)) this.emails.add(email, user.id);
  }
}

/** A user's key in the sorted userName index: folded, then in code-point order. */
function sortedUserNameKey(user: UserDoc): string {
  return codePointOrder(foldKey(user.userName));
}

function emailKeys(user: UserDoc): Set<string> {
  const keys = new Set<string>();
  for (const email of user.emails ?? []) if (email.value !== undefined) keys.add(foldKey(email.value));
  return keys;
}

function* mapEntries<T, R>(items: Iterable<T>, fn: (item: T) => R): IterableIterator<R> {
  for (const item of items) yield fn(item);
}

const float = new DataView(new ArrayBuffer(8));

/**
 * `meta.created` as text that sorts like the instant it names: the IEEE 754 bits of the
 * milliseconds, made order-preserving (sign bit flipped for positives, every bit for negatives),
 * in hex. Exact for every value `parseDateTime` can return. A missing or unreadable time is "z",
 * after every instant, as the list's sort puts it.
 */
export function createdKey(doc: UserDoc | GroupDoc): string {
  const created = (doc['meta'] as { created?: unknown } | undefined)?.created;
  const ms = typeof created === 'string' ? parseDateTime(created) : undefined;
  if (ms === undefined || !Number.isFinite(ms)) return 'z';
  float.setFloat64(0, ms === 0 ? 0 : ms);
  let high = float.getUint32(0);
  let low = float.getUint32(4);
  if (high & 0x80000000) {
    high = ~high >>> 0;
    low = ~low >>> 0;
  } else {
    high = (high | 0x80000000) >>> 0;
  }
  return high.toString(16).padStart(8, '0') + low.toString(16).padStart(8, '0');
}
