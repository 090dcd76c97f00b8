import { SCIM_URN } from '../urns';
import type { SchemaDefinition } from '../schema-types';
import { attr, complex } from './define';

/** RFC 7643 §4.2 and §8.7.1: the core Group schema, with the member fields of seed 001. */
export const GROUP_SCHEMA: SchemaDefinition = {
  id: SCIM_URN.group,
  name: 'Group',
  description: 'Group',
  attributes: [
    attr('displayName', 'string', { required: true, description: 'A human-readable name for the Group.' }),
    complex(
      'members',
      [
        // A member's value is a resource `id` (caseExact, RFC 7643 §3.1); see user.ts `groups.value`.
        attr('value', 'string', {
          caseExact: true,
          mutability: 'immutable',
          description: 'Identifier of the member of this Group.',
        }),
        attr('$ref', 'reference', {
          mutability: 'immutable',
          referenceTypes: ['User', 'Group'],
          description: 'The URI of the member.',
        }),
        // Seed 001 lists `display`; RFC 7643 §4.2 shows it in examples but not in the §8.7.1 listing.
        attr('display', 'string', { mutability: 'readOnly', description: 'The display name of the member.' }),
        attr('type', 'string', {
          mutability: 'immutable',
          canonicalValues: ['User', 'Group'],
          default: 'User',
          description: 'The kind of the member.',
        }),
      ],
      { multiValued: true, description: 'A list of members of the Group.' },
    ),
  ],
};
