import { describe, expect, it } from 'vitest';
import { createSchemaRegistry, requireResource } from '@shared/scim/registry';
import type { SchemaDefinition } from '@shared/scim/schema-types';
import {
  CORE_RESOURCE_TYPES,
  CORE_SCHEMAS,
  ENTERPRISE_USER_SCHEMA,
  GROUP_SCHEMA,
  USER_SCHEMA,
} from '@shared/scim/schemas/index';
import { SCIM_URN } from '@shared/scim/urns';
import { resourceZodSchema } from '@shared/scim/zod-schema';
import { parseDateTime, parseDateTimeByPattern, parseDateTimeMicros } from '@shared/scim/datetime';
import { compileFilter } from '../../../src-main/scim/filter/evaluate';
import { parseFilter } from '../../../src-main/scim/filter/parser';
import { project } from '../../../src-main/scim/projection';
import { schemaDocument, schemasList, resourceTypesList } from '../../../src-main/scim/schema-documents';
import { groupSchema, userSchema } from './helpers';

const names = (s: SchemaDefinition) => s.attributes.map((a) => a.name);

describe('schema definitions cover seeds 000 and 001', () => {
  it('User has every attribute the seed and RFC 7643 §4.1 list', () => {
    expect(names(USER_SCHEMA)).toEqual([
      'userName',
      'name',
      'displayName',
      'nickName',
      'profileUrl',
      'title',
      'userType',
      'preferredLanguage',
      'locale',
      'timezone',
      'active',
      'password',
      'emails',
      'phoneNumbers',
      'ims',
      'photos',
      'addresses',
      'groups',
      'entitlements',
      'roles',
      'x509Certificates',
    ]);
    const name = USER_SCHEMA.attributes.find((a) => a.name === 'name');
    expect(name?.subAttributes.map((a) => a.name)).toEqual([
      'formatted',
      'familyName',
      'givenName',
      'middleName',
      'honorificPrefix',
      'honorificSuffix',
    ]);
  });
  it('Enterprise User and Group have theirs', () => {
    expect(names(ENTERPRISE_USER_SCHEMA)).toEqual([
      'employeeNumber',
      'costCenter',
      'organization',
      'division',
      'department',
      'manager',
    ]);
    expect(names(GROUP_SCHEMA)).toEqual(['displayName', 'members']);
    expect(GROUP_SCHEMA.attributes[1]?.subAttributes.map((a) => a.name)).toEqual(['value', '$ref', 'display', 'type']);
  });
  it('carries the product defaults (DESIGN.md §3)', () => {
    const u = requireResource(createSchemaRegistry(CORE_SCHEMAS, CORE_RESOURCE_TYPES), 'User');
    expect(u.resolve({ name: 'active' })?.attribute.default).toBe(true);
    expect(u.resolve({ name: 'emails', sub: 'primary' })?.sub?.default).toBe(false);
    expect(u.resolve({ name: 'groups', sub: 'type' })?.sub?.default).toBe('direct');
    expect(groupSchema.resolve({ name: 'members', sub: 'type' })?.sub?.default).toBe('User');
  });
  it('states the rules that matter: password never returned, id always, userName unique and case-insensitive', () => {
    expect(userSchema.resolve({ name: 'password' })?.attribute).toMatchObject({
      returned: 'never',
      mutability: 'writeOnly',
    });
    expect(userSchema.resolve({ name: 'id' })?.attribute).toMatchObject({
      returned: 'always',
      caseExact: true,
      mutability: 'readOnly',
    });
    expect(userSchema.resolve({ name: 'userName' })?.attribute).toMatchObject({
      uniqueness: 'server',
      caseExact: false,
      required: true,
    });
    expect(userSchema.resolve({ name: 'groups', sub: 'value' })?.sub?.mutability).toBe('readOnly');
  });
});

describe('the registry takes schemas as data: a custom extension needs no code', () => {
  const ACME = 'urn:acme:params:scim:schemas:extension:acme:1.0:User';
  const acme: SchemaDefinition = {
    id: ACME,
    name: 'AcmeUser',
    description: 'Acme',
    attributes: [
      {
        name: 'badge',
        type: 'integer',
        multiValued: false,
        description: '',
        required: false,
        caseExact: false,
        mutability: 'readWrite',
        returned: 'default',
        uniqueness: 'none',
        subAttributes: [],
        canonicalValues: [],
        referenceTypes: [],
      },
      {
        name: 'secret',
        type: 'string',
        multiValued: false,
        description: '',
        required: false,
        caseExact: true,
        mutability: 'readWrite',
        returned: 'request',
        uniqueness: 'none',
        subAttributes: [],
        canonicalValues: [],
        referenceTypes: [],
      },
    ],
  };
  const registry = createSchemaRegistry(
    [...CORE_SCHEMAS, acme],
    [
      {
        ...CORE_RESOURCE_TYPES[0]!,
        schemaExtensions: [...CORE_RESOURCE_TYPES[0]!.schemaExtensions, { schema: ACME, required: false }],
      },
      CORE_RESOURCE_TYPES[1]!,
    ],
  );
  const users = requireResource(registry, 'User');
  const alice = { schemas: [SCIM_URN.user, ACME], id: 'a', userName: 'alice', [ACME]: { badge: 7, secret: 's' } };

  it('filters, projects and validates the new attributes', () => {
    expect(compileFilter(parseFilter(`${ACME}:badge gt 5`), users)(alice)).toBe(true);
    expect(project(alice, users)).toEqual({
      schemas: [SCIM_URN.user, ACME],
      id: 'a',
      userName: 'alice',
      [ACME]: { badge: 7 },
    });
    expect(project(alice, users, { attributes: `${ACME}:secret` })).toEqual({
      schemas: [SCIM_URN.user, ACME],
      id: 'a',
      [ACME]: { secret: 's' },
    });
    expect(resourceZodSchema(users, 'create').safeParse({ userName: 'x', [ACME]: { badge: 'seven' } }).success).toBe(
      false,
    );
  });
  it('refuses a resource type that names an unknown schema', () => {
    expect(() =>
      createSchemaRegistry(CORE_SCHEMAS, [
        { ...CORE_RESOURCE_TYPES[0]!, schemaExtensions: [{ schema: ACME, required: false }] },
      ]),
    ).toThrow(/unknown schema/);
  });
});

describe('zod schemas derived per context', () => {
  const create = resourceZodSchema(userSchema, 'create');
  const response = resourceZodSchema(userSchema, 'response');
  it('create: requires userName, applies defaults, drops readOnly attributes, canonicalises names', () => {
    expect(create.safeParse({}).success).toBe(false);
    const parsed = create.parse({
      USERNAME: 'bjensen',
      id: 'client-chosen',
      meta: { created: 'x' },
      groups: [{ value: 'g' }],
      Emails: [{ Value: 'b@x.test' }],
      title: null,
      [SCIM_URN.enterpriseUser.toUpperCase()]: { Department: 'Tour' },
    });
    expect(parsed).toEqual({
      userName: 'bjensen',
      active: true,
      emails: [{ value: 'b@x.test', primary: false }],
      [SCIM_URN.enterpriseUser]: { department: 'Tour' },
    });
  });
  it('create: refuses wrong types; lenient mode accepts "True" and a bare manager id', () => {
    expect(create.safeParse({ userName: 'x', active: 'True' }).success).toBe(false);
    const lenient = resourceZodSchema(userSchema, 'create', { lenient: true });
    expect(
      lenient.parse({ userName: 'x', active: 'False', [SCIM_URN.enterpriseUser]: { manager: 'm1' } }),
    ).toMatchObject({
      active: false,
      [SCIM_URN.enterpriseUser]: { manager: { value: 'm1' } },
    });
  });
  it('response: password is not part of it; id and schemas are required; no defaults invented', () => {
    const parsed = response.parse({
      schemas: [SCIM_URN.user],
      id: 'u',
      userName: 'x',
      password: 'p',
      groups: [{ value: 'g' }],
    });
    expect(parsed).toEqual({ schemas: [SCIM_URN.user], id: 'u', userName: 'x', groups: [{ value: 'g' }] });
    expect(response.safeParse({ userName: 'x' }).success).toBe(false);
  });
  it('Group create: displayName required, member type defaults to User', () => {
    const g = resourceZodSchema(groupSchema, 'create');
    expect(g.parse({ displayName: 'G', members: [{ value: 'u1' }] })).toEqual({
      displayName: 'G',
      members: [{ value: 'u1', type: 'User' }],
    });
    expect(g.safeParse({ members: [] }).success).toBe(false);
  });
});

describe('/Schemas and /ResourceTypes documents (RFC 7643 §6, §7)', () => {
  const base = 'http://127.0.0.1:8585/scim/v2';
  it('describe every attribute characteristic, without the product default', () => {
    const doc = schemaDocument(USER_SCHEMA, base);
    expect(doc).toMatchObject({
      schemas: [SCIM_URN.schema],
      id: SCIM_URN.user,
      meta: { location: `${base}/Schemas/${SCIM_URN.user}` },
    });
    const emails = doc.attributes.find((a) => a.name === 'emails');
    expect(emails?.subAttributes?.find((s) => s.name === 'type')).toEqual({
      name: 'type',
      type: 'string',
      multiValued: false,
      description: "A label indicating the attribute's function.",
      required: false,
      caseExact: false,
      mutability: 'readWrite',
      returned: 'default',
      uniqueness: 'none',
      canonicalValues: ['work', 'home', 'other'],
    });
    expect(JSON.stringify(doc)).not.toContain('"default":');
    expect(doc.attributes.find((a) => a.name === 'profileUrl')?.referenceTypes).toEqual(['external']);
  });
  it('list all schemas and resource types', () => {
    const registry = createSchemaRegistry(CORE_SCHEMAS, CORE_RESOURCE_TYPES);
    expect(schemasList(registry, base).Resources.map((s) => s.id)).toEqual([
      SCIM_URN.user,
      SCIM_URN.enterpriseUser,
      SCIM_URN.group,
    ]);
    expect(resourceTypesList(registry, base).Resources[0]).toMatchObject({
      id: 'User',
      endpoint: '/Users',
      schemaExtensions: [{ schema: SCIM_URN.enterpriseUser, required: false }],
    });
  });
});

describe('parseDateTime', () => {
  it.each([
    ['2011-05-13T04:42:34Z', Date.UTC(2011, 4, 13, 4, 42, 34)],
    ['2011-05-13T06:42:34+02:00', Date.UTC(2011, 4, 13, 4, 42, 34)],
    ['2011-05-13T04:42:34.123456Z', Date.UTC(2011, 4, 13, 4, 42, 34, 123)],
    ['2011-05-13T04:42:34', Date.UTC(2011, 4, 13, 4, 42, 34)],
    ['2011-02-30T00:00:00Z', undefined],
    ['2011-05-13', undefined],
    ['yesterday', undefined],
  ])('%s', (text, expected) => {
    expect(parseDateTime(text)).toBe(expected);
  });
});

describe('parseDateTimeMicros', () => {
  it('keeps the fractional digits past the millisecond, up to the microsecond, whatever the offset', async () => {
    const fc = (await import('fast-check')).default;
    fc.assert(
      fc.property(
        fc.date({ min: new Date(Date.UTC(1, 0, 1)), max: new Date(Date.UTC(9999, 11, 31)), noInvalidDate: true }),
        fc.stringMatching(/^[0-9]{0,6}$/),
        fc.constantFrom('Z', '+02:00', '-05:30', ''),
        (date, extra, zone) => {
          const ms = date.getTime();
          const shift =
            zone === '' || zone === 'Z'
              ? 0
              : (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4))) * 60_000;
          const local = new Date(ms + shift).toISOString().slice(0, 23);
          const micros = ms * 1000 + Number(extra.slice(0, 3).padEnd(3, '0'));
          expect(parseDateTimeMicros(`${local}${extra}${zone}`)).toBe(micros);
        },
      ),
      { numRuns: 2000 },
    );
    expect(parseDateTimeMicros('2011-05-13T04:42:34Z')).toBe(Date.UTC(2011, 4, 13, 4, 42, 34) * 1000);
    expect(parseDateTimeMicros('2011-05-13T04:42:34.1234')).toBe(Date.UTC(2011, 4, 13, 4, 42, 34, 123) * 1000 + 400);
    expect(parseDateTimeMicros('yesterday')).toBeUndefined();
  });
});

describe('parseDateTime reads the server’s own form by position exactly as by pattern', () => {
  it('on 24-character texts of that shape, valid or not', async () => {
    const fc = (await import('fast-check')).default;
    const field = (n: number) => fc.stringMatching(new RegExp(`^[0-9]{${n}}$`));
    const oddField = (n: number) => fc.oneof(field(n), fc.string({ minLength: n, maxLength: n }));
    const text = fc
      .tuple(oddField(4), oddField(2), oddField(2), oddField(2), oddField(2), oddField(2), oddField(3))
      .map(([y, mo, d, h, mi, s, ms]) => `${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}Z`);
    const instant = fc
      .date({ min: new Date(Date.UTC(0, 0, 1)), max: new Date(Date.UTC(9999, 11, 31)), noInvalidDate: true })
      .map((date) => date.toISOString());
    fc.assert(
      fc.property(fc.oneof(text, instant), (t) => {
        expect(parseDateTime(t)).toBe(parseDateTimeByPattern(t));
      }),
      { numRuns: 3000 },
    );
    for (const t of ['2024-02-29T24:00:00.000Z', '2011-05-13T04:42:60.000Z', '0000-01-01T00:00:00.000Z']) {
      expect(parseDateTime(t)).toBe(parseDateTimeByPattern(t));
    }
  });
});

describe('parseDateTime agrees with Date.UTC', () => {
  it('on many instants, with and without offsets', async () => {
    const fc = (await import('fast-check')).default;
    fc.assert(
      fc.property(
        fc.date({ min: new Date(Date.UTC(1, 0, 1)), max: new Date(Date.UTC(9999, 11, 31)), noInvalidDate: true }),
        fc.integer({ min: -14 * 60, max: 14 * 60 }),
        (date, offsetMin) => {
          const iso = date.toISOString();
          expect(parseDateTime(iso)).toBe(date.getTime());
          const local = new Date(date.getTime() + offsetMin * 60_000).toISOString().slice(0, 23);
          const sign = offsetMin < 0 ? '-' : '+';
          const abs = Math.abs(offsetMin);
          const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
          expect(parseDateTime(`${local}${zone}`)).toBe(date.getTime());
        },
      ),
      { numRuns: 500 },
    );
  });
});
