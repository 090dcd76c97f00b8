/**
 * The shape of SCIM schema definitions (RFC 7643 §2, §7). Schemas are data: the server's
 * validation, case rules, projection, sorting and the `/Schemas` documents are all derived from
 * values of these types, so a tenant's custom extension is one more value, not more code.
 */

/** RFC 7643 §2.3: the attribute data types. */
export type AttributeType =
  'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'reference' | 'complex' | 'binary';

/** RFC 7643 §7: when a client may write the attribute. */
export type Mutability = 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';

/** RFC 7643 §7: when the attribute appears in responses. */
export type Returned = 'always' | 'never' | 'default' | 'request';

/** RFC 7643 §7: the scope in which a value must be unique. */
export type Uniqueness = 'none' | 'server' | 'global';

export interface AttributeDefinition {
  readonly name: string;
  readonly type: AttributeType;
  readonly multiValued: boolean;
  readonly description: string;
  readonly required: boolean;
  readonly caseExact: boolean;
  readonly mutability: Mutability;
  readonly returned: Returned;
  readonly uniqueness: Uniqueness;
  /** Only `complex` attributes have sub-attributes; empty otherwise. */
  readonly subAttributes: readonly AttributeDefinition[];
  /** RFC 7643 §2.3.1: suggested values (`type` of emails, ...); empty when there are none. */
  readonly canonicalValues: readonly string[];
  /** RFC 7643 §7: for `reference` attributes, what they may point at; empty otherwise. */
  readonly referenceTypes: readonly string[];
  /**
   * scimdesk's product defaults (DESIGN.md §3: `active` true, `primary` false, a membership's
   * `type`): applied when the attribute is absent on create and on PUT. Not part of RFC 7643's
   * schema representation, so the `/Schemas` documents leave it out.
   */
  readonly default?: string | boolean;
}

/** RFC 7643 §7: one schema (core resource schema or extension). */
export interface SchemaDefinition {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly attributes: readonly AttributeDefinition[];
}

/** RFC 7643 §6: a resource type binds an endpoint to a core schema and its extensions. */
export interface ResourceTypeDefinition {
  /** The resource type's name, also its `id` (e.g. "User"). */
  readonly name: string;
  readonly endpoint: string;
  readonly description: string;
  readonly schema: string;
  readonly schemaExtensions: readonly { readonly schema: string; readonly required: boolean }[];
}
