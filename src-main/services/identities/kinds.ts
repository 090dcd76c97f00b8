import type { CollectionName } from '../../store/documents';
import type { ResourceKind } from '../../scim/plan-types';

/** Where each SCIM resource type lives in the store and under which endpoint it is served. */
export const RESOURCE_KINDS: Record<ResourceKind, { collection: 'users' | 'groups'; endpoint: string }> = {
  User: { collection: 'users', endpoint: 'Users' },
  Group: { collection: 'groups', endpoint: 'Groups' },
};

export function collectionOf(kind: ResourceKind): CollectionName & ('users' | 'groups') {
  return RESOURCE_KINDS[kind].collection;
}

/** `W/"3"`: a weak ETag (RFC 7232 §2.3) from the resource's revision number. */
export function versionTag(revision: number): string {
  return `W/"${revision}"`;
}

export function revisionOf(version: unknown): number {
  const match = typeof version === 'string' ? /^W\/"(\d+)"$/.exec(version) : null;
  return match ? Number(match[1]) : 0;
}

/**
 * RFC 7232 §3.1/§3.2 with weak comparison: `*` matches any existing resource; otherwise any listed
 * tag equal to the current one, ignoring the `W/` prefix (IdPs differ on sending it).
 */
export function etagMatches(header: string, current: string): boolean {
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim() === '*' || opaque(tag) === opaque(current));
}
