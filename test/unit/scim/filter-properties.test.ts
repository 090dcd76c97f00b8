import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COMPARE_OPS, type AttributePath, type CompValue, type FilterNode } from '../../../src-main/scim/filter/ast';
import { compileFilter } from '../../../src-main/scim/filter/evaluate';
import { parseFilter } from '../../../src-main/scim/filter/parser';
import { printFilter } from '../../../src-main/scim/filter/printer';
import { ScimSyntaxError } from '../../../src-main/scim/filter/syntax-error';
import { createMemoryCandidateSource } from '../../../src-main/scim/memory-source';
import { findMatching } from '../../../src-main/scim/query';
import type { ResourceData } from '../../../src-main/scim/values';
import { groupSchema, userSchema } from './helpers';

// ---------- print/parse round trip over arbitrary well-formed ASTs ----------

const attrName = fc.oneof(
  fc.constantFrom('userName', 'emails', 'value', 'not', 'and', 'or', 'pr', '$ref', 'x-y_1'),
  fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,8}$/),
);
const uri = fc.constantFrom(
  'urn:ietf:params:scim:schemas:core:2.0:User',
  'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  'urn:acme:1.0:X',
);
const path: fc.Arbitrary<AttributePath> = fc
  .record({ uri: fc.option(uri, { nil: undefined }), name: attrName, sub: fc.option(attrName, { nil: undefined }) })
  .map(({ uri, name, sub }) => ({
    ...(uri === undefined ? {} : { uri }),
    name,
    ...(sub === undefined ? {} : { sub }),
  }));
const value: fc.Arbitrary<CompValue> = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
);
const op = fc.constantFrom(...COMPARE_OPS);

function filterArb(allowValuePath: boolean): fc.Arbitrary<FilterNode> {
  const { node } = fc.letrec<{ node: FilterNode }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.record({ kind: fc.constant('compare' as const), path, op, value }),
      fc.record({ kind: fc.constant('present' as const), path }),
      fc.record({ kind: fc.constantFrom('and' as const, 'or' as const), left: tie('node'), right: tie('node') }),
      fc.record({ kind: fc.constant('not' as const), filter: tie('node') }),
      ...(allowValuePath
        ? [
            fc.record({
              kind: fc.constant('valuePath' as const),
              path: path.map((p) => ({ ...p, sub: undefined })).map(({ sub: _s, ...p }) => p),
              filter: filterArb(false),
            }),
          ]
        : []),
    ),
  }));
  return node;
}

describe('printer/parser round trip', () => {
  it('parse(print(ast)) deep-equals ast, and printing is idempotent', () => {
    fc.assert(
      fc.property(filterArb(true), (ast) => {
        const text = printFilter(ast);
        const again = parseFilter(text, { maxLength: 1e6, maxDepth: 64, maxTerms: 1e4 });
        expect(again).toEqual(ast);
        expect(printFilter(again)).toBe(text);
      }),
      { numRuns: 500 },
    );
  });
});

// ---------- garbage in: a result or invalidFilter, never anything else, never a stall ----------

const filterish = fc
  .array(
    fc.constantFrom(
      '(',
      ')',
      '[',
      ']',
      '"',
      '\\',
      ' ',
      'not',
      'and',
      'or',
      'eq',
      'pr',
      'co',
      'userName',
      'emails',
      '.',
      'value',
      'urn:a:b:',
      '1',
      '-',
      'e',
      'true',
      'null',
      '"x"',
      'ne',
      'gt',
    ),
    { maxLength: 60 },
  )
  .map((parts) => parts.join(''));

describe('parser robustness', () => {
  it('any string gives an AST or a 400 invalidFilter, and so does compiling that AST', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), filterish), (text) => {
        // A liveness guard, not a performance figure: parsing is linear and takes microseconds, so
        // a second means a stall (DESIGN.md §5). Speed is measured in test/bench/scim-core.ts.
        const started = performance.now();
        try {
          const ast = parseFilter(text);
          compileFilter(ast, userSchema);
        } catch (e) {
          expect(e).toBeInstanceOf(ScimSyntaxError);
          expect((e as ScimSyntaxError).scimType).toBe('invalidFilter');
          expect((e as ScimSyntaxError).position).toBeGreaterThanOrEqual(0);
          expect((e as ScimSyntaxError).position).toBeLessThanOrEqual(text.length);
        }
        expect(performance.now() - started).toBeLessThan(1000);
      }),
      { numRuns: 2000 },
    );
  });

  it('adversarial long inputs end in invalidFilter without overflowing the stack', () => {
    for (const text of [
      '('.repeat(8000),
      '"'.repeat(8192),
      'not ('.repeat(1600),
      'a['.repeat(4000),
      `${'a pr or '.repeat(1000)}a pr`,
      '\\'.repeat(8192),
    ]) {
      expect(() => parseFilter(text)).toThrow(ScimSyntaxError);
    }
  });
});

// ---------- plan + re-check agrees with a full scan ----------

const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs);
const names = ['alice', 'Alice', 'ALICE', 'al', 'bob', 'Bob', 'carol', 'Ça', 'ça'];
const mails = ['a@x.test', 'A@X.TEST', 'b@y.test', 'c@z.test'];
const idPool = ['u1', 'u2', 'U1', 'u3', 'u4', 'u5', 'u6', 'u7'];

const userArb = (id: string) =>
  fc
    .record(
      {
        userName: pick(names),
        externalId: pick(['e1', 'E1', 'e2']),
        title: pick(['Boss', 'boss', '']),
        active: fc.boolean(),
        emails: fc.array(fc.record({ value: pick(mails), type: pick(['work', 'home']) }, { requiredKeys: ['value'] }), {
          maxLength: 3,
        }),
      },
      { requiredKeys: [] },
    )
    .map((r) => ({ id, ...r }) as ResourceData);
const usersArb = fc.shuffledSubarray(idPool, { minLength: 1 }).chain((ids) => fc.tuple(...ids.map(userArb)));

const userLeaf: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(
      pick(['userName', 'USERNAME', 'urn:ietf:params:scim:schemas:core:2.0:User:userName']),
      pick(['eq', 'sw', 'ne', 'co']),
      pick(names),
    )
    .map(([p, o, v]) => `${p} ${o} ${JSON.stringify(v)}`),
  fc
    .tuple(pick(['id', 'externalId']), pick(['eq', 'sw']), pick([...idPool, 'e1', 'E1']))
    .map(([p, o, v]) => `${p} ${o} ${JSON.stringify(v)}`),
  fc
    .tuple(pick(['emails.value', 'emails', 'Emails.Value']), pick(['eq', 'ew']), pick(mails))
    .map(([p, o, v]) => `${p} ${o} ${JSON.stringify(v)}`),
  fc
    .tuple(pick(mails), pick(['work', 'home']))
    .map(([m, t]) => `emails[type eq "${t}" and value eq ${JSON.stringify(m)}]`),
  fc
    .tuple(pick(mails), pick(['work', 'home']))
    .map(([m, t]) => `emails[value eq ${JSON.stringify(m)} or type eq "${t}"]`),
  pick(['title pr', 'title eq "boss"', 'active eq true', 'emails pr', 'externalId pr']),
);
const userFilter: fc.Arbitrary<string> = fc.letrec<{ f: string }>((tie) => ({
  f: fc.oneof(
    { depthSize: 'small' },
    userLeaf,
    fc.tuple(tie('f'), pick(['and', 'or']), tie('f')).map(([a, o, b]) => `(${a}) ${o} (${b})`),
    tie('f').map((a) => `not (${a})`),
  ),
})).f;

const groupArb = (id: string) =>
  fc
    .record(
      {
        displayName: pick(['Admins', 'admins', 'Staff']),
        externalId: pick(['x', 'X']),
        members: fc.array(fc.record({ value: pick(idPool) }), { maxLength: 3 }),
      },
      { requiredKeys: [] },
    )
    .map((r) => ({ id, ...r }) as ResourceData);
const groupsArb = fc
  .shuffledSubarray(['g1', 'g2', 'G1', 'g3', 'g4'], { minLength: 1 })
  .chain((ids) => fc.tuple(...ids.map(groupArb)));
const groupLeaf = fc.oneof(
  fc
    .tuple(pick(['displayName', 'externalId', 'id']), pick(['Admins', 'admins', 'x', 'X', 'g1', 'G1']))
    .map(([p, v]) => `${p} eq "${v}"`),
  pick(idPool).map((v) => `members[value eq "${v}"]`),
  pick(idPool).map((v) => `members.value eq "${v}"`),
  pick(idPool).map((v) => `members eq "${v}"`),
  pick(['members pr', 'displayName sw "a"']),
);
const groupFilter: fc.Arbitrary<string> = fc.letrec<{ f: string }>((tie) => ({
  f: fc.oneof(
    { depthSize: 'small' },
    groupLeaf,
    fc.tuple(tie('f'), pick(['and', 'or']), tie('f')).map(([a, o, b]) => `(${a}) ${o} (${b})`),
    tie('f').map((a) => `not (${a})`),
  ),
})).f;

function agree(resources: readonly ResourceData[], filter: string, kind: 'User' | 'Group') {
  const schema = kind === 'User' ? userSchema : groupSchema;
  const ast = parseFilter(filter);
  const predicate = compileFilter(ast, schema);
  const scanned = resources.filter(predicate).map((r) => r['id']);
  const byId = new Map(resources.map((r) => [r['id'], r]));
  const source = createMemoryCandidateSource({ [kind]: resources });
  const planned = findMatching(ast, schema, source, (id) => byId.get(id)).map((r) => r['id']);
  expect(new Set(planned)).toEqual(new Set(scanned));
  expect(planned).toHaveLength(scanned.length);
}

describe('plan + re-check equals a full scan', () => {
  it('on random users and random filters', () => {
    fc.assert(
      fc.property(usersArb, userFilter, (users, filter) => agree(users, filter, 'User')),
      { numRuns: 400 },
    );
  });
  it('on random groups and random filters', () => {
    fc.assert(
      fc.property(groupsArb, groupFilter, (groups, filter) => agree(groups, filter, 'Group')),
      { numRuns: 300 },
    );
  });
});
