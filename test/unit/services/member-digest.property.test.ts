import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { membersDigest } from '../../../src-main/services/identities/member-digest';
import type { MemberValue } from '../../../src-main/store/documents';
import { DISPLAY_CHANGES_KEPT, StoreState } from '../../../src-main/store/state';
import { TenantView, Transaction } from '../../../src-main/store/transaction';

const T = 't1';
// The last of each is made only by a step: the store's ids are never given twice, so no step
// makes one that was deleted (an array read before the deletion still lists it).
const USERS = ['u0', 'u1', 'u2', 'u3'];
const GROUPS = ['g0', 'g1', 'g2'];
const NAMES = ['Ann', 'Bo'];

/** What can happen to a tenant between two reads of a group's digest, straight on the store. */
const step = fc.oneof(
  fc.record({
    kind: fc.constant('renameUser' as const),
    id: fc.constantFrom(...USERS),
    name: fc.constantFrom(...NAMES),
  }),
  fc.record({
    kind: fc.constant('renameGroup' as const),
    id: fc.constantFrom(...GROUPS),
    name: fc.constantFrom(...NAMES),
  }),
  fc.record({
    kind: fc.constant('add' as const),
    group: fc.constantFrom(...GROUPS),
    member: fc.constantFrom(...USERS, ...GROUPS),
  }),
  fc.record({
    kind: fc.constant('remove' as const),
    group: fc.constantFrom(...GROUPS),
    member: fc.constantFrom(...USERS, ...GROUPS),
  }),
  // Deleted as the service deletes (then out of every group), or that undone by a rollback.
  fc.record({
    kind: fc.constant('delete' as const),
    id: fc.constantFrom(...USERS, ...GROUPS),
    rolledBack: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('create' as const),
    id: fc.constantFrom(...USERS, ...GROUPS),
    name: fc.constantFrom(...NAMES),
  }),
  // In one transaction: a member added, renamed, the group read between, all kept or undone.
  fc.record({
    kind: fc.constant('addAndRename' as const),
    group: fc.constantFrom(...GROUPS),
    member: fc.constantFrom(...USERS),
    name: fc.constantFrom(...NAMES),
    rolledBack: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('read' as const), group: fc.constantFrom(...GROUPS) }),
  // An answer built after later writes, from the group as it was (its members array then).
  fc.record({ kind: fc.constant('readEarlier' as const), group: fc.constantFrom(...GROUPS), back: fc.nat(8) }),
);

type Step = typeof step extends fc.Arbitrary<infer S> ? S : never;

/** A member removed, then renamed: the group no longer shows it, and its old sum still holds its old name. */
const REMOVED_THEN_RENAMED: Step[] = [
  { kind: 'add', group: 'g0', member: 'u0' },
  { kind: 'read', group: 'g0' },
  { kind: 'remove', group: 'g0', member: 'u0' },
  { kind: 'renameUser', id: 'u0', name: 'Ann' },
];

function freshTenant(): StoreState {
  const state = new StoreState();
  state.apply({
    op: 'tenant.put',
    tenant: { id: T, name: 'T', created_at: '2024-01-01T00:00:00Z', delete_mode: 'delete' },
  });
  for (const id of USERS.slice(0, -1))
    state.apply({ op: 'put', tenant: T, collection: 'users', id, doc: { id, userName: id } });
  for (const id of GROUPS.slice(0, -1))
    state.apply({ op: 'put', tenant: T, collection: 'groups', id, doc: { id, displayName: id } });
  return state;
}

describe("a group's member digest", () => {
  it('worked out from what it knew is what working it out afresh gives, whatever happened between', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60, size: 'max' }), (steps) => {
        const state = freshTenant();
        const tenant = state.tenants.get(T)!;
        const view = new TenantView(tenant);
        const membersOf = (group: string): readonly MemberValue[] =>
          tenant.collections.groups.get(group)?.members ?? [];
        const exists = (id: string) => tenant.collections[id.startsWith('u') ? 'users' : 'groups'].has(id);
        const seen = new Map<string, (readonly MemberValue[])[]>();
        const gone = new Set<string>();
        const check = (group: string, members = membersOf(group)) => {
          // A copy is an array the digest has never seen: it hashes every member as it is now.
          const digest = membersDigest(view, group, members);
          expect(digest).toBe(membersDigest(view, group, [...members]));
          // An earlier array may list a member deleted since, which its answer leaves out
          // (presentMembers): the digest is of the members shown (ETag probe: a PATCH answered
          // after a member's delete carried a tag of no representation).
          expect(digest).toBe(
            membersDigest(
              view,
              group,
              members.filter(({ value }) => exists(value)),
            ),
          );
          seen.set(group, [...(seen.get(group) ?? []), members]);
        };
        for (const s of steps) {
          switch (s.kind) {
            case 'renameUser':
            case 'renameGroup':
              if (exists(s.id))
                state.apply({
                  op: 'merge',
                  tenant: T,
                  collection: s.kind === 'renameUser' ? 'users' : 'groups',
                  id: s.id,
                  set: { displayName: s.name },
                  unset: [],
                });
              break;
            case 'add':
              // The service takes only members that exist, and no group in itself.
              if (!exists(s.group) || !exists(s.member) || s.group === s.member) break;
              state.apply({ op: 'members', tenant: T, group: s.group, add: [{ value: s.member }], remove: [] });
              break;
            case 'remove':
              if (!exists(s.group)) break;
              state.apply({ op: 'members', tenant: T, group: s.group, add: [], remove: [s.member] });
              break;
            case 'delete': {
              const collection = s.id.startsWith('u') ? 'users' : 'groups';
              if (!tenant.collections[collection].has(s.id)) break;
              const tx = new Transaction(state, tenant);
              const listing = tx.groupsOf(s.id);
              tx.delete(collection, s.id);
              for (const group of listing) tx.changeMembers(group, { remove: [s.id] });
              if (s.rolledBack) tx.rollback();
              else gone.add(s.id);
              break;
            }
            case 'create':
              if (gone.has(s.id)) break;
              if (s.id.startsWith('u') && !tenant.collections.users.has(s.id))
                state.apply({
                  op: 'put',
                  tenant: T,
                  collection: 'users',
                  id: s.id,
                  doc: { id: s.id, userName: s.id, displayName: s.name },
                });
              if (s.id.startsWith('g') && !tenant.collections.groups.has(s.id))
                state.apply({
                  op: 'put',
                  tenant: T,
                  collection: 'groups',
                  id: s.id,
                  doc: { id: s.id, displayName: s.name },
                });
              break;
            case 'addAndRename': {
              if (!exists(s.group) || !exists(s.member)) break;
              const tx = new Transaction(state, tenant);
              tx.changeMembers(s.group, { add: [{ value: s.member }] });
              tx.merge('users', s.member, { displayName: s.name });
              check(s.group);
              if (s.rolledBack) tx.rollback();
              break;
            }
            case 'read':
              check(s.group);
              break;
            case 'readEarlier': {
              const earlier = seen.get(s.group) ?? [];
              if (earlier.length > 0) check(s.group, earlier[earlier.length - 1 - (s.back % earlier.length)]);
            }
          }
        }
        for (const group of GROUPS) if (exists(group)) check(group);
      }),
      { numRuns: 1000, examples: [[REMOVED_THEN_RENAMED]] },
    );
  });

  it('follows more renames than the store keeps for a group by working it out afresh', () => {
    const state = freshTenant();
    const tenant = state.tenants.get(T)!;
    const view = new TenantView(tenant);
    state.apply({ op: 'members', tenant: T, group: 'g0', add: [{ value: 'u0' }, { value: 'u1' }], remove: [] });
    const members = tenant.collections.groups.get('g0')!.members!;
    membersDigest(view, 'g0', members);
    for (let i = 0; i <= DISPLAY_CHANGES_KEPT; i++)
      state.apply({
        op: 'merge',
        tenant: T,
        collection: 'users',
        id: `u${i % 2}`,
        set: { displayName: `n${i}` },
        unset: [],
      });
    expect(view.displayChangesSince('g0', 0)).toBeUndefined();
    expect(membersDigest(view, 'g0', members)).toBe(membersDigest(view, 'g0', [...members]));
  });

  it("reads only the renamed member, not the group's other members, after a rename", () => {
    const state = freshTenant();
    const tenant = state.tenants.get(T)!;
    const many = Array.from({ length: 1000 }, (_, i) => `m${i}`);
    for (const id of many) state.apply({ op: 'put', tenant: T, collection: 'users', id, doc: { id, userName: id } });
    state.apply({ op: 'members', tenant: T, group: 'g0', add: many.map((value) => ({ value })), remove: [] });
    const members = tenant.collections.groups.get('g0')!.members!;
    const view = new TenantView(tenant);
    const reads: string[] = [];
    const counting = Object.create(view, {
      get: {
        value: (collection: 'users' | 'groups', id: string) => {
          if (id.startsWith('m')) reads.push(id);
          return view.get(collection, id);
        },
      },
    }) as TenantView;
    const before = membersDigest(counting, 'g0', members);
    expect(reads).toHaveLength(1000);
    reads.length = 0;
    state.apply({ op: 'merge', tenant: T, collection: 'users', id: 'm7', set: { displayName: 'Renamed' }, unset: [] });
    const after = membersDigest(counting, 'g0', members);
    expect(reads.length).toBeLessThan(10);
    expect(after).not.toBe(before);
    expect(after).toBe(membersDigest(view, 'g0', [...members]));
  });

  it('stays known through a rename of a user the group does not list', () => {
    const state = freshTenant();
    const tenant = state.tenants.get(T)!;
    const view = new TenantView(tenant);
    state.apply({ op: 'members', tenant: T, group: 'g0', add: [{ value: 'u0' }], remove: [] });
    const members = tenant.collections.groups.get('g0')!.members!;
    const before = membersDigest(view, 'g0', members);
    const listed = view.displayVersionOf('g0');
    state.apply({ op: 'merge', tenant: T, collection: 'users', id: 'u1', set: { displayName: 'Zed' }, unset: [] });
    expect(view.displayVersionOf('g0')).toBe(listed);
    expect(membersDigest(view, 'g0', members)).toBe(before);
    state.apply({ op: 'merge', tenant: T, collection: 'users', id: 'u0', set: { displayName: 'Zed' }, unset: [] });
    expect(view.displayVersionOf('g0')).toBeGreaterThan(listed);
    expect(membersDigest(view, 'g0', members)).not.toBe(before);
  });
});
