/**
 * The shapes the store keeps. The store knows these only as far as its indexes need (ids, userName,
 * externalId, emails, displayName, members); everything else in a SCIM resource is opaque JSON that the
 * services own. Documents are plain JSON: what is in memory is exactly what a replay of the journal
 * rebuilds, so nothing that JSON cannot carry (undefined, Date, Map) may enter.
 */

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
/** `undefined` is allowed in the type so optional fields can be declared; it never reaches the disk. */
export interface JsonObject {
  [key: string]: JsonValue | undefined;
}

/** Every stored document has a string id, unique within its collection and tenant. */
export interface Doc extends JsonObject {
  id: string;
}

/** RFC 7643 §4.1.2: `value` is not required (a PATCH may remove it and leave `type` and `primary`). */
export interface EmailValue extends JsonObject {
  value?: string;
}

export interface UserDoc extends Doc {
  userName: string;
  externalId?: string;
  emails?: EmailValue[];
}

/** A group member. RFC 7643 §4.2: `value` is the id of a User or Group of the same tenant. */
export interface MemberValue extends JsonObject {
  value: string;
  type?: string;
  display?: string;
}

export interface GroupDoc extends Doc {
  displayName: string;
  externalId?: string;
  members?: MemberValue[];
}

/** A SCIM bearer token as the admin API describes it (DESIGN.md §3); only the hash of the secret is kept. */
export interface ScimTokenRecord extends Doc {
  tenant_id: string;
  name: string;
  token_hash: string;
  token_prefix: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** Per-tenant settings, one document with id {@link SETTINGS_ID} in the `settings` collection. */
export type SettingsDoc = Doc;
export const SETTINGS_ID = 'tenant';

/**
 * A tenant as persisted. Structurally the same as `Tenant` in src-shared/tenant.ts, repeated here
 * because the store is also loaded outside the bundler (crash-test children), where the `@shared`
 * alias does not resolve; a unit test keeps the two assignable to each other.
 */
export interface TenantRecord extends JsonObject {
  id: string;
  name: string;
  created_at: string;
  delete_mode: 'delete' | 'deactivate';
  /** Absent in stores written before tenants had settings; read as the defaults. */
  compat_profile?: 'compatible' | 'entra' | 'okta' | 'strict';
  /** Flag names (src-shared/scim/compat-flags.ts) set against the profile. */
  compat_overrides?: { [flag: string]: boolean };
  log_max_entries?: number;
}

/**
 * The collections of a tenant and their document types. The journal names collections by string, so
 * a new collection is one entry here and one schema in schemas.ts; the journal format does not change.
 */
export interface CollectionDocs {
  users: UserDoc;
  groups: GroupDoc;
  scimTokens: ScimTokenRecord;
  settings: SettingsDoc;
}
export type CollectionName = keyof CollectionDocs;
export const COLLECTIONS: readonly CollectionName[] = ['users', 'groups', 'scimTokens', 'settings'];

/**
 * One change in a journal record. A record is the list of changes of one commit, so a user delete
 * with its membership removals is replayed all or nothing (a Bulk request commits per operation).
 * `members` carries a membership delta so that adding one member to a 10,000-member group journals
 * one member, not the whole group.
 */
export type ChangeOp =
  | { op: 'tenant.put'; tenant: TenantRecord }
  | { op: 'tenant.delete'; tenant: string }
  | { op: 'put'; tenant: string; collection: CollectionName; id: string; doc: Doc }
  | { op: 'delete'; tenant: string; collection: CollectionName; id: string }
  | { op: 'merge'; tenant: string; collection: CollectionName; id: string; set: JsonObject; unset: string[] }
  | { op: 'members'; tenant: string; group: string; add: MemberValue[]; remove: string[] };

export interface JournalRecord {
  seq: number;
  ops: ChangeOp[];
}
