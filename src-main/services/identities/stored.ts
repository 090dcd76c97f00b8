import type { ResourceKind } from '@shared/scim/index-keys';
import type { Doc, GroupDoc, MemberValue, UserDoc } from '../../store/documents';
import type { TenantReader, TenantWriter } from '../../store/transaction';
import { collectionOf } from './kinds';

export type StoredMeta = { resourceType: string; created: string; lastModified: string; version: string };
/** A user or group as the store keeps it: canonical attributes, no derived ones, no `password`. */
export type StoredResource = Doc & { meta: StoredMeta; members?: MemberValue[]; passwordHash?: string };

/*
 * The two casts below cross from the store's view of a document to the services' one. The store
 * checks only the fields its indexes need (userName, displayName, member values); `meta` and the
 * password hash are the services' own, and every user and group is written through putStored, so
 * what is read back is a StoredResource. Checking that on every read would cost the hot path a
 * walk of each document for a fact no other writer can break.
 */
export function getStored(tenant: TenantReader, kind: ResourceKind, id: string): StoredResource | undefined {
  return tenant.get(collectionOf(kind), id) as unknown as StoredResource | undefined;
}

/** A resource just written, with its JSON as the journal holds it (JSON.stringify(resource)). */
export interface WrittenResource {
  resource: StoredResource;
  json: string;
}

export function putStored(tx: TenantWriter, kind: ResourceKind, doc: StoredResource): WrittenResource {
  // The store checks the key fields (userName, displayName, member values) with its own schemas.
  const json = tx.put(collectionOf(kind), doc as unknown as UserDoc & GroupDoc);
  return { resource: getStored(tx, kind, doc.id) as StoredResource, json };
}
