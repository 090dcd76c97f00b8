import { createHash } from 'node:crypto';
import type { CollectionName } from '../../store/documents';
import type { ResourceKind } from '@shared/scim/index-keys';

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
 * The version a representation is answered with (`meta.version` and `ETag`). The stored revision
 * says when the resource itself last changed; what `present` derives from other documents (a
 * user's groups, its manager's name, the names of a group's members) changes without it. A
 * conditional GET must not answer 304 over such a change, so when there is anything derived, the
 * tag also carries a digest of it: `W/"3.5d41402abc4b"`. A resource with nothing derived keeps
 * its plain `W/"3"`.
 */
export function representationTag(stored: string, derived: string | undefined): string {
  if (derived === undefined) return stored;
  return digestTag(stored, createHash('sha256').update(derived).digest('hex').slice(0, 12));
}

/** The same, with the digest made elsewhere (a group's members: member-digest.ts). */
export function digestTag(stored: string, digest: string): string {
  return `W/"${revisionOf(stored)}.${digest}"`;
}

/**
 * For If-Match on writes (PUT, PATCH, DELETE): whether a listed tag names the stored revision,
 * whatever digest it carries. A write cannot lose what is derived (it is read-only and
 * recomputed), so a client holding `W/"3.…"` from before a group change still writes over revision
 * 3; a change to the resource itself still fails the precondition. Only a tag of the shape this
 * server gives out names anything (ETag probe): an unquoted `3` or a digest that is not one
 * (`W/"3.zzz"`) passed here while a GET refused it.
 */
export function etagNamesRevision(header: string, stored: string): boolean {
  const current = revisionOf(stored);
  return header.split(',').some((tag) => tag.trim() === '*' || revisionNamedBy(tag) === current);
}

/** `W/"3"` or `W/"3.5d41402abc4b"` (the `W/` optional, as IdPs differ on sending it): 3. */
function revisionNamedBy(tag: string): number | undefined {
  const match = /^(?:W\/)?"(0|[1-9]\d{0,14})(?:\.[0-9a-f]{12})?"$/.exec(tag.trim());
  return match ? Number(match[1]) : undefined;
}

/**
 * RFC 7232 §3.1/§3.2 with weak comparison: `*` matches any existing resource; otherwise any listed
 * tag equal to the current one, ignoring the `W/` prefix (IdPs differ on sending it).
 */
export function etagMatches(header: string, current: string): boolean {
  return header.split(',').some((tag) => tag.trim() === '*' || opaque(tag) === opaque(current));
}

/** A tag without its weakness mark: IdPs differ on sending `W/`. */
function opaque(tag: string): string {
  return tag.trim().replace(/^W\//, '');
}
