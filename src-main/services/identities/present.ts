import { SCIM_URN } from '@shared/scim/urns';
import { attributePaths, type AttributePath, type FilterNode } from '../../scim/filter/ast';
import { parseAttributePath } from '../../scim/filter/parser';
import type { FilterView } from '../../scim/patch/index';
import type { ResourceKind } from '@shared/scim/index-keys';
import { isRecord, type ResourceData } from '../../scim/values';
import type { MemberValue } from '../../store/documents';
import type { TenantReader } from '../../store/transaction';
import { digestTag, representationTag, RESOURCE_KINDS } from './kinds';
import { describeMember, describeMemberOrGroup, membersDigest, type MemberDescription } from './member-digest';
import type { StoredResource } from './stored';

/**
 * What is derived from other documents rather than stored (DESIGN.md §3): a user's `groups`, a
 * member's `display`, `type` and `$ref`, a manager's `$ref` and `displayName`, and `meta.location`
 * from the base path the request used.
 * Derived when read, so a rename shows everywhere at once.
 */

/**
 * The stored document plus a user's groups (as filters see them). `step` is told of each group the
 * walk through their nesting visits: a list counts them in its budget (filter/work.ts).
 */
export function withDerived(
  tenant: TenantReader,
  kind: ResourceKind,
  doc: StoredResource,
  step?: () => void,
): ResourceData {
  if (kind !== 'User') return doc;
  const groups = membershipsOf(tenant, doc.id, step);
  return groups.length === 0 ? doc : { ...doc, groups };
}

export interface Membership {
  value: string;
  type: 'direct' | 'indirect';
}

/**
 * A user's groups, RFC 7643 §4.1.2: "either through direct membership, through nested groups". The
 * groups listing the user are `direct`; the groups listing one of those, and so on up, `indirect`.
 * Each group once, at its nearest (a group both lists the user and contains one that does: direct);
 * a circle of groups ends where it began. Direct ones first, each part in id order.
 */
export function membershipsOf(tenant: TenantReader, userId: string, step?: () => void): Membership[] {
  const direct = tenant.groupsOf(userId);
  if (direct.length === 0) return [];
  const seen = new Set(direct);
  const indirect: string[] = [];
  let frontier = direct;
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const group of frontier) {
      step?.();
      for (const parent of tenant.groupsOf(group)) {
        if (seen.has(parent)) continue;
        seen.add(parent);
        next.push(parent);
      }
    }
    indirect.push(...next);
    frontier = next;
  }
  return [
    ...direct.map((value): Membership => ({ value, type: 'direct' })),
    ...indirect.sort().map((value): Membership => ({ value, type: 'indirect' })),
  ];
}

/** `meta.location`: where the resource is, under the base path the request used. */
export function locationOf(kind: ResourceKind, id: string, baseUrl: string): string {
  return `${baseUrl}/${RESOURCE_KINDS[kind].endpoint}/${id}`;
}

export interface PresentOptions {
  /**
   * False when the answer leaves a group's members out (`excludedAttributes=members`, Entra's
   * membership check): they are not built; the version's digest of them is remembered
   * (member-digest.ts).
   */
  readonly members?: boolean;
  /** Told of each group the walk through a user's nested groups visits (see withDerived). */
  readonly step?: () => void;
}

/**
 * The full representation: derived attributes, display names, $ref and meta.location; no password
 * hash. Its `meta.version` covers what was derived (see representationTag).
 */
export function present(
  tenant: TenantReader,
  kind: ResourceKind,
  doc: StoredResource,
  baseUrl: string,
  options: PresentOptions = {},
): ResourceData {
  const out: Record<string, unknown> = { ...doc };
  delete out.passwordHash;
  // What was derived, as text for the version's digest; the base URL is left out: it is the
  // request's, not the resource's (each base path is its own URL to a cache).
  const derived: string[] = [];
  if (kind === 'User') {
    const groups = membershipsOf(tenant, doc.id, options.step).flatMap(({ value, type }) => {
      const group = tenant.get('groups', value);
      return group ? [{ value, $ref: `${baseUrl}/Groups/${value}`, display: group.displayName, type }] : [];
    });
    if (groups.length > 0) out.groups = groups;
    // A direct membership is said as before indirect ones existed, so that its tags stay as they were.
    for (const { value, display, type } of groups)
      derived.push(`g\u0000${value}\u0000${display}${type === 'indirect' ? '\u0000indirect' : ''}`);
    const manager = managerOf(tenant, out, baseUrl);
    if (manager) {
      out[SCIM_URN.enterpriseUser] = manager;
      derived.push(`m\u0000${String((manager.manager as ResourceData).displayName)}`);
    }
  } else if (!doc.members) {
    // DESIGN.md §3: "Group responses include `members` unless excluded", an empty group's too, as
    // Microsoft's tutorial shows it (`"members": []`); stored, an empty list is no list.
    if (options.members !== false) out.members = [];
  } else {
    if (options.members === false) delete out.members;
    else out.members = presentMembers(tenant, doc.members, baseUrl);
    if (doc.members.length > 0) {
      const version = digestTag(doc.meta.version, membersDigest(tenant, doc.id, doc.members));
      out.meta = { ...doc.meta, version, location: locationOf(kind, doc.id, baseUrl) };
      return out;
    }
  }
  const version = representationTag(doc.meta.version, derived.length > 0 ? derived.join('\u0001') : undefined);
  out.meta = { ...doc.meta, version, location: locationOf(kind, doc.id, baseUrl) };
  return out;
}

/** The `meta.version` of a representation `present` made. */
export function versionOfPresented(presented: ResourceData): string {
  return String((presented.meta as { version: unknown }).version);
}

/**
 * The PATCH engine's view of a group's members for a value filter that reads what is derived
 * (`members[display eq "x"]`, `members[$ref eq "…"]`, `members[type eq "User"]`); none for other
 * filters, which read the stored members as they are (the common `members[value eq "id"]` costs
 * nothing more).
 */
export function memberFilterView(tenant: TenantReader, baseUrl: string): FilterView {
  return (attribute, filter) => {
    if (attribute.toLowerCase() !== 'members') return undefined;
    // A filter on stored values (`value eq`, most of the PATCH traffic on big groups) needs no view.
    // `type` too: a member added earlier in the same PATCH carries the type its client said until
    // the write stores the real one, and `members[type eq "User"]` must see what GET will answer.
    const readsDerived =
      filter === undefined ||
      [...attributePaths(filter)].some(
        ({ path }) => isDerived('members', path.name) || path.name.toLowerCase() === 'type',
      );
    if (!readsDerived) return undefined;
    return (element) =>
      isRecord(element) && typeof element.value === 'string'
        ? presentMember(tenant, element as MemberValue, baseUrl)
        : element;
  };
}

/**
 * Group members as answered, each read from what it names; one that names nothing is left out (a
 * member deleted after a page read its group: a stored group never lists one).
 */
export function presentMembers(tenant: TenantReader, members: readonly MemberValue[], baseUrl: string): ResourceData[] {
  return members.flatMap(({ value }) => {
    const described = describeMember(tenant, value);
    return described ? [memberAs(value, described, baseUrl)] : [];
  });
}

/** A group member as answered: its `type`, `$ref` and `display` read from the member itself. */
export function presentMember(tenant: TenantReader, member: MemberValue, baseUrl: string): ResourceData {
  return memberAs(member.value, describeMemberOrGroup(tenant, member.value), baseUrl);
}

function memberAs(value: string, { type, display }: MemberDescription, baseUrl: string): ResourceData {
  return {
    value,
    $ref: `${baseUrl}/${type === 'User' ? 'Users' : 'Groups'}/${value}`,
    type,
    ...(display !== undefined ? { display } : {}),
  };
}

/**
 * The enterprise extension with its manager's `$ref` and `displayName` (RFC 7643 §4.3), when the
 * manager is a user of this tenant; undefined when there is nothing to derive.
 */
function managerOf(tenant: TenantReader, user: Record<string, unknown>, baseUrl: string): ResourceData | undefined {
  const enterprise = user[SCIM_URN.enterpriseUser];
  if (!isRecord(enterprise) || !isRecord(enterprise.manager) || typeof enterprise.manager.value !== 'string') {
    return undefined;
  }
  const boss = tenant.get('users', enterprise.manager.value);
  if (!boss) return undefined;
  const displayName = (boss.displayName as string | undefined) ?? boss.userName;
  return {
    ...enterprise,
    manager: { ...enterprise.manager, $ref: locationOf('User', boss.id, baseUrl), displayName },
  };
}

/** The sub-attributes `present` derives (lower case), by the (complex) attribute they are in. */
const DERIVED_SUBS: ReadonlyMap<string, readonly string[]> = new Map([
  ['members', ['display', '$ref']],
  ['groups', ['display', '$ref']],
  ['manager', ['displayname', '$ref']],
  // `meta.version` digests what is derived (representationTag): a filter must see the tag GET shows.
  ['meta', ['location', 'version']],
]);

/**
 * Whether a filter reads a value `present` derives (`members.display`, `groups[display eq ...]`):
 * such a filter must be matched against the full representation, or it could never match what the
 * server answers. Other filters see the cheaper `withDerived` form.
 */
export function filterReadsDerived(ast: FilterNode): boolean {
  for (const { path, parent } of attributePaths(ast)) {
    if (parent !== undefined ? isDerived(parent.name, path.name) : isDerived(path.name, path.sub)) return true;
  }
  return false;
}

/**
 * Whether a filter or a sortBy reads a user's `groups`, which `withDerived` walks the nesting of
 * groups for: a list that does not read them matches and sorts the stored documents. Over a chain
 * of 3,000 nested groups the walk cost every list of 2,000 users 7 s, whatever it filtered on.
 */
export function readsGroups(ast: FilterNode | undefined, sortBy: string | undefined): boolean {
  if (ast !== undefined) {
    for (const { path, parent } of attributePaths(ast)) {
      if ((parent ?? path).name.toLowerCase() === 'groups') return true;
    }
  }
  if (sortBy === undefined || sortBy.trim() === '') return false;
  try {
    return parseAttributePath(sortBy.trim()).name.toLowerCase() === 'groups';
  } catch {
    return false; // the sort refuses it with its own message
  }
}

/** Whether a sortBy names a value `present` derives (`members.display`): it sorts what is answered. */
export function sortReadsDerived(sortBy: string | undefined): boolean {
  if (sortBy === undefined || sortBy.trim() === '') return false;
  let path: AttributePath;
  try {
    path = parseAttributePath(sortBy.trim());
  } catch {
    return false; // the sort refuses it with its own message
  }
  return isDerived(path.name, path.sub);
}

function isDerived(attribute: string, sub: string | undefined): boolean {
  return sub !== undefined && (DERIVED_SUBS.get(attribute.toLowerCase())?.includes(sub.toLowerCase()) ?? false);
}
