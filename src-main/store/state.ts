/**
 * The in-memory state and the one function that changes it, `apply`. Live writes and journal replay
 * both go through `apply`, so what a restart rebuilds is what was served before it.
 *
 * Documents are frozen once stored. That is what lets a checkpoint capture the whole state by
 * copying references (no deep copy) while writes continue: a write replaces a document, it never
 * changes one in place.
 */
import {
  COLLECTIONS,
  type ChangeOp,
  type CollectionDocs,
  type CollectionName,
  type Doc,
  type GroupDoc,
  type MemberValue,
  type ScimTokenRecord,
  type TenantRecord,
  type UserDoc,
} from './documents';
import { StoreDataError } from './errors';
import { TenantIndexes } from './indexes';
import { isPlainJson } from './plain-json';
import {
  DocSchemas,
  describeIssue,
  parseChangeOp,
  SNAPSHOT_VERSION,
  type SnapshotData,
  type SnapshotTenant,
} from './schemas';

export type Collections = { readonly [C in CollectionName]: Map<string, CollectionDocs[C]> };

export interface TenantState {
  record: TenantRecord;
  readonly collections: Collections;
  readonly indexes: TenantIndexes;
  /** See TenantReader.identitiesVersion. */
  identitiesVersion: number;
  /** See TenantReader.displayVersion. */
  displayVersion: number;
  /**
   * See TenantReader.displayVersionOf and displayChangesSince: per group, the last changes to what
   * its members show. Kept when a group goes (a rollback can put it back with its array).
   */
  readonly groupDisplayChanges: Map<string, GroupDisplayLog>;
}

/**
 * A change to what a group member shows: the user or group `value` names, before and after (a
 * document undefined when it did not exist). See TenantReader.displayChangesSince.
 */
export interface DisplayChange {
  readonly version: number;
  readonly collection: 'users' | 'groups';
  readonly value: string;
  readonly before: Doc | undefined;
  readonly after: Doc | undefined;
}

/** The last DISPLAY_CHANGES_KEPT display changes of one group's members, in the order made. */
export interface GroupDisplayLog {
  /** The version of the last change recorded. */
  version: number;
  /** Every change after this version is in `changes` (older ones were dropped). */
  floor: number;
  readonly changes: DisplayChange[];
}

/**
 * Enough for a digest to follow the renames of an IdP's sync between two reads of a group;
 * beyond, it works the group out afresh. A bound, since a user in many groups renamed over and
 * over would otherwise keep every old document alive.
 */
export const DISPLAY_CHANGES_KEPT = 64;

/** A change that undoes another; only for rolling back a transaction in memory, never journaled. */
export type UndoOp =
  | { op: 'put'; tenant: string; collection: CollectionName; id: string; doc: Doc }
  | {
      op: 'delete';
      tenant: string;
      collection: CollectionName;
      id: string;
    };

export class StoreState {
  readonly tenants = new Map<string, TenantState>();
  /** token_hash → where the token lives; SCIM requests on /scim/v2 find their tenant by token. */
  private readonly tokenHashes = new Map<string, { tenant: string; id: string }>();
  /** Source of identity versions: one counter for all tenants, so no version is ever given twice. */
  private versions = 0;

  static fromSnapshot(data: SnapshotData): StoreState {
    const state = new StoreState();
    for (const saved of data.tenants) {
      const tenant = state.createTenant(deepFreeze(saved.record));
      for (const name of COLLECTIONS) {
        const map = collectionMap(tenant, name);
        for (const doc of saved.collections[name] ?? []) map.set(doc.id, deepFreeze(doc));
      }
      for (const token of tenant.collections.scimTokens.values()) state.indexToken(token, tenant.record.id);
      tenant.indexes.rebuild();
    }
    return state;
  }

  /**
   * The state as a snapshot, by reference: O(number of documents) pointer copies, no serialisation,
   * so the event loop is held for milliseconds even at 100,000 users.
   */
  capture(journalSeq: number): SnapshotData {
    const tenants: SnapshotTenant[] = [];
    for (const tenant of this.tenants.values()) {
      const collections: SnapshotTenant['collections'] = {};
      for (const name of COLLECTIONS) {
        const map = collectionMap(tenant, name);
        if (map.size > 0) (collections as Record<string, Doc[]>)[name] = [...map.values()];
      }
      tenants.push({ record: tenant.record, collections });
    }
    return { version: SNAPSHOT_VERSION, journalSeq, tenants };
  }

  findToken(hash: string): { tenant: string; token: ScimTokenRecord } | undefined {
    const where = this.tokenHashes.get(hash);
    const token = where && this.tenants.get(where.tenant)?.collections.scimTokens.get(where.id);
    return where && token ? { tenant: where.tenant, token } : undefined;
  }

  /**
   * Applies one change. Returns how to undo it (for a transaction that throws), or undefined for
   * tenant-level changes, which are never part of a transaction. Throws StoreDataError, having
   * changed nothing, when the change does not fit the state.
   */
  apply(op: ChangeOp): UndoOp | undefined {
    switch (op.op) {
      case 'tenant.put': {
        const existing = this.tenants.get(op.tenant.id);
        if (existing) existing.record = deepFreeze(op.tenant);
        else this.createTenant(deepFreeze(op.tenant));
        return undefined;
      }
      case 'tenant.delete': {
        const tenant = this.tenants.get(op.tenant);
        if (!tenant) return undefined;
        for (const token of tenant.collections.scimTokens.values()) this.tokenHashes.delete(token.token_hash);
        this.tenants.delete(op.tenant);
        return undefined;
      }
      case 'put':
        if (op.doc.id !== op.id) throw new StoreDataError(`put of ${op.collection}/${op.id} carries id ${op.doc.id}`);
        return this.replace(this.tenant(op.tenant), op.collection, op.id, checkDoc(op.collection, op.doc));
      case 'delete':
        return this.replace(this.tenant(op.tenant), op.collection, op.id, undefined);
      case 'merge': {
        const tenant = this.tenant(op.tenant);
        const previous = collectionMap(tenant, op.collection).get(op.id);
        if (!previous) throw new StoreDataError(`merge into missing ${op.collection}/${op.id}`);
        if ('id' in op.set && op.set.id !== op.id) throw new StoreDataError(`merge cannot change the id of ${op.id}`);
        const next: Doc = { ...previous, ...op.set };
        for (const key of op.unset) if (key !== 'id') delete next[key];
        return this.replace(tenant, op.collection, op.id, checkDoc(op.collection, next, previous));
      }
      case 'members':
        return this.changeMembers(this.tenant(op.tenant), op.group, op.add, op.remove);
    }
  }

  private tenant(id: string): TenantState {
    const tenant = this.tenants.get(id);
    if (!tenant) throw new StoreDataError(`no tenant ${id}`);
    return tenant;
  }

  private createTenant(record: TenantRecord): TenantState {
    const users = new Map<string, UserDoc>();
    const groups = new Map<string, GroupDoc>();
    const tenant: TenantState = {
      record,
      collections: { users, groups, scimTokens: new Map(), settings: new Map() },
      indexes: new TenantIndexes(users, groups),
      identitiesVersion: ++this.versions,
      displayVersion: ++this.versions,
      groupDisplayChanges: new Map(),
    };
    this.tenants.set(record.id, tenant);
    return tenant;
  }

  /** Puts (doc given) or deletes (undefined) one document, keeping every index exact. */
  private replace(tenant: TenantState, collection: CollectionName, id: string, doc: Doc | undefined): UndoOp {
    const map = collectionMap(tenant, collection);
    const previous = map.get(id);
    const tenantId = tenant.record.id;
    if (collection === 'users' || collection === 'groups') {
      tenant.identitiesVersion = ++this.versions;
      // A user or group new to the tenant is nobody's member yet: what members show stands, and a
      // bulk of creates (an IdP's first sync) keeps what was derived from them. One that groups
      // already list is one put back by a rollback.
      const created = previous === undefined && doc !== undefined;
      if (created ? tenant.indexes.isListed(id) : displayChanged(previous, doc)) {
        const version = ++this.versions;
        tenant.displayVersion = version;
        // Only the groups that list it show it: a rename made every group of the tenant work out
        // its members' digest again (a 50,000-member group's GET went from 2 to 78 ms).
        const change: DisplayChange = { version, collection, value: id, before: previous, after: doc };
        for (const group of tenant.indexes.groupsOf(id)) recordDisplayChange(tenant, group, change);
      }
    }
    if (collection === 'groups' && previous && doc && sameMembers(previous, doc)) {
      // A change beside the members (a group's meta after a membership delta, its displayName):
      // re-indexing 100,000 members for it held every tenant for a good part of a second.
      const frozen = deepFreeze(doc);
      map.set(id, frozen);
      tenant.indexes.replaceGroupBesideMembers(previous as GroupDoc, frozen as GroupDoc);
    } else {
      if (previous) this.unindex(tenant, collection, previous);
      if (doc) {
        const frozen = deepFreeze(doc);
        map.set(id, frozen);
        this.index(tenant, collection, frozen);
      } else map.delete(id);
    }
    return previous
      ? { op: 'put', tenant: tenantId, collection, id, doc: previous }
      : { op: 'delete', tenant: tenantId, collection, id };
  }

  /**
   * A membership delta: removes every member with a value in `remove`, then appends the members of
   * `add` whose value the group does not list yet. The reverse index is updated for the changed
   * values only, so the cost is the group's size for the array copy, not an index rebuild.
   */
  private changeMembers(tenant: TenantState, groupId: string, add: MemberValue[], remove: string[]): UndoOp {
    const previous = tenant.collections.groups.get(groupId);
    if (!previous) throw new StoreDataError(`membership change in missing group ${groupId}`);
    const { members: index } = tenant.indexes;
    tenant.identitiesVersion = ++this.versions;
    const removing = new Set(remove.filter((value) => index.has(value, groupId)));
    // Each element dropped, for the delta: a stored array with a value twice drops both.
    const removed: string[] = [];
    const kept =
      removing.size > 0
        ? (previous.members ?? []).filter((m) => {
            if (!removing.has(m.value)) return true;
            removed.push(m.value);
            return false;
          })
        : previous.members;
    const added: MemberValue[] = [];
    const adding = new Set<string>();
    for (const member of add) {
      const present = index.has(member.value, groupId) && !removing.has(member.value);
      if (present || adding.has(member.value)) continue;
      adding.add(member.value);
      added.push(deepFreeze(member));
    }
    const members = added.length > 0 ? [...(kept ?? []), ...added] : kept;
    if (members !== undefined && members !== previous.members) {
      const from = previous.members && membersKeyOf(previous.members);
      const depth = (from?.depth ?? 0) + 1;
      const delta = depth <= MAX_MEMBERSHIP_DELTAS ? { from, added, removed } : undefined;
      keys.set(members, { delta, depth: delta ? depth : 0 });
    }
    const next = members === undefined ? previous : Object.freeze({ ...previous, members: Object.freeze(members) });
    tenant.collections.groups.set(groupId, next as GroupDoc);
    for (const value of removing) if (!adding.has(value)) index.remove(value, groupId);
    for (const value of adding) index.add(value, groupId);
    return { op: 'put', tenant: tenant.record.id, collection: 'groups', id: groupId, doc: previous };
  }

  private index(tenant: TenantState, collection: CollectionName, doc: Doc): void {
    if (collection === 'users') tenant.indexes.addUser(doc as UserDoc);
    else if (collection === 'groups') tenant.indexes.addGroup(doc as GroupDoc);
    else if (collection === 'scimTokens') this.indexToken(doc as ScimTokenRecord, tenant.record.id);
  }

  private unindex(tenant: TenantState, collection: CollectionName, doc: Doc): void {
    if (collection === 'users') tenant.indexes.removeUser(doc as UserDoc);
    else if (collection === 'groups') tenant.indexes.removeGroup(doc as GroupDoc);
    else if (collection === 'scimTokens') this.tokenHashes.delete((doc as ScimTokenRecord).token_hash);
  }

  private indexToken(token: ScimTokenRecord, tenant: string): void {
    this.tokenHashes.set(token.token_hash, { tenant, id: token.id });
  }
}

/**
 * Checks a change with the journal's own schema, so that the live path accepts exactly what a
 * replay will (a change replay would refuse must never reach the journal). `json` is the change as
 * journaled: a change that is not plain JSON is applied as parsed back from it, as replay will.
 */
export function checkedOp(op: ChangeOp, json: string): ChangeOp {
  const checked = parseChangeOp(isPlainJson(op) ? op : JSON.parse(json));
  if (!checked.ok) throw new StoreDataError(`malformed change (${checked.reason})`);
  return checked.op;
}

/** The map of one collection, typed loosely for code that handles every collection alike. */
export function collectionMap(tenant: TenantState, name: CollectionName): Map<string, Doc> {
  return tenant.collections[name] as Map<string, Doc>;
}

/** How a group's members array was made from the one before it, by a membership change. */
export interface MembershipDelta {
  /** The array before, by its key (not the array itself: a copy of every member per change). */
  readonly from: MembersKey | undefined;
  readonly added: readonly MemberValue[];
  /** Values taken out (a value both taken out and added again moved to the end). */
  readonly removed: readonly string[];
}

/** Stands for one members array; what is derived from it may be remembered against it. */
export interface MembersKey {
  /** How the array was made from the one before; undefined once what follows it no longer needs it. */
  delta: MembershipDelta | undefined;
  /** Deltas behind it still kept. */
  depth: number;
}

const MAX_MEMBERSHIP_DELTAS = 64;
const keys = new WeakMap<readonly MemberValue[], MembersKey>();

/**
 * The key of a members array, and through it the change that made the array from the one before
 * (`delta`, kept for at most 64 changes in a row, and let go once what follows is worked out): for
 * what is derived from members to follow a change in its size (the digest in a group's version).
 * The delta names the array before by its key, not the array: keeping every array a group ever had
 * kept 240 MB after 200 one-member changes of a group of 100,000 (found in review).
 */
export function membersKeyOf(members: readonly MemberValue[]): MembersKey {
  let key = keys.get(members);
  if (!key) keys.set(members, (key = { delta: undefined, depth: 0 }));
  return key;
}

/** Whether a user or group went, or changed a name a member's `display` is read from. */
function recordDisplayChange(tenant: TenantState, groupId: string, change: DisplayChange): void {
  let log = tenant.groupDisplayChanges.get(groupId);
  if (!log) {
    log = { version: 0, floor: 0, changes: [] };
    tenant.groupDisplayChanges.set(groupId, log);
  }
  log.changes.push(change);
  log.version = change.version;
  if (log.changes.length > DISPLAY_CHANGES_KEPT) log.floor = log.changes.shift()!.version;
}

function displayChanged(previous: Doc | undefined, next: Doc | undefined): boolean {
  if (!previous || !next) return true;
  return previous['displayName'] !== next['displayName'] || previous['userName'] !== next['userName'];
}

/** Whether two versions of a group hold the very same members array (a merge that did not set it). */
function sameMembers(previous: Doc, next: Doc): boolean {
  return (previous as GroupDoc).members === (next as GroupDoc).members;
}

/**
 * `previous`, for a merge: a group's members the merge did not touch were checked when they were
 * written, and are not parsed again (100,000 of them, for a change of its meta).
 */
function checkDoc(collection: CollectionName, doc: Doc, previous?: Doc): Doc {
  const unchangedMembers = collection === 'groups' && previous !== undefined && sameMembers(previous, doc);
  const parsed = DocSchemas[collection].safeParse(unchangedMembers ? { ...doc, members: undefined } : doc);
  if (!parsed.success) {
    throw new StoreDataError(`invalid ${collection} document ${doc.id} (${describeIssue(parsed.error)})`);
  }
  // The parsed copy drops nothing (loose objects); keep the caller's already-normalised object.
  return doc;
}

/** Freezes a JSON value and everything in it; returns it, typed as before. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
