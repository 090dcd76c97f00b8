import { SCIM_URN } from '../urns';
import type { ResourceTypeDefinition, SchemaDefinition } from '../schema-types';
import { ENTERPRISE_USER_SCHEMA } from './enterprise-user';
import { GROUP_SCHEMA } from './group';
import { USER_SCHEMA } from './user';

export { COMMON_ATTRIBUTES } from './common';
export { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA };

/** The schemas every tenant starts with; a tenant's custom extensions are appended to these. */
export const CORE_SCHEMAS: readonly SchemaDefinition[] = [USER_SCHEMA, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA];

/** RFC 7643 §6 and §8.6: the User and Group resource types. */
export const CORE_RESOURCE_TYPES: readonly ResourceTypeDefinition[] = [
  {
    name: 'User',
    endpoint: '/Users',
    description: 'User Account',
    schema: SCIM_URN.user,
    schemaExtensions: [{ schema: SCIM_URN.enterpriseUser, required: false }],
  },
  {
    name: 'Group',
    endpoint: '/Groups',
    description: 'Group',
    schema: SCIM_URN.group,
    schemaExtensions: [],
  },
];
