import { SCIM_URN } from '../urns';
import type { SchemaDefinition } from '../schema-types';
import { attr, complex } from './define';

/** RFC 7643 §4.3 and §8.7.1: the Enterprise User extension. */
export const ENTERPRISE_USER_SCHEMA: SchemaDefinition = {
  id: SCIM_URN.enterpriseUser,
  name: 'EnterpriseUser',
  description: 'Enterprise User',
  attributes: [
    attr('employeeNumber', 'string', { description: 'Numeric or alphanumeric identifier assigned to a person.' }),
    attr('costCenter', 'string', { description: 'Identifies the name of a cost center.' }),
    attr('organization', 'string', { description: 'Identifies the name of an organization.' }),
    attr('division', 'string', { description: 'Identifies the name of a division.' }),
    attr('department', 'string', { description: 'Identifies the name of a department.' }),
    complex(
      'manager',
      [
        attr('value', 'string', { description: 'The id of the SCIM resource representing the manager.' }),
        attr('$ref', 'reference', { referenceTypes: ['User'], description: 'The URI of the manager.' }),
        attr('displayName', 'string', { mutability: 'readOnly', description: "The manager's displayName." }),
      ],
      { description: "The User's manager." },
    ),
  ],
};
