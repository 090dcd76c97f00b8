/**
 * The indexes must answer exactly what a full scan answers, after any sequence of changes, including
 * transactions that roll back and a rebuild from a snapshot (what a restart does).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foldKey, type IndexLookup } from '@shared/scim/index-keys';
import type { GroupDoc, UserDoc } from '../../../src-main/store/documents';
import { membersKeyOf, StoreState } from '../../../src-main/store/state';
import { Transaction } from '../../../src-main/store/transaction';

const T = 't1';
const userIds = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6'];
const groupIds = ['g1', 'g2', 'g3'];
const names = ['alice', 'Alice', 'ALICE', 'al', 'bob', 'Bób', 'b', 'İstanbul', 'ǅemal'];
const emails = ['a@x.io', 'A@X.io', 'b@x.io', 'ß@x.io'];
const exts = ['e1', 'E1', 'e2'];

const user = fc.record(
  {
    id: fc.constantFrom(...userIds),
    userName: fc.constantFrom(...names),
    externalId: fc.constantFrom(...exts),
    emails: fc.array(fc.record({ value: fc.constantFrom(...emails) }, { requiredKeys: [] }), { maxLength: 3 }),
  },
  { requiredKeys: ['id', 'userName'] },
);
const memberValue = fc.constantFrom(...userIds, ...groupIds, 'ghost');
const group = fc.record(
  {
    id: fc.constantFrom(...groupIds),
    displayName: fc.constantFrom(...names),
    externalId: fc.constantFrom(...exts),
    members: fc.array(fc.record({ value: memberValue }), { maxLength: 5 }),
  },
  { requiredKeys: ['id', 'displayName'] },
);

type Change =
  | { kind: 'putUser'; doc: UserDoc }
  | { kind: 'putGroup'; doc: GroupDoc }
  | { kind: 'delete'; collection: 'users' | 'groups'; id: string }
  | { kind: 'members'; group: string; add: string[]; remove: string[] }
  | { kind: 'removeEverywhere'; value: string }
  | { kind: 'rename'; id: string; userName: string }
  | { kind: 'renameGroup'; id: string; displayName: string; externalId: string | undefined };

const change: fc.Arbitrary<Change> = fc.oneof(
  user.map((doc) => ({ kind: 'putUser' as const, doc })),
  group.map((doc) => ({ kind: 'putGroup' as const, doc })),
  fc.record({
    kind: fc.constant('delete' as const),
    collection: fc.constantFrom('users' as const, 'groups' as const),
    id: fc.constantFrom(...userIds, ...groupIds),
  }),
  fc.record({
    kind: fc.constant('members' as const),
    group: fc.constantFrom(...groupIds),
    add: fc.array(memberValue, { maxLength: 3 }),
    remove: fc.array(memberValue, { maxLength: 3 }),
  }),
  fc.record({ kind: fc.constant('removeEverywhere' as const), value: memberValue }),
  fc.record({
    kind: fc.constant('rename' as const),
    id: fc.constantFrom(...userIds),
    userName: fc.constantFrom(...names),
  }),
  // A change beside the members, which keeps the members array (the store's fast path).
  fc.record({
    kind: fc.constant('renameGroup' as const),
    id: fc.constantFrom(...groupIds),
    displayName: fc.constantFrom(...names),
    externalId: fc.option(fc.constantFrom(...exts), { nil: undefined }),
  }),
);

/** A transaction: some changes, and whether it throws at the end (and so must leave no trace). */
const transaction = fc.record({ changes: fc.array(change, { minLength: 1, maxLength: 4 }), aborts: fc.boolean() });

function run(tx: Transaction, c: Change): void {
  switch (c.kind) {
    case 'putUser':
      tx.put('users', c.doc);
      return;
    case 'putGroup':
      tx.put('groups', c.doc);
      return;
    case 'delete':
      tx.delete(c.collection, c.id);
      return;
    case 'members':
      if (tx.get('groups', c.group))
        tx.changeMembers(c.group, { add: c.add.map((value) => ({ value })), remove: c.remove });
      return;
    case 'removeEverywhere':
      tx.removeFromAllGroups(c.value);
      return;
    case 'rename':
      if (tx.get('users', c.id)) tx.merge('users', c.id, { userName: c.userName });
      return;
    case 'renameGroup':
      if (tx.get('groups', c.id))
        tx.merge('groups', c.id, { displayName: c.displayName, ...(c.externalId ? { externalId: c.externalId } : {}) });
      return;
  }
}

const sorted = (ids: Iterable<string>) => [...ids].sort();

/** The state's content regardless of map order (list order is not significant). */
function content(state: StoreState): string {
  const tenant = state.tenants.get(T);
  const byId = (docs: Iterable<{ id: string }>) => [...docs].sort((a, b) => (a.id < b.id ? -1 : 1));
  return JSON.stringify([
    byId(tenant?.collections.users.values() ?? []),
    byId(tenant?.collections.groups.values() ?? []),
  ]);
}

function probes(): IndexLookup[] {
  const keys = [
    ...new Set(
      [...names, ...emails, ...exts, ...userIds, ...groupIds, 'ghost', 'a', 'al', ''].flatMap((k) => [k, foldKey(k)]),
    ),
  ];
  const out: IndexLookup[] = [];
  for (const key of keys) {
    for (const index of ['id', 'userName', 'externalId', 'emails.value'] as const)
      out.push({ resource: 'User', index, match: 'eq', key });
    for (const index of ['id', 'displayName', 'externalId', 'members.value'] as const)
      out.push({ resource: 'Group', index, match: 'eq', key });
    out.push({ resource: 'User', index: 'userName', match: 'prefix', key });
  }
  return out;
}
const PROBES = probes();

/** The answer a full scan gives. */
function scan(state: StoreState, lookup: IndexLookup): string[] {
  const tenant = state.tenants.get(T);
  if (!tenant) return [];
  const { key } = lookup;
  if (lookup.resource === 'User') {
    const users = [...tenant.collections.users.values()];
    const hit = (u: UserDoc): boolean => {
      switch (lookup.index) {
        case 'id':
          return u.id === key;
        case 'userName':
          return lookup.match === 'prefix' ? foldKey(u.userName).startsWith(key) : foldKey(u.userName) === key;
        case 'externalId':
          return u.externalId === key;
        case 'emails.value':
          return (u.emails ?? []).some((e) => e.value !== undefined && foldKey(e.value) === key);
        default:
          return true;
      }
    };
    return sorted(users.filter(hit).map((u) => u.id));
  }
  const groups = [...tenant.collections.groups.values()];
  const hit = (g: GroupDoc): boolean => {
    switch (lookup.index) {
      case 'id':
        return g.id === key;
      case 'displayName':
        return foldKey(g.displayName) === key;
      case 'externalId':
        return g.externalId === key;
      case 'members.value':
        return (g.members ?? []).some((m) => m.value === key);
      default:
        return true;
    }
  };
  return sorted(groups.filter(hit).map((g) => g.id));
}

function expectIndexesExact(state: StoreState): void {
  const tenant = state.tenants.get(T);
  if (!tenant) throw new Error('tenant missing');
  for (const lookup of PROBES) {
    expect(sorted(tenant.indexes.lookup(lookup)), JSON.stringify(lookup)).toEqual(scan(state, lookup));
  }
  for (const value of [...userIds, ...groupIds, 'ghost']) {
    expect(sorted(tenant.indexes.groupsOf(value))).toEqual(
      scan(state, { resource: 'Group', index: 'members.value', match: 'eq', key: value }),
    );
  }
}

function freshState(): StoreState {
  const state = new StoreState();
  state.apply({
    op: 'tenant.put',
    tenant: { id: T, name: 'T', created_at: '2024-01-01T00:00:00Z', delete_mode: 'delete' },
  });
  return state;
}

describe('tenant indexes', () => {
  it('answer what a full scan answers after random change sequences, rollbacks and a rebuild', () => {
    fc.assert(
      fc.property(fc.array(transaction, { maxLength: 25 }), (transactions) => {
        const state = freshState();
        for (const { changes, aborts } of transactions) {
          const tenant = state.tenants.get(T);
          if (!tenant) throw new Error('tenant missing');
          const before = content(state);
          const tx = new Transaction(state, tenant);
          for (const c of changes) run(tx, c);
          if (aborts) {
            tx.rollback();
            expect(content(state)).toBe(before);
          }
          expectIndexesExact(state);
        }
        // What a restart does: rebuild from the captured snapshot.
        const rebuilt = StoreState.fromSnapshot(JSON.parse(JSON.stringify(state.capture(0))));
        expectIndexesExact(rebuilt);
        for (const lookup of PROBES) {
          expect(sorted(rebuilt.tenants.get(T)?.indexes.lookup(lookup) ?? [])).toEqual(scan(state, lookup));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('answers lookups it has no index for with every id (a superset the evaluator re-checks)', () => {
    const state = freshState();
    const tenant = state.tenants.get(T);
    if (!tenant) throw new Error('tenant missing');
    const tx = new Transaction(state, tenant);
    tx.put('users', { id: 'u1', userName: 'a' });
    tx.put('groups', { id: 'g1', displayName: 'G' });
    expect(sorted(tenant.indexes.lookup({ resource: 'User', index: 'displayName', match: 'eq', key: 'x' }))).toEqual([
      'u1',
    ]);
    expect(
      sorted(tenant.indexes.lookup({ resource: 'Group', index: 'displayName', match: 'prefix', key: 'x' })),
    ).toEqual(['g1']);
    expect(sorted(tenant.indexes.all('User'))).toEqual(['u1']);
  });
});

describe('identities version', () => {
  const record = (id: string) => ({ id, name: id, created_at: '2024-01-01T00:00:00Z', delete_mode: 'delete' as const });
  const version = (state: StoreState, id = T) => state.tenants.get(id)?.identitiesVersion as number;

  it('changes with every user or group change, membership included, and not with tokens', () => {
    const state = freshState();
    const seen = new Set([version(state)]);
    const step = (op: Parameters<StoreState['apply']>[0], changes: boolean) => {
      const before = version(state);
      state.apply(op);
      if (changes) {
        expect(seen.has(version(state))).toBe(false);
        seen.add(version(state));
      } else expect(version(state)).toBe(before);
    };
    step({ op: 'put', tenant: T, collection: 'users', id: 'u1', doc: { id: 'u1', userName: 'a' } }, true);
    step({ op: 'put', tenant: T, collection: 'groups', id: 'g1', doc: { id: 'g1', displayName: 'g' } }, true);
    step({ op: 'members', tenant: T, group: 'g1', add: [{ value: 'u1' }], remove: [] }, true);
    step({ op: 'merge', tenant: T, collection: 'users', id: 'u1', set: { active: false }, unset: [] }, true);
    step({ op: 'delete', tenant: T, collection: 'users', id: 'u1' }, true);
    const token = {
      id: 'k1',
      tenant_id: T,
      name: 'k',
      token_hash: 'h',
      token_prefix: 'p',
      created_at: '2024-01-01T00:00:00Z',
      expires_at: null,
      last_used_at: null,
      revoked_at: null,
    };
    step({ op: 'put', tenant: T, collection: 'scimTokens', id: 'k1', doc: token }, false);
    step({ op: 'merge', tenant: T, collection: 'scimTokens', id: 'k1', set: { last_used_at: 'x' }, unset: [] }, false);
  });

  it('has a display version that changes only when a member could show another name', () => {
    const state = freshState();
    const display = () => state.tenants.get(T)?.displayVersion as number;
    const step = (op: Parameters<StoreState['apply']>[0], changes: boolean) => {
      const before = display();
      state.apply(op);
      if (changes) expect(display()).not.toBe(before);
      else expect(display()).toBe(before);
    };
    // New users and groups are nobody's members: nothing shown changes.
    step({ op: 'put', tenant: T, collection: 'users', id: 'u1', doc: { id: 'u1', userName: 'a' } }, false);
    step({ op: 'put', tenant: T, collection: 'groups', id: 'g1', doc: { id: 'g1', displayName: 'g' } }, false);
    step({ op: 'members', tenant: T, group: 'g1', add: [{ value: 'u1' }], remove: [] }, false);
    // One that a group lists already is one a rollback puts back: it changes what g1 shows.
    step({ op: 'members', tenant: T, group: 'g1', add: [{ value: 'u2' }], remove: [] }, false);
    step({ op: 'put', tenant: T, collection: 'users', id: 'u2', doc: { id: 'u2', userName: 'b' } }, true);
    step({ op: 'merge', tenant: T, collection: 'users', id: 'u1', set: { active: false }, unset: [] }, false);
    step({ op: 'merge', tenant: T, collection: 'users', id: 'u1', set: { displayName: 'A' }, unset: [] }, true);
    step({ op: 'merge', tenant: T, collection: 'users', id: 'u1', set: { userName: 'c' }, unset: [] }, true);
    step({ op: 'merge', tenant: T, collection: 'groups', id: 'g1', set: { displayName: 'h' }, unset: [] }, true);
    step({ op: 'delete', tenant: T, collection: 'users', id: 'u1' }, true);
  });

  it('keeps at most 64 membership changes of a group behind its members, and none of its old arrays', () => {
    const state = freshState();
    state.apply({
      op: 'put',
      tenant: T,
      collection: 'groups',
      id: 'g1',
      doc: { id: 'g1', displayName: 'g', members: [{ value: 'a' }, { value: 'a' }, { value: 'b' }] },
    });
    const members = () => state.tenants.get(T)!.collections.groups.get('g1')!.members!;
    state.apply({ op: 'members', tenant: T, group: 'g1', add: [], remove: ['a'] });
    // Each element dropped is told: a value stored twice went twice.
    expect(membersKeyOf(members()).delta?.removed).toEqual(['a', 'a']);
    for (let i = 0; i < 100; i++)
      state.apply({ op: 'members', tenant: T, group: 'g1', add: [{ value: `m${i}` }], remove: [] });
    let behind = 0;
    for (let key = membersKeyOf(members()).delta?.from; key; key = key.delta?.from) behind++;
    expect(behind).toBeLessThanOrEqual(64);
  });

  it('never repeats across tenants, nor for a tenant deleted and made again', () => {
    const state = freshState();
    const first = version(state);
    state.apply({ op: 'tenant.put', tenant: record('t2') });
    expect(version(state, 't2')).not.toBe(first);
    state.apply({ op: 'tenant.delete', tenant: T });
    state.apply({ op: 'tenant.put', tenant: record(T) });
    expect([first, version(state, 't2')]).not.toContain(version(state));
  });
});
