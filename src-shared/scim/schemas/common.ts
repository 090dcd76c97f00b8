import type { AttributeDefinition } from '../schema-types';
import { attr, complex } from './define';

/**
 * RFC 7643 §3.1: attributes every resource has, defined outside any schema (so `/Schemas` does not
 * list them). `schemas` is included so filters such as RFC 7644's
 * `schemas eq "urn:...:enterprise:2.0:User"` resolve like any other attribute.
 */
export const COMMON_ATTRIBUTES: readonly AttributeDefinition[] = [
  attr('schemas', 'reference', {
    multiValued: true,
    required: true,
    // URNs compare case-insensitively (RFC 8141 §3.1, for the parts scimdesk uses).
    caseExact: false,
    returned: 'always',
    referenceTypes: ['uri'],
    description: 'The schema URNs the resource conforms to.',
  }),
  attr('id', 'string', {
    caseExact: true,
    mutability: 'readOnly',
    returned: 'always',
    uniqueness: 'server',
    description: 'A unique identifier for the resource, issued by the service provider.',
  }),
  attr('externalId', 'string', {
    caseExact: true,
    // Enforced by the identity service (DESIGN.md: unique per tenant when present), so said here:
    // the User and Group schema documents list this definition.
    uniqueness: 'server',
    description:
      'An identifier for the resource as defined by the provisioning client; unique among the ' +
      "tenant's resources of its type.",
  }),
  complex(
    'meta',
    [
      attr('resourceType', 'string', {
        caseExact: true,
        mutability: 'readOnly',
        description: 'The resource type name.',
      }),
      attr('created', 'dateTime', { mutability: 'readOnly', description: 'When the resource was added.' }),
      attr('lastModified', 'dateTime', { mutability: 'readOnly', description: 'When the resource last changed.' }),
      attr('location', 'reference', {
        caseExact: true,
        mutability: 'readOnly',
        referenceTypes: ['uri'],
        description: 'The URI of the resource.',
      }),
      attr('version', 'string', { caseExact: true, mutability: 'readOnly', description: 'The weak ETag.' }),
    ],
    { mutability: 'readOnly', description: 'Resource metadata.' },
  ),
];
