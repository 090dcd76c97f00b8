import type { ResourceKind } from '@shared/scim/index-keys';
import type { Doc, GroupDoc, MemberValue, UserDoc } from '../../store/documents';
import type { TenantReader, TenantWriter } from '../../store/transaction';
import { collectionOf } from './kinds';

export type StoredMeta = { resourceType: string; created: string; lastModified: string; version: string };
/** A user or group as the store keeps it: canonical attributes, no derived ones, no `password`. */
export type StoredResource = Doc & { meta: StoredMeta; members?: MemberValue[]; passwordHash?: string };

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
