import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compatFlags, type CompatProfileName } from '@shared/scim/compat-flags';
import { SCIM_URN } from '@shared/scim/urns';
import { canonicalResourceZodSchema, resourceZodSchema } from '@shared/scim/zod-schema';
import { CompatContext, zodOptionsFor } from '../../../src-main/scim/compat';
import { ScimError } from '../../../src-main/scim/errors';
import { coerceResourceBody, validateResourceInput } from '../../../src-main/scim/resource-input';
import { groupSchema, userSchema } from './helpers';

/** A key as a client may spell it: the schema's, upper-cased, or lower-cased. */
const spelled = (name: string) => fc.constantFrom(name, name.toUpperCase(), name.toLowerCase());

const scalar = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.constantFrom('True', 'false', '2011-05-13T04:42:34Z', 'not a date'),
  fc.boolean(),
  fc.integer(),
  fc.constant(null),
);
const complex = fc.dictionary(
  fc.constantFrom('value', 'type', 'primary', 'display', 'givenName', 'familyName', 'formatted', 'ref', 'nope'),
  scalar,
  { maxKeys: 4 },
);
const value = fc.oneof(scalar, complex, fc.array(fc.oneof(complex, scalar), { maxLength: 3 }));

const userKeys = [
  'schemas',
  'userName',
  'externalId',
  'active',
  'displayName',
  'name',
  'emails',
  'phoneNumbers',
  'addresses',
  'title',
  'password',
  'id',
  'meta',
  'groups',
  'unknownThing',
];
const enterprise = fc.dictionary(
  fc.constantFrom('employeeNumber', 'manager', 'department', 'costCenter', 'other').chain(spelled),
  value,
  { maxKeys: 3 },
);
const userBody = fc
  .tuple(
    fc.dictionary(fc.constantFrom(...userKeys).chain(spelled), value, { maxKeys: 6 }),
    fc.option(fc.oneof(enterprise, fc.constant(null)), { nil: undefined }),
    fc.oneof(fc.constant('x@example.com'), fc.string({ maxLength: 4 })),
  )
  .map(([attrs, ext, userName]) => ({
    userName,
    ...attrs,
    ...(ext === undefined ? {} : { [SCIM_URN.enterpriseUser]: ext }),
  }));
const groupBody = fc.dictionary(
  fc.constantFrom('schemas', 'displayName', 'members', 'externalId', 'other').chain(spelled),
  value,
  { maxKeys: 4 },
);

describe('the zod view for canonical input', () => {
  it('refuses an attribute given twice in two spellings instead of keeping the last', () => {
    const vctx = {
      schema: userSchema,
      compat: new CompatContext(compatFlags('compatible')),
      mode: 'write' as const,
      where: 'POST body',
      ignore: () => undefined,
    };
    const refusal = (body: Record<string, unknown>) => {
      try {
        coerceResourceBody(body, vctx);
      } catch (error) {
        return error;
      }
      return undefined;
    };
    expect(refusal({ userName: 'dk1', USERNAME: 'dk2' })).toMatchObject({
      status: 400,
      scimType: 'invalidSyntax',
      message: expect.stringContaining('"userName" and "USERNAME"'),
    });
    const ext = SCIM_URN.enterpriseUser;
    expect(
      refusal({ userName: 'x', [ext]: { employeeNumber: '1' }, [ext.toLowerCase()]: { department: 'd' } }),
    ).toMatchObject({ status: 400, scimType: 'invalidSyntax' });
    expect(refusal({ userName: 'x', [ext]: { department: 'a', DEPARTMENT: 'b' } })).toMatchObject({ status: 400 });
    expect(refusal({ userName: 'x', displayName: 'y' })).toBeUndefined();
    // Inside a complex value too, in a singular one, in list elements and with a null first.
    expect(refusal({ userName: 'x', name: { givenName: 'A', GIVENNAME: 'B' } })).toMatchObject({
      status: 400,
      scimType: 'invalidSyntax',
      message: expect.stringContaining(`'name.givenName' is given twice, as "givenName" and "GIVENNAME"`),
    });
    expect(refusal({ userName: 'x', emails: [{ value: 'a@x.com', Value: 'b@x.com' }] })).toMatchObject({
      status: 400,
    });
    expect(refusal({ userName: 'x', name: { familyName: null, familyname: 'C' } })).toMatchObject({ status: 400 });
    expect(refusal({ userName: 'x', name: { givenName: 'A', familyName: 'B' } })).toBeUndefined();
  });

  it.each([
    ['User', userSchema, userBody],
    ['Group', groupSchema, groupBody],
  ] as const)('checks and fills a coerced %s body exactly as the canonicalizing view does', (_kind, schema, body) => {
    fc.assert(
      fc.property(
        body,
        fc.constantFrom<CompatProfileName>('strict', 'compatible'),
        fc.constantFrom('create', 'replace') as fc.Arbitrary<'create' | 'replace'>,
        (b, profile, context) => {
          const compat = new CompatContext(compatFlags(profile));
          const vctx = { schema, compat, mode: 'write' as const, where: 'POST body', ignore: () => undefined };
          let coerced: Record<string, unknown>;
          try {
            coerced = coerceResourceBody(b as Record<string, unknown>, vctx);
          } catch (error) {
            if (error instanceof ScimError) return; // refused before the zod view: nothing to compare
            throw error;
          }
          const options = zodOptionsFor(compat.flags);
          const viaCopy = resourceZodSchema(schema, context, options).safeParse(coerced);
          const direct = canonicalResourceZodSchema(schema, context, options).safeParse(coerced);
          expect(direct.success).toBe(viaCopy.success);
          if (direct.success && viaCopy.success) expect(direct.data).toEqual(viaCopy.data);
          else expect(direct.error?.issues).toEqual(viaCopy.error?.issues);
        },
      ),
      { numRuns: 1500 },
    );
  });
});

describe('a POST or PUT body missing a required attribute', () => {
  const refusal = (body: unknown, schema = userSchema, context: 'create' | 'replace' = 'create') => {
    try {
      validateResourceInput(body, schema, context, compatFlags('compatible'));
    } catch (error) {
      return error as ScimError;
    }
    throw new Error('accepted');
  };

  it('is told which attribute is required, not what type undefined is', () => {
    expect(refusal({ displayName: 'x' }, userSchema, 'replace')).toMatchObject({
      status: 400,
      scimType: 'invalidValue',
      message: 'PUT body: userName is required',
    });
    expect(refusal({ members: [] }, groupSchema).message).toBe('POST body: displayName is required');
  });

  it('still says what is wrong with a value that is there but of the wrong type', () => {
    expect(refusal({ userName: 5 }).message).toMatch(/^POST body: 'userName' must be a string/);
    expect(refusal({ userName: 'a', schemas: 5 }).message).not.toMatch(/required/);
  });
});

describe('a POST or PUT body that lists a protocol message in "schemas"', () => {
  const refusal = (body: unknown, profile: CompatProfileName, context: 'create' | 'replace' = 'create') => {
    try {
      validateResourceInput(body, userSchema, context, compatFlags(profile));
    } catch (error) {
      return error as ScimError;
    }
    throw new Error('accepted');
  };

  it('is refused in every profile, naming the message, as PATCH and .search refuse one', () => {
    for (const profile of ['compatible', 'entra', 'okta', 'strict'] as const) {
      expect(refusal({ schemas: [SCIM_URN.patchOp], userName: 'ann' }, profile)).toMatchObject({
        status: 400,
        scimType: 'invalidSyntax',
        message: `POST body: "schemas" lists ${SCIM_URN.patchOp}, a protocol message; send a User resource (${SCIM_URN.user}).`,
      });
    }
    const both = { schemas: [SCIM_URN.user, SCIM_URN.listResponse.toUpperCase()], userName: 'ann' };
    expect(refusal(both, 'compatible', 'replace').message).toMatch(/^PUT body: "schemas" lists URN:/);
  });

  it('leaves a misspelt or unknown URN to the flags, as before', () => {
    const body = { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOperation'], userName: 'ann' };
    expect(validateResourceInput(body, userSchema, 'create', compatFlags('compatible')).resource).toMatchObject({
      userName: 'ann',
    });
  });
});
