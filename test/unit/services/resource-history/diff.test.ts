import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyChanges,
  changedAttributes,
  diffResources,
  type Json,
  type JsonObject,
} from '../../../../src-main/services/resource-history/diff';

/** JSON as it comes back from disk (no -0, no undefined). */
const normalize = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

const id = fc.constantFrom('u1', 'u2', 'u3', 'u4', 'g1', 'g2');
const email = fc.record(
  {
    value: fc.constantFrom('a@x.example', 'b@x.example', 'c@x.example'),
    type: fc.constantFrom('work', 'home'),
    primary: fc.boolean(),
  },
  { requiredKeys: ['value'] },
);
const member = fc.record(
  { value: id, display: fc.constantFrom('Ann', 'Bob'), type: fc.constant('User') },
  { requiredKeys: ['value'] },
);
const user = fc.record(
  {
    schemas: fc.subarray([
      'urn:ietf:params:scim:schemas:core:2.0:User',
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
    ]),
    id,
    userName: fc.string({ maxLength: 6 }),
    name: fc.record(
      { givenName: fc.string({ maxLength: 4 }), familyName: fc.string({ maxLength: 4 }) },
      { requiredKeys: [] },
    ),
    emails: fc.array(email, { maxLength: 4 }),
    groups: fc.array(fc.record({ value: id, display: fc.string({ maxLength: 3 }) }), { maxLength: 3 }),
    active: fc.boolean(),
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': fc.record(
      { employeeNumber: fc.string({ maxLength: 4 }), manager: fc.record({ value: id }) },
      { requiredKeys: [] },
    ),
    meta: fc.record({ version: fc.string({ maxLength: 4 }), lastModified: fc.constant('2024-05-01T10:00:00Z') }),
  },
  { requiredKeys: ['id'] },
);
const group = fc.record(
  {
    schemas: fc.constant(['urn:ietf:params:scim:schemas:core:2.0:Group']),
    id,
    displayName: fc.string({ maxLength: 5 }),
    members: fc.array(member, { maxLength: 8 }),
  },
  { requiredKeys: ['id'] },
);
const anyObject = fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 });

describe('diffResources / applyChanges', () => {
  it.each([
    ['users', user],
    ['groups', group],
    ['arbitrary JSON objects', anyObject],
  ] as const)('reproduces the new version from the old one (%s)', (_name, arbitrary) => {
    fc.assert(
      fc.property(arbitrary, arbitrary, (a, b) => {
        const before = normalize(a) as JsonObject;
        const after = normalize(b) as JsonObject;
        const frozen = structuredClone(before);
        expect(applyChanges(before, diffResources(before, after))).toEqual(after);
        expect(before).toEqual(frozen);
      }),
      { numRuns: 400 },
    );
  });

  it('records nothing for equal resources', () => {
    fc.assert(
      fc.property(user, (a) => {
        expect(diffResources(normalize(a) as JsonObject, normalize(a) as JsonObject)).toEqual([]);
      }),
    );
  });

  it('records one element when one member joins a large group', () => {
    const members = Array.from({ length: 10_000 }, (_, i) => ({ value: `user-${i}`, display: `User ${i}` }));
    const before = { id: 'g', displayName: 'All', members };
    const after = {
      ...before,
      members: [...members.slice(0, 5000), { value: 'new', display: 'New' }, ...members.slice(5000)],
    };
    const changes = diffResources(before, after);
    expect(changes).toEqual([
      {
        op: 'elements',
        path: ['members'],
        removed: [],
        added: [{ index: 5000, value: { value: 'new', display: 'New' } }],
      },
    ]);
    expect(applyChanges(before, changes)).toEqual(after);
    const removal = diffResources(after, before);
    expect(removal).toEqual([
      {
        op: 'elements',
        path: ['members'],
        removed: [{ index: 5000, value: { value: 'new', display: 'New' } }],
        added: [],
      },
    ]);
  });

  it('diffs sub-attributes and extension attributes by path', () => {
    const ext = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
    const before: JsonObject = {
      userName: 'a',
      name: { givenName: 'Ann', familyName: 'Lee' },
      [ext]: { manager: { value: 'm1' } },
    };
    const after: JsonObject = {
      userName: 'a',
      name: { givenName: 'Anne' },
      [ext]: { manager: { value: 'm2' } },
      active: false,
    };
    expect(diffResources(before, after)).toEqual([
      { op: 'unset', path: ['name', 'familyName'] },
      { op: 'set', path: ['name', 'givenName'], value: 'Anne' },
      { op: 'set', path: [ext, 'manager', 'value'], value: 'm2' },
      { op: 'set', path: ['active'], value: false },
    ]);
    expect(changedAttributes(diffResources(before, after))).toEqual(['active', 'name', ext]);
  });

  it('treats a member whose display changed as one removal and one addition', () => {
    const before = {
      members: [
        { value: 'u1', display: 'Ann' },
        { value: 'u2', display: 'Bob' },
      ],
    };
    const after = {
      members: [
        { value: 'u1', display: 'Ann' },
        { value: 'u2', display: 'Robert' },
      ],
    };
    expect(diffResources(before, after)).toEqual([
      {
        op: 'elements',
        path: ['members'],
        removed: [{ index: 1, value: { value: 'u2', display: 'Bob' } }],
        added: [{ index: 1, value: { value: 'u2', display: 'Robert' } }],
      },
    ]);
  });

  it('handles duplicates and reordering', () => {
    const cases: [Json[], Json[]][] = [
      [
        ['x', 'y', 'x'],
        ['y', 'x'],
      ],
      [
        ['x', 'y', 'x'],
        ['x', 'y'],
      ],
      [
        ['a', 'b', 'c'],
        ['c', 'b', 'a'],
      ],
      [[], ['a', 'a']],
      [
        ['y', 'x', 'z', 'x'],
        ['y', 'z', 'x'],
      ],
      [
        ['x', 'x', 'y', 'x'],
        ['x', 'y', 'x', 'x'],
      ],
    ];
    for (const [a, b] of cases) expect(applyChanges({ v: a }, diffResources({ v: a }, { v: b }))).toEqual({ v: b });
  });
});
