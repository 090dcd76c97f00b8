import { describe, expect, it } from 'vitest';
import rfc from '../../fixtures/rfc/rfc7644-3.4.2.2-filters.json';
import { CompatContext } from '../../../src-main/scim/compat';
import { checkKnownToSome, compileFilter } from '../../../src-main/scim/filter/evaluate';
import { parseFilter } from '../../../src-main/scim/filter/parser';
import { printFilter } from '../../../src-main/scim/filter/printer';
import type { ResourceData } from '../../../src-main/scim/values';
import { groupSchema, syntaxErrorOf, userSchema } from './helpers';
import { expectRefusedBy } from './patch-helpers';

const users = rfc.resources as ResourceData[];
function matching(filter: string, resources: readonly ResourceData[] = users, schema = userSchema): string[] {
  const predicate = compileFilter(parseFilter(filter), schema);
  return resources.filter(predicate).map((r) => String(r['id']));
}

describe('RFC 7644 §3.4.2.2 example filters (test/fixtures/rfc/rfc7644-3.4.2.2-filters.json)', () => {
  it.each(rfc.cases)('$filter', ({ filter, canonical, matches }) => {
    expect(matching(filter)).toEqual(matches);
    expect(printFilter(parseFilter(filter))).toBe(canonical);
  });

  it.each(rfc.invalid)('refuses $filter', ({ filter, position }) => {
    const err = syntaxErrorOf(() => parseFilter(filter));
    expect(err.scimType).toBe('invalidFilter');
    expect(err.position + 1).toBe(position);
  });
});

describe('case rules follow each attribute’s caseExact', () => {
  const rs: ResourceData[] = [
    { id: 'AbC', userName: 'Alice', externalId: 'Ext-1', emails: [{ value: 'Alice@Example.COM' }] },
    { id: 'abc', userName: 'bob', externalId: 'ext-1' },
  ];
  it('userName and emails.value ignore case; id and externalId do not', () => {
    expect(matching('userName eq "ALICE"', rs)).toEqual(['AbC']);
    expect(matching('emails.value ew "example.com"', rs)).toEqual(['AbC']);
    expect(matching('id eq "abc"', rs)).toEqual(['abc']);
    expect(matching('externalId eq "ext-1"', rs)).toEqual(['abc']);
    expect(matching('externalId sw "Ext"', rs)).toEqual(['AbC']);
  });
  it('finds a Greek name by its beginning and its end in any case (a final Σ lower-cases to ς)', () => {
    const greek: ResourceData[] = [{ id: 'g', userName: 'ΚΟΣΜΟΣ', emails: [{ value: 'ΚΟΣΜΟΣ@x.test' }] }];
    expect(matching('userName sw "ΚΟΣ"', greek)).toEqual(['g']);
    expect(matching('userName co "ΟΣ"', greek)).toEqual(['g']);
    expect(matching('userName eq "κοσμοσ"', greek)).toEqual(['g']);
    expect(matching('emails.value eq "κοσμοσ@x.test"', greek)).toEqual(['g']);
  });
  it('orders strings by code unit after folding for gt/lt', () => {
    expect(matching('userName gt "B"', rs)).toEqual(['abc']);
    expect(matching('userName lt "B"', rs)).toEqual(['AbC']);
  });
  it('folds Unicode consistently (NFC, then lower case)', () => {
    const r: ResourceData[] = [{ id: '1', userName: 'Jos\u0065\u0301' }];
    expect(matching('userName eq "JOS\u00c9"', r)).toEqual(['1']);
  });
});

describe('dateTime compares as instants (RFC 7643 §2.3.5)', () => {
  const rs: ResourceData[] = [
    { id: 'a', meta: { lastModified: '2024-01-01T12:00:00+02:00' } },
    { id: 'b', meta: { lastModified: '2024-01-01T10:00:00.001Z' } },
    { id: 'c', meta: { lastModified: 'not a date' } },
    { id: 'd', meta: { lastModified: '2024-01-01T10:00:00' } },
  ];
  it('matches equal instants written differently, and orders by time', () => {
    expect(matching('meta.lastModified eq "2024-01-01T10:00:00Z"', rs)).toEqual(['a', 'd']);
    expect(matching('meta.lastModified gt "2024-01-01T10:00:00Z"', rs)).toEqual(['b']);
    expect(matching('meta.lastModified le "2024-01-01T11:00:00+01:00"', rs)).toEqual(['a', 'd']);
  });
  it('compares fractional seconds past the millisecond, to the microsecond', () => {
    const server: ResourceData[] = [{ id: 's', meta: { created: '2026-12-03T19:58:32.281Z' } }];
    expect(matching('meta.created lt "2026-12-03T19:58:32.2819Z"', server)).toEqual(['s']);
    expect(matching('meta.created eq "2026-12-03T19:58:32.2819Z"', server)).toEqual([]);
    expect(matching('meta.created eq "2026-12-03T19:58:32.281000Z"', server)).toEqual(['s']);
    expect(matching('meta.created ge "2026-12-03T19:58:32.2811Z"', server)).toEqual([]);
    const precise: ResourceData[] = [
      { id: 'p1', meta: { created: '2026-12-03T19:58:32.281001' } },
      { id: 'p2', meta: { created: '2026-12-03T21:58:32.2810009+02:00' } },
    ];
    // The seventh digit (.NET's ticks) is past the microsecond: p2 reads as .281000.
    expect(matching('meta.created gt "2026-12-03T19:58:32.281Z"', precise)).toEqual(['p1']);
  });
  it('refuses a comparison value that is not a dateTime, and co/sw/ew', () => {
    expect(syntaxErrorOf(() => matching('meta.lastModified gt "yesterday"', rs)).reason).toMatch(/xsd:dateTime/);
    expect(syntaxErrorOf(() => matching('meta.lastModified sw "2024"', rs)).reason).toMatch(
      /does not apply to dateTime/,
    );
  });
});

describe('attributes never returned', () => {
  it('cannot be filtered on: matching nothing would read as "nobody has one", and a match tests a guess', () => {
    for (const filter of ['password eq "hunter2"', 'password pr', 'userName eq "a" or not (password pr)']) {
      const err = syntaxErrorOf(() => compileFilter(parseFilter(filter), userSchema));
      expect(err.scimType).toBe('invalidFilter');
      expect(err.message).toContain("'password' is never returned, so it cannot be filtered on");
    }
  });
});

describe('multi-valued and complex attributes', () => {
  const rs: ResourceData[] = [
    { id: 'g1', displayName: 'Admins', members: [{ value: 'u1' }, { value: 'u2' }] },
    { id: 'g2', displayName: 'Staff', members: [{ value: 'u2' }] },
    { id: 'g3', displayName: 'Empty', members: [] },
  ];
  it('match when any element matches', () => {
    expect(matching('members.value eq "u1"', rs, groupSchema)).toEqual(['g1']);
    expect(matching('members eq "u2"', rs, groupSchema)).toEqual(['g1', 'g2']);
    expect(matching('members[value eq "u2"]', rs, groupSchema)).toEqual(['g1', 'g2']);
  });
  it('read ne as "not eq": groups u1 is not in, including empty ones', () => {
    expect(matching('members.value ne "u1"', rs, groupSchema)).toEqual(['g2', 'g3']);
  });
  it('pr is false for empty arrays and empty strings', () => {
    expect(matching('members pr', rs, groupSchema)).toEqual(['g1', 'g2']);
  });
  it('eq null means absent, ne null present', () => {
    expect(matching('title eq null', [{ id: 'x', title: 'T' }, { id: 'y' }])).toEqual(['y']);
    expect(matching('title ne null', [{ id: 'x', title: 'T' }, { id: 'y' }])).toEqual(['x']);
  });
  it('reads extension attributes under their URN, with or without the prefix', () => {
    const ent = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
    const rs2: ResourceData[] = [{ id: 'e', [ent]: { department: 'Sales', manager: { value: 'm1' } } }, { id: 'f' }];
    expect(matching(`${ent}:department eq "sales"`, rs2)).toEqual(['e']);
    expect(matching('department eq "SALES"', rs2)).toEqual(['e']);
    expect(matching(`${ent.toUpperCase()}:manager.value eq "m1"`, rs2)).toEqual(['e']);
    expect(matching(`not (${ent}:manager pr)`, rs2)).toEqual(['f']);
  });
  it('applies a value filter to a singular complex attribute as one element', () => {
    expect(
      matching('name[givenName eq "Ann" and familyName pr]', [
        { id: 'n', name: { givenName: 'ann', familyName: 'Lee' } },
      ]),
    ).toEqual(['n']);
  });
});

describe('booleans and numbers', () => {
  const rs: ResourceData[] = [{ id: 't', active: true }, { id: 'f', active: false }, { id: 'n' }];
  it('active eq true / false; ne is not eq', () => {
    expect(matching('active eq true', rs)).toEqual(['t']);
    expect(matching('active eq FALSE', rs)).toEqual(['f']);
    expect(matching('active ne true', rs)).toEqual(['f', 'n']);
  });
  it('accepts "true"/"false" strings for booleans, as the compatible profile does', () => {
    expect(matching('active eq "True"', rs)).toEqual(['t']);
  });
  it('follows the booleanStrings flag when given the request’s flags', () => {
    const under = (profile: 'compatible' | 'strict', filter: string) => {
      const compat = CompatContext.forProfile(profile);
      const matched = rs.filter(compileFilter(parseFilter(filter), userSchema, { compat })).map((r) => r['id']);
      return { matched, fired: compat.fired };
    };
    expect(under('compatible', 'active ne "FALSE"')).toEqual({ matched: ['t', 'n'], fired: ['booleanStrings'] });
    expect(under('strict', 'active eq true')).toEqual({ matched: ['t'], fired: [] });
    const refused = expectRefusedBy(() => under('strict', 'userName pr and active eq "TRUE"'), 'booleanStrings');
    expect(refused).toMatchObject({ status: 400, scimType: 'invalidFilter' });
    expect(refused.message).toMatch(/^Invalid filter at position 17: 'active' is boolean; .* not the string "TRUE"/);
    // Not a boolean in any spelling: invalidFilter whatever the flags, and no flag to name.
    expect(syntaxErrorOf(() => under('compatible', 'active eq "yes"')).reason).toMatch(/compare it with true or false/);
  });
  it('refuses ordering and substring operators on booleans (RFC 7644 §3.4.2.2)', () => {
    expect(syntaxErrorOf(() => matching('active gt true', rs)).reason).toMatch(/boolean; only eq, ne and pr/);
    expect(syntaxErrorOf(() => matching('active co "t"', rs)).scimType).toBe('invalidFilter');
  });
});

describe('schema-level errors are invalidFilter with the position of the path', () => {
  it.each([
    ['userName eq "a" and nosuch eq "x"', 20, /unknown attribute 'nosuch'/],
    ['emails[nosuch eq "x"]', 7, /'emails' has no sub-attribute 'nosuch'/],
    ['userName[value eq "x"]', 0, /not a complex attribute/],
    ['userName eq 5', 0, /compare it with a "quoted string"/],
    ['name eq "x"', 0, /complex; compare one of its sub-attributes/],
    ['urn:example:params:scim:schemas:extension:x:2.0:User:foo eq "x"', 0, /unknown attribute/],
    ['userName gt null', 0, /cannot compare with null/],
    ['x509Certificates.value co "MII"', 0, /binary; only eq, ne and pr/],
    ['emails[urn:x:type eq "work"]', 7, /inside \[ \]/],
  ])('%s', (filter, position, reason) => {
    const err = syntaxErrorOf(() => compileFilter(parseFilter(filter), userSchema));
    expect(err.scimType).toBe('invalidFilter');
    expect(err.position).toBe(position);
    expect(err.reason).toMatch(reason);
  });

  it('a Group attribute is unknown on Users and vice versa', () => {
    expect(() => compileFilter(parseFilter('members pr'), userSchema)).toThrow(/unknown attribute 'members'/);
    expect(() => compileFilter(parseFilter('userName pr'), groupSchema)).toThrow(/unknown attribute 'userName'/);
  });
});

describe('across resource types, an attribute a type lacks reads as absent (RFC 7644 §3.4.2.1)', () => {
  const group: ResourceData = { id: 'g1', displayName: 'G1', members: [{ value: 'u1' }] };
  const across = (filter: string) => compileFilter(parseFilter(filter), groupSchema, { unknownAsAbsent: true })(group);

  it.each([
    ['displayName eq "G1" or userName sw "b"', true],
    ['userName sw "b"', false],
    ['userName pr', false],
    ['not (userName pr)', true],
    ['userName ne "bjensen"', true],
    ['userName eq null', true],
    ['userName ne null', false],
    ['emails[type eq "work"]', false],
    ['members pr and not (emails pr)', true],
  ])('%s on a group: %s', (filter, expected) => {
    expect(across(filter)).toBe(expected);
  });

  it('still refuses such a filter on one type, and a sub-attribute the type’s attribute lacks', () => {
    expect(syntaxErrorOf(() => compileFilter(parseFilter('userName pr'), groupSchema))).toMatchObject({
      scimType: 'invalidFilter',
    });
    expect(
      syntaxErrorOf(() => compileFilter(parseFilter('members[nope eq "x"]'), groupSchema, { unknownAsAbsent: true })),
    ).toMatchObject({ scimType: 'invalidFilter' });
  });

  it('refuses an attribute that no type has (a typo), naming it', () => {
    const check = (filter: string) => () => checkKnownToSome(parseFilter(filter), [userSchema, groupSchema]);
    expect(check('members pr or userName sw "b"')).not.toThrow();
    expect(syntaxErrorOf(check('displayName pr or usrName sw "b"'))).toMatchObject({
      scimType: 'invalidFilter',
      message: expect.stringContaining('usrName'),
    });
  });
});

describe('$ref in a filter', () => {
  it('is read in any case, as every attribute name is', () => {
    const groups: ResourceData[] = [
      { id: 'g1', displayName: 'A', members: [{ value: 'u1', $ref: 'https://x.test/Users/u1' }] },
      { id: 'g2', displayName: 'B', members: [{ value: 'u2' }] },
    ];
    expect(matching('members.$REF pr', groups, groupSchema)).toEqual(['g1']);
    expect(matching('members[$Ref ew "/u1"]', groups, groupSchema)).toEqual(['g1']);
  });
});
