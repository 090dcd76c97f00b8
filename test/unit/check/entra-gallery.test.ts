import { describe, expect, it } from 'vitest';
import { galleryDiscoverable, missingForGallery } from '../../../src-main/check/profiles/entra-gallery';
import { schemasList } from '../../../src-main/scim/schema-documents';
import { coreSchemaRegistry } from '../../../src-shared/scim/registry';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const attr = (name: string, type = 'string', more: Record<string, unknown> = {}) => ({ name, type, ...more });
const sub = (names: string[]) => names.map((n) => attr(n));

/** A `/Schemas` answer shaped like RFC 7643 §8.7.1's, which lists no common attribute. */
function schemas(userExtra: unknown[] = [], groupExtra: unknown[] = []) {
  const typed = (name: string, types: string[], subs: string[]) =>
    attr(name, 'complex', {
      multiValued: true,
      subAttributes: [attr('type', 'string', { canonicalValues: types }), ...sub(['primary', ...subs])],
    });
  return {
    Resources: [
      {
        id: 'urn:ietf:params:scim:schemas:core:2.0:User',
        attributes: [
          ...[
            'userName',
            'displayName',
            'nickName',
            'title',
            'userType',
            'preferredLanguage',
            'locale',
            'timezone',
          ].map((n) => attr(n)),
          attr('active', 'boolean'),
          attr('profileUrl', 'reference'),
          attr('name', 'complex', {
            subAttributes: sub([
              'formatted',
              'familyName',
              'givenName',
              'middleName',
              'honorificPrefix',
              'honorificSuffix',
            ]),
          }),
          typed('emails', ['work', 'home', 'other'], ['value', 'display']),
          typed('phoneNumbers', ['work', 'home', 'mobile', 'fax', 'pager', 'other'], ['value', 'display']),
          typed(
            'addresses',
            ['work', 'home', 'other'],
            ['formatted', 'streetAddress', 'locality', 'region', 'postalCode', 'country'],
          ),
          attr('roles', 'complex', { multiValued: true, subAttributes: sub(['value', 'display', 'type', 'primary']) }),
          ...userExtra,
        ],
      },
      {
        id: ENTERPRISE,
        attributes: [
          ...['employeeNumber', 'costCenter', 'organization', 'division', 'department'].map((n) => attr(n)),
          attr('manager', 'complex', { subAttributes: sub(['value', 'displayName']) }),
        ],
      },
      {
        id: 'urn:ietf:params:scim:schemas:core:2.0:Group',
        attributes: [attr('displayName'), attr('members', 'complex', { multiValued: true }), ...groupExtra],
      },
    ],
  };
}

describe("the Entra gallery validator's reading of /Schemas", () => {
  it('misses externalId when the schemas list only what RFC 7643 §8.7.1 does', () => {
    expect(missingForGallery(schemas())).toEqual({ user: ['externalId'], group: ['externalId'] });
    expect(galleryDiscoverable('recommended').test(schemas(), {})).toBe(
      'users lack externalId; groups lack externalId',
    );
  });

  it('finds everything once externalId is listed, in any case', () => {
    const listed = schemas([attr('externalId')], [attr('EXTERNALID')]);
    expect(missingForGallery(listed)).toEqual({ user: [], group: [] });
    expect(galleryDiscoverable('recommended').test(listed, {})).toBeUndefined();
  });

  it('reads a type\'s values from its canonicalValues: without them, emails[type eq "work"] is not there', () => {
    const body = schemas([attr('externalId')]);
    const user = body.Resources[0]!.attributes as {
      name: string;
      subAttributes?: { name: string; canonicalValues?: string[] }[];
    }[];
    user.find((a) => a.name === 'emails')!.subAttributes!.find((s) => s.name === 'type')!.canonicalValues = [];
    expect(missingForGallery(body).user).toEqual([
      'emails[type eq "work"].value',
      'emails[type eq "home"].value',
      'emails[type eq "other"].value',
    ]);
  });

  it('reports everything missing, without throwing, for an answer that is not a ListResponse', () => {
    for (const body of [undefined, null, 'x', [], { Resources: 'no' }, { Resources: [null, { id: 3 }] }]) {
      const missing = missingForGallery(body);
      expect(missing.group).toEqual(['displayName', 'externalId', 'members']);
      expect(missing.user).toContain('userName');
    }
  });

  it('passes the schemas scimdesk itself serves', () => {
    expect(missingForGallery(schemasList(coreSchemaRegistry(), 'https://scim.example.com/scim/v2'))).toEqual({
      user: [],
      group: [],
    });
  });
});
