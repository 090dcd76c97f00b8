import type { Doc, MemberValue } from '../../store/documents';
import { membersKeyOf, type MembersKey, type MembershipDelta } from '../../store/state';
import type { TenantReader } from '../../store/transaction';

/** What a member's value names: a user or a group, and the name to show for it. */
export interface MemberDescription {
  type: 'User' | 'Group';
  display: string | undefined;
}

/**
 * What a member's value names; undefined when it names nothing in the tenant (a member deleted
 * after a page read its group, see IdentityService.page: a stored group never lists one).
 */
export function describeMember(tenant: TenantReader, value: string): MemberDescription | undefined {
  const user = tenant.get('users', value);
  if (user) return describeStored('users', user);
  const group = tenant.get('groups', value);
  return group ? describeStored('groups', group) : undefined;
}

/** As describeMember, a value that names nothing read as a group without a name. */
export function describeMemberOrGroup(tenant: TenantReader, value: string): MemberDescription {
  return describeMember(tenant, value) ?? NOTHING;
}

const NOTHING: MemberDescription = { type: 'Group', display: undefined };

/** What a member shows of the document it names (undefined: it names nothing), as describeMember. */
function describeStored(collection: 'users' | 'groups', doc: Doc | undefined): MemberDescription {
  if (!doc) return NOTHING;
  if (collection === 'users')
    return { type: 'User', display: (doc['displayName'] as string | undefined) ?? (doc['userName'] as string) };
  return { type: 'Group', display: doc['displayName'] as string | undefined };
}

const MODULUS = 2 ** 48;

/**
 * Per members array as stored (by its key, membersKeyOf), the sum of its members' hashes and the
 * tenant's displayVersion when it was worked out. A change of the group beside its members keeps
 * the array.
 */
const sums = new WeakMap<MembersKey, { displayVersion: number; sum: number }>();

/**
 * What a group's members derive (each one's `type`, and the `display` read from what it names), as
 * 12 hex digits for its version (kinds.ts `digestTag`): the sum, modulo 2^48, of one hash per
 * member. A sum does not depend on order, so a membership change updates it from the array before
 * in the change's size (`membersKeyOf`): hashing 100,000 members in order took 85 ms of every
 * one-member PATCH of such a group. (Order is the stored revision's to tell: the array only
 * changes with it.)
 *
 * A sum stands while nothing its members show has changed since (TenantReader.displayVersionOf,
 * per group: a rename elsewhere in the tenant leaves it). Followed along removals, a sum also needs
 * the removed members to show what they showed when it was worked out, which only the whole
 * tenant's displayVersion vouches for: a member removed, then renamed, is no longer the group's.
 */
export function membersDigest(tenant: TenantReader, groupId: string, members: readonly MemberValue[]): string {
  const displayVersion = tenant.displayVersion;
  const since = tenant.displayVersionOf(groupId);
  const self = membersKeyOf(members);
  // The group's changes cover the members it lists now. An array it no longer holds (an answer
  // presented after later writes, a page's snapshot) may list a member removed since and renamed
  // after: only the whole tenant's names standing vouch for its sum (concurrency probe: a late
  // answer stamped a stale sum as current, and the group's tag drifted from its members for good).
  const current = tenant.get('groups', groupId)?.members === members;
  const hashOf = (value: string) => memberHash(value, describeMemberOrGroup(tenant, value));
  const known = (key: MembersKey | undefined, removing: boolean): number | undefined => {
    if (key === undefined) return 0;
    const cached = sums.get(key);
    if (cached === undefined) return undefined;
    if (!current) return cached.displayVersion === displayVersion ? cached.sum : undefined;
    if (cached.displayVersion < since) return key === self ? followed(cached) : undefined;
    return removing && cached.displayVersion !== displayVersion ? undefined : cached.sum;
  };
  // The very array the sum was worked out for, the group's still, with members renamed since: each
  // rename moves the sum by its member's hash before and after, instead of hashing every member
  // again (42 ms for 50,000 members at each rename in an IdP's sync). Only for that array: with
  // members added or removed between, a change could concern a member the array before did not
  // list. (An array comes back only through a rollback, which undoes the changes made meanwhile
  // in reverse.)
  const followed = (cached: { displayVersion: number; sum: number }): number | undefined => {
    const changes = tenant.displayChangesSince(groupId, cached.displayVersion);
    if (!changes) return undefined;
    let sum = cached.sum;
    for (const { collection, value, before, after } of changes) {
      sum = (sum - memberHash(value, describeStored(collection, before)) + MODULUS) % MODULUS;
      sum = (sum + memberHash(value, describeStored(collection, after))) % MODULUS;
    }
    return sum;
  };
  // Back along the changes that made this array, to one whose sum is known (the store keeps at
  // most 64 of them in a row, see membersKeyOf).
  const chain: MembershipDelta[] = [];
  let at: MembersKey | undefined = self;
  let removing = false;
  let sum = known(at, removing);
  while (sum === undefined) {
    const delta: MembershipDelta | undefined = at?.delta;
    if (!delta) break;
    chain.push(delta);
    removing ||= delta.removed.length > 0;
    at = delta.from;
    sum = known(at, removing);
  }
  if (sum === undefined) {
    sum = 0;
    for (const member of members) sum = (sum + hashOf(member.value)) % MODULUS;
  } else {
    for (const delta of chain.reverse()) {
      for (const value of delta.removed) sum = (sum - hashOf(value) + MODULUS) % MODULUS;
      for (const member of delta.added) sum = (sum + hashOf(member.value)) % MODULUS;
    }
  }
  sums.set(self, { displayVersion, sum });
  // Known: the arrays before it are no longer needed to work it out.
  self.delta = undefined;
  self.depth = 0;
  return sum.toString(16).padStart(12, '0');
}

function memberHash(value: string, described: MemberDescription): number {
  // A member that names nothing (listed by an array read before its delete) is left out of the
  // answer (presentMembers), so it adds nothing to the digest of what the answer shows either.
  if (described === NOTHING) return 0;
  return hash48(`${described.type}\u0000${value}\u0000${String(described.display)}`);
}

/**
 * A 48-bit hash of a text (cyrb53's mixing, two 32-bit lanes). Written here: Node's crypto hashes
 * cost a call into C++ each, 100,000 of them for one group, and no kept library offers a small
 * non-cryptographic string hash worth a dependency. Collisions only risk a conditional GET's 304.
 */
function hash48(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ unit, 2654435761);
    h2 = Math.imul(h2 ^ unit, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return ((h2 >>> 0) % 65536) * 2 ** 32 + (h1 >>> 0);
}
