import { describe, expect, it } from 'vitest';
import { compatFlags } from '@shared/scim/compat-flags';
import { SCIM_URN } from '@shared/scim/urns';
import { CompatContext } from '../../../src-main/scim/compat';
import { applyPatch, parsePatchRequest } from '../../../src-main/scim/patch';
import { PatchListBudget } from '../../../src-main/scim/patch/engine';
import { ScimSyntaxError } from '../../../src-main/scim/filter/syntax-error';
import { userSchema } from './helpers';
import { ENTERPRISE, expectRefusedBy, group, patch, patchBody, scimErrorOf, user } from './patch-helpers';

const errorOf = (fn: () => unknown) => {
  const e = scimErrorOf(fn);
  return { status: e.status, scimType: e.scimType, detail: e.message };
};

describe('request validation (RFC 7644 §3.5.2): invalidSyntax', () => {
  it.each([
    ['not an object', []],
    ['no Operations', { schemas: [SCIM_URN.patchOp] }],
    ['an operation that is not an object', patchBody('add')],
    ['an unknown op', patchBody({ op: 'merge', path: 'title', value: 'x' })],
    ['add without value', patchBody({ op: 'add', path: 'title' })],
    ['replace without value', patchBody({ op: 'replace' })],
    ['op not a string', patchBody({ op: 1, path: 'title', value: 'x' })],
  ])('%s', (_, body) => {
    const e = errorOf(() => applyPatch(user(), body, { schema: userSchema, compat: compatFlags() }));
    expect(e).toMatchObject({ status: 400, scimType: 'invalidSyntax' });
  });
  it('empty Operations where emptyPatchAccepted is off (strict)', () => {
    const e = errorOf(() => applyPatch(user(), patchBody(), { schema: userSchema, compat: compatFlags('strict') }));
    expect(e).toMatchObject({ status: 400, scimType: 'invalidSyntax' });
    expect(e.detail).toContain('The PatchOp request has no operations (compatibility flag "emptyPatchAccepted" is off');
  });
  it('a sub-attribute of a multi-valued attribute without a filter is invalidPath, with an example that fits it', () => {
    const members = errorOf(() => patch(group(), [{ op: 'remove', path: 'members.value' }]));
    expect(members).toMatchObject({ status: 400, scimType: 'invalidPath' });
    // A member has no "work" type: it is chosen by its value.
    expect(members.detail).toContain('e.g. members[value eq "..."].value');
    const emails = errorOf(() => patch(user(), [{ op: 'replace', path: 'emails.value', value: 'x@y.com' }]));
    expect(emails.detail).toContain('e.g. emails[type eq "work"].value');
  });
  it('its own URN padded with a space is a loose envelope, not another message', () => {
    const body = { schemas: [` ${SCIM_URN.patchOp}`], Operations: [{ op: 'replace', path: 'title', value: 'x' }] };
    expect(applyPatch(user(), body, { schema: userSchema, compat: compatFlags() }).resource['title']).toBe('x');
    const strict = scimErrorOf(() => applyPatch(user(), body, { schema: userSchema, compat: compatFlags('strict') }));
    expect(strict.message).toContain('"patchEnvelopeLenient"');
  });
  it('a non-string path is invalidPath', () => {
    expect(errorOf(() => patch(user(), [{ op: 'add', path: 7, value: 'x' }]))).toMatchObject({
      scimType: 'invalidPath',
    });
  });
  it('path null is a path-less operation (seed 001: path string | null)', () => {
    expect(patch(user(), [{ op: 'replace', path: null, value: { title: 'x' } }]).resource['title']).toBe('x');
  });
  it('parsePatchRequest normalises ops and records fired flags in the context', () => {
    const ctx = new CompatContext(compatFlags());
    const body = patchBody({ op: 'ADD', path: 'title', value: 'x' }, { op: 'remove', path: 'title' });
    const ops = parsePatchRequest(body, ctx);
    expect(ops).toEqual([
      { op: 'add', path: 'title', value: 'x', hasValue: true },
      { op: 'remove', path: 'title', hasValue: false },
    ]);
    expect(ctx.fired).toEqual(['opCaseInsensitive']);
    expect(applyPatch(user(), body, { schema: userSchema, compat: ctx }).changed).toEqual([]);
  });
});

describe('members a PatchOp does not define', () => {
  const strict = () => new CompatContext(compatFlags('strict'));
  it('are refused under strictSchemaValidation, named, in the message and in an operation', () => {
    const e = expectRefusedBy(
      () => parsePatchRequest(patchBody({ op: 'add', path: 'title', vaule: 'x' }), strict()),
      'strictSchemaValidation',
      'invalidSyntax',
    );
    expect(e.message).toContain('Operation 1 has "vaule", which it does not define (it takes op, path, value)');
    const extra = { ...patchBody({ op: 'add', path: 'title', value: 'x' }), extra: true };
    expect(expectRefusedBy(() => parsePatchRequest(extra, strict()), 'strictSchemaValidation').message).toContain(
      'The PatchOp request has "extra"',
    );
  });
  it('are ignored otherwise, and a known member in another case is the flag its spelling names', () => {
    const body = { ...patchBody({ op: 'add', path: 'title', value: 'x', foo: 1 }), extra: true };
    expect(parsePatchRequest(body, new CompatContext(compatFlags()))).toEqual([
      { op: 'add', path: 'title', value: 'x', hasValue: true },
    ]);
    expectRefusedBy(
      () => parsePatchRequest(patchBody({ op: 'add', Path: 'title', value: 'x' }), strict()),
      'patchEnvelopeLenient',
    );
  });
});

describe('paths', () => {
  it('malformed paths are invalidPath with a position', () => {
    for (const path of [
      '',
      'emails[type eq "work"',
      'name..givenName',
      'a b',
      'emails[type eq]',
      '__proto__.x',
      'x:y',
    ]) {
      const e = scimErrorOf(() => patch(user(), [{ op: 'add', path, value: 'x' }]));
      expect(e, path).toBeInstanceOf(ScimSyntaxError);
      expect(e.scimType, path).toBe('invalidPath');
    }
  });
  it('a sub-attribute of a multi-valued attribute needs a filter', () => {
    expect(errorOf(() => patch(user(), [{ op: 'replace', path: 'emails.value', value: 'x' }]))).toMatchObject({
      scimType: 'invalidPath',
    });
  });
  it('a filter on a singular attribute (without singularValuePath), or naming an unknown sub-attribute, is invalidPath', () => {
    const singular = [{ op: 'replace', path: 'name[givenName eq "x"]', value: {} }];
    expect(errorOf(() => patch(user(), singular, 'strict'))).toMatchObject({ scimType: 'invalidPath' });
    // With it, the filter is read, and here matches nothing.
    expect(errorOf(() => patch(user(), singular))).toMatchObject({ scimType: 'noTarget' });
    expect(errorOf(() => patch(user(), [{ op: 'remove', path: 'emails[colour eq "red"]' }]))).toMatchObject({
      scimType: 'invalidPath',
    });
  });
  it('names are case-insensitive (RFC 7643 §2.1), stored in schema spelling', () => {
    const r = patch(user(), [
      { op: 'replace', path: 'NAME.GIVENNAME', value: 'Babs' },
      { op: 'replace', path: 'Emails[TYPE eq "work"].VALUE', value: 'babs@example.com' },
      { op: 'add', path: `${ENTERPRISE.toUpperCase()}:DEPARTMENT`, value: 'Tour' },
    ]);
    expect(r.resource['name']).toEqual({ givenName: 'Babs', familyName: 'Jensen' });
    expect(r.resource['emails']).toEqual([
      { value: 'babs@example.com', type: 'work', primary: true },
      { value: 'babs@jensen.org', type: 'home' },
    ]);
    expect(r.resource[ENTERPRISE]).toEqual({ department: 'Tour' });
    expect(r.changed).toEqual(['name', 'emails', `${ENTERPRISE}:department`]);
  });
  it('core-URN-qualified paths resolve to core attributes', () => {
    expect(patch(user(), [{ op: 'replace', path: `${SCIM_URN.user}:title`, value: 'Guide' }]).resource['title']).toBe(
      'Guide',
    );
  });
});

describe('mutability (RFC 7643 §7)', () => {
  it.each([
    ['id', { op: 'replace', path: 'id', value: 'other' }],
    ['meta', { op: 'replace', path: 'meta.version', value: 'W/"x"' }],
    ['groups', { op: 'add', path: 'groups', value: [{ value: 'g1' }] }],
    ['remove id', { op: 'remove', path: 'id' }],
    ['manager.displayName', { op: 'replace', path: `${ENTERPRISE}:manager.displayName`, value: 'x' }],
  ])('readOnly %s is refused', (_, op) => {
    expect(errorOf(() => patch(user(), [op]))).toMatchObject({ status: 400, scimType: 'mutability' });
  });
  it('immutable members.value cannot change on an existing member, but new members may set it', () => {
    expect(
      errorOf(() => patch(group(), [{ op: 'replace', path: 'members[value eq "m1"].value', value: 'm9' }])),
    ).toMatchObject({
      scimType: 'mutability',
    });
    expect(errorOf(() => patch(group(), [{ op: 'remove', path: 'members[value eq "m1"].type' }]))).toMatchObject({
      scimType: 'mutability',
    });
    expect(
      errorOf(() => patch(group(), [{ op: 'replace', path: 'members[value eq "m1"].display', value: 'x' }])),
    ).toMatchObject({
      scimType: 'mutability',
    });
    expect(
      patch(group(), [{ op: 'add', path: 'members', value: [{ value: 'm3', type: 'Group' }] }]).resource['members'],
    ).toContainEqual({ value: 'm3', type: 'Group' });
  });
  it('readOnly sub-attributes inside a written value are dropped and reported', () => {
    const r = patch(group([]), [{ op: 'add', path: 'members', value: [{ value: 'm1', display: 'Babs' }] }]);
    expect(r.resource['members']).toEqual([{ value: 'm1' }]);
    expect(r.ignored).toEqual([
      { operation: 1, target: 'members.display', reason: expect.stringContaining('readOnly') },
    ]);
  });
  it('a written value with nothing writable in it says which sub-attributes count', () => {
    expect(
      errorOf(() => patch(group([]), [{ op: 'add', path: 'members', value: [{ display: 'Babs' }] }])),
    ).toMatchObject({
      scimType: 'invalidValue',
      detail: `Operation 1 (add members): a value of 'members' needs at least one of value, $ref, type; got {"display":"Babs"}`,
    });
  });
  it('required attributes cannot be removed: mutability (RFC 7644 §3.5.2.2), blank is invalidValue', () => {
    expect(errorOf(() => patch(user(), [{ op: 'remove', path: 'userName' }]))).toMatchObject({
      scimType: 'mutability',
    });
    expect(errorOf(() => patch(group(), [{ op: 'replace', path: 'displayName', value: null }]))).toMatchObject({
      scimType: 'mutability',
    });
    expect(errorOf(() => patch(user(), [{ op: 'replace', path: 'userName', value: ' ' }]))).toMatchObject({
      scimType: 'invalidValue',
    });
    // An empty string is as blank as a space, whichever way the PATCH says it.
    expect(errorOf(() => patch(user(), [{ op: 'replace', path: 'userName', value: '' }]))).toMatchObject({
      scimType: 'invalidValue',
      detail: "Required attribute 'userName' must not be empty.",
    });
    expect(errorOf(() => patch(group(), [{ op: 'replace', value: { displayName: '' } }]))).toMatchObject({
      scimType: 'invalidValue',
    });
  });
  it('password is writeOnly: writable, reported without its value', () => {
    const r = patch(user({ password: 'scrypt$old' }), [{ op: 'replace', path: 'password', value: 'n3w!' }]);
    expect(r.resource['password']).toBe('n3w!');
    expect(r.changes).toEqual([{ attribute: 'password', multiValued: false, redacted: true }]);
  });
});

describe('values', () => {
  it.each([
    ['a number for a string', { op: 'replace', path: 'title', value: 5 }],
    ['a string for a boolean', { op: 'replace', path: 'active', value: 'yes' }],
    ['an object for a string', { op: 'replace', path: 'userName', value: { a: 1 } }],
    ['a bad dateTime', { op: 'add', path: 'x509Certificates', value: [{ value: 'not base64!' }] }],
    ['a non-object element', { op: 'add', path: 'emails', value: ['a@b'] }],
    ['an element with no known sub-attribute', { op: 'add', path: 'emails', value: [{ colour: 'red' }] }],
    ['a path-less value that is not an object', { op: 'add', value: 'x' }],
    ['an extension that is not an object', { op: 'add', path: ENTERPRISE, value: 'x' }],
    ['schemas naming an unknown URN', { op: 'add', value: { schemas: ['urn:x'] } }],
  ])('%s is invalidValue', (_, op) => {
    expect(errorOf(() => patch(user(), [op]))).toMatchObject({ status: 400, scimType: 'invalidValue' });
  });
  it('schemas is derived, so a valid write is ignored', () => {
    const r = patch(user(), [{ op: 'replace', path: 'schemas', value: [SCIM_URN.user] }]);
    expect(r.changed).toEqual([]);
    expect(r.ignored[0]?.target).toBe('schemas');
  });
});

describe('attribute names given twice', () => {
  it.each([
    ['a core attribute', { displayName: 'a', DISPLAYNAME: 'b' }],
    ['an extension attribute', { [ENTERPRISE]: { department: 'a', DEPARTMENT: 'b' } }],
    ['an extension', { [ENTERPRISE]: { department: 'a' }, [ENTERPRISE.toUpperCase()]: { department: 'b' } }],
    ['a core attribute and its URN path', { displayName: 'a', [`${SCIM_URN.user}:displayName`]: 'b' }],
    ['an extension attribute by name and in its extension', { department: 'a', [ENTERPRISE]: { department: 'b' } }],
  ])('refuses %s under two spellings in a path-less value, as POST does', (_what, value) => {
    const error = scimErrorOf(() => patch(user(), [{ op: 'replace', value }]));
    expect(error).toMatchObject({ status: 400, scimType: 'invalidSyntax' });
    expect(error.message).toContain('is given twice');
  });
});

describe('add (RFC 7644 §3.5.2.1)', () => {
  it('gives a value that replaces a filtered one the defaults POST gives it', () => {
    const replaced = patch(user(), [
      { op: 'replace', path: 'emails[type eq "home"]', value: { value: 'n@x.org', type: 'home' } },
    ]);
    expect(replaced.resource['emails']).toContainEqual({ value: 'n@x.org', type: 'home', primary: false });
  });
  it('finds a value without an identity that POST stored with its defaults: adding it again is no change', () => {
    const stored = user({ addresses: [{ locality: 'Paris', type: 'work', primary: false }] });
    const again = patch(stored, [{ op: 'add', path: 'addresses', value: [{ locality: 'Paris', type: 'work' }] }]);
    expect(again.changed).toEqual([]);
    expect(again.resource['addresses']).toEqual([{ locality: 'Paris', type: 'work', primary: false }]);
    // Added again as primary, it is marked so, not stored twice (as an email is).
    const marked = patch(stored, [
      { op: 'add', path: 'addresses', value: [{ locality: 'Paris', type: 'work', primary: true }] },
    ]);
    expect(marked.resource['addresses']).toEqual([{ locality: 'Paris', type: 'work', primary: true }]);
    const added = patch(stored, [{ op: 'add', path: 'emails', value: [{ value: 'c@x.org' }] }]);
    expect((added.resource['emails'] as { value: string; primary?: boolean }[]).at(-1)).toEqual({
      value: 'c@x.org',
      primary: false,
    });
  });
  it('merges into multi-valued attributes without duplicates, by value (case rules per attribute)', () => {
    const r = patch(user(), [
      { op: 'add', path: 'emails', value: [{ value: 'BJENSEN@example.com' }, { value: 'n@x.org' }] },
    ]);
    expect(r.resource['emails']).toEqual([
      { value: 'bjensen@example.com', type: 'work', primary: true },
      { value: 'babs@jensen.org', type: 'home' },
      // A new value gets the defaults POST gives it.
      { value: 'n@x.org', primary: false },
    ]);
    // members.value is caseExact: another case is another member.
    expect(
      (patch(group(), [{ op: 'add', path: 'members', value: [{ value: 'M1' }] }]).resource['members'] as unknown[])
        .length,
    ).toBe(3);
  });
  it('dedups within one value list, and batches of many values', () => {
    const many = Array.from({ length: 50 }, (_, i) => ({ value: `n${i % 25}` }));
    const r = patch(group(), [{ op: 'add', path: 'members', value: [...many, { value: 'm1' }] }]);
    expect((r.resource['members'] as unknown[]).length).toBe(27);
    expect(r.changes[0]?.added).toHaveLength(25);
  });
  it('an existing value is updated in place with the new sub-attributes', () => {
    const r = patch(user(), [
      { op: 'add', path: 'emails', value: [{ value: 'babs@jensen.org', type: 'home', display: 'Babs' }] },
    ]);
    expect(r.resource['emails']).toEqual([
      { value: 'bjensen@example.com', type: 'work', primary: true },
      { value: 'babs@jensen.org', type: 'home', display: 'Babs' },
    ]);
  });
  it('a value of the same address with another type is another value, added beside it', () => {
    const r = patch(user(), [{ op: 'add', path: 'emails', value: [{ value: 'BABS@jensen.org', type: 'other' }] }]);
    expect(r.resource['emails']).toEqual([
      { value: 'bjensen@example.com', type: 'work', primary: true },
      { value: 'babs@jensen.org', type: 'home' },
      { value: 'BABS@jensen.org', type: 'other', primary: false },
    ]);
    // Of the two, the one with the type given is the one marked primary; added again, nothing.
    const marked = patch(r.resource, [
      { op: 'add', path: 'emails', value: [{ value: 'babs@jensen.org', type: 'other', primary: true }] },
    ]);
    expect(marked.resource['emails']).toEqual([
      { value: 'bjensen@example.com', type: 'work', primary: false },
      { value: 'babs@jensen.org', type: 'home' },
      { value: 'BABS@jensen.org', type: 'other', primary: true },
    ]);
    const again = patch(marked.resource, [
      { op: 'add', path: 'emails', value: [{ value: 'babs@jensen.org', type: 'other' }] },
    ]);
    expect(again.resource['emails']).toEqual(marked.resource['emails']);
  });
  it("a list's values that differ only in the case of a case-insensitive value are one value", () => {
    const r = patch(user(), [
      {
        op: 'replace',
        path: 'emails',
        value: [
          { value: 'x@y.com', type: 'home' },
          { value: 'X@Y.COM', type: 'home' },
        ],
      },
    ]);
    expect(r.resource['emails']).toEqual([{ value: 'x@y.com', type: 'home', primary: false }]);
    expect(r.ignored.map((i) => i.target)).toEqual(['emails']);
  });
  it('a value added again with its case-insensitive sub-attributes in another case changes nothing', () => {
    const r = patch(user(), [{ op: 'add', path: 'emails', value: [{ value: 'BJENSEN@EXAMPLE.COM', type: 'WORK' }] }]);
    // RFC 7644 §3.5.2.1: already contained, so no change (and no new version).
    expect(r.changed).toEqual([]);
    expect(r.resource['emails']).toEqual(user()['emails']);
    // Nor is a list of two such values two values.
    const listed = patch(user(), [
      {
        op: 'replace',
        path: 'emails',
        value: [
          { value: 'x@y.com', type: 'home' },
          { value: 'x@y.com', type: 'HOME' },
        ],
      },
    ]);
    expect(listed.resource['emails']).toEqual([{ value: 'x@y.com', type: 'home', primary: false }]);
    // A value with no `value` sub-attribute (an address) is the same whole in any case, too.
    const address = { type: 'work', streetAddress: '1 Main St', primary: false };
    const housed = user({ addresses: [address] });
    const again = patch(housed, [
      { op: 'add', path: 'addresses', value: [{ type: 'WORK', streetAddress: '1 MAIN ST' }] },
    ]);
    expect(again.changed).toEqual([]);
    const twice = patch(housed, [
      {
        op: 'replace',
        path: 'addresses',
        value: [
          { type: 'home', locality: 'Oslo' },
          { type: 'HOME', locality: 'OSLO' },
        ],
      },
    ]);
    expect(twice.resource['addresses']).toEqual([{ type: 'home', locality: 'Oslo', primary: false }]);
  });
  it('a singular attribute is replaced; a complex one merged', () => {
    const r = patch(user(), [
      { op: 'add', path: 'title', value: 'Guide' },
      { op: 'add', path: 'name', value: { middleName: 'J' } },
    ]);
    expect(r.resource['name']).toEqual({ givenName: 'Barbara', familyName: 'Jensen', middleName: 'J' });
  });
  it('a sub-attribute path creates its complex attribute', () => {
    const r = patch(user({ name: undefined }), [{ op: 'add', path: 'name.givenName', value: 'B' }]);
    expect(r.resource['name']).toEqual({ givenName: 'B' });
  });
  it('an extension by its URN, path-less or as the path', () => {
    const a = patch(user(), [
      { op: 'add', value: { [ENTERPRISE]: { employeeNumber: '42', manager: { value: 'm' } } } },
    ]);
    expect(a.resource[ENTERPRISE]).toEqual({ employeeNumber: '42', manager: { value: 'm' } });
    expect(a.resource['schemas']).toEqual([SCIM_URN.user, ENTERPRISE]);
    expect(a.fired).toEqual([]);
    const b = patch(user(), [{ op: 'add', path: ENTERPRISE, value: { costCenter: 'c1' } }]);
    expect(b.resource[ENTERPRISE]).toEqual({ costCenter: 'c1' });
  });
  it("a dotted key inside an extension's object is the path under its URN (pathlessDottedKeys)", () => {
    const ops = [{ op: 'replace', value: { [ENTERPRISE]: { 'manager.value': 'boss', department: 'R&D' } } }];
    const r = patch(user(), ops, 'entra');
    // It was ignored as "not an attribute", and the manager not set.
    expect(r.resource[ENTERPRISE]).toEqual({ manager: { value: 'boss' }, department: 'R&D' });
    expect(r.fired).toEqual(['pathlessDottedKeys']);
    // Strict refuses it by the flag, naming the key as given.
    const refused = expectRefusedBy(() => patch(user(), ops, 'strict'), 'pathlessDottedKeys', 'invalidValue');
    expect(refused.message).toContain("the key 'manager.value' is an attribute path");
  });
  it('a new manager replaces the stale $ref; the same manager merges', () => {
    const before = user({
      schemas: [SCIM_URN.user, ENTERPRISE],
      [ENTERPRISE]: { manager: { value: 'm1', $ref: '../Users/m1', displayName: 'Old' } },
    });
    const changed = patch(before, [{ op: 'replace', path: `${ENTERPRISE}:manager`, value: { value: 'm2' } }]);
    expect(changed.resource[ENTERPRISE]).toEqual({ manager: { value: 'm2' } });
    const same = patch(before, [{ op: 'replace', path: `${ENTERPRISE}:manager.$ref`, value: '../Users/m1?x' }]);
    expect(same.resource[ENTERPRISE]).toEqual({ manager: { value: 'm1', $ref: '../Users/m1?x', displayName: 'Old' } });
    const upper = patch(before, [{ op: 'replace', path: `${ENTERPRISE}:manager.$REF`, value: '../Users/m1?x' }]);
    expect(upper.resource[ENTERPRISE]).toEqual(same.resource[ENTERPRISE]);
  });
});

describe('removing a manager only while it is the one named', () => {
  const managed = user({
    schemas: [SCIM_URN.user, ENTERPRISE],
    [ENTERPRISE]: { manager: { value: 'm2' }, department: 'R&D' },
  });
  const managerPath = `${ENTERPRISE}:manager`;

  it('Entra\'s manager[value eq "id"]: removes the manager it names, and leaves another', () => {
    for (const path of [`${managerPath}[value eq "m2"]`, 'manager[value eq "m2"]']) {
      const r = patch(managed, [{ op: 'Remove', path }], 'entra');
      expect(r.resource[ENTERPRISE]).toEqual({ department: 'R&D' });
      expect(r.fired).toContain('singularValuePath');
    }
    const stale = patch(managed, [{ op: 'remove', path: `${managerPath}[value eq "m1"]` }]);
    expect(stale.resource).toEqual(managed);
    expect(stale.ignored).toEqual([
      expect.objectContaining({ reason: expect.stringContaining('does not match [value eq "m1"]; nothing to remove') }),
    ]);
    // A replace through such a path changes the manager it names, and no other.
    const renamed = patch(managed, [{ op: 'replace', path: `${managerPath}[value eq "m2"]`, value: { value: 'm3' } }]);
    expect(renamed.resource[ENTERPRISE]).toEqual({ manager: { value: 'm3' }, department: 'R&D' });
    expect(
      scimErrorOf(() =>
        patch(managed, [{ op: 'replace', path: `${managerPath}[value eq "m1"]`, value: { value: 'm3' } }]),
      ),
    ).toMatchObject({ scimType: 'noTarget' });
    // Okta sends no such path; there, and in strict, it is refused by the flag.
    for (const profile of ['okta', 'strict'] as const) {
      expectRefusedBy(
        () => patch(managed, [{ op: 'remove', path: `${managerPath}[value eq "m2"]` }], profile),
        'singularValuePath',
        'invalidPath',
      );
    }
    // A filter on a simple attribute is no path at all.
    expect(scimErrorOf(() => patch(managed, [{ op: 'remove', path: 'title[value eq "x"]' }]))).toMatchObject({
      scimType: 'invalidPath',
    });
  });

  it('a remove with a value removes the manager only if it is one given; without one, whatever it is', () => {
    // A stale removal naming the previous manager wiped the new one.
    const stale = patch(managed, [{ op: 'remove', path: managerPath, value: [{ value: 'm1' }] }]);
    expect(stale.resource).toEqual(managed);
    expect(stale.ignored).toEqual([
      expect.objectContaining({ reason: 'its value is none of those given; nothing to remove' }),
    ]);
    for (const value of [[{ value: 'm2' }], { value: 'm2' }, 'm2', [{ value: 'm1' }, { value: 'm2' }]]) {
      const r = patch(managed, [{ op: 'remove', path: managerPath, value }]);
      expect(r.resource[ENTERPRISE]).toEqual({ department: 'R&D' });
      expect(r.fired).toContain('removeValueList');
    }
    expect(patch(managed, [{ op: 'remove', path: managerPath }]).resource[ENTERPRISE]).toEqual({ department: 'R&D' });
    expectRefusedBy(
      () => patch(managed, [{ op: 'remove', path: managerPath, value: { value: 'm2' } }], 'strict'),
      'removeValueList',
      'invalidValue',
    );
  });
});

describe('remove (RFC 7644 §3.5.2.2)', () => {
  it('a value where it lists nothing: refused off removeValueList, else the path decides', () => {
    const titled = user({ title: 'Engineer' });
    for (const op of [
      { op: 'remove', path: 'title', value: 'Engineer' },
      { op: 'remove', path: 'emails[type eq "work"]', value: [{ value: 'x@example.com' }] },
      { op: 'remove', path: 'name.givenName', value: 'Barbara' },
      { op: 'remove', path: 'name', value: { givenName: 'Barbara' } },
    ]) {
      expect(expectRefusedBy(() => patch(titled, [op], 'strict'), 'removeValueList', 'invalidValue').message).toContain(
        'remove takes no "value"',
      );
    }
    // A simple attribute goes only while it is the value given (in its case rule): a stale removal
    // wiped the title another client had just set.
    const stale = patch(titled, [{ op: 'remove', path: 'title', value: 'Intern' }]);
    expect(stale.resource['title']).toBe('Engineer');
    expect(stale.ignored).toEqual([
      expect.objectContaining({ target: 'title', reason: 'its value is not the one given; nothing to remove' }),
    ]);
    expect(patch(titled, [{ op: 'remove', path: 'title', value: 'ENGINEER' }]).resource).not.toHaveProperty('title');
    // In the shapes Entra wraps member values in, read the same; one that is no title says nothing
    // either way, and the path decides, as before.
    for (const value of [[{ value: 'Engineer' }], { value: 'engineer' }, ['Engineer']]) {
      expect(patch(titled, [{ op: 'remove', path: 'title', value }]).resource).not.toHaveProperty('title');
    }
    expect(patch(titled, [{ op: 'remove', path: 'title', value: [{ value: 'Intern' }] }]).resource['title']).toBe(
      'Engineer',
    );
    const unreadable = patch(titled, [{ op: 'remove', path: 'title', value: { other: 1 } }]);
    expect(unreadable.resource).not.toHaveProperty('title');
    expect(unreadable.ignored).toEqual([
      expect.objectContaining({ reason: 'remove takes no "value"; the path alone said what went' }),
    ]);
    // Where the path selects, it alone decides, and the unused value is reported.
    const filtered = patch(titled, [{ op: 'remove', path: 'emails[type eq "work"]', value: [{ value: 'other' }] }]);
    expect((filtered.resource['emails'] as { type: string }[]).map((e) => e.type)).not.toContain('work');
    expect(filtered.ignored).toEqual([
      expect.objectContaining({ reason: 'remove takes no "value"; the path alone said what went' }),
    ]);
  });
  it('an absent attribute is a no-op', () => {
    const r = patch(user(), [{ op: 'remove', path: 'nickName' }]);
    expect(r.changed).toEqual([]);
    expect(r.resource).toEqual(user());
  });
  it('the last sub-attribute removes the complex attribute', () => {
    const r = patch(user({ name: { givenName: 'B' } }), [{ op: 'remove', path: 'name.givenName' }]);
    expect(r.resource).not.toHaveProperty('name');
  });
  it('drops a filtered value whose last sub-attribute is removed, instead of keeping {}', () => {
    const r = patch(user({ phoneNumbers: [{ value: '1' }, { value: '2', type: 'work' }] }), [
      { op: 'remove', path: 'phoneNumbers[value eq "1"].value' },
      { op: 'remove', path: 'phoneNumbers[value eq "2"].value' },
    ]);
    expect(r.resource['phoneNumbers']).toEqual([{ type: 'work' }]);
  });
  it('a sub-attribute of the filtered values', () => {
    const r = patch(user(), [{ op: 'remove', path: 'emails[type eq "work"].primary' }]);
    expect(r.resource['emails']).toEqual([
      { value: 'bjensen@example.com', type: 'work' },
      { value: 'babs@jensen.org', type: 'home' },
    ]);
  });
  it('a whole extension', () => {
    const r = patch(user({ schemas: [SCIM_URN.user, ENTERPRISE], [ENTERPRISE]: { department: 'd' } }), [
      { op: 'remove', path: ENTERPRISE },
    ]);
    expect(r.resource).not.toHaveProperty(ENTERPRISE);
    expect(r.resource['schemas']).toEqual([SCIM_URN.user]);
  });
});

describe('replace (RFC 7644 §3.5.2.3)', () => {
  it('replace of members sets the whole membership; re-sending it is no change', () => {
    const r = patch(group(['m1', 'm2', 'm3']), [
      { op: 'replace', path: 'members', value: [{ value: 'm3' }, { value: 'm4' }] },
    ]);
    expect(r.resource['members']).toEqual([{ value: 'm3' }, { value: 'm4' }]);
    const same = patch(group(['m1']), [{ op: 'replace', path: 'members', value: [{ value: 'm1', type: 'User' }] }]);
    expect(same.changed).toEqual([]);
    expect(same.changes).toEqual([]);
  });
  it('replace with an empty list unassigns', () => {
    expect(patch(group(), [{ op: 'replace', path: 'members', value: [] }]).resource).not.toHaveProperty('members');
  });
  it('a filter that matches several values replaces each', () => {
    const r = patch(
      user({
        emails: [
          { value: 'a', type: 'work' },
          { value: 'b', type: 'work' },
          { value: 'c', type: 'home' },
        ],
      }),
      [{ op: 'replace', path: 'emails[type eq "work"].type', value: 'other' }],
    );
    expect(r.resource['emails']).toEqual([
      { value: 'a', type: 'other' },
      { value: 'b', type: 'other' },
      { value: 'c', type: 'home' },
    ]);
  });
  it('a value made from a filter that matched none leaves the other values as they were (filterNoMatchAdds)', () => {
    const home = { value: 'w@x.org', type: 'home', primary: true };
    const r = patch(user({ emails: [home] }), [
      { op: 'add', path: 'emails[type eq "work" and value eq "W@x.org"].display', value: 'Work' },
    ]);
    expect(r.resource['emails']).toEqual([home, { type: 'work', value: 'W@x.org', display: 'Work', primary: false }]);
  });
  it('a value made from a filter goes into the value of that address the filter is not against (filterNoMatchAdds)', () => {
    const home = { value: 'x@y.org', type: 'home' };
    const r = patch(user({ emails: [home, { value: 'x@y.org' }] }), [
      { op: 'replace', path: 'emails[type eq "work"].value', value: 'x@y.org' },
    ]);
    expect(r.resource['emails']).toEqual([home, { value: 'x@y.org', type: 'work' }]);
  });
  it('a value a filter for primary makes is the one address the user has, marked primary (filterNoMatchAdds)', () => {
    const r = patch(user({ emails: [{ value: 'x@y.org', type: 'work' }] }), [
      { op: 'replace', path: 'emails[primary eq true].value', value: 'X@y.org' },
    ]);
    expect(r.resource['emails']).toEqual([{ value: 'x@y.org', type: 'work', primary: true }]);
  });
  it('a list given with one address twice, once as primary, keeps it once as primary', () => {
    const paris = { locality: 'Paris', type: 'work' };
    for (const list of [
      [{ ...paris, primary: true }, paris],
      [paris, { ...paris, primary: true }],
    ]) {
      const r = patch(user(), [{ op: 'replace', path: 'addresses', value: list }], 'strict');
      expect(r.resource['addresses']).toEqual([{ ...paris, primary: true }]);
      expect(r.ignored.map((i) => i.target)).toEqual(['addresses']);
    }
  });
  it('a filter with no eq terms cannot create a value: plain noTarget', () => {
    const e = errorOf(() => patch(user(), [{ op: 'replace', path: 'emails[value co "zzz"].type', value: 'work' }]));
    expect(e).toMatchObject({ scimType: 'noTarget' });
  });
  it('a value replaced into one the list already holds is kept once, and the drop is reported', () => {
    const home = { value: 'babs@jensen.org', type: 'home' };
    const onto = patch(
      user(),
      [{ op: 'replace', path: 'emails[value eq "bjensen@example.com"]', value: home }],
      'strict',
    );
    expect(onto.resource['emails']).toEqual([{ ...home, primary: false }]);
    expect(onto.ignored.map((i) => i.target)).toEqual(['emails']);
    // Two work addresses given one value; and a whole list with a value twice.
    const twoWork = user({
      emails: [
        { value: 'a@x.org', type: 'work' },
        { value: 'b@x.org', type: 'work' },
      ],
    });
    const merged = patch(twoWork, [{ op: 'replace', path: 'emails[type eq "work"].value', value: 'same@x.org' }]);
    expect(merged.resource['emails']).toEqual([{ value: 'same@x.org', type: 'work' }]);
    const listed = patch(user(), [
      { op: 'replace', path: 'emails', value: [home, { ...home }, { ...home, type: 'work' }] },
    ]);
    expect(listed.resource['emails']).toEqual([
      { ...home, primary: false },
      { ...home, type: 'work', primary: false },
    ]);
    // So a remove by filter takes the one value it names, not two copies of it.
    const removed = patch(onto.resource, [{ op: 'remove', path: 'emails[value eq "babs@jensen.org"]' }]);
    expect(removed.resource).not.toHaveProperty('emails');
  });
  it('primary: at most one per attribute, the newest wins', () => {
    const r = patch(user(), [{ op: 'replace', path: 'emails[type eq "home"].primary', value: true }]);
    expect(r.resource['emails']).toEqual([
      { value: 'bjensen@example.com', type: 'work', primary: false },
      { value: 'babs@jensen.org', type: 'home', primary: true },
    ]);
  });
});

describe('atomicity and the change report', () => {
  it('a failing later operation changes nothing', () => {
    const before = group();
    const snapshot = structuredClone(before);
    expect(() =>
      patch(before, [
        { op: 'add', path: 'members', value: [{ value: 'm3' }] },
        { op: 'replace', path: 'displayName', value: 'New' },
        { op: 'replace', path: 'id', value: 'x' },
      ]),
    ).toThrow();
    expect(before).toEqual(snapshot);
  });
  it('reports multi-valued changes as added/removed values only', () => {
    const r = patch(group(['m1', 'm2']), [
      { op: 'add', path: 'members', value: [{ value: 'm3' }] },
      { op: 'remove', path: 'members[value eq "m1"]' },
      { op: 'replace', path: 'displayName', value: 'Guides' },
    ]);
    expect(r.changes).toEqual([
      { attribute: 'members', multiValued: true, added: [{ value: 'm3' }], removed: [{ value: 'm1', type: 'User' }] },
      { attribute: 'displayName', multiValued: false, before: 'Tour Guides', after: 'Guides' },
    ]);
  });
  it('a value set and then reset within one PATCH is no change', () => {
    const r = patch(user(), [
      { op: 'replace', path: 'title', value: 'x' },
      { op: 'remove', path: 'title' },
    ]);
    expect(r.changed).toEqual([]);
  });
  it('shares untouched values with the input (copy-on-write)', () => {
    const before = group(['m1', 'm2']);
    const r = patch(before, [{ op: 'add', path: 'members', value: [{ value: 'm3' }] }]);
    const out = r.resource['members'] as unknown[];
    expect(out[0]).toBe((before.members as unknown[])[0]);
    expect(r.resource['meta']).toBe(before.meta);
  });
});

describe('the work one PATCH may ask for', () => {
  const emails = (n: number) => Array.from({ length: n }, (_, i) => ({ value: `e${i}@example.com`, type: 'other' }));
  const removals = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ op: 'remove', path: `emails[value eq "zz${i}"]` }));

  it('refuses, at once and by name, operations that would go through too many list values', () => {
    // 10,000 operations on 20,000 values each took 14 s of the server's single thread.
    const started = performance.now();
    const e = scimErrorOf(() => patch(user({ emails: emails(20_000) }), removals(10_000), 'compatible'));
    expect(performance.now() - started).toBeLessThan(5_000); // a guard against a hang, not a benchmark
    expect(e.status).toBe(400);
    expect(e.scimType).toBe('tooMany');
    expect(e.message).toMatch(
      /this PATCH would go through more than 2,000,000 values of multi-valued attributes.*each of the 20,000 values of 'emails'/,
    );
    expect(e.message).toContain('several requests');
  });

  it('counts every operation that reads a list, whatever it does with it', () => {
    const limited = (resource: Record<string, unknown>, ops: unknown[]) =>
      applyPatch(resource, patchBody(...ops), {
        schema: userSchema,
        compat: compatFlags('compatible'),
        listBudget: new PatchListBudget(110),
      });
    const fifty = user({ emails: emails(50) });
    const add = { op: 'add', path: 'emails', value: [{ value: 'new@example.com' }] };
    const replaceFiltered = { op: 'replace', path: 'emails[value eq "e1@example.com"].type', value: 'work' };
    // Two operations on 50 and 51 values are within 110; a third is not, whichever kind it is.
    expect(() => limited(fifty, [add, replaceFiltered])).not.toThrow();
    for (const third of [add, replaceFiltered, removals(1)[0]]) {
      expect(scimErrorOf(() => limited(fifty, [add, replaceFiltered, third])).scimType).toBe('tooMany');
    }
    // Operations on single-valued attributes cost nothing.
    const titles = Array.from({ length: 500 }, (_, i) => ({ op: 'replace', path: 'title', value: `t${i}` }));
    expect(limited(fifty, titles).resource['title']).toBe('t499');
  });

  it('counts a value a filter matched and an operation rewrites more than one it only reads', () => {
    const limited = (ops: unknown[]) =>
      applyPatch(user({ emails: emails(50) }), patchBody(...ops), {
        schema: userSchema,
        compat: compatFlags('compatible'),
        listBudget: new PatchListBudget(200),
      });
    // Read, 50 values; one rewritten, 6 more: within 200.
    expect(() =>
      limited([{ op: 'replace', path: 'emails[value eq "e1@example.com"].type', value: 'work' }]),
    ).not.toThrow();
    // Every one rewritten: 50 + 300.
    const every = scimErrorOf(() => limited([{ op: 'replace', path: 'emails[value co "e"].type', value: 'work' }]));
    expect(every.scimType).toBe('tooMany');
    expect(every.message).toContain("this operation rewrites 50 values of 'emails'");
    // Counted as reads, 2,000 such operations on 1,000 emails held the server for 2.6 s.
    const retypes = Array.from({ length: 1_990 }, (_, i) => ({
      op: 'replace',
      path: 'emails[value co "e"].type',
      value: `h${i}`,
    }));
    expect(scimErrorOf(() => patch(user({ emails: emails(1_000) }), retypes, 'compatible')).scimType).toBe('tooMany');
  });

  it('counts a filter once per term and value, and shares a budget between PATCHes given one', () => {
    const wide = `emails[${Array.from({ length: 40 }, (_, i) => `value eq "z${i}"`).join(' or ')}]`;
    const budget = new PatchListBudget(1_000, 'Bulk request');
    const run = (ops: unknown[]) =>
      applyPatch(user({ emails: emails(20) }), patchBody(...ops), {
        schema: userSchema,
        compat: compatFlags('compatible'),
        listBudget: budget,
      });
    // 20 values × 40 terms = 800: within 1,000 once, not twice.
    expect(() => run([{ op: 'remove', path: wide }])).not.toThrow();
    const e = scimErrorOf(() => run([{ op: 'remove', path: wide }]));
    expect(e.scimType).toBe('tooMany');
    expect(e.message).toContain('this Bulk request would go through more than 1,000 values');
    expect(e.message).toContain("each of the 20 values of 'emails' and each of its filter's 40 terms");
  });

  it('counts a long value once more per 16 characters past 64, since a filter reads it whole', () => {
    const long = Array.from({ length: 20 }, (_, i) => ({ value: `${'a'.repeat(50_000)}${i}@example.com` }));
    const probes = Array.from({ length: 1_000 }, () => ({ op: 'remove', path: 'emails[value co "aaab"]' }));
    const started = performance.now();
    const e = scimErrorOf(() => patch(user({ emails: long }), probes, 'compatible'));
    expect(performance.now() - started).toBeLessThan(5_000); // a guard against a hang, not a benchmark
    expect(e.scimType).toBe('tooMany');
    expect(e.message).toContain('a long value counting once more per 16 characters');
    // The same operations on short values are well within the budget.
    expect(() => patch(user({ emails: emails(20) }), probes, 'compatible')).not.toThrow();
  });

  it('lets a large group take a realistic batch of member changes', () => {
    const members = Array.from({ length: 100_000 }, (_, i) => `m${i}`);
    const ops = Array.from({ length: 19 }, (_, i) => ({ op: 'remove', path: `members[value eq "m${i}"]` }));
    const result = patch(group(members), ops, 'compatible');
    expect((result.resource['members'] as unknown[]).length).toBe(100_000 - 19);
  });
});

describe('bad values in error messages', () => {
  it('says a number JSON reads as Infinity is out of range, rather than "null"', () => {
    const e = scimErrorOf(() => patch(user(), [{ op: 'replace', path: 'title', value: JSON.parse('1e400') }]));
    expect(e.message).toContain("'title' must be a string, got a number out of range");
  });

  it('describes a bad password by its shape, never by its value', () => {
    const secret = `Never-shown-${'x'.repeat(70)}`;
    for (const [value, shape] of [
      [[secret], 'an array of 1'],
      [{ value: secret }, 'an object'],
      [12345678, 'a number'],
    ] as const) {
      const e = scimErrorOf(() => patch(user(), [{ op: 'replace', path: 'password', value }]));
      expect(e.message).toContain(`got ${shape} (not shown: 'password' is never returned)`);
      expect(e.message).not.toContain('Never-shown');
      expect(e.message).not.toContain('12345678');
    }
  });
});
