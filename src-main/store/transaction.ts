/**
 * Reading and writing one tenant's documents.
 *
 * A transaction's callback is synchronous and applies each change to the live state as it is made,
 * so the callback reads its own writes through the same indexes as everyone else (a Bulk request's
 * later operations see its earlier ones). Node runs one callback at a time, so no other request can
 * observe a transaction half-way. If the callback throws, its changes are undone in reverse order;
 * if it returns, its changes become one journal record.
 */
import type { CandidateSource } from '../../src-shared/scim/index-keys';
import {
  SETTINGS_ID,
  type ChangeOp,
  type CollectionDocs,
  type CollectionName,
  type MemberValue,
  type SettingsDoc,
  type TenantRecord,
} from './documents';
import { checkedOp, collectionMap, type DisplayChange, type StoreState, type TenantState, type UndoOp } from './state';

/**
 * A read view of one tenant. Documents returned are frozen: never change one, write a new one.
 * `list` runs over the live map in no significant order (a rolled-back delete moves a document to
 * the end); services sort for stable pages. Collect it before writing in the same loop.
 */
export interface TenantReader {
  readonly record: TenantRecord;
  get<C extends CollectionName>(collection: C, id: string): CollectionDocs[C] | undefined;
  list<C extends CollectionName>(collection: C): IterableIterator<CollectionDocs[C]>;
  count(collection: CollectionName): number;
  /** The tenant's indexes, for the filter planner's executor. */
  readonly candidates: CandidateSource;
  /** Ids of the groups listing `memberValue` (a user or group id) as a member, sorted: a user's `groups`. */
  groupsOf(memberValue: string): string[];
  /** Whether group `groupId` lists `memberValue`: one lookup, where its members array is a scan. */
  listsMember(groupId: string, memberValue: string): boolean;
  /**
   * Up to `count` user or group ids from position `offset` in list order without sortBy
   * (meta.created, then id): a page of a whole collection without sorting it.
   */
  inCreatedOrder(collection: 'users' | 'groups', offset: number, count: number): string[];
  /**
   * Up to `count` user ids from position `offset` in the order of a list with sortBy=userName
   * (case-folded, by code point; ties by id ascending either way): a page without sorting them all.
   */
  inUserNameOrder(offset: number, count: number, descending: boolean): string[];
  /**
   * Changes whenever a user or group of this tenant does (a membership included), to a number no
   * tenant has had before: two reads with the same version saw the same users and groups.
   */
  readonly identitiesVersion: number;
  /**
   * Changes whenever a user or group of this tenant goes, is renamed (`userName`, `displayName`),
   * or comes back listed in groups (a rollback): what a group member's derived `display` and
   * `type` are read from. A new user or group is nobody's member, and leaves it as it is. A
   * group's own change gives it a new document instead.
   */
  readonly displayVersion: number;
  /**
   * The displayVersion of the last change to what a member of this group shows (a member renamed,
   * gone, or put back while listed); 0 when none since the tenant was loaded. A member removed
   * from the group before such a change is not covered: see member-digest.ts.
   */
  displayVersionOf(groupId: string): number;
  /**
   * The changes to what this group's members show made after displayVersion `after`, oldest first
   * (each recorded for the groups listing its member then); undefined when they are no longer all
   * kept (DISPLAY_CHANGES_KEPT).
   */
  displayChangesSince(groupId: string, after: number): readonly DisplayChange[] | undefined;
  settings(): SettingsDoc | undefined;
}

export interface MembersChange {
  add?: MemberValue[];
  /** Member values to remove (every member with that value). */
  remove?: string[];
}

export interface TenantWriter extends TenantReader {
  /**
   * Creates or replaces a document (keyed by `doc.id`). A plain-JSON document is stored as given and
   * frozen, with everything in it: build a new one to change it later. Returns the document as the
   * journal holds it (its JSON), which is also exactly the stored document serialized.
   */
  put<C extends CollectionName>(collection: C, doc: CollectionDocs[C]): string;
  /** Removes a document; false when there was none. Group memberships are not touched: see removeFromAllGroups. */
  delete(collection: CollectionName, id: string): boolean;
  /** Sets (and unsets) top-level fields of an existing document, journaling only those fields. */
  merge<C extends CollectionName>(collection: C, id: string, set: Partial<CollectionDocs[C]>, unset?: string[]): void;
  /**
   * Changes a group's members by delta: removes every member whose value is listed, then appends the
   * added members whose value the group does not list yet. Journals only the delta.
   */
  changeMembers(groupId: string, change: MembersChange): void;
  /**
   * Removes `memberValue` from every group listing it, found through the reverse index, so deleting
   * a user costs in proportion to its groups, not to all groups. Returns the ids of the groups changed.
   */
  removeFromAllGroups(memberValue: string): string[];
}

export class TenantView implements TenantReader {
  constructor(protected readonly tenant: TenantState) {}

  get record(): TenantRecord {
    return this.tenant.record;
  }

  get candidates(): CandidateSource {
    return this.tenant.indexes;
  }

  get<C extends CollectionName>(collection: C, id: string): CollectionDocs[C] | undefined {
    return this.tenant.collections[collection].get(id) as CollectionDocs[C] | undefined;
  }

  list<C extends CollectionName>(collection: C): IterableIterator<CollectionDocs[C]> {
    return this.tenant.collections[collection].values() as IterableIterator<CollectionDocs[C]>;
  }

  count(collection: CollectionName): number {
    return this.tenant.collections[collection].size;
  }

  groupsOf(memberValue: string): string[] {
    return this.tenant.indexes.groupsOf(memberValue);
  }

  listsMember(groupId: string, memberValue: string): boolean {
    return this.tenant.indexes.lists(groupId, memberValue);
  }

  inCreatedOrder(collection: 'users' | 'groups', offset: number, count: number): string[] {
    const index = collection === 'users' ? this.tenant.indexes.usersByCreated : this.tenant.indexes.groupsByCreated;
    return index.slice(offset, count);
  }

  inUserNameOrder(offset: number, count: number, descending: boolean): string[] {
    const index = this.tenant.indexes.userName;
    return descending ? index.sliceFromEnd(offset, count) : index.slice(offset, count);
  }

  get identitiesVersion(): number {
    return this.tenant.identitiesVersion;
  }

  get displayVersion(): number {
    return this.tenant.displayVersion;
  }

  displayVersionOf(groupId: string): number {
    return this.tenant.groupDisplayChanges.get(groupId)?.version ?? 0;
  }

  displayChangesSince(groupId: string, after: number): readonly DisplayChange[] | undefined {
    const log = this.tenant.groupDisplayChanges.get(groupId);
    if (!log) return [];
    if (after < log.floor) return undefined;
    return log.changes.filter((change) => change.version > after);
  }

  settings(): SettingsDoc | undefined {
    return this.tenant.collections.settings.get(SETTINGS_ID);
  }
}

export class Transaction extends TenantView implements TenantWriter {
  /** The changes made, each already serialised for the journal. */
  readonly opsJson: string[] = [];
  private readonly undo: UndoOp[] = [];

  constructor(
    private readonly state: StoreState,
    tenant: TenantState,
  ) {
    super(tenant);
  }

  put<C extends CollectionName>(collection: C, doc: CollectionDocs[C]): string {
    const op: ChangeOp = { op: 'put', tenant: this.record.id, collection, id: doc.id, doc };
    const docJson: unknown = JSON.stringify(doc);
    if (typeof docJson !== 'string' || typeof doc.id !== 'string' || typeof collection !== 'string') {
      this.stage(op); // refused by the journal's schema, with its message
      return String(docJson);
    }
    // What JSON.stringify(op) writes, with the document serialized once for the journal and the caller.
    this.stage(
      op,
      `{"op":"put","tenant":${JSON.stringify(op.tenant)},"collection":${JSON.stringify(collection)},"id":${JSON.stringify(doc.id)},"doc":${docJson}}`,
    );
    return docJson;
  }

  delete(collection: CollectionName, id: string): boolean {
    if (!collectionMap(this.tenant, collection).has(id)) return false;
    this.stage({ op: 'delete', tenant: this.record.id, collection, id });
    return true;
  }

  merge<C extends CollectionName>(
    collection: C,
    id: string,
    set: Partial<CollectionDocs[C]>,
    unset: string[] = [],
  ): void {
    this.stage({ op: 'merge', tenant: this.record.id, collection, id, set, unset });
  }

  changeMembers(groupId: string, change: MembersChange): void {
    const add = change.add ?? [];
    const remove = change.remove ?? [];
    if (add.length === 0 && remove.length === 0) return;
    this.stage({ op: 'members', tenant: this.record.id, group: groupId, add, remove });
  }

  removeFromAllGroups(memberValue: string): string[] {
    const groups = this.groupsOf(memberValue);
    for (const group of groups) this.changeMembers(group, { remove: [memberValue] });
    return groups;
  }

  /** Undoes every change of this transaction, newest first. */
  rollback(): void {
    for (let i = this.undo.length - 1; i >= 0; i--) this.state.apply(this.undo[i] as UndoOp);
    this.undo.length = 0;
    this.opsJson.length = 0;
  }

  /**
   * Serialises the change, then applies it as a replay of the journal line would rebuild it: the
   * change itself when it is plain JSON (see plain-json.ts), otherwise the parsed copy (no undefined,
   * no Date). Either way what is stored is frozen, so nothing shares a mutable object with the store.
   */
  private stage(op: ChangeOp, json = JSON.stringify(op)): void {
    const undo = this.state.apply(checkedOp(op, json));
    if (undo) this.undo.push(undo);
    this.opsJson.push(json);
  }
}
