import { describe, expect, it } from 'vitest';
import { executePlan } from '../../../src-main/scim/execute-plan';
import { parseFilter } from '../../../src-main/scim/filter/parser';
import { createMemoryCandidateSource } from '../../../src-main/scim/memory-source';
import { DEFAULT_INDEXES, plan } from '../../../src-main/scim/plan';
import type { CandidatePlan } from '@shared/scim/index-keys';
import { findMatching } from '../../../src-main/scim/query';
import { FilterWork } from '../../../src-main/scim/filter/work';
import type { ResourceData } from '../../../src-main/scim/values';
import { groupSchema, ids, userSchema } from './helpers';

const lookup = (resource: 'User' | 'Group', index: string, key: string, match: 'eq' | 'prefix' = 'eq'): CandidatePlan =>
  ({ kind: 'lookup', lookup: { resource, index, match, key } }) as CandidatePlan;

describe('plan: which filters become index probes', () => {
  it.each([
    ['id eq "AbC"', lookup('User', 'id', 'AbC')],
    ['userName eq "BJensen"', lookup('User', 'userName', 'bjensen')],
    ['USERNAME EQ "BJensen"', lookup('User', 'userName', 'bjensen')],
    ['urn:ietf:params:scim:schemas:core:2.0:User:userName eq "X"', lookup('User', 'userName', 'x')],
    ['externalId eq "Ext"', lookup('User', 'externalId', 'Ext')],
    ['emails.value eq "A@B.C"', lookup('User', 'emails.value', 'a@b.c')],
    ['emails eq "A@B.C"', lookup('User', 'emails.value', 'a@b.c')],
    ['emails[type eq "work" and value eq "A@B.C"]', lookup('User', 'emails.value', 'a@b.c')],
    ['userName sw "J"', lookup('User', 'userName', 'j', 'prefix')],
    [
      'userName eq "a" or userName eq "b"',
      { kind: 'or', plans: [lookup('User', 'userName', 'a'), lookup('User', 'userName', 'b')] },
    ],
    ['userName eq "a" and title pr', lookup('User', 'userName', 'a')],
    [
      'userName eq "a" and (externalId eq "e" and id eq "i")',
      {
        kind: 'and',
        plans: [lookup('User', 'userName', 'a'), lookup('User', 'externalId', 'e'), lookup('User', 'id', 'i')],
      },
    ],
    ['userName eq "a" or title pr', { kind: 'scan' }],
    ['not (userName eq "a")', { kind: 'scan' }],
    ['userName ne "a"', { kind: 'scan' }],
    ['userName co "a"', { kind: 'scan' }],
    ['externalId sw "a"', { kind: 'scan' }],
    ['emails.type eq "work"', { kind: 'scan' }],
    ['title eq "a"', { kind: 'scan' }],
    ['userName eq null', { kind: 'scan' }],
  ])('User: %s', (filter, expected) => {
    expect(plan(parseFilter(filter), userSchema)).toEqual(expected);
  });

  it.each([
    ['displayName eq "Admins"', lookup('Group', 'displayName', 'admins')],
    ['members.value eq "U1"', lookup('Group', 'members.value', 'U1')],
    ['members[value eq "U1"]', lookup('Group', 'members.value', 'U1')],
    [
      'id eq "g" and members[value eq "u"]',
      { kind: 'and', plans: [lookup('Group', 'id', 'g'), lookup('Group', 'members.value', 'u')] },
    ],
    ['externalId eq "x"', lookup('Group', 'externalId', 'x')],
    ['displayName sw "A"', { kind: 'scan' }],
  ])('Group: %s', (filter, expected) => {
    expect(plan(parseFilter(filter), groupSchema)).toEqual(expected);
  });

  it('no filter is a scan', () => {
    expect(plan(undefined, userSchema)).toEqual({ kind: 'scan' });
  });

  it('does not plan a lookup when the index folding disagrees with the schema', () => {
    const folded = DEFAULT_INDEXES.map((i) => (i.index === 'externalId' ? { ...i, folded: true } : i));
    expect(plan(parseFilter('externalId eq "A"'), userSchema, folded)).toEqual({ kind: 'scan' });
  });
});

const users: ResourceData[] = [
  { id: 'u1', userName: 'Alice', externalId: 'e1', emails: [{ value: 'alice@x.test' }, { value: 'A@y.test' }] },
  { id: 'u2', userName: 'alfred', emails: [{ value: 'alf@x.test' }] },
  { id: 'u3', userName: 'bob', externalId: 'E1' },
];
const groups: ResourceData[] = [
  { id: 'g1', displayName: 'Admins', members: [{ value: 'u1' }, { value: 'u3' }] },
  { id: 'g2', displayName: 'admins', members: [{ value: 'u2' }] },
];
const source = createMemoryCandidateSource({ User: users, Group: groups });

describe('executePlan over the in-memory reference source', () => {
  it('answers eq lookups with folded keys and exact ones', () => {
    expect([...source.lookup({ resource: 'User', index: 'userName', match: 'eq', key: 'alice' })]).toEqual(['u1']);
    expect([...source.lookup({ resource: 'User', index: 'externalId', match: 'eq', key: 'E1' })]).toEqual(['u3']);
    expect([...source.lookup({ resource: 'User', index: 'emails.value', match: 'eq', key: 'a@y.test' })]).toEqual([
      'u1',
    ]);
    expect([...source.lookup({ resource: 'Group', index: 'displayName', match: 'eq', key: 'admins' })]).toEqual([
      'g1',
      'g2',
    ]);
  });

  it('answers prefix lookups from the sorted userName index', () => {
    expect(new Set(source.lookup({ resource: 'User', index: 'userName', match: 'prefix', key: 'al' }))).toEqual(
      new Set(['u1', 'u2']),
    );
    expect([...source.lookup({ resource: 'User', index: 'userName', match: 'prefix', key: 'z' })]).toEqual([]);
  });

  it('intersects and, unions or, enumerates scan', () => {
    const and = plan(parseFilter('id eq "g1" and members[value eq "u3"]'), groupSchema);
    expect(executePlan(and, source, 'Group')).toEqual(new Set(['g1']));
    const or = plan(parseFilter('userName eq "bob" or externalId eq "e1"'), userSchema);
    expect(executePlan(or, source, 'User')).toEqual(new Set(['u3', 'u1']));
    expect(executePlan({ kind: 'scan' }, source, 'User')).toEqual(new Set(['u1', 'u2', 'u3']));
  });

  it('findMatching re-checks candidates: a prefix candidate that fails the rest of the filter is dropped', () => {
    const load = (id: string) => users.find((u) => u['id'] === id);
    expect(
      ids(findMatching(parseFilter('userName sw "al" and emails.value ew "@y.test"'), userSchema, source, load)),
    ).toEqual(['u1']);
    expect(ids(findMatching(undefined, userSchema, source, load))).toEqual(['u1', 'u2', 'u3']);
  });

  it('counts only the time spent comparing, not the time a paused list spends loading resources', () => {
    let ms = 0;
    const work = new FilterWork(() => ms, 10, 1);
    for (let i = 0; i < 100; i++) {
      work.outside(() => (ms += 50)); // loading a resource: five seconds in all
      work.count();
    }
    ms += 11; // comparing: past the 10 ms budget
    expect(() => work.count()).toThrow(expect.objectContaining({ scimType: 'tooMany' }));
  });

  it('refuses with tooMany a list whose filter is still being matched when its time is up', () => {
    const load = (id: string) => users.find((u) => u['id'] === id);
    // A clock that moves 1 ms each time it is read, looked at after every comparison.
    const match = (filter: string, budgetMs: number) => {
      let ms = 0;
      const work = new FilterWork(() => ms++, budgetMs, 1);
      return findMatching(parseFilter(filter), userSchema, source, load, DEFAULT_INDEXES, { work });
    };
    // Four terms no index answers, each compared with the three users' userNames: twelve looks.
    const scanned = 'userName co "x" or userName co "y" or userName co "z" or userName co "w"';
    expect(() => match(scanned, 11)).toThrow(expect.objectContaining({ status: 400, scimType: 'tooMany' }));
    expect(match(scanned, 12)).toEqual([]);
    // The same number of terms answered by the indexes compares only the users they name.
    expect(ids(match('userName eq "alice" or userName eq "x" or userName eq "y" or userName eq "z"', 1))).toEqual([
      'u1',
    ]);
  });
});
