import { describe, expect, it } from 'vitest';
import {
  COMPAT_FLAG_NAMES,
  COMPAT_FLAGS,
  COMPAT_PROFILES,
  compatFlags,
  isCompatFlagName,
  isCompatProfileName,
  type CompatFlagName,
  type CompatFlags,
} from '@shared/scim/compat-flags';
import { SCIM_URN } from '@shared/scim/urns';
import { resourceZodSchema } from '@shared/scim/zod-schema';
import { acceptUntypedBody, CompatContext, checkIfMatchRequired, zodOptionsFor } from '../../../src-main/scim/compat';
import { compileFilter } from '../../../src-main/scim/filter/evaluate';
import { parseFilter } from '../../../src-main/scim/filter/parser';
import { applyPatch } from '../../../src-main/scim/patch';
import { validateResourceInput } from '../../../src-main/scim/resource-input';
import { groupSchema, userSchema } from './helpers';
import { ENTERPRISE, expectRefusedBy, group, patchBody, user } from './patch-helpers';

describe('the flag registry', () => {
  it('defines every flag in every profile, with text for the console', () => {
    for (const f of COMPAT_FLAGS) {
      expect(f.changes.length, f.name).toBeGreaterThan(20);
      expect(f.rfc, f.name).toMatch(/RFC \d+/);
      for (const p of COMPAT_PROFILES) expect(typeof f.profiles[p], `${f.name}/${p}`).toBe('boolean');
      expect(f.default).toBe(f.profiles.compatible);
    }
  });
  it('strict has every leniency off; compatible has every leniency on', () => {
    const strict = compatFlags('strict');
    const compatible = compatFlags('compatible');
    for (const f of COMPAT_FLAGS) {
      if (f.kind === 'leniency') {
        expect(strict[f.name], f.name).toBe(false);
        expect(compatible[f.name], f.name).toBe(true);
      }
    }
    expect(strict.strictSchemaValidation).toBe(true);
    expect(compatible.strictSchemaValidation).toBe(false);
  });
  it('compatible is the union of what entra and okta need', () => {
    const [c, e, o] = [compatFlags('compatible'), compatFlags('entra'), compatFlags('okta')];
    for (const n of COMPAT_FLAG_NAMES) {
      if (COMPAT_FLAGS.find((f) => f.name === n)?.kind === 'leniency') expect(c[n], n).toBe(e[n] || o[n]);
    }
  });
  it('takes per-tenant overrides on top of a profile', () => {
    expect(compatFlags('strict', { requireIfMatch: true }).requireIfMatch).toBe(true);
    expect(compatFlags('compatible', { booleanStrings: false }).booleanStrings).toBe(false);
    expect(compatFlags().opCaseInsensitive).toBe(true);
  });
  it('demotes the old primary when a PATCH sets one new one, in every profile (RFC 7644 §3.5.2)', () => {
    for (const profile of ['strict', 'compatible'] as const) {
      const added = userPatch([{ op: 'add', path: 'emails', value: [{ value: 'new@example.com', primary: true }] }])(
        compatFlags(profile),
      ) as unknown as { resource: { emails: { value: string; primary?: boolean }[] }; fired: readonly string[] };
      expect(added.resource.emails.filter((e) => e.primary === true).map((e) => e.value)).toEqual(['new@example.com']);
      expect(added.fired).not.toContain('primaryDemotesOthers');
    }
  });
  it("reads a PATCH operation's members under any spelling where patchEnvelopeLenient is on", () => {
    const spelled = userPatch([{ Op: 'replace', Path: 'title', Value: 'Boss' }]);
    const result = spelled(compatFlags('compatible')) as unknown as {
      resource: { title?: string };
      fired: readonly string[];
    };
    expect(result.resource.title).toBe('Boss');
    expect(result.fired).toContain('patchEnvelopeLenient');
    const refusal = expectRefusedBy(() => spelled(compatFlags('strict')), 'patchEnvelopeLenient', 'invalidSyntax');
    expect(refusal.message).toContain('spells "op" as "Op"');
  });
  it('guards names', () => {
    expect(isCompatProfileName('okta')).toBe(true);
    expect(isCompatProfileName('OKTA')).toBe(false);
    expect(isCompatFlagName('booleanStrings')).toBe(true);
    expect(isCompatFlagName('toString')).toBe(false);
    expect(isCompatFlagName('__proto__')).toBe(false);
  });
});

/**
 * Every flag, on and off. "on" is strict with just this flag turned on (the flag alone is enough);
 * "off" is compatible with just this flag turned off (the flag alone decides). Strictness flags read
 * the other way round.
 */
type Check = { run: (flags: CompatFlags) => unknown; on: (r: () => unknown) => void; off: (r: () => unknown) => void };

const ok = (expectFired: CompatFlagName) => (r: () => unknown) => {
  const result = r() as { fired: readonly string[] };
  expect(result.fired).toContain(expectFired);
};
const refused = (flag: CompatFlagName, scimType?: string) => (r: () => unknown) => {
  expectRefusedBy(r, flag, scimType);
};
const userPatch =
  (ops: unknown[], resource: Record<string, unknown> = user()) =>
  (flags: CompatFlags) =>
    applyPatch(resource, patchBody(...ops), { schema: userSchema, compat: flags });
const groupPatch =
  (ops: unknown[], resource: Record<string, unknown> = group()) =>
  (flags: CompatFlags) =>
    applyPatch(resource, patchBody(...ops), { schema: groupSchema, compat: flags });

const CHECKS: Record<CompatFlagName, Check> = {
  opCaseInsensitive: {
    run: userPatch([{ op: 'Replace', path: 'title', value: 'Boss' }]),
    on: ok('opCaseInsensitive'),
    off: refused('opCaseInsensitive', 'invalidSyntax'),
  },
  patchEnvelopeLenient: {
    run: (flags) =>
      applyPatch(
        user(),
        { operations: [{ op: 'add', path: 'title', value: 'x' }] },
        { schema: userSchema, compat: flags },
      ),
    on: ok('patchEnvelopeLenient'),
    off: refused('patchEnvelopeLenient', 'invalidSyntax'),
  },
  booleanStrings: {
    run: userPatch([{ op: 'replace', path: 'active', value: 'FALSE' }]),
    on: (r) => {
      ok('booleanStrings')(r);
      expect((r() as { resource: { active: unknown } }).resource.active).toBe(false);
    },
    off: refused('booleanStrings', 'invalidValue'),
  },
  bareExtensionNames: {
    run: userPatch([
      { op: 'replace', path: 'department', value: 'R&D' },
      { op: 'replace', value: { costCenter: '42' } },
    ]),
    on: (r) => {
      ok('bareExtensionNames')(r);
      expect((r() as { resource: Record<string, unknown> }).resource[ENTERPRISE]).toMatchObject({
        department: 'R&D',
        costCenter: '42',
      });
    },
    off: (r) => {
      const refusal = expectRefusedBy(r, 'bareExtensionNames', 'invalidPath');
      expect(refusal.message).toContain(
        `'department' is an attribute of ${ENTERPRISE}: name it with that URN in front`,
      );
    },
  },
  bareManagerId: {
    run: userPatch([{ op: 'add', path: `${ENTERPRISE}:manager`, value: 'boss' }]),
    on: ok('bareManagerId'),
    off: refused('bareManagerId', 'invalidValue'),
  },
  singleElementListForSingular: {
    run: userPatch([{ op: 'add', path: `${ENTERPRISE}:manager`, value: [{ value: 'boss' }] }]),
    on: ok('singleElementListForSingular'),
    off: refused('singleElementListForSingular', 'invalidValue'),
  },
  pathlessUrnAttributeKeys: {
    run: userPatch([{ op: 'add', value: { [`${ENTERPRISE}:department`]: 'R&D' } }]),
    on: ok('pathlessUrnAttributeKeys'),
    off: refused('pathlessUrnAttributeKeys', 'invalidValue'),
  },
  pathlessDottedKeys: {
    run: userPatch([{ op: 'replace', value: { 'name.givenName': 'Babs' } }]),
    on: ok('pathlessDottedKeys'),
    off: refused('pathlessDottedKeys', 'invalidValue'),
  },
  removeValueList: {
    run: groupPatch([{ op: 'remove', path: 'members', value: [{ value: 'm1' }] }]),
    on: (r) => {
      ok('removeValueList')(r);
      expect((r() as { resource: { members: unknown } }).resource.members).toEqual([{ value: 'm2', type: 'User' }]);
    },
    off: refused('removeValueList', 'invalidValue'),
  },
  singularValuePath: {
    run: userPatch(
      [{ op: 'remove', path: `${ENTERPRISE}:manager[value eq "m1"]` }],
      user({ [ENTERPRISE]: { manager: { value: 'm1' }, department: 'R&D' } }),
    ),
    on: (r) => {
      ok('singularValuePath')(r);
      expect((r() as { resource: Record<string, unknown> }).resource[ENTERPRISE]).toEqual({ department: 'R&D' });
    },
    off: refused('singularValuePath', 'invalidPath'),
  },
  filterNoMatchAdds: {
    run: userPatch([{ op: 'replace', path: 'phoneNumbers[type eq "mobile"].value', value: '+1 555' }]),
    on: (r) => {
      ok('filterNoMatchAdds')(r);
      expect((r() as { resource: { phoneNumbers: unknown } }).resource.phoneNumbers).toEqual([
        { type: 'mobile', value: '+1 555', primary: false },
      ]);
    },
    off: refused('filterNoMatchAdds', 'noTarget'),
  },
  emptyPatchAccepted: {
    run: userPatch([]),
    on: (r) => {
      ok('emptyPatchAccepted')(r);
      expect((r() as { resource: object }).resource).toEqual(user());
    },
    off: refused('emptyPatchAccepted', 'invalidSyntax'),
  },
  sameIdIgnored: {
    run: groupPatch([{ op: 'replace', value: { id: 'g1', displayName: 'Renamed' } }]),
    on: ok('sameIdIgnored'),
    off: refused('sameIdIgnored', 'mutability'),
  },
  singleValueForMultiValued: {
    run: groupPatch([{ op: 'add', path: 'members', value: { value: 'm3' } }]),
    on: ok('singleValueForMultiValued'),
    off: refused('singleValueForMultiValued', 'invalidValue'),
  },
  nullAsAbsent: {
    run: userPatch([{ op: 'replace', path: 'name', value: null }]),
    on: (r) => {
      ok('nullAsAbsent')(r);
      expect((r() as { resource: object }).resource).not.toHaveProperty('name');
    },
    off: refused('nullAsAbsent', 'invalidValue'),
  },
  removeNoMatchSucceeds: {
    run: groupPatch([{ op: 'remove', path: 'members[value eq "absent"]' }]),
    on: ok('removeNoMatchSucceeds'),
    off: refused('removeNoMatchSucceeds', 'noTarget'),
  },
  primaryDemotesOthers: {
    run: userPatch([
      {
        op: 'add',
        path: 'emails',
        value: [
          { value: 'one@example.com', primary: true },
          { value: 'two@example.com', primary: true },
        ],
      },
    ]),
    on: (r) => {
      ok('primaryDemotesOthers')(r);
      const emails = (r() as { resource: { emails: { value: string; primary?: boolean }[] } }).resource.emails;
      expect(emails.filter((e) => e.primary === true).map((e) => e.value)).toEqual(['two@example.com']);
    },
    off: refused('primaryDemotesOthers', 'invalidValue'),
  },
  strictSchemaValidation: {
    run: userPatch([{ op: 'add', path: 'favouriteColour', value: 'blue' }]),
    // A strictness: on refuses, off ignores and reports.
    on: refused('strictSchemaValidation', 'invalidPath'),
    off: (r) => {
      const result = r() as { changed: string[]; ignored: { target: string }[]; resource: object };
      expect(result.changed).toEqual([]);
      expect(result.ignored.map((i) => i.target)).toEqual(['favouriteColour']);
      expect(result.resource).not.toHaveProperty('favouriteColour');
    },
  },
  contentTypeOptional: {
    run: (flags) => {
      const context = new CompatContext(flags);
      acceptUntypedBody(context);
      return { fired: context.fired };
    },
    on: ok('contentTypeOptional'),
    off: refused('contentTypeOptional', 'invalidSyntax'),
  },
  requireIfMatch: {
    run: (flags) => checkIfMatchRequired('PATCH', undefined, new CompatContext(flags)),
    on: (r) => {
      const e = expectRefusedBy(r, 'requireIfMatch');
      expect(e.status).toBe(412);
    },
    off: (r) => expect(r()).toBeUndefined(),
  },
};

/** Where a flag applies beyond its CHECKS row (another scope), with the same on/off convention. */
const filterOn = (filter: string, resource: Record<string, unknown>) => (flags: CompatFlags) => {
  const compat = new CompatContext(flags);
  const matched = compileFilter(parseFilter(filter), userSchema, { compat })(resource);
  return { matched, fired: compat.fired };
};
const MORE_CHECKS: [CompatFlagName, string, Check][] = [
  [
    'booleanStrings',
    'a filter value (active eq "TRUE")',
    {
      run: filterOn('active eq "TRUE"', user({ active: true })),
      on: (r) => {
        ok('booleanStrings')(r);
        expect((r() as { matched: boolean }).matched).toBe(true);
      },
      // invalidFilter, as any other value of the wrong type in a filter is.
      off: refused('booleanStrings', 'invalidFilter'),
    },
  ],
  [
    'booleanStrings',
    'a PATCH value filter (emails[primary eq "True"])',
    {
      run: userPatch(
        [{ op: 'replace', path: 'emails[primary eq "True"].value', value: 'new@example.com' }],
        user({
          emails: [
            { value: 'a@example.com', primary: true },
            { value: 'b@example.com', primary: false },
          ],
        }),
      ),
      on: (r) => {
        ok('booleanStrings')(r);
        const emails = (r() as { resource: { emails: { value: string }[] } }).resource.emails;
        expect(emails.map((e) => e.value)).toEqual(['new@example.com', 'b@example.com']);
      },
      // In PATCH the filter is part of the path (RFC 7644 §3.5.2).
      off: refused('booleanStrings', 'invalidPath'),
    },
  ],
];

describe('every flag on and off', () => {
  it('has a check for every flag in the registry', () => {
    expect(Object.keys(CHECKS).sort()).toEqual([...COMPAT_FLAG_NAMES].sort());
  });
  const flagsFor = (name: CompatFlagName) => {
    const leniency = COMPAT_FLAGS.find((f) => f.name === name)?.kind === 'leniency';
    return {
      on: leniency ? compatFlags('strict', { [name]: true }) : compatFlags('compatible', { [name]: true }),
      off: leniency ? compatFlags('compatible', { [name]: false }) : compatFlags('strict', { [name]: false }),
    };
  };
  for (const f of COMPAT_FLAGS) {
    const check = CHECKS[f.name];
    const flags = flagsFor(f.name);
    it(`${f.name}: on`, () => check.on(() => check.run(flags.on)));
    it(`${f.name}: off`, () => check.off(() => check.run(flags.off)));
  }
  for (const [name, where, check] of MORE_CHECKS) {
    const flags = flagsFor(name);
    it(`${name} in ${where}: on`, () => check.on(() => check.run(flags.on)));
    it(`${name} in ${where}: off`, () => check.off(() => check.run(flags.off)));
  }
});

describe('flags on POST/PUT bodies (validateResourceInput)', () => {
  const body = { userName: 'babs', active: 'False', [ENTERPRISE]: { manager: 'boss' }, title: null };
  it('compatible: accepts Entra input and reports the flags', () => {
    const r = validateResourceInput(body, userSchema, 'create', compatFlags('compatible'));
    expect(r.resource).toMatchObject({ userName: 'babs', active: false, [ENTERPRISE]: { manager: { value: 'boss' } } });
    expect(r.resource).not.toHaveProperty('title');
    expect(r.fired).toEqual(['booleanStrings', 'bareManagerId', 'nullAsAbsent']);
  });
  it('reads a manager given as a one-element list, and refuses it where the flag is off', () => {
    const listed = { userName: 'b', [ENTERPRISE]: { manager: [{ value: 'boss' }] } };
    const r = validateResourceInput(listed, userSchema, 'replace', compatFlags('entra'));
    expect(r.resource).toMatchObject({ [ENTERPRISE]: { manager: { value: 'boss' } } });
    expect(r.fired).toEqual(['singleElementListForSingular']);
    expectRefusedBy(
      () => validateResourceInput(listed, userSchema, 'create', compatFlags('okta')),
      'singleElementListForSingular',
    );
  });
  it('strict: refuses each, naming the flag', () => {
    expectRefusedBy(() => validateResourceInput(body, userSchema, 'create', compatFlags('strict')), 'booleanStrings');
    expectRefusedBy(
      () => validateResourceInput({ userName: 'b', title: null }, userSchema, 'create', compatFlags('strict')),
      'nullAsAbsent',
    );
    expectRefusedBy(
      () =>
        validateResourceInput(
          { userName: 'b', [ENTERPRISE]: { manager: 'm' } },
          userSchema,
          'replace',
          compatFlags('strict'),
        ),
      'bareManagerId',
    );
    expectRefusedBy(
      () => validateResourceInput({ userName: 'b', shoeSize: 9 }, userSchema, 'create', compatFlags('strict')),
      'strictSchemaValidation',
    );
  });
  it('strict: a body must list its core schema and the extensions it fills, and nothing else', () => {
    const strict = compatFlags('strict');
    const create = (body: Record<string, unknown>) => () => validateResourceInput(body, userSchema, 'create', strict);
    const refusals: [Record<string, unknown>, RegExp][] = [
      [{ userName: 'b' }, /'schemas' is required/],
      [{ schemas: [SCIM_URN.group], userName: 'b' }, /lists urn:ietf:params:scim:schemas:core:2\.0:Group/],
      [{ schemas: [ENTERPRISE], userName: 'b' }, /must list urn:ietf:params:scim:schemas:core:2\.0:User/],
      [{ schemas: [SCIM_URN.user], userName: 'b', [ENTERPRISE]: { department: 'R&D' } }, /fills .*enterprise/],
    ];
    for (const [body, detail] of refusals) {
      const error = expectRefusedBy(create(body), 'strictSchemaValidation');
      expect(error.status).toBe(400);
      expect(error.scimType).toBe('invalidSyntax');
      expect(error.message).toMatch(detail);
    }
    // URNs compare case-insensitively; an extension set to null (where nulls are accepted) fills nothing.
    const nullExtension = validateResourceInput(
      { schemas: [SCIM_URN.user.toUpperCase()], userName: 'b', [ENTERPRISE]: null },
      userSchema,
      'create',
      compatFlags('strict', { nullAsAbsent: true }),
    );
    expect(nullExtension.fired).toEqual(['nullAsAbsent']);
    const ok = validateResourceInput(
      { schemas: [SCIM_URN.user, ENTERPRISE.toLowerCase()], userName: 'b', [ENTERPRISE]: { department: 'R&D' } },
      userSchema,
      'replace',
      strict,
    );
    expect(ok.fired).toEqual([]);
    // Other profiles derive the list from the content and accept a body without one.
    expect(validateResourceInput({ userName: 'b' }, userSchema, 'create', compatFlags('entra')).fired).toEqual([]);
  });
  it('drops readOnly and unknown attributes, fills defaults, checks required', () => {
    const r = validateResourceInput(
      { id: 'x', meta: {}, groups: [{ value: 'g' }], userName: 'b', shoeSize: 9, emails: [{ value: 'a@b' }] },
      userSchema,
      'create',
      compatFlags('compatible'),
    );
    expect(r.resource).toEqual({ userName: 'b', active: true, emails: [{ value: 'a@b', primary: false }] });
    expect(r.ignored.map((i) => i.target)).toEqual(['id', 'meta', 'groups', 'shoeSize']);
    expect(() => validateResourceInput({ displayName: 'x' }, userSchema, 'create', compatFlags())).toThrow(/userName/);
    expect(() => validateResourceInput('x', userSchema, 'create', compatFlags())).toThrow(/JSON object/);
  });
  it('zodOptionsFor maps the flags onto resourceZodSchema', () => {
    const lenient = resourceZodSchema(userSchema, 'create', zodOptionsFor(compatFlags('entra')));
    const strict = resourceZodSchema(userSchema, 'create', zodOptionsFor(compatFlags('strict')));
    expect(lenient.parse({ userName: 'x', active: 'True' })).toMatchObject({ active: true });
    expect(strict.safeParse({ userName: 'x', active: 'True' }).success).toBe(false);
    const onlyBooleans = resourceZodSchema(userSchema, 'create', { booleanStrings: true });
    expect(onlyBooleans.safeParse({ userName: 'x', active: 'true', [ENTERPRISE]: { manager: 'm' } }).success).toBe(
      false,
    );
  });
});

describe('checkIfMatchRequired', () => {
  const on = new CompatContext(compatFlags('compatible', { requireIfMatch: true }));
  it('only applies to writes, and only refuses a missing header', () => {
    expect(() => checkIfMatchRequired('GET', undefined, on)).not.toThrow();
    expect(() => checkIfMatchRequired('DELETE', 'W/"1"', on)).not.toThrow();
    expect(() => checkIfMatchRequired('put', ' ', on)).toThrow(/If-Match/);
  });
});

describe('remove of a multi-valued attribute with "value": null', () => {
  const removeNull = groupPatch([{ op: 'remove', path: 'members', value: null }]);
  it('empties the group only where nulls are absent values; strict refuses rather than empty it', () => {
    const lenient = removeNull(compatFlags('compatible')) as { resource: object; fired: readonly string[] };
    expect(lenient.resource).not.toHaveProperty('members');
    expect(lenient.fired).toContain('nullAsAbsent');
    const error = expectRefusedBy(() => removeNull(compatFlags('strict')), 'nullAsAbsent', 'invalidValue');
    expect(error.message).toContain("'members' is null");
  });
});
