import type { AttributeDefinition, AttributeType } from '../schema-types';

type AttributeOptions = Partial<Omit<AttributeDefinition, 'name' | 'type'>>;

/**
 * Builds an attribute with RFC 7643 §2.2's defaults (singular, optional, caseExact false,
 * readWrite, returned default, uniqueness none) so the tables below state only what differs.
 */
export function attr(name: string, type: AttributeType, options: AttributeOptions = {}): AttributeDefinition {
  return {
    name,
    type,
    multiValued: false,
    description: '',
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    subAttributes: [],
    canonicalValues: [],
    referenceTypes: [],
    ...options,
  };
}

export function complex(
  name: string,
  subAttributes: readonly AttributeDefinition[],
  options: AttributeOptions = {},
): AttributeDefinition {
  return attr(name, 'complex', { ...options, subAttributes });
}

/** Applies one mutability to an attribute and all its sub-attributes (readOnly `groups`, ...). */
export function withMutability(
  definition: AttributeDefinition,
  mutability: AttributeDefinition['mutability'],
): AttributeDefinition {
  return { ...definition, mutability, subAttributes: definition.subAttributes.map((s) => ({ ...s, mutability })) };
}

interface MultiValuedOptions {
  description: string;
  valueType?: AttributeType;
  valueDescription: string;
  typeValues: readonly string[];
  referenceTypes?: readonly string[];
  caseExactValue?: boolean;
}

/**
 * RFC 7643 §2.4: the standard sub-attributes of a multi-valued attribute — value, display, type,
 * primary. `primary` defaults to false (DESIGN.md §3, seed 000).
 */
export function multiValued(name: string, options: MultiValuedOptions): AttributeDefinition {
  const valueType = options.valueType ?? 'string';
  return complex(
    name,
    [
      attr('value', valueType, {
        description: options.valueDescription,
        caseExact: options.caseExactValue ?? false,
        referenceTypes: valueType === 'reference' ? (options.referenceTypes ?? ['external']) : [],
      }),
      attr('display', 'string', { description: 'A human-readable name, primarily used for display purposes.' }),
      attr('type', 'string', {
        description: `A label indicating the attribute's function.`,
        canonicalValues: options.typeValues,
      }),
      attr('primary', 'boolean', {
        description: 'A Boolean value indicating the preferred value for this attribute.',
        default: false,
      }),
    ],
    { multiValued: true, description: options.description },
  );
}
