/**
 * The indexes of one tenant, answering the filter planner through `CandidateSource`
 * (src-main/scim/plan-types.ts). They are rebuilt when the store opens and updated on every change
 * by the same code path for live writes and for journal replay, so they cannot drift from the data.
 *
 * Keys of case-insensitive attributes (userName, emails.value, displayName) are folded with
 * `foldKey`, the same function the planner folds its keys with. A lookup the indexes cannot answer
 * (an unindexed attribute, or a prefix on a hash index) returns every id: candidates only need to be
 * a superset, because the evaluator re-checks each one.
 */
import { foldKey, type CandidateSource, type IndexLookup, type ResourceKind } from '../scim/plan-types';
import type { GroupDoc, UserDoc } from './documents';
import { MultiMap } from './multi-map';
import { SortedIndex } from './sorted-index';

export class TenantIndexes implements CandidateSource {
  /** Sorted, for `prefix` (userName sw "..."). */
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

  constructor(
    private readonly users: ReadonlyMap<string, UserDoc>,
    private readonly groups: ReadonlyMap<string, GroupDoc>,
  ) {}

  /** Builds every index from the current documents (on open). */
  rebuild(): void {
    this.userName.load(mapEntries(this.users.values(), (user) => [foldKey(user.userName), user.id]));
    for (const user of this.users.values()) this.addUserKeys(user, false);
    for (const group of this.groups.values()) this.addGroup(group);
  }

  addUser(user: UserDoc): void {
    this.addUserKeys(user, true);
  }

  removeUser(user: UserDoc): void {
    const key = foldKey(user.userName);
    this.userName.remove(key, user.id);
    this.userNameEq.remove(key, user.id);
    if (user.externalId !== undefined) this.userExternalId.remove(user.externalId, user.id);
    for (const email of emailKeys(user)) this.emails.remove(email, user.id);
  }

  addGroup(group: GroupDoc): void {
    this.groupDisplayName.add(foldKey(group.displayName), group.id);
    if (group.externalId !== undefined) this.groupExternalId.add(group.externalId, group.id);
    for (const member of group.members ?? []) this.members.add(member.value, group.id);
  }

  removeGroup(group: GroupDoc): void {
    this.groupDisplayName.remove(foldKey(group.displayName), group.id);
    if (group.externalId !== undefined) this.groupExternalId.remove(group.externalId, group.id);
    for (const member of group.members ?? []) this.members.remove(member.value, group.id);
  }

  /** Ids of the groups that list `value` as a member; a user's derived `groups`. */
  groupsOf(value: string): string[] {
    return this.members.get(value);
  }

  lookup(lookup: IndexLookup): Iterable<string> {
    const { key } = lookup;
    if (lookup.resource === 'User') {
      if (lookup.match === 'prefix') {
        return lookup.index === 'userName' ? this.userName.prefix(key) : this.all('User');
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
    if (withSorted) this.userName.insert(key, user.id);
    this.userNameEq.add(key, user.id);
    if (user.externalId !== undefined) this.userExternalId.add(user.externalId, user.id);
    for (const email of emailKeys(user)) this.emails.add(email, user.id);
  }
}

function emailKeys(user: UserDoc): Set<string> {
  const keys = new Set<string>();
  for (const email of user.emails ?? []) keys.add(foldKey(email.value));
  return keys;
}

function* mapEntries<T, R>(items: Iterable<T>, fn: (item: T) => R): IterableIterator<R> {
  for (const item of items) yield fn(item);
}
