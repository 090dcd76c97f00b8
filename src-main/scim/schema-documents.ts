import type { SchemaRegistry } from '@shared/scim/registry';
import type { AttributeDefinition, ResourceTypeDefinition, SchemaDefinition } from '@shared/scim/schema-types';
import { COMMON_ATTRIBUTES } from '@shared/scim/schemas/index';
import { SCIM_URN } from '@shared/scim/urns';
import { ScimError } from './errors';

/** RFC 7643 §7: one attribute as the `/Schemas` endpoint describes it. */
export interface AttributeDocument {
  name: string;
  type: AttributeDefinition['type'];
  multiValued: boolean;
  description: string;
  required: boolean;
  caseExact: boolean;
  mutability: AttributeDefinition['mutability'];
  returned: AttributeDefinition['returned'];
  uniqueness: AttributeDefinition['uniqueness'];
  subAttributes?: AttributeDocument[];
  canonicalValues?: string[];
  referenceTypes?: string[];
}

export function attributeDocument(a: AttributeDefinition): AttributeDocument {
  const doc: AttributeDocument = {
    name: a.name,
    type: a.type,
    multiValued: a.multiValued,
    description: a.description,
    required: a.required,
    caseExact: a.caseExact,
    mutability: a.mutability,
    returned: a.returned,
    uniqueness: a.uniqueness,
  };
  // RFC 7643 §7: subAttributes only for complex, referenceTypes only for reference; the product
  // `default` is scimdesk's, not part of the representation.
  if (a.type === 'complex') doc.subAttributes = a.subAttributes.map(attributeDocument);
  if (a.canonicalValues.length > 0) doc.canonicalValues = [...a.canonicalValues];
  if (a.type === 'reference') doc.referenceTypes = [...a.referenceTypes];
  return doc;
}

/** The SCIM base without a trailing slash, so locations never contain "//". */
function base(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '');
}

/**
 * Common attributes (RFC 7643 §3.1) that a resource type's core schema document lists as well.
 * The RFC defines them outside any schema, and its §8.7.1 listing leaves them out, but Microsoft's
 * Entra gallery validator (Schema_Discoverability_Test in AzureAD/SCIMReferenceCode's Logic App)
 * looks for every attribute the app maps, `externalId` included, in the core User and Group
 * schemas, and fails an endpoint whose `/Schemas` does not list it. Listing it says nothing untrue:
 * it is described as the server treats it. `id` and `meta` are not mapped and stay unlisted.
 */
const LISTED_COMMON_ATTRIBUTES = COMMON_ATTRIBUTES.filter((a) => a.name === 'externalId');

/**
 * RFC 7643 §7 / §8.7.1: a schema resource. `baseUrl` is the SCIM base (".../scim/v2"); `isCore`
 * when some resource type has it as its core schema (see LISTED_COMMON_ATTRIBUTES).
 */
export function schemaDocument(schema: SchemaDefinition, baseUrl: string, isCore = false) {
  baseUrl = base(baseUrl);
  const attributes = isCore ? [...LISTED_COMMON_ATTRIBUTES, ...schema.attributes] : schema.attributes;
  return {
    schemas: [SCIM_URN.schema],
    id: schema.id,
    name: schema.name,
    description: schema.description,
    attributes: attributes.map(attributeDocument),
    meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${schema.id}` },
  };
}

/** RFC 7643 §6 / §8.6: a resource type resource. */
export function resourceTypeDocument(type: ResourceTypeDefinition, baseUrl: string) {
  baseUrl = base(baseUrl);
  return {
    schemas: [SCIM_URN.resourceType],
    id: type.name,
    name: type.name,
    endpoint: type.endpoint,
    description: type.description,
    schema: type.schema,
    schemaExtensions: type.schemaExtensions.map((e) => ({ schema: e.schema, required: e.required })),
    meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/${type.name}` },
  };
}

/** RFC 7644 §4: discovery lists are ListResponses holding every resource, on one page. */
function wholeList<T>(resources: T[]) {
  return {
    schemas: [SCIM_URN.listResponse],
    totalResults: resources.length,
    startIndex: 1,
    itemsPerPage: resources.length,
    Resources: resources,
  };
}

/** The `/Schemas` and `/ResourceTypes` list bodies. */
export function schemasList(registry: SchemaRegistry, baseUrl: string) {
  return wholeList(registry.schemas.map((s) => schemaDocument(s, baseUrl, isCoreSchema(registry, s))));
}

export function resourceTypesList(registry: SchemaRegistry, baseUrl: string) {
  return wholeList(registry.resourceTypes.map((t) => resourceTypeDocument(t, baseUrl)));
}

/** `/Schemas/{urn}` (RFC 7644 §4): the URN is matched case-insensitively; unknown is 404. */
export function schemaDocumentByUrn(registry: SchemaRegistry, urn: string, baseUrl: string) {
  const schema = registry.schema(urn);
  if (!schema) throw ScimError.notFound(`No schema ${urn}.`);
  return schemaDocument(schema, baseUrl, isCoreSchema(registry, schema));
}

function isCoreSchema(registry: SchemaRegistry, schema: SchemaDefinition): boolean {
  return registry.resourceTypes.some((type) => type.schema === schema.id);
}

/** `/ResourceTypes/{name}` (RFC 7644 §4): case-insensitive name; unknown is 404. */
export function resourceTypeDocumentByName(registry: SchemaRegistry, name: string, baseUrl: string) {
  const type = registry.resourceTypes.find((t) => t.name.toLowerCase() === name.toLowerCase());
  if (!type) throw ScimError.notFound(`No resource type ${name}.`);
  return resourceTypeDocument(type, baseUrl);
}

/**
 * RFC 7644 §4: the discovery endpoints take no filter — "the service provider SHOULD respond with
 * HTTP status code 403 (Forbidden) to ensure that clients cannot incorrectly assume that any
 * matching conditions specified in a filter are true." Call with the request's query.
 */
export function checkDiscoveryQuery(query: { readonly filter?: unknown }): void {
  if (query.filter !== undefined && query.filter !== '') {
    throw ScimError.forbidden('Discovery endpoints do not support filtering (RFC 7644 §4).');
  }
}
