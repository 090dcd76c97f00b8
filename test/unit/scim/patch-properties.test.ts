import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COMPAT_PROFILES, compatFlags } from '@shared/scim/compat-flags';
import type { ResourceSchema } from '@shared/scim/registry';
import type { AttributeDefinition } from '@shared/scim/schema-types';
import { SCIM_URN } from '@shared/scim/urns';
import { ScimError } from '../../../src-main/scim/errors';
import { foldKey } from '@shared/scim/index-keys';
import { applyPatch } from '../../../src-main/scim/patch';
import { groupSchema, userSchema } from './helpers';
import { ENTERPRISE, group, patchBody, user } from './patch-helpers';

const profile = fc.constantFrom(...COMPAT_PROFILES);
const text = fc.string({ minLength: 1, maxLength: 12 });

/** Users with a random subset of attributes (emails, members, extension), always valid. */
const userArb = fc
  .record(
    {
      title: text,
      nickName: text,
      emails: fc.uniqueArray(fc.record({ value: text, type: fc.constantFrom('work', 'home') }), {
        maxLength: 4,
        selector: (e) => foldKey(e.value),
      }),
      ext: fc.record({ department: text }, { requiredKeys: [] }),
    },
    { requiredKeys: [] },
  )
  .map(({ ext, emails, ...rest }) => {
    const u: Record<string, unknown> = { ...user({ emails: undefined }), ...rest };
    delete u['emails'];
    if (emails && emails.length > 0) u['emails'] = emails;
    if (ext && Object.keys(ext).length > 0) {
      u[ENTERPRISE] = ext;
      u['schemas'] = [SCIM_URN.user, ENTERPRISE];
    }
    return u;
  });

const apply = (
  resource: Record<string, unknown>,
  ops: unknown[],
  schema: ResourceSchema,
  p: (typeof COMPAT_PROFILES)[number],
) => applyPatch(resource, patchBody(...ops), { schema, compat: compatFlags(p) });

describe('add then remove restores the resource', () => {
  it('a new email, removed by a value filter', () => {
    fc.assert(
      fc.property(userArb, text, profile, (u, email, p) => {
        const emails = (u['emails'] as { value: string }[] | undefined) ?? [];
        fc.pre(!emails.some((e) => foldKey(e.value) === foldKey(email)));
        const added = apply(
          u,
          [{ op: 'add', path: 'emails', value: [{ value: email, type: 'other' }] }],
          userSchema,
          p,
        );
        const back = apply(
          added.resource,
          [{ op: 'remove', path: `emails[value eq ${JSON.stringify(email)}]` }],
          userSchema,
          p,
        );
        expect(back.resource).toEqual(u);
      }),
    );
  });
  it('a new member of a group, removed by a value filter', () => {
    const members = fc.uniqueArray(text, { maxLength: 20 });
    fc.assert(
      fc.property(members, text, profile, (ids, id, p) => {
        fc.pre(!ids.includes(id));
        const g = group(ids);
        const added = apply(g, [{ op: 'add', path: 'members', value: [{ value: id }] }], groupSchema, p);
        expect(added.changed).toEqual(['members']);
        const back = apply(
          added.resource,
          [{ op: 'remove', path: `members[value eq ${JSON.stringify(id)}]` }],
          groupSchema,
          p,
        );
        expect(back.resource).toEqual(g);
      }),
    );
  });
  it('an absent singular or extension attribute, removed by its path', () => {
    const target = fc.constantFrom(
      'title',
      'nickName',
      'name.middleName',
      `${ENTERPRISE}:costCenter`,
      `${ENTERPRISE}:manager.value`,
    );
    fc.assert(
      fc.property(userArb, target, text, profile, (u, path, value, p) => {
        const present = apply(u, [{ op: 'remove', path }], userSchema, p).changed.length > 0;
        fc.pre(!present);
        const added = apply(u, [{ op: 'add', path, value }], userSchema, p);
        const back = apply(added.resource, [{ op: 'remove', path }], userSchema, p);
        expect(back.resource).toEqual(u);
      }),
    );
  });
});

/** Operations that succeed on any user from userArb, and ones that always fail. */
const goodOp = fc.oneof(
  fc.record({ op: fc.constant('replace'), path: fc.constant('title'), value: text }),
  fc.record({
    op: fc.constant('add'),
    path: fc.constant('emails'),
    value: fc.array(fc.record({ value: text }), { maxLength: 3 }),
  }),
  fc.record({ op: fc.constant('remove'), path: fc.constantFrom('nickName', 'emails', `${ENTERPRISE}:department`) }),
  fc.record({ op: fc.constant('replace'), value: fc.record({ displayName: text, active: fc.boolean() }) }),
);
const badOp = fc.constantFrom<unknown>(
  { op: 'replace', path: 'id', value: 'other' },
  { op: 'add', path: 'active', value: 42 },
  { op: 'add', path: 'emails[type eq', value: 'x' },
  { op: 'remove' },
  { op: 'frobnicate', path: 'title', value: 'x' },
  { op: 'remove', path: 'userName' },
  { op: 'add', path: 'meta.created', value: '2020-01-01T00:00:00Z' },
  { op: 'replace', path: 'emails.value', value: 'x' },
);

describe('a failing operation anywhere leaves the resource untouched', () => {
  it('throws a ScimError and the input is deep-equal to before', () => {
    fc.assert(
      fc.property(userArb, fc.array(goodOp, { maxLength: 6 }), badOp, fc.nat(), profile, (u, good, bad, at, p) => {
        const ops: unknown[] = [...good];
        ops.splice(at % (good.length + 1), 0, bad);
        const snapshot = structuredClone(u);
        let thrown: unknown;
        try {
          apply(u, ops, userSchema, p);
        } catch (e) {
          thrown = e;
        }
        expect(thrown).toBeInstanceOf(ScimError);
        expect(u).toEqual(snapshot);
      }),
    );
  });
});

const DANGEROUS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '__defineGetter__',
  '__lookupGetter__',
  'isPrototypeOf',
  'polluted',
];
const segment = fc.oneof(
  fc.constantFrom(...DANGEROUS),
  fc.constantFrom('name', 'emails', 'members', 'manager', 'value'),
  text,
);
const pathArb = fc.oneof(
  segment,
  fc.tuple(segment, segment).map(([a, b]) => `${a}.${b}`),
  fc.tuple(segment, segment).map(([a, b]) => `${a}[${b} eq "x"]`),
  fc.tuple(segment, segment, segment).map(([a, b, c]) => `${a}[${b} pr].${c}`),
  fc.tuple(segment, segment).map(([a, b]) => `urn:${a}:${b}`),
  segment.map((s) => `${ENTERPRISE}:${s}`),
  fc.string({ maxLength: 30 }),
);
/** Values built with JSON.parse, so "__proto__" is a real own key as it is off the wire. */
const valueArb = fc
  .oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.dictionary(fc.oneof(fc.constantFrom(...DANGEROUS), pathArb), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
    fc.array(fc.dictionary(fc.constantFrom(...DANGEROUS, 'value', 'type'), fc.jsonValue({ maxDepth: 1 })), {
      maxLength: 3,
    }),
  )
  .map((v) => JSON.parse(JSON.stringify(v)) as unknown);

function allowedKeys(schema: ResourceSchema): Map<string, AttributeDefinition | 'extension'> {
  const m = new Map<string, AttributeDefinition | 'extension'>();
  for (const a of schema.topLevel) m.set(a.name, a);
  for (const e of schema.extensions) m.set(e.id, 'extension');
  return m;
}

function checkShape(obj: Record<string, unknown>, original: Record<string, unknown>, schema: ResourceSchema): void {
  expect(Object.getPrototypeOf(obj)).toBe(Object.prototype);
  const allowed = allowedKeys(schema);
  for (const key of Reflect.ownKeys(obj)) {
    expect(typeof key).toBe('string');
    const k = key as string;
    if (Object.hasOwn(original, k) && obj[k] === original[k]) continue;
    const def = allowed.get(k);
    expect(def, `unexpected key ${k}`).toBeDefined();
    if (def === 'extension') {
      const ext = schema.schemaOf(k)!;
      const inner = obj[k] as Record<string, unknown>;
      expect(Object.getPrototypeOf(inner)).toBe(Object.prototype);
      for (const ik of Reflect.ownKeys(inner)) {
        const a = ext.attributes.find((x) => x.name === ik);
        expect(a, `unexpected key ${String(ik)} in ${k}`).toBeDefined();
        checkValue(inner[ik as string], a!, schema);
      }
    } else if (def) checkValue(obj[k], def, schema);
  }
}

function checkValue(v: unknown, a: AttributeDefinition, schema: ResourceSchema): void {
  const values = a.multiValued && Array.isArray(v) ? v : [v];
  for (const el of values) {
    if (a.type !== 'complex' || typeof el !== 'object' || el === null) continue;
    expect(Object.getPrototypeOf(el)).toBe(Object.prototype);
    for (const k of Reflect.ownKeys(el)) {
      expect(schema.subAttribute(a, String(k)), `unexpected sub-attribute ${String(k)} of ${a.name}`).toBeDefined();
    }
  }
}

describe('no path, however malformed, adds a key that is not in the schema', () => {
  const protoKeys = Reflect.ownKeys(Object.prototype).length;
  it('for paths, path-less values and values of every shape, in every profile', () => {
    const op = fc.oneof(
      fc.record({ op: fc.constantFrom('add', 'replace', 'remove', 'Add'), path: pathArb, value: valueArb }),
      fc.record({ op: fc.constantFrom('add', 'replace'), value: valueArb }),
    );
    const resource = fc.constantFrom<[Record<string, unknown>, ResourceSchema]>(
      [user(), userSchema],
      [group(), groupSchema],
    );
    let applied = 0;
    let withProtoKey = 0;
    fc.assert(
      fc.property(resource, fc.array(op, { minLength: 1, maxLength: 4 }), profile, ([r, schema], ops, p) => {
        if (JSON.stringify(ops).includes('"__proto__"')) withProtoKey++;
        let result;
        try {
          result = apply(r, ops, schema, p);
        } catch (e) {
          // Every refusal is a SCIM error, never a TypeError from walking a bad value.
          expect(e).toBeInstanceOf(ScimError);
          return;
        }
        applied++;
        checkShape(result.resource, r, schema);
      }),
      { numRuns: 2000 },
    );
    // The generators reach both outcomes and really carry own "__proto__" keys.
    expect(applied).toBeGreaterThan(100);
    expect(withProtoKey).toBeGreaterThan(50);
    expect(Reflect.ownKeys(Object.prototype).length).toBe(protoKeys);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});
