import { SCIM_URN } from '../urns';
import type { SchemaDefinition } from '../schema-types';
import { attr, complex, multiValued, withMutability } from './define';

const nameParts = [
  ['formatted', 'The full name, formatted for display.'],
  ['familyName', 'The family name, or last name.'],
  ['givenName', 'The given name, or first name.'],
  ['middleName', 'The middle name(s).'],
  ['honorificPrefix', 'The honorific prefix(es), e.g. "Ms.".'],
  ['honorificSuffix', 'The honorific suffix(es), e.g. "III".'],
] as const;

/** RFC 7643 §4.1 and §8.7.1: the core User schema, with every attribute seed 000 lists. */
export const USER_SCHEMA: SchemaDefinition = {
  id: SCIM_URN.user,
  name: 'User',
  description: 'User Account',
  attributes: [
    attr('userName', 'string', {
      required: true,
      uniqueness: 'server',
      description: 'Unique identifier for the User, used to authenticate. Unique per tenant, case-insensitively.',
    }),
    complex(
      'name',
      nameParts.map(([name, description]) => attr(name, 'string', { description })),
      { description: "The components of the user's real name." },
    ),
    attr('displayName', 'string', { description: 'The name of the User, suitable for display.' }),
    attr('nickName', 'string', { description: 'The casual way to address the user.' }),
    attr('profileUrl', 'reference', { referenceTypes: ['external'], description: "A URI of the User's profile." }),
    attr('title', 'string', { description: 'The user\'s title, such as "Vice President".' }),
    attr('userType', 'string', { description: 'The relationship between the organization and the user.' }),
    attr('preferredLanguage', 'string', { description: "The User's preferred written or spoken language." }),
    attr('locale', 'string', { description: 'The User\'s default location, e.g. "en-US".' }),
    attr('timezone', 'string', { description: "The User's time zone in the IANA format." }),
    attr('active', 'boolean', { default: true, description: "The User's administrative status." }),
    attr('password', 'string', {
      mutability: 'writeOnly',
      returned: 'never',
      description: "The User's cleartext password on write; stored only as a hash, never returned.",
    }),
    multiValued('emails', {
      description: 'Email addresses for the user.',
      valueDescription: 'Email address for the user.',
      typeValues: ['work', 'home', 'other'],
    }),
    multiValued('phoneNumbers', {
      description: 'Phone numbers for the User.',
      valueDescription: 'Phone number of the User.',
      typeValues: ['work', 'home', 'mobile', 'fax', 'pager', 'other'],
    }),
    multiValued('ims', {
      description: 'Instant messaging addresses for the User.',
      valueDescription: 'Instant messaging address for the User.',
      typeValues: ['aim', 'gtalk', 'icq', 'xmpp', 'msn', 'skype', 'qq', 'yahoo'],
    }),
    multiValued('photos', {
      description: 'URLs of photos of the User.',
      valueType: 'reference',
      referenceTypes: ['external'],
      valueDescription: 'URL of a photo of the User.',
      typeValues: ['photo', 'thumbnail'],
    }),
    complex(
      'addresses',
      [
        attr('formatted', 'string', { description: 'The full mailing address, formatted for display.' }),
        attr('streetAddress', 'string', { description: 'The full street address component.' }),
        attr('locality', 'string', { description: 'The city or locality component.' }),
        attr('region', 'string', { description: 'The state or region component.' }),
        attr('postalCode', 'string', { description: 'The zip code or postal code component.' }),
        attr('country', 'string', { description: 'The country name component.' }),
        attr('type', 'string', { canonicalValues: ['work', 'home', 'other'], description: 'A label for the address.' }),
        attr('primary', 'boolean', { default: false, description: 'Whether this is the preferred address.' }),
      ],
      { multiValued: true, description: 'A physical mailing address for this User.' },
    ),
    // RFC 7643 §4.1.2: derived from Group membership, so readOnly throughout (DESIGN.md §3).
    withMutability(
      complex(
        'groups',
        [
          // The value is a Group's `id`, which RFC 7643 §3.1 makes caseExact; keeping this caseExact too
          // keeps membership lookups exact (the RFC's listing says false, which would let "abc" match "ABC").
          attr('value', 'string', { caseExact: true, description: "The identifier of the User's group." }),
          attr('$ref', 'reference', { referenceTypes: ['Group'], description: 'The URI of the Group.' }),
          attr('display', 'string', { description: 'The display name of the Group.' }),
          attr('type', 'string', {
            canonicalValues: ['direct', 'indirect'],
            default: 'direct',
            description: 'How the membership was derived.',
          }),
        ],
        { multiValued: true, description: 'The groups the user belongs to.' },
      ),
      'readOnly',
    ),
    multiValued('entitlements', {
      description: 'Entitlements for the User.',
      valueDescription: 'The value of an entitlement.',
      typeValues: [],
    }),
    multiValued('roles', {
      description: 'Roles for the User.',
      valueDescription: 'The value of a role.',
      typeValues: [],
    }),
    multiValued('x509Certificates', {
      description: 'Certificates issued to the User.',
      valueType: 'binary',
      caseExactValue: true,
      valueDescription: 'The value of an X.509 certificate, base64 DER.',
      typeValues: [],
    }),
  ],
};
