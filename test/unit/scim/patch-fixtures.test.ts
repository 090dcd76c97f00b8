import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMPAT_PROFILES, compatFlags, type CompatProfileName } from '@shared/scim/compat-flags';
import { ScimCompatError } from '../../../src-main/scim/compat';
import { applyPatch } from '../../../src-main/scim/patch';
import { groupSchema, userSchema } from './helpers';
import { scimErrorOf } from './patch-helpers';

/**
 * Fixtures named by their source (STYLE.md 12): each case is a PATCH body applied to a resource,
 * with the outcome expected in each profile ("*" for every profile not named).
 */
interface Outcome {
  status: number;
  scimType?: string;
  flag?: string;
  changed?: string[];
  fired?: string[];
  set?: Record<string, unknown>;
  unset?: string[];
}
interface Case {
  name: string;
  resource: 'User' | 'Group';
  before: string;
  body: unknown;
  expect: Partial<Record<CompatProfileName | '*', Outcome>>;
}
interface Fixture {
  source: string;
  resources: Record<string, Record<string, unknown>>;
  cases: Case[];
}

const FIXTURES = [
  'test/fixtures/rfc/rfc7644-3.5.2-patch.json',
  'test/fixtures/idp/entra/patch.json',
  'test/fixtures/idp/okta/patch.json',
];

for (const file of FIXTURES) {
  const fixture = JSON.parse(readFileSync(resolve(file), 'utf8')) as Fixture;
  describe(file, () => {
    it('names its source', () => expect(fixture.source.length).toBeGreaterThan(20));
    for (const c of fixture.cases) {
      describe(c.name, () => {
        for (const profile of COMPAT_PROFILES) {
          const outcome = c.expect[profile] ?? c.expect['*'];
          it(`${profile}: ${outcome ? outcome.status : 'no expectation'}`, () => {
            expect(outcome, `case must give an outcome for ${profile} or "*"`).toBeDefined();
            run(fixture, c, profile, outcome as Outcome);
          });
        }
      });
    }
  });
}

function run(fixture: Fixture, c: Case, profile: CompatProfileName, outcome: Outcome): void {
  const before = fixture.resources[c.before];
  expect(before, `resource ${c.before}`).toBeDefined();
  const snapshot = structuredClone(before);
  const schema = c.resource === 'Group' ? groupSchema : userSchema;
  const call = () => applyPatch(before as Record<string, unknown>, c.body, { schema, compat: compatFlags(profile) });
  if (outcome.status !== 200) {
    const e = scimErrorOf(call);
    expect(e.status).toBe(outcome.status);
    if (outcome.scimType) expect(e.scimType).toBe(outcome.scimType);
    if (outcome.flag) {
      expect(e).toBeInstanceOf(ScimCompatError);
      expect((e as ScimCompatError).flag).toBe(outcome.flag);
      expect(e.message).toContain(outcome.flag);
    } else {
      expect(e).not.toBeInstanceOf(ScimCompatError);
    }
  } else {
    const result = call();
    if (outcome.changed) expect(result.changed).toEqual(outcome.changed);
    if (outcome.fired) expect(result.fired).toEqual(outcome.fired);
    for (const [k, v] of Object.entries(outcome.set ?? {})) expect(result.resource[k], k).toEqual(v);
    for (const k of outcome.unset ?? []) expect(Object.hasOwn(result.resource, k), k).toBe(false);
    // Attributes the case does not mention are untouched.
    const mentioned = new Set([
      ...Object.keys(outcome.set ?? {}),
      ...(outcome.unset ?? []),
      ...(outcome.changed ?? []),
    ]);
    for (const k of Object.keys(before as object)) {
      if (!mentioned.has(k) && !k.startsWith('urn:'))
        expect(result.resource[k], k).toEqual((snapshot as Record<string, unknown>)[k]);
    }
  }
  // A PATCH never modifies its input, whatever the outcome.
  expect(before).toEqual(snapshot);
}
