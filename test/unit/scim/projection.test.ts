import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SCIM_URN } from '@shared/scim/urns';
import { compileProjection, project } from '../../../src-main/scim/projection';
import type { ResourceData } from '../../../src-main/scim/values';
import { groupSchema, syntaxErrorOf, userSchema } from './helpers';

const ENT = SCIM_URN.enterpriseUser;
const user: ResourceData = {
  schemas: [SCIM_URN.user, ENT],
  id: 'u1',
  externalId: 'e1',
  userName: 'bjensen',
  password: 'scrypt$hash',
  name: { givenName: 'Barbara', familyName: 'Jensen' },
  active: true,
  emails: [
    { value: 'b@example.com', type: 'work', primary: true },
    { value: 'babs@home.test', type: 'home' },
  ],
  meta: { resourceType: 'User', created: '2024-01-01T00:00:00Z', version: 'W/"1"' },
  [ENT]: { department: 'Tour', manager: { value: 'm1', displayName: 'Boss' } },
  internalStoreField: 'must not leak',
};

describe('projection (RFC 7644 §3.4.2.5, §3.9)', () => {
  it('by default returns default and always attributes, never password or unknown fields', () => {
    const out = project(user, userSchema);
    expect(out).toEqual({
      schemas: [SCIM_URN.user, ENT],
      id: 'u1',
      externalId: 'e1',
      userName: 'bjensen',
      name: { givenName: 'Barbara', familyName: 'Jensen' },
      active: true,
      emails: user['emails'],
      [ENT]: { department: 'Tour', manager: { value: 'm1', displayName: 'Boss' } },
      meta: user['meta'],
    });
    expect(Object.keys(out)[0]).toBe('schemas');
    expect(Object.keys(out).at(-1)).toBe('meta');
  });

  it('attributes= returns only those plus always-returned ones (id, schemas)', () => {
    expect(project(user, userSchema, { attributes: 'userName,name.givenName' })).toEqual({
      schemas: [SCIM_URN.user],
      id: 'u1',
      userName: 'bjensen',
      name: { givenName: 'Barbara' },
    });
  });

  it('matches names case-insensitively and accepts URN-qualified names', () => {
    expect(
      project(user, userSchema, { attributes: ['USERNAME', `${ENT}:manager.value`, `${SCIM_URN.user}:emails.value`] }),
    ).toEqual({
      schemas: [SCIM_URN.user, ENT],
      id: 'u1',
      userName: 'bjensen',
      emails: [{ value: 'b@example.com' }, { value: 'babs@home.test' }],
      [ENT]: { manager: { value: 'm1' } },
    });
  });

  it('attributes= may name a whole extension by its URN', () => {
    expect(project(user, userSchema, { attributes: ENT })).toEqual({
      schemas: [SCIM_URN.user, ENT],
      id: 'u1',
      [ENT]: user[ENT],
    });
  });

  it('the core schema URN names every core attribute, in attributes= and in excludedAttributes=', () => {
    const core = project(user, userSchema, { attributes: SCIM_URN.user.toUpperCase() });
    expect(core).toMatchObject({
      schemas: [SCIM_URN.user],
      id: 'u1',
      userName: 'bjensen',
      active: true,
    });
    expect(core).not.toHaveProperty('password');
    expect(core).not.toHaveProperty(ENT);
    // The common attributes (externalId, meta; RFC 7643 §3.1) belong to no schema and stay.
    expect(project(user, userSchema, { excludedAttributes: SCIM_URN.user })).toEqual({
      schemas: [SCIM_URN.user, ENT],
      id: 'u1',
      externalId: 'e1',
      meta: user['meta'],
      [ENT]: user[ENT],
    });
  });

  it('excludedAttributes= removes attributes, sub-attributes and whole extensions, but never id or schemas', () => {
    const out = project(user, userSchema, {
      excludedAttributes: `emails.type, name, ${ENT.toLowerCase()}, id, schemas, meta`,
    });
    expect(out).toEqual({
      schemas: [SCIM_URN.user],
      id: 'u1',
      externalId: 'e1',
      userName: 'bjensen',
      active: true,
      emails: [{ value: 'b@example.com', primary: true }, { value: 'babs@home.test' }],
    });
  });

  it('password is never returned, even when asked for', () => {
    expect(project(user, userSchema, { attributes: 'password' })).toEqual({ schemas: [SCIM_URN.user], id: 'u1' });
  });

  it('ignores unknown names; refuses malformed ones with invalidValue', () => {
    expect(project(user, userSchema, { attributes: 'userName,nosuch,urn:acme:X:y' })).toEqual({
      schemas: [SCIM_URN.user],
      id: 'u1',
      userName: 'bjensen',
    });
    expect(syntaxErrorOf(() => compileProjection(userSchema, { attributes: 'emails[type eq "work"]' })).scimType).toBe(
      'invalidValue',
    );
  });

  it('Groups: excludedAttributes=members (Entra) drops members', () => {
    const group = { schemas: [SCIM_URN.group], id: 'g', displayName: 'G', members: [{ value: 'u1', display: 'x' }] };
    expect(project(group, groupSchema, { excludedAttributes: 'members' })).toEqual({
      schemas: [SCIM_URN.group],
      id: 'g',
      displayName: 'G',
    });
    expect(project(group, groupSchema)).toMatchObject({ members: [{ value: 'u1', display: 'x' }] });
  });

  it('does not share arrays with the stored resource', () => {
    const out = project(user, userSchema);
    expect(out['emails']).not.toBe(user['emails']);
  });
});

describe('projection property: password never comes back', () => {
  const names = fc.constantFrom(
    'password',
    'PASSWORD',
    'Password',
    `${SCIM_URN.user}:password`,
    'userName',
    'emails',
    'emails.value',
    'name',
    ENT,
    `${ENT}:department`,
    'meta',
    'id',
    'schemas',
    'groups',
    'nosuch',
    'name.givenName',
  );
  const list = fc.option(fc.array(names, { maxLength: 5 }), { nil: undefined });
  it('for any attributes / excludedAttributes', () => {
    fc.assert(
      fc.property(list, list, fc.string(), (attributes, excludedAttributes, password) => {
        const out = project({ ...user, password }, userSchema, { attributes, excludedAttributes });
        expect(JSON.stringify(out)).not.toMatch(/"password"/i);
        expect(out['id']).toBe('u1');
        expect(out['schemas']).toContain(SCIM_URN.user);
      }),
      { numRuns: 500 },
    );
  });
});

describe('$ref is a name like any other (RFC 7643 §2.1: names in any case)', () => {
  const group: ResourceData = {
    schemas: [SCIM_URN.group],
    id: 'g1',
    displayName: 'Tour',
    members: [{ value: 'u1', $ref: 'https://x.test/Users/u1', display: 'Babs' }],
  };
  it.each(['members.$ref', 'members.$REF', 'MEMBERS.$Ref'])('attributes=%s keeps the members’ $ref', (attributes) => {
    const out = project(group, groupSchema, { attributes });
    expect(out['members']).toEqual([{ $ref: 'https://x.test/Users/u1' }]);
  });
});
