/**
 * Property-based fuzzing of the SCIM HTTP surface: generated writes, PATCH operations, queries and
 * Bulk requests against one real server, on both base paths. Whatever a client sends, the answer is
 * never a 5xx, an error is an RFC 7644 §3.12 body, and a resource answered is the one stored.
 * FUZZ_SEED and FUZZ_RUNS (a multiplier) replay or widen a run; a failure prints its seed. Under CI
 * the seed is pinned (test/fast-check-seed.ts).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA } from '@shared/scim/schemas/index';
import type { SchemaDefinition } from '@shared/scim/schema-types';
import { startTestServer, type TestServer } from './harness';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const SEARCH_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
/** RFC 7644 §3.12, Table 9. */
const SCIM_TYPES = [
  'invalidFilter',
  'tooMany',
  'uniqueness',
  'mutability',
  'invalidSyntax',
  'invalidPath',
  'noTarget',
  'invalidValue',
  'invalidVers',
  'sensitive',
];

const RUNS = Number(process.env.FUZZ_RUNS ?? '1');
/** A hang guard that grows with FUZZ_RUNS: a timed-out property would go on writing under the next one. */
const TIMEOUT = 30_000 * Math.max(1, RUNS);
// The seed is test/fast-check-seed.ts's: pinned under CI and by FUZZ_SEED, drawn anew otherwise.
const runs = (n: number) => ({ numRuns: Math.max(1, Math.round(n * RUNS)), endOnFailure: true });

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Resource = { id: string; meta: { version: string; lastModified?: string; location?: string } } & Record<
  string,
  Json
>;

interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

// ---------------------------------------------------------------------------------------------------
// Generators

/** Ids of resources the server accepted, so that generated references sometimes resolve. */
const userIds: string[] = [];
const groupIds: string[] = [];
const anyIds = () => [...userIds.slice(-3), ...groupIds.slice(-3)];

const namesOf = (schema: SchemaDefinition) => schema.attributes.map((a) => a.name);
/** Every attribute the server defines, plus the ones every resource has (RFC 7643 §3.1). */
const COMMON_ATTRIBUTES = ['externalId', 'id', 'meta', 'schemas'];
const USER_ATTRIBUTES = [...namesOf(USER_SCHEMA), ...COMMON_ATTRIBUTES];
const ENTERPRISE_ATTRIBUTES = namesOf(ENTERPRISE_USER_SCHEMA);
const GROUP_ATTRIBUTES = [...namesOf(GROUP_SCHEMA), ...COMMON_ATTRIBUTES];
const SUB_ATTRIBUTES = [
  'value',
  'display',
  'type',
  'primary',
  '$ref',
  'givenName',
  'familyName',
  'formatted',
  'middleName',
  'streetAddress',
  'locality',
  'country',
  'postalCode',
  'displayName',
];
const MULTI_VALUED = ['emails', 'phoneNumbers', 'ims', 'photos', 'addresses', 'entitlements', 'roles', 'members'];
const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];

/** Random case, so that case-insensitive attribute names are exercised. */
function inAnyCase(name: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc
    .tuple(name, fc.array(fc.boolean(), { minLength: 0, maxLength: 40 }), fc.integer({ min: 0, max: 3 }))
    .map(([text, flips, mode]) => {
      if (mode > 0) return text; // mostly the canonical spelling
      return [...text]
        .map((c, i) => (flips[i % Math.max(1, flips.length)] ? c.toUpperCase() : c.toLowerCase()))
        .join('');
    });
}

const anyText = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.constantFrom('', ' ', 'work', 'home', 'User', 'Group', 'true', 'False', '0', 'null', 'Ω≈ç√', '\u0000', '\ud800'),
  fc.constantFrom(...PROTOTYPE_KEYS),
);
const longText = fc.integer({ min: 1000, max: 200_000 }).map((n) => 'x'.repeat(n));

const scalar: fc.Arbitrary<Json> = fc.oneof(
  { weight: 4, arbitrary: anyText },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constantFrom(1e308, -0, 2 ** 53 + 1, 1e-300) },
);

const keyName = fc.oneof(
  inAnyCase(fc.constantFrom(...USER_ATTRIBUTES, ...SUB_ATTRIBUTES, ...GROUP_ATTRIBUTES, ...ENTERPRISE_ATTRIBUTES)),
  fc.constantFrom(...PROTOTYPE_KEYS),
  fc.constantFrom(ENTERPRISE, USER, `${ENTERPRISE}:manager`, 'name.givenName'),
  fc.string({ maxLength: 6 }),
);

const { value: anyValue } = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 5, arbitrary: scalar },
    { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 3 }) },
    { weight: 1, arbitrary: fc.dictionary(keyName, tie('value'), { maxKeys: 4 }) as fc.Arbitrary<Json> },
  ),
}));

/** Values an attribute of this name may plausibly hold, and some it may not. */
function valueFor(name: string, ids: () => string[]): fc.Arbitrary<Json> {
  const lower = name.toLowerCase();
  const existingId = fc.constant(null).map(() => {
    const known = ids();
    return known.length ? known[known.length - 1]! : 'no-such-id';
  });
  const subObject = fc.dictionary(inAnyCase(fc.constantFrom(...SUB_ATTRIBUTES)), anyValue, { maxKeys: 4 });
  const member = fc.record(
    { value: existingId, type: fc.constantFrom('User', 'Group'), display: anyText },
    { requiredKeys: ['value'] },
  );
  const typed = fc.record(
    {
      value: lower === 'x509certificates' ? fc.constantFrom('TUlJQg==', 'AAAA', 'not base64!') : anyText,
      type: fc.constantFrom('work', 'home', 'other', 'WORK', 'mobile'),
      primary: fc.oneof(fc.boolean(), fc.constantFrom('True', 'false')),
      display: anyText,
      ...(lower === 'addresses' ? { locality: anyText, country: anyText, formatted: anyText } : {}),
    },
    { requiredKeys: [] },
  );
  const element: fc.Arbitrary<Json> = fc.oneof(
    { weight: 8, arbitrary: (lower === 'members' ? member : typed) as fc.Arbitrary<Json> },
    { weight: 1, arbitrary: subObject as fc.Arbitrary<Json> },
  );
  if (MULTI_VALUED.map((n) => n.toLowerCase()).includes(lower))
    return fc.oneof({ weight: 4, arbitrary: fc.array(element, { maxLength: 3 }) }, { weight: 1, arbitrary: anyValue });
  if (lower === 'name')
    return fc.oneof(
      {
        weight: 3,
        arbitrary: fc.dictionary(inAnyCase(fc.constantFrom('givenName', 'familyName', 'formatted')), anyText),
      },
      { weight: 1, arbitrary: anyValue },
    ) as fc.Arbitrary<Json>;
  if (lower === 'active') return fc.oneof(fc.boolean(), fc.constantFrom('True', 'False', 'yes'), anyValue);
  if (lower === 'manager')
    return fc.oneof(existingId, fc.record({ value: fc.oneof(existingId, anyText) }, { requiredKeys: [] }), anyValue);
  return fc.oneof(
    { weight: 4, arbitrary: anyText },
    { weight: 1, arbitrary: anyValue },
    { weight: 1, arbitrary: longText },
  );
}

function attributesOf(names: string[], ids: () => string[]): fc.Arbitrary<Record<string, Json>> {
  const entry = fc.constantFrom(...names).chain((name) => fc.tuple(inAnyCase(fc.constant(name)), valueFor(name, ids)));
  return fc
    .tuple(
      fc.uniqueArray(entry, { maxLength: 6, selector: ([key]) => key.toLowerCase() }),
      fc.option(fc.tuple(fc.constantFrom(...PROTOTYPE_KEYS), anyValue), { freq: 6 }),
    )
    .map(([entries, odd]) => {
      const body: Record<string, Json> = {};
      for (const [key, value] of entries) Object.defineProperty(body, key, { value, enumerable: true, writable: true });
      if (odd) Object.defineProperty(body, odd[0], { value: odd[1], enumerable: true, writable: true });
      return body;
    });
}

const schemasFor = (core: string, extension?: string) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant<Json>(extension ? [core, extension] : [core]) },
    { weight: 1, arbitrary: fc.constant<Json>([core.toUpperCase()]) },
    { weight: 1, arbitrary: fc.constant<Json | undefined>(undefined) },
    { weight: 1, arbitrary: anyValue },
  );

let counter = 0;
const uniqueName = () => `fuzz-${++counter}-${Date.now().toString(36)}@example.com`;

function userBody(ids: () => string[]): fc.Arbitrary<Record<string, Json>> {
  return fc
    .tuple(
      schemasFor(USER, ENTERPRISE),
      attributesOf(USER_ATTRIBUTES, ids),
      fc.option(attributesOf(ENTERPRISE_ATTRIBUTES, ids), { freq: 3 }),
      fc.integer({ min: 0, max: 5 }),
    )
    .map(([schemas, attributes, enterprise, nameMode]) => {
      const body: Record<string, Json> = { ...attributes };
      // Mostly a fresh valid userName, so most creates succeed and go on to be checked.
      const hasUserName = Object.keys(body).some((k) => k.toLowerCase() === 'username');
      if (!hasUserName && nameMode > 0) body.userName = uniqueName();
      if (schemas !== undefined) body.schemas = schemas;
      if (enterprise) body[ENTERPRISE] = enterprise;
      return body;
    });
}

function groupBody(ids: () => string[]): fc.Arbitrary<Record<string, Json>> {
  return fc
    .tuple(schemasFor(GROUP), attributesOf(GROUP_ATTRIBUTES, ids), fc.integer({ min: 0, max: 5 }))
    .map(([schemas, attributes, nameMode]) => {
      const body: Record<string, Json> = { ...attributes };
      const hasName = Object.keys(body).some((k) => k.toLowerCase() === 'displayname');
      if (!hasName && nameMode > 0) body.displayName = uniqueName();
      if (schemas !== undefined) body.schemas = schemas;
      return body;
    });
}

// Filters and PATCH paths, from a small grammar plus garbage.
const compareOp = inAnyCase(fc.constantFrom('eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'));
const filterAttr = inAnyCase(
  fc.constantFrom(
    'userName',
    'displayName',
    'name.givenName',
    'emails.value',
    'emails.type',
    'active',
    'meta.created',
    'meta.lastModified',
    'id',
    'externalId',
    'members.value',
    'groups.display',
    'schemas',
    `${ENTERPRISE}:department`,
    `${ENTERPRISE}:manager.value`,
    `${USER}:userName`,
    'x509Certificates.value',
    'password',
    'nosuch',
  ),
);
/** Strings the server holds, so that generated filters sometimes match something. */
const knownValues: string[] = ['work'];
const knownValue = fc.nat().map((n) => JSON.stringify(knownValues[n % knownValues.length]));
const filterLiteral = fc.oneof(
  knownValue,
  knownValue,
  anyText.map((t) => JSON.stringify(t)),
  fc.constantFrom('true', 'false', 'null', '1', '-2.5e3', '"2026-01-01T00:00:00Z"', '"work"', '"'),
  fc.integer().map(String),
);
const comparison = fc.oneof(
  fc.tuple(filterAttr, compareOp, filterLiteral).map(([a, o, v]) => `${a} ${o} ${v}`),
  filterAttr.map((a) => `${a} pr`),
  fc
    .tuple(inAnyCase(fc.constantFrom('emails', 'members', 'groups', 'addresses')), filterAttr, compareOp, filterLiteral)
    .map(([a, s, o, v]) => `${a}[${s.split('.').pop()} ${o} ${v}]`),
);
const { filter: filterText } = fc.letrec<{ filter: string }>((tie) => ({
  filter: fc.oneof(
    { depthSize: 'small' },
    { weight: 4, arbitrary: comparison },
    {
      weight: 1,
      arbitrary: fc
        .tuple(tie('filter'), inAnyCase(fc.constantFrom('and', 'or')), tie('filter'))
        .map(([l, o, r]) => `${l} ${o} ${r}`),
    },
    { weight: 1, arbitrary: tie('filter').map((f) => `not (${f})`) },
    { weight: 1, arbitrary: tie('filter').map((f) => `(${f})`) },
    { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('', '(', ')', 'userName eq', '[', 'a[b[c eq 1]]', 'not', '"x"', 'eq eq eq'),
    },
  ),
}));

const patchPath = fc.oneof(
  inAnyCase(fc.constantFrom(...USER_ATTRIBUTES, ...GROUP_ATTRIBUTES)),
  inAnyCase(fc.constantFrom('name.givenName', 'name.familyName', 'emails.value', 'members.value', 'meta.version')),
  inAnyCase(fc.constantFrom(...ENTERPRISE_ATTRIBUTES)).map((a) => `${ENTERPRISE}:${a}`),
  fc.constantFrom(ENTERPRISE, `${ENTERPRISE}:manager.value`, `${USER}:userName`, `${USER}:name.givenName`),
  fc
    .tuple(inAnyCase(fc.constantFrom(...MULTI_VALUED)), comparison, fc.option(fc.constantFrom(...SUB_ATTRIBUTES)))
    .map(([a, f, s]) => `${a}[${f}]${s ? `.${s}` : ''}`),
  fc.constantFrom(
    'emails[type eq "work"].value',
    'members[value eq "x"]',
    'emails[primary eq true]',
    'addresses[type eq "work"].locality',
  ),
  fc.string({ maxLength: 15 }),
  fc.constantFrom('', '.', '[', 'emails[', 'emails]', 'a.b.c.d', 'urn:', '__proto__', 'constructor.prototype'),
);

function patchBody(ids: () => string[]): fc.Arbitrary<Json> {
  const operation = fc.record(
    {
      op: fc.oneof(
        { weight: 12, arbitrary: inAnyCase(fc.constantFrom('add', 'replace', 'remove')) },
        { weight: 1, arbitrary: anyText },
      ),
      path: patchPath,
      value: fc.oneof(
        valueFor('emails', ids),
        valueFor('displayName', ids),
        valueFor('members', ids),
        valueFor('active', ids),
        attributesOf([...USER_ATTRIBUTES, ...GROUP_ATTRIBUTES], ids) as fc.Arbitrary<Json>,
        anyValue,
      ),
    },
    { requiredKeys: ['op', 'path', 'value'] },
  ) as fc.Arbitrary<Json>;
  const sometimesPartial = fc.oneof(
    { weight: 8, arbitrary: operation },
    {
      weight: 1,
      arbitrary: operation.map((o) => ({ ...(o as Record<string, Json>), path: undefined }) as unknown as Json),
    },
    {
      weight: 1,
      arbitrary: operation.map((o) => ({ ...(o as Record<string, Json>), value: undefined }) as unknown as Json),
    },
  );
  return fc.oneof(
    {
      weight: 20,
      arbitrary: fc.record({
        schemas: fc.constant([PATCH_OP]),
        Operations: fc.array(sometimesPartial, { minLength: 1, maxLength: 4 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ schemas: anyValue, Operations: fc.oneof(anyValue, fc.array(operation)) }) },
    { weight: 1, arbitrary: anyValue },
  ) as fc.Arbitrary<Json>;
}

const numberish = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: -5, max: 20 }).map(String) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '0',
      '-1',
      '99999999999999999999',
      '1e3',
      '0x10',
      '',
      ' 3',
      '1.5',
      'abc',
      'NaN',
      'Infinity',
    ),
  },
);
const attributeList = fc
  .array(fc.oneof(filterAttr, fc.constantFrom(ENTERPRISE, 'meta', 'members', 'groups', '', ',')), { maxLength: 3 })
  .map((list) => list.join(','));

const listQuery = fc.record(
  {
    filter: filterText,
    sortBy: fc.oneof(filterAttr, fc.constantFrom('', 'emails', 'meta', 'nosuch.x')),
    sortOrder: fc.oneof(
      { weight: 10, arbitrary: fc.constantFrom('ascending', 'descending', 'DESCENDING') },
      { weight: 1, arbitrary: anyText },
    ),
    startIndex: numberish,
    count: numberish,
    attributes: attributeList,
    excludedAttributes: attributeList,
  },
  { requiredKeys: [] },
);

const searchBody = fc.oneof(
  {
    weight: 4,
    arbitrary: listQuery.map((q) => {
      const body: Record<string, Json> = { schemas: [SEARCH_REQUEST], ...q };
      for (const key of ['startIndex', 'count'] as const) {
        const text = q[key];
        if (text !== undefined && /^-?\d+$/.test(text)) body[key] = Number(text);
      }
      for (const key of ['attributes', 'excludedAttributes'] as const) {
        if (q[key] !== undefined) body[key] = q[key].split(',');
      }
      return body;
    }),
  },
  {
    weight: 1,
    arbitrary: fc.dictionary(keyName, anyValue, { maxKeys: 4 }).map((b) => ({ schemas: [SEARCH_REQUEST], ...b })),
  },
  { weight: 1, arbitrary: anyValue.filter((v) => v === null || typeof v !== 'object') },
);

function bulkBody(ids: () => string[]): fc.Arbitrary<Json> {
  const bulkIds = fc.oneof(
    { weight: 10, arbitrary: fc.constantFrom('a', 'b', 'c') },
    { weight: 1, arbitrary: fc.constantFrom('', 'bulkId:a', ' ') },
  );
  const bulkPath = fc.oneof(
    fc.constantFrom('/Users', '/Groups', '/Users/bulkId:a', '/Groups/bulkId:b', '/Users/no-such', '', 'Users', '/Nope'),
    fc.constant(null).map(() => {
      const known = ids();
      return known.length ? `/Users/${known[known.length - 1]!}` : '/Users';
    }),
  );
  const lastOf = (kind: 'Users' | 'Groups') =>
    fc.constant(null).map(() => {
      const known =
        kind === 'Users' ? ids().filter((id) => userIds.includes(id)) : ids().filter((id) => groupIds.includes(id));
      return known.length ? known[known.length - 1]! : 'no-such-id';
    });
  const target = (kind: 'Users' | 'Groups') =>
    fc.oneof(lastOf(kind), fc.constantFrom('bulkId:a', 'bulkId:b', 'bulkId:zz')).map((id) => `/${kind}/${id}`);
  const coherent = fc.oneof(
    fc.record({ method: fc.constant('POST'), path: fc.constant('/Users'), bulkId: bulkIds, data: userBody(ids) }),
    fc.record({
      method: fc.constant('POST'),
      path: fc.constant('/Groups'),
      bulkId: bulkIds,
      data: groupBody(ids).map((g) => ({ ...g, members: [{ value: 'bulkId:a' }] })),
    }),
    fc.record({ method: fc.constant('PUT'), path: target('Users'), data: userBody(ids) }),
    fc.record({ method: fc.constant('PUT'), path: target('Groups'), data: groupBody(ids) }),
    fc.record(
      {
        method: fc.constant('PATCH'),
        path: fc.oneof(target('Users'), target('Groups')),
        data: patchBody(ids),
        version: fc.constantFrom('W/"1"', '*', 'W/"9"'),
      },
      { requiredKeys: ['method', 'path', 'data'] },
    ),
    fc.record({ method: fc.constantFrom('DELETE', 'GET'), path: fc.oneof(target('Users'), target('Groups')) }),
  ) as fc.Arbitrary<Json>;
  const random = fc.record(
    {
      method: fc.oneof(fc.constantFrom('POST', 'PUT', 'PATCH', 'DELETE', 'GET', 'post'), anyText),
      path: bulkPath,
      bulkId: bulkIds,
      version: fc.constantFrom('W/"1"', '*', ''),
      data: fc.oneof(userBody(ids), groupBody(ids), patchBody(ids), anyValue),
    },
    { requiredKeys: ['method'] },
  ) as fc.Arbitrary<Json>;
  const operation = fc.oneof({ weight: 8, arbitrary: coherent }, { weight: 1, arbitrary: random });
  return fc.oneof(
    {
      weight: 20,
      arbitrary: fc.record(
        {
          schemas: fc.constant([BULK_REQUEST]),
          Operations: fc.array(operation, { minLength: 1, maxLength: 5 }),
          failOnErrors: fc.oneof(
            { weight: 10, arbitrary: fc.integer({ min: 1, max: 3 }) },
            { weight: 1, arbitrary: anyValue },
          ),
        },
        { requiredKeys: ['schemas', 'Operations'] },
      ),
    },
    { weight: 1, arbitrary: anyValue },
  ) as fc.Arbitrary<Json>;
}

// ---------------------------------------------------------------------------------------------------
// The properties a client relies on

function expectScimError(answer: Pick<Answer, 'status' | 'body'>, where: string) {
  const body = answer.body as Record<string, unknown>;
  expect(body, where).toBeTypeOf('object');
  expect(body.schemas, where).toEqual([ERROR]);
  expect(body.status, where).toBe(String(answer.status));
  if (body.scimType !== undefined) expect(SCIM_TYPES, where).toContain(body.scimType);
}

/** PATCH operations that set what the resource already holds. */
function restatingOperations(resource: Resource, op: string): Json[] {
  const operations: Json[] = [];
  const writable = (key: string) => !['id', 'meta', 'schemas', 'groups'].includes(key);
  for (const [key, value] of Object.entries(resource)) {
    if (!writable(key)) continue;
    if (key.startsWith('urn:') && value && typeof value === 'object' && !Array.isArray(value)) {
      operations.push({ op, path: key, value });
      for (const [sub, subValue] of Object.entries(value)) {
        if (sub === 'manager' && subValue && typeof subValue === 'object' && !Array.isArray(subValue))
          operations.push({
            op,
            path: `${key}:manager.value`,
            value: (subValue as Record<string, Json>).value ?? null,
          });
        else operations.push({ op, path: `${key}:${sub}`, value: subValue });
      }
      continue;
    }
    if (op === 'add' && Array.isArray(value)) continue; // add appends to a multi-valued attribute
    operations.push({ op, path: key, value });
    if (value && typeof value === 'object' && !Array.isArray(value))
      for (const [sub, subValue] of Object.entries(value))
        operations.push({ op, path: `${key}.${sub}`, value: subValue });
    if (Array.isArray(value) && key !== 'members')
      for (const element of value as Record<string, Json>[]) {
        if (typeof element.value !== 'string' || /["\\]/.test(element.value)) continue;
        // A filter that selects several values (one address as work and home) sets each of them.
        const fold = (v: Json) => (typeof v === 'string' ? v.normalize('NFC').toLowerCase() : v);
        const alike = (value as Record<string, Json>[]).filter((e) => fold(e.value!) === fold(element.value!));
        if (alike.length > 1) continue;
        const filter = `${key}[value eq ${JSON.stringify(element.value)}]`;
        for (const [sub, subValue] of Object.entries(element))
          if (sub !== 'value') operations.push({ op, path: `${filter}.${sub}`, value: subValue });
      }
  }
  const whole = Object.fromEntries(Object.entries(resource).filter(([key]) => writable(key)));
  operations.push({ op, value: whole });
  return operations;
}

/** Keeps a few of a resource's string values (with a prefix of one, for sw/co) for later filters. */
function rememberValues(value: unknown) {
  if (typeof value === 'string' && value.length > 0 && value.length < 200) {
    knownValues.push(value, value.slice(0, 1 + (value.length >> 1)));
    if (knownValues.length > 400) knownValues.splice(1, 100);
  } else if (Array.isArray(value)) value.forEach(rememberValues);
  else if (value && typeof value === 'object')
    for (const [key, inner] of Object.entries(value)) if (key !== 'meta' && key !== 'id') rememberValues(inner);
}

/** `W/"3.<digest of derived values>"` → 3 (services/identities/kinds.ts representationTag). */
const revisionNumber = (tag: unknown) => Number(/^W\/"(\d+)/.exec(String(tag))?.[1]);

function withoutChangeMarks(resource: Resource) {
  const { meta, ...rest } = resource;
  const { lastModified: _lastModified, version: _version, ...keptMeta } = meta;
  return { ...rest, meta: keptMeta };
}

describe('SCIM over HTTP under generated requests', () => {
  let server: TestServer;
  let token: string;
  let bases: string[];

  beforeAll(async () => {
    server = await startTestServer();
    const tenant = await server.tenantWithToken('Fuzz');
    token = tenant.token;
    bases = [`${server.url}/scim/v2`, `${server.url}/api/v1/tenants/${tenant.tenantId}/scim/v2`];
  });
  afterAll(() => server.stop());

  async function send(base: string, method: string, path: string, body?: unknown): Promise<Answer> {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  }

  /** What holds for every answer on a SCIM path. */
  function checkAnswer(answer: Answer, where: string) {
    const context = `${where} → ${answer.status} ${answer.text.slice(0, 600)}`;
    expect(answer.status, context).toBeLessThan(500);
    expect(server.errors, context).toEqual([]);
    if (answer.status >= 300) {
      expect(answer.headers.get('content-type'), context).toMatch(/^application\/scim\+json/);
      expectScimError(answer, context);
    }
  }

  /** A resource answered by a write is the one a GET now returns, with its ETag. */
  async function checkResource(base: string, kind: 'Users' | 'Groups', answer: Answer, where: string) {
    const resource = answer.body as Resource;
    const context = `${where} → ${answer.text.slice(0, 600)}`;
    expect(resource.id, context).toBeTypeOf('string');
    expect(resource.meta?.version, context).toBe(answer.headers.get('etag'));
    const read = await send(base, 'GET', `/${kind}/${encodeURIComponent(resource.id)}`);
    checkAnswer(read, `GET after ${where}`);
    expect(read.status, context).toBe(200);
    expect(read.body, context).toEqual(resource);
    (kind === 'Users' ? userIds : groupIds).push(resource.id);
    rememberValues(resource);
    return resource;
  }

  function checkBulkAnswer(answer: Answer, where: string) {
    checkAnswer(answer, where);
    if (answer.status !== 200) return;
    const operations = (answer.body as { Operations?: Record<string, unknown>[] }).Operations ?? [];
    for (const operation of operations) {
      const context = `${where} → ${JSON.stringify(operation).slice(0, 600)}`;
      expect(operation.status, context).toBeTypeOf('string');
      const status = Number(operation.status);
      expect(status, context).toBeLessThan(500);
      if (status >= 300) expectScimError({ status, body: operation.response }, context);
    }
  }

  /**
   * Each resource a Bulk request left behind is read back at the newest revision its operations
   * answered (operations that refer forward by bulkId run after the one they name, so the last in
   * the request is not always the last run).
   */
  async function checkBulkLocations(base: string, answer: Answer, where: string) {
    if (answer.status !== 200) return;
    const operations = (answer.body as { Operations?: Record<string, unknown>[] }).Operations ?? [];
    const done = operations.filter(
      (o) => typeof o.location === 'string' && o.method !== 'GET' && Number(o.status) < 300,
    );
    // A user or group deleted leaves the groups it was in, which is a new revision of them.
    const anyDeleted = done.some((o) => o.method === 'DELETE');
    const byLocation = new Map<string, Record<string, unknown>[]>();
    for (const o of done) byLocation.set(String(o.location), [...(byLocation.get(String(o.location)) ?? []), o]);
    for (const [location, ops] of byLocation) {
      const deleted = ops.some((o) => o.method === 'DELETE');
      if (anyDeleted && !deleted) continue;
      const path = location.slice(base.length);
      const read = await send(base, 'GET', path);
      checkAnswer(read, `GET ${path} after ${where}`);
      const context = `${where} → ${JSON.stringify(ops)} → GET ${read.status} ${read.text.slice(0, 400)}`;
      if (deleted) {
        expect(read.status, context).toBe(404);
        continue;
      }
      expect(read.status, context).toBe(200);
      const newest = Math.max(...ops.map((o) => revisionNumber(o.version)));
      expect(revisionNumber(read.headers.get('etag')), context).toBe(newest);
    }
  }

  const base = () => fc.integer({ min: 0, max: 1 });
  const where = (method: string, path: string, body: unknown) =>
    `${method} ${path} ${JSON.stringify(body)?.slice(0, 1500)}`;

  it(
    'POST and PUT of generated Users and Groups',
    async () => {
      const kindAndBody = fc.oneof(
        userBody(anyIds).map((body) => ['Users', body] as const),
        groupBody(anyIds).map((body) => ['Groups', body] as const),
      );
      await fc.assert(
        fc.asyncProperty(base(), kindAndBody, fc.boolean(), async (b, [kind, body], put) => {
          const ids = kind === 'Users' ? userIds : groupIds;
          const target = put && ids.length ? ids[ids.length - 1] : undefined;
          const [method, path] = target ? ['PUT', `/${kind}/${target}`] : ['POST', `/${kind}`];
          const answer = await send(bases[b]!, method, path, body);
          checkAnswer(answer, where(method, path, body));
          if (answer.status < 300) await checkResource(bases[b]!, kind, answer, where(method, path, body));
        }),
        runs(150),
      );
    },
    TIMEOUT,
  );

  it(
    'PATCH with generated operations',
    async () => {
      await fc.assert(
        fc.asyncProperty(base(), fc.boolean(), patchBody(anyIds), async (b, toUser, body) => {
          const kind = toUser ? 'Users' : 'Groups';
          const ids = toUser ? userIds : groupIds;
          if (!ids.length) return;
          const path = `/${kind}/${ids[ids.length - 1]}`;
          const answer = await send(bases[b]!, 'PATCH', path, body);
          checkAnswer(answer, where('PATCH', path, body));
          if (answer.status === 200) await checkResource(bases[b]!, kind, answer, where('PATCH', path, body));
        }),
        runs(200),
      );
    },
    TIMEOUT,
  );

  it(
    'GET lists and POST .search with generated queries',
    async () => {
      const endpoint = fc.constantFrom('/Users', '/Groups', '');
      await fc.assert(
        fc.asyncProperty(base(), endpoint, fc.boolean(), listQuery, searchBody, async (b, at, get, query, search) => {
          const path = get ? `${at || '/'}?${new URLSearchParams(query)}` : `${at}/.search`;
          const answer = get ? await send(bases[b]!, 'GET', path) : await send(bases[b]!, 'POST', path, search);
          checkAnswer(answer, where(get ? 'GET' : 'POST', path, get ? undefined : search));
          if (answer.status === 200) {
            const list = answer.body as Record<string, unknown>;
            expect(list.totalResults).toBeTypeOf('number');
            expect(Array.isArray(list.Resources)).toBe(true);
          }
        }),
        runs(250),
      );
    },
    TIMEOUT,
  );

  it(
    'POST /Bulk with generated operations',
    async () => {
      await fc.assert(
        fc.asyncProperty(base(), bulkBody(anyIds), async (b, body) => {
          const answer = await send(bases[b]!, 'POST', '/Bulk', body);
          checkBulkAnswer(answer, where('POST', '/Bulk', body));
          await checkBulkLocations(bases[b]!, answer, where('POST', '/Bulk', body));
        }),
        runs(120),
      );
    },
    TIMEOUT,
  );

  it(
    'restating what GET returned, by PUT or by PATCH, is accepted and changes nothing',
    async () => {
      const kindAndBody = fc.oneof(
        userBody(anyIds).map((body) => ['Users', body] as const),
        groupBody(anyIds).map((body) => ['Groups', body] as const),
      );
      await fc.assert(
        fc.asyncProperty(base(), kindAndBody, fc.nat(), async (b, [kind, body], pick) => {
          const created = await send(bases[b]!, 'POST', `/${kind}`, body);
          checkAnswer(created, where('POST', `/${kind}`, body));
          if (created.status !== 201) return;
          const resource = await checkResource(bases[b]!, kind, created, where('POST', `/${kind}`, body));
          const path = `/${kind}/${resource.id}`;

          const put = await send(bases[b]!, 'PUT', path, resource);
          checkAnswer(put, where('PUT', path, resource));
          expect(put.status, where('PUT', path, resource) + put.text).toBe(200);
          expect(withoutChangeMarks(put.body as Resource)).toEqual(withoutChangeMarks(resource));
          await checkResource(bases[b]!, kind, put, where('PUT', path, resource));

          const keys = Object.keys(resource).filter((k) => !['id', 'meta', 'schemas', 'groups'].includes(k));
          if (!keys.length) return;
          const key = keys[pick % keys.length]!;
          const patch = { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: key, value: resource[key] }] };
          const patched = await send(bases[b]!, 'PATCH', path, patch);
          checkAnswer(patched, where('PATCH', path, patch));
          expect(patched.status, where('PATCH', path, patch) + patched.text).toBe(200);
          expect(withoutChangeMarks(patched.body as Resource)).toEqual(withoutChangeMarks(resource));
          await checkResource(bases[b]!, kind, patched, where('PATCH', path, patch));
        }),
        runs(80),
      );
    },
    TIMEOUT,
  );

  it(
    'a user found by its own userName and displayName, in any case, through a JSON string literal',
    async () => {
      const name = fc.oneof(
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 10 }),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 10 }),
        fc.string({ minLength: 1, maxLength: 10 }).map((t) => `${t}"\\\\ ]) or (`),
      );
      await fc.assert(
        fc.asyncProperty(base(), name, name, fc.boolean(), async (b, userName, displayName, upper) => {
          const body = { schemas: [USER], userName: `${userName}${++counter}`, displayName };
          const created = await send(bases[b]!, 'POST', '/Users', body);
          checkAnswer(created, where('POST', '/Users', body));
          if (created.status !== 201) return;
          const user = await checkResource(bases[b]!, 'Users', created, where('POST', '/Users', body));
          const stored = user.userName as string;
          // Case-insensitive means NFC + toLowerCase here (index-keys.ts foldKey), not Unicode case
          // folding: "STRASSE" does not find "straße". Only variants that fold alike are looked for.
          const fold = (t: string) => t.normalize('NFC').toLowerCase();
          const cased = upper ? stored.toUpperCase() : stored.toLowerCase();
          const variant = fold(cased) === fold(stored) ? cased : stored;
          for (const filter of [
            `userName eq ${JSON.stringify(variant)}`,
            `displayName eq ${JSON.stringify(user.displayName)} and id eq "${user.id}"`,
          ]) {
            const path = `/Users?${new URLSearchParams({ filter })}`;
            const found = await send(bases[b]!, 'GET', path);
            checkAnswer(found, where('GET', path, undefined));
            const ids = (found.body as { Resources: Resource[] }).Resources.map((r) => r.id);
            expect(ids, `${filter} → ${found.text.slice(0, 400)}`).toContain(user.id);
          }
          const again = { schemas: [USER], userName: variant };
          const duplicate = await send(bases[b]!, 'POST', '/Users', again);
          checkAnswer(duplicate, where('POST', '/Users', again));
          expect(duplicate.status, where('POST', '/Users', again) + duplicate.text).toBe(409);
          if (duplicate.status === 201) userIds.push((duplicate.body as Resource).id);
        }),
        runs(60),
      );
    },
    TIMEOUT,
  );

  it(
    'pages of a list, read in turn, are the whole list once',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          base(),
          fc.constantFrom('/Users', '/Groups', ''),
          fc.integer({ min: 1, max: 40 }),
          fc.option(fc.constantFrom('displayName', 'meta.created', 'meta.lastModified', 'id', 'externalId')),
          fc.constantFrom('ascending', 'descending'),
          async (b, at, count, sortBy, sortOrder) => {
            const read = async (startIndex: number, n: number) => {
              const query = new URLSearchParams({ startIndex: String(startIndex), count: String(n) });
              if (sortBy) query.set('sortBy', sortBy);
              query.set('sortOrder', sortOrder);
              const path = `${at || '/'}?${query}`;
              const answer = await send(bases[b]!, 'GET', path);
              checkAnswer(answer, where('GET', path, undefined));
              expect(answer.status, path + answer.text.slice(0, 300)).toBe(200);
              return answer.body as {
                totalResults: number;
                itemsPerPage: number;
                startIndex: number;
                Resources: Resource[];
              };
            };
            const whole = await read(1, 1000);
            expect(whole.itemsPerPage).toBe(whole.Resources.length);
            const paged: string[] = [];
            for (let start = 1; start <= whole.totalResults && start < 1 + 5 * count; start += count) {
              const page = await read(start, count);
              expect(page.startIndex).toBe(start);
              expect(page.itemsPerPage).toBe(page.Resources.length);
              expect(page.totalResults).toBe(whole.totalResults);
              paged.push(...page.Resources.map((r) => r.id));
            }
            expect(paged).toEqual(whole.Resources.map((r) => r.id).slice(0, paged.length));
          },
        ),
        runs(25),
      );
    },
    TIMEOUT,
  );

  it(
    'a PATCH that restates current values, by any path, changes nothing',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          base(),
          fc.boolean(),
          fc.nat(),
          fc.constantFrom('replace', 'Replace', 'add'),
          async (b, toUser, pick, op) => {
            const kind = toUser ? 'Users' : 'Groups';
            const ids = toUser ? userIds : groupIds;
            if (!ids.length) return;
            const id = ids[pick % ids.length]!;
            const read = await send(bases[b]!, 'GET', `/${kind}/${id}`);
            if (read.status !== 200) return;
            const resource = read.body as Resource;
            const operations = restatingOperations(resource, op);
            if (!operations.length) return;
            const operation = operations[pick % operations.length]!;
            const patch = { schemas: [PATCH_OP], Operations: [operation] };
            const path = `/${kind}/${id}`;
            const patched = await send(bases[b]!, 'PATCH', path, patch);
            checkAnswer(patched, where('PATCH', path, patch));
            expect(patched.status, where('PATCH', path, patch) + patched.text.slice(0, 500)).toBe(200);
            expect(patched.body, where('PATCH', path, patch)).toEqual(resource);
          },
        ),
        runs(150),
      );
    },
    TIMEOUT,
  );

  it(
    'filters keep Boolean algebra: F and not (F) split the list, F or G counts as F + G - (F and G)',
    async () => {
      // A blank filter is read as no filter at all (some IdPs send `filter=`), so it is not an
      // expression that can be negated or combined.
      const validFilter = filterText.filter((f) => f.trim().length > 0);
      await fc.assert(
        fc.asyncProperty(
          base(),
          fc.constantFrom('/Users', '/Groups', '/'),
          validFilter,
          validFilter,
          async (b, at, f, g) => {
            const total = async (filter?: string) => {
              const query = new URLSearchParams({ count: '0' });
              if (filter !== undefined) query.set('filter', filter);
              const path = `${at}?${query}`;
              const answer = await send(bases[b]!, 'GET', path);
              checkAnswer(answer, where('GET', path, undefined));
              return answer.status === 200 ? (answer.body as { totalResults: number }).totalResults : undefined;
            };
            const [all, inF, notF, inG] = [await total(), await total(f), await total(`not (${f})`), await total(g)];
            if (inF === undefined || inG === undefined) return;
            const context = `F=${f} G=${g}`;
            expect(notF, context).toBeDefined();
            expect(inF + notF!, context).toBe(all);
            const [either, both] = [await total(`(${f}) or (${g})`), await total(`(${f}) and (${g})`)];
            expect(either, context).toBe(inF + inG - both!);
          },
        ),
        runs(120),
      );
    },
    TIMEOUT,
  );

  it(
    'a PUT of what GET returned, with its names in another case, changes nothing',
    async () => {
      const recase = (value: Json, flip: boolean): Json => {
        if (Array.isArray(value)) return value.map((v) => recase(v, flip));
        if (value === null || typeof value !== 'object') return value;
        return Object.fromEntries(
          Object.entries(value).map(([k, v]) => [
            k.startsWith('urn:') ? k.toUpperCase() : flip ? k.toUpperCase() : k.toLowerCase(),
            recase(v, flip),
          ]),
        );
      };
      await fc.assert(
        fc.asyncProperty(base(), fc.boolean(), fc.boolean(), fc.nat(), async (b, toUser, flip, pick) => {
          const kind = toUser ? 'Users' : 'Groups';
          const ids = toUser ? userIds : groupIds;
          if (!ids.length) return;
          const path = `/${kind}/${ids[pick % ids.length]}`;
          const read = await send(bases[b]!, 'GET', path);
          if (read.status !== 200) return;
          const resource = read.body as Resource;
          const body = recase(resource, flip);
          const put = await send(bases[b]!, 'PUT', path, body);
          checkAnswer(put, where('PUT', path, body));
          expect(put.status, where('PUT', path, body) + put.text.slice(0, 500)).toBe(200);
          expect(put.body, where('PUT', path, body)).toEqual(resource);
        }),
        runs(100),
      );
    },
    TIMEOUT,
  );

  it(
    'projections and preconditions: id always returned, excluded names absent, If-Match decides',
    async () => {
      const names = fc.constantFrom(
        'userName',
        'displayName',
        'emails',
        'members',
        'name.givenName',
        'meta',
        'active',
        ENTERPRISE,
        'id',
        'schemas',
      );
      await fc.assert(
        fc.asyncProperty(
          base(),
          fc.boolean(),
          fc.nat(),
          names,
          fc.boolean(),
          fc.boolean(),
          async (b, toUser, pick, name, exclude, fresh) => {
            const kind = toUser ? 'Users' : 'Groups';
            const ids = toUser ? userIds : groupIds;
            if (!ids.length) return;
            const path = `/${kind}/${ids[pick % ids.length]}`;
            const projected = `${path}?${new URLSearchParams({ [exclude ? 'excludedAttributes' : 'attributes']: name })}`;
            const read = await send(bases[b]!, 'GET', projected);
            checkAnswer(read, where('GET', projected, undefined));
            if (read.status !== 200) return;
            const shown = read.body as Resource;
            expect(shown.id, projected).toBeTypeOf('string');
            expect(shown.schemas, projected).toBeDefined();
            // Excluding a sub-attribute keeps its parent; id, schemas and required names always come.
            const isWhole = !name.includes('.') || name.startsWith('urn:');
            if (exclude && isWhole && !['id', 'schemas', 'userName', 'displayName'].includes(name))
              expect(Object.keys(shown), projected).not.toContain(name);
            const whole = await send(bases[b]!, 'GET', path);
            const etag = whole.headers.get('etag')!;
            expect(read.headers.get('etag'), projected).toBe(etag);
            const body = whole.body as Resource;
            const put = await fetch(`${bases[b]}${projected}`, {
              method: 'PUT',
              headers: {
                Authorization: `Bearer ${token}`,
                'Content-Type': 'application/scim+json',
                'If-Match': fresh ? etag : 'W/"999999"',
              },
              body: JSON.stringify(body),
            });
            const text = await put.text();
            const answer = { status: put.status, headers: put.headers, body: JSON.parse(text) as unknown, text };
            checkAnswer(answer, where('PUT', projected, body));
            expect(put.status, `${projected} If-Match ${fresh} ${text.slice(0, 300)}`).toBe(fresh ? 200 : 412);
            if (fresh) {
              expect(put.headers.get('location'), projected).toBe(body.meta.location);
              expect(put.headers.get('etag'), projected).toBe(etag);
            }
          },
        ),
        runs(100),
      );
    },
    TIMEOUT,
  );
});
