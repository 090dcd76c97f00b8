import { describe, expect, it } from 'vitest';
import { SCIM_URN } from '@shared/scim/urns';
import { ScimError } from '../../../src-main/scim/errors';
import { listResponse } from '../../../src-main/scim/list';
import { normalizePage, pageOf } from '../../../src-main/scim/paging';
import { sortAcrossTypes, sortResources } from '../../../src-main/scim/sort';
import type { ResourceData } from '../../../src-main/scim/values';
import { buildListResponse, groupSchema, ids, userSchema } from './helpers';

const users: ResourceData[] = [
  {
    id: 'c',
    userName: 'bob',
    name: { familyName: 'Zed' },
    emails: [{ value: 'z@x' }, { value: 'a@x', primary: true }],
    meta: { created: '2024-01-01T00:00:02Z', lastModified: '2024-01-01T02:00:00+02:00' },
  },
  {
    id: 'a',
    userName: 'Alice',
    name: { familyName: 'adams' },
    active: false,
    emails: [{ value: 'm@x' }],
    meta: { created: '2024-01-01T00:00:01Z', lastModified: '2024-01-01T00:30:00Z' },
  },
  { id: 'b', userName: 'alice2', active: true, meta: { created: '2024-01-01T00:00:01Z' } },
  {
    id: 'd',
    userName: 'ALICE',
    name: { familyName: 'Adams' },
    meta: { created: '2024-01-01T00:00:00Z', lastModified: '2024-01-01T00:15:00Z' },
  },
];

describe('sortResources (RFC 7644 §3.4.2.3)', () => {
  it('without sortBy: by meta.created, then id (a stable order)', () => {
    expect(ids(sortResources(users, userSchema))).toEqual(['d', 'a', 'b', 'c']);
  });
  it('sorts caseExact=false strings case-insensitively, ties by id', () => {
    expect(ids(sortResources(users, userSchema, { sortBy: 'userName' }))).toEqual(['a', 'd', 'b', 'c']);
    expect(ids(sortResources(users, userSchema, { sortBy: 'USERNAME', sortOrder: 'Descending' }))).toEqual([
      'c',
      'b',
      'a',
      'd',
    ]);
  });
  it('refuses to sort by an attribute that is never returned', () => {
    expect(() => sortResources(users, userSchema, { sortBy: 'password' })).toThrow(
      "sortBy 'password' is never returned, so nothing can be sorted by it.",
    );
  });
  it('puts missing values last ascending and first descending (RFC 7644 §3.4.2.3)', () => {
    expect(ids(sortResources(users, userSchema, { sortBy: 'name.familyName' }))).toEqual(['a', 'd', 'c', 'b']);
    expect(ids(sortResources(users, userSchema, { sortBy: 'name.familyName', sortOrder: 'descending' }))).toEqual([
      'b',
      'c',
      'a',
      'd',
    ]);
  });
  it('sorts several types as one list, an attribute a type lacks reading as absent there', () => {
    const people: ResourceData[] = [
      { id: 'u1', userName: 'bob', displayName: 'Bob' },
      { id: 'u2', userName: 'amy', displayName: 'amy' },
    ];
    const teams: ResourceData[] = [
      { id: 'g1', displayName: 'Zulu' },
      { id: 'g2', displayName: 'alpha' },
    ];
    const groups = [
      { schema: userSchema, resources: people },
      { schema: groupSchema, resources: teams },
    ];
    const order = (sortBy: string, sortOrder?: string) =>
      sortAcrossTypes(groups, { sortBy, sortOrder }).map((row) => `${row.group}:${String(row.resource.id)}`);
    expect(order('displayName')).toEqual(['1:g2', '0:u2', '0:u1', '1:g1']);
    expect(order('userName')).toEqual(['0:u2', '0:u1', '1:g1', '1:g2']);
    expect(order('userName', 'descending')).toEqual(['1:g1', '1:g2', '0:u1', '0:u2']);
    expect(() => order('shoeSize')).toThrow(/unknown attribute 'shoeSize'/);
  });
  it('sorts dateTime as instants', () => {
    // c's 02:00+02:00 is 00:00Z, the earliest.
    expect(ids(sortResources(users, userSchema, { sortBy: 'meta.lastModified' }))).toEqual(['c', 'd', 'a', 'b']);
  });
  it('sorts booleans false before true', () => {
    expect(ids(sortResources(users, userSchema, { sortBy: 'active' }))).toEqual(['a', 'b', 'c', 'd']);
  });
  it('uses the primary (else first) element of a multi-valued attribute', () => {
    expect(ids(sortResources(users, userSchema, { sortBy: 'emails.value' }))).toEqual(['c', 'a', 'b', 'd']);
    expect(ids(sortResources(users, userSchema, { sortBy: 'emails' }))).toEqual(['c', 'a', 'b', 'd']);
  });
  it('refuses unknown attributes and orders with invalidValue', () => {
    for (const request of [
      { sortBy: 'nosuch' },
      { sortBy: 'name' },
      { sortBy: 'userName', sortOrder: 'up' },
      { sortBy: 'emails[type eq "w"]' },
    ]) {
      let error: unknown;
      try {
        sortResources(users, userSchema, request);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ScimError);
      expect((error as ScimError).scimType).toBe('invalidValue');
    }
  });
  it('does not modify its input', () => {
    const copy = [...users];
    sortResources(users, userSchema, { sortBy: 'userName' });
    expect(users).toEqual(copy);
  });
});

describe('normalizePage (DESIGN.md §3)', () => {
  it.each([
    [{}, { startIndex: 1, count: 1000 }],
    [
      { startIndex: 0, count: 10 },
      { startIndex: 1, count: 10 },
    ],
    [{ startIndex: -5 }, { startIndex: 1, count: 1000 }],
    [
      { startIndex: '3', count: '0' },
      { startIndex: 3, count: 0 },
    ],
    [{ count: -1 }, { startIndex: 1, count: 0 }],
    [{ count: '5000' }, { startIndex: 1, count: 1000 }],
    [
      { count: ' 7 ', startIndex: '' },
      { startIndex: 1, count: 7 },
    ],
    [{ count: '99999999999999999999' }, { startIndex: 1, count: 1000 }],
    // JSON numbers (a .search body) beyond the safe integers are clamped like long digit strings.
    [{ startIndex: 1e30 }, { startIndex: Number.MAX_SAFE_INTEGER, count: 1000 }],
    [{ startIndex: '99999999999999999999' }, { startIndex: Number.MAX_SAFE_INTEGER, count: 1000 }],
    // Leading zeros are not significant digits: not clamped however many there are.
    [
      { startIndex: '0000000000000000002', count: '+00000000000000000000003' },
      { startIndex: 2, count: 3 },
    ],
    [{ count: '-0000000000000000000000' }, { startIndex: 1, count: 0 }],
    [
      { startIndex: -1e30, count: -1e30 },
      { startIndex: 1, count: 0 },
    ],
    // A JSON 1e400 parses as Infinity: an integer too, only further out.
    [
      { startIndex: Infinity, count: -Infinity },
      { startIndex: Number.MAX_SAFE_INTEGER, count: 0 },
    ],
  ])('%j → %j', (request, expected) => {
    expect(normalizePage(request)).toEqual(expected);
  });
  it('caps at the configured maxResults', () => {
    expect(normalizePage({ count: 50 }, 20)).toEqual({ startIndex: 1, count: 20 });
  });
  it('refuses non-integers with invalidValue', () => {
    expect(() => normalizePage({ count: 'ten' })).toThrow(/count must be an integer/);
    // A long run of zeros ending in a letter: refused at once. A pattern that backtracked over the
    // zeros took 34 s on this one, holding the server's event loop (the test's timeout catches it).
    expect(() => normalizePage({ count: `${'0'.repeat(200_000)}x` })).toThrow(
      `count must be an integer, not "${'0'.repeat(40)}…".`,
    );
    expect(() => normalizePage({ startIndex: 1.5 })).toThrow(/startIndex must be an integer/);
  });
  it('pageOf slices 1-based', () => {
    expect(pageOf([1, 2, 3, 4], { startIndex: 2, count: 2 })).toEqual([2, 3]);
    expect(pageOf([1, 2, 3, 4], { startIndex: 9, count: 2 })).toEqual([]);
  });
});

describe('ListResponse assembly (RFC 7644 §3.4.2)', () => {
  it('always carries totalResults, startIndex, itemsPerPage and Resources', () => {
    expect(listResponse([], 0, 1)).toEqual({
      schemas: [SCIM_URN.listResponse],
      totalResults: 0,
      startIndex: 1,
      itemsPerPage: 0,
      Resources: [],
    });
  });
  it('sorts, pages and projects', () => {
    const res = buildListResponse(users, userSchema, {
      sortBy: 'userName',
      startIndex: 2,
      count: 2,
      attributes: 'userName',
    });
    expect(res).toEqual({
      schemas: [SCIM_URN.listResponse],
      totalResults: 4,
      startIndex: 2,
      itemsPerPage: 2,
      Resources: [
        { schemas: [SCIM_URN.user], id: 'd', userName: 'ALICE' },
        { schemas: [SCIM_URN.user], id: 'b', userName: 'alice2' },
      ],
    });
  });
  it('count=0 gives totalResults only', () => {
    expect(buildListResponse(users, userSchema, { count: 0 })).toMatchObject({
      totalResults: 4,
      itemsPerPage: 0,
      Resources: [],
    });
  });
  it('count above maxResults is capped silently', () => {
    expect(buildListResponse(users, userSchema, { count: 3 }, 2)).toMatchObject({ totalResults: 4, itemsPerPage: 2 });
  });
});
