import type { ResourceSchema, SchemaRegistry } from '@shared/scim/registry';
import type { AttributeDefinition } from '@shared/scim/schema-types';
import { SCIM_URN } from '@shared/scim/urns';
import type { ServerCapabilities } from '../../scim/service-provider-config';
import { ref, type JsonSchema } from './types';

/**
 * JSON Schemas for the SCIM API, built from the attribute definitions themselves rather than by
 * converting `resourceZodSchema`: that zod view sits behind a `z.preprocess` (case-insensitive
 * names, dropped nulls) which JSON Schema cannot express, and it carries none of what a reader
 * needs — descriptions, mutability (readOnly / writeOnly), canonical values, defaults. The two
 * views mirror zod-schema.ts's contexts: a write view (POST, PUT) without readOnly attributes, and
 * a response view without `returned: "never"` ones (the password).
 */
type View = 'write' | 'response';

const CASE_NOTE =
  'Attribute names and extension URNs are case-insensitive (RFC 7643 §2.1); this schema shows their ' +
  'canonical spelling. Attributes no schema defines are ignored (RFC 7644 §3.3).';

function included(a: AttributeDefinition, view: View): boolean {
  return view === 'response' ? a.returned !== 'never' : a.mutability !== 'readOnly';
}

function describe(a: AttributeDefinition): string {
  const notes: string[] = [];
  if (a.mutability === 'immutable') notes.push('Immutable: set once, then never changed.');
  if (a.uniqueness !== 'none') notes.push('Unique within the tenant.');
  if (a.caseExact) notes.push('Compared case-sensitively.');
  if (a.type === 'reference' && a.referenceTypes.length > 0) notes.push(`References: ${a.referenceTypes.join(', ')}.`);
  return [a.description, ...notes].filter((s) => s !== '').join(' ');
}

function valueSchema(a: AttributeDefinition, view: View): JsonSchema {
  switch (a.type) {
    case 'string':
    case 'reference':
      return { type: 'string' };
    case 'binary':
      return { type: 'string', contentEncoding: 'base64' };
    case 'boolean':
      return { type: 'boolean' };
    case 'integer':
      return { type: 'integer' };
    case 'decimal':
      return { type: 'number' };
    case 'dateTime':
      // xsd:dateTime; an instant without an offset is read as UTC.
      return { type: 'string', format: 'date-time' };
    case 'complex':
      return objectSchema(a.subAttributes, view);
  }
}

export function attributeSchema(a: AttributeDefinition, view: View): JsonSchema {
  let schema = valueSchema(a, view);
  // RFC 7643 §2.3.1: canonical values are suggestions, not an enumeration.
  if (a.canonicalValues.length > 0) schema.examples = [...a.canonicalValues];
  if (a.multiValued) schema = { type: 'array', items: schema };
  const description = describe(a);
  if (description !== '') schema.description = description;
  if (a.mutability === 'readOnly') schema.readOnly = true;
  if (a.mutability === 'writeOnly') schema.writeOnly = true;
  if (view === 'write' && a.default !== undefined) schema.default = a.default;
  return schema;
}

function isRequired(a: AttributeDefinition, view: View): boolean {
  // RFC 7643 §3: every representation has `id` and `schemas`; on write `schemas` may be left out
  // (the server derives it from the extensions present) and attributes with a default are optional.
  if (view === 'response') return a.name === 'id' || a.name === 'schemas';
  return a.required && a.name !== 'schemas' && a.default === undefined;
}

function objectSchema(attributes: readonly AttributeDefinition[], view: View): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const a of attributes.filter((x) => included(x, view))) {
    properties[a.name] = attributeSchema(a, view);
    if (isRequired(a, view)) required.push(a.name);
  }
  return required.length > 0 ? { type: 'object', properties, required } : { type: 'object', properties };
}

/** A resource type's representation in one view: common and core attributes, extensions by URN. */
export function resourceSchema(resource: ResourceSchema, view: View): JsonSchema {
  const schema = objectSchema(resource.topLevel, view);
  const properties = schema.properties as Record<string, JsonSchema>;
  for (const extension of resource.extensions) {
    properties[extension.id] = { ...objectSchema(extension.attributes, view), description: extension.description };
  }
  schema.description = `${resource.type.description} ${CASE_NOTE}`.trim();
  return schema;
}

/** Component names: `User`, `UserWrite`, `UserListResponse` for the resource type "User". */
export function resourceComponentNames(typeName: string) {
  const base = typeName.replace(/[^A-Za-z0-9_]/g, '_');
  return { response: base, write: `${base}Write`, list: `${base}ListResponse` };
}

function constUrn(urn: string): JsonSchema {
  return { type: 'array', items: { type: 'string' }, contains: { const: urn }, description: `Contains "${urn}".` };
}

function listResponse(item: JsonSchema, description: string): JsonSchema {
  return {
    type: 'object',
    description,
    properties: {
      schemas: constUrn(SCIM_URN.listResponse),
      totalResults: { type: 'integer', minimum: 0 },
      startIndex: { type: 'integer', minimum: 1 },
      itemsPerPage: { type: 'integer', minimum: 0 },
      Resources: { type: 'array', items: item },
    },
    required: ['schemas', 'totalResults', 'startIndex', 'itemsPerPage', 'Resources'],
  };
}

/** The SCIM message and discovery schemas (RFC 7644 §3.4.2, §3.5.2, §3.7, §3.12; RFC 7643 §5-7). */
export function scimComponentSchemas(
  registry: SchemaRegistry,
  kinds: readonly ResourceSchema[],
  capabilities: ServerCapabilities,
): Record<string, JsonSchema> {
  const schemas: Record<string, JsonSchema> = {};
  for (const kind of kinds) {
    const names = resourceComponentNames(kind.type.name);
    schemas[names.response] = resourceSchema(kind, 'response');
    schemas[names.write] = resourceSchema(kind, 'write');
    schemas[names.list] = listResponse(ref('schemas', names.response), `A page of ${kind.type.name} resources.`);
  }
  schemas.ScimResourceListResponse = listResponse(
    { anyOf: kinds.map((k) => ref('schemas', resourceComponentNames(k.type.name).response)) },
    'A page of resources of any type (root-level search, RFC 7644 §3.4.3).',
  );

  schemas.ScimError = {
    type: 'object',
    description: 'RFC 7644 §3.12: every error on the SCIM API.',
    properties: {
      schemas: constUrn(SCIM_URN.error),
      status: { type: 'string', description: 'The HTTP status, as a string.', examples: ['400'] },
      scimType: {
        type: 'string',
        enum: [
          'invalidFilter',
          'tooMany',
          'uniqueness',
          'mutability',
          'invalidSyntax',
          'invalidPath',
          'noTarget',
          'invalidValue',
          'invalidVers',
          'sensitive',
        ],
      },
      detail: { type: 'string' },
    },
    required: ['schemas', 'status'],
  };

  schemas.SearchRequest = {
    type: 'object',
    description: 'RFC 7644 §3.4.3: a query sent as a POST body (keeps the filter out of URLs and logs).',
    properties: {
      schemas: constUrn(SCIM_URN.searchRequest),
      attributes: { type: 'array', items: { type: 'string' } },
      excludedAttributes: { type: 'array', items: { type: 'string' } },
      filter: { type: 'string', maxLength: 8192 },
      sortBy: { type: 'string' },
      sortOrder: { type: 'string', enum: ['ascending', 'descending'] },
      startIndex: { type: 'integer' },
      count: { type: 'integer' },
    },
  };

  schemas.PatchOp = {
    type: 'object',
    description:
      'RFC 7644 §3.5.2. The default (`compatible`) profile also accepts capitalised `op` values, ' +
      'path-less values keyed by extension URN or dotted paths, and Entra-style member removals.',
    properties: {
      schemas: constUrn(SCIM_URN.patchOp),
      Operations: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          properties: {
            op: { type: 'string', examples: ['add', 'remove', 'replace'] },
            path: { type: 'string', description: 'An attribute path, optionally with a value filter.' },
            value: { description: 'The value(s) to add or replace; absent for remove.' },
          },
          required: ['op'],
        },
      },
    },
    required: ['schemas', 'Operations'],
  };

  const bulkMethod = { type: 'string', enum: ['POST', 'PUT', 'PATCH', 'DELETE', 'GET'] };
  schemas.BulkRequest = {
    type: 'object',
    description: `RFC 7644 §3.7: at most ${capabilities.bulk.maxOperations} operations and ${capabilities.bulk.maxPayloadSize} bytes.`,
    properties: {
      schemas: constUrn(SCIM_URN.bulkRequest),
      failOnErrors: { type: 'integer', minimum: 1 },
      Operations: {
        type: 'array',
        maxItems: capabilities.bulk.maxOperations,
        items: {
          type: 'object',
          properties: {
            method: bulkMethod,
            bulkId: { type: 'string', description: 'Required for POST; others refer to it as "bulkId:<id>".' },
            version: { type: 'string', description: 'An ETag the write is conditional on (If-Match).' },
            path: { type: 'string', examples: ['/Users', '/Groups/bulkId:qwerty'] },
            data: { description: 'POST/PUT: the resource; PATCH: a PatchOp body.' },
          },
          required: ['method', 'path'],
        },
      },
    },
    required: ['schemas', 'Operations'],
  };
  schemas.BulkResponse = {
    type: 'object',
    description: 'RFC 7644 §3.7.3: one entry per operation performed.',
    properties: {
      schemas: constUrn(SCIM_URN.bulkResponse),
      Operations: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            method: {
              type: 'string',
              description:
                "The operation's method; for an operation that could not be read (400), as it was sent, and absent when it was sent without one.",
            },
            bulkId: { type: 'string' },
            version: { type: 'string' },
            location: { type: 'string' },
            status: { type: 'string', description: 'The HTTP status, as a string.' },
            response: { description: 'An error body, or the resource for GET.' },
          },
          required: ['status'],
        },
      },
    },
    required: ['schemas', 'Operations'],
  };

  const supported = { type: 'object', properties: { supported: { type: 'boolean' } }, required: ['supported'] };
  schemas.ServiceProviderConfig = {
    type: 'object',
    description: 'RFC 7643 §5: what this server supports, derived from what is built.',
    properties: {
      schemas: constUrn(SCIM_URN.serviceProviderConfig),
      documentationUri: { type: 'string' },
      patch: supported,
      bulk: {
        type: 'object',
        properties: {
          supported: { type: 'boolean' },
          maxOperations: { type: 'integer' },
          maxPayloadSize: { type: 'integer' },
        },
      },
      filter: {
        type: 'object',
        properties: { supported: { type: 'boolean' }, maxResults: { type: 'integer' } },
      },
      changePassword: supported,
      sort: supported,
      etag: supported,
      authenticationSchemes: { type: 'array', items: { type: 'object' } },
      meta: { type: 'object' },
    },
    required: ['schemas', 'patch', 'bulk', 'filter', 'changePassword', 'sort', 'etag', 'authenticationSchemes'],
  };

  schemas.SchemaAttribute = {
    type: 'object',
    description: 'RFC 7643 §7: one attribute definition.',
    properties: {
      name: { type: 'string' },
      type: {
        type: 'string',
        enum: ['string', 'boolean', 'decimal', 'integer', 'dateTime', 'reference', 'complex', 'binary'],
      },
      multiValued: { type: 'boolean' },
      description: { type: 'string' },
      required: { type: 'boolean' },
      caseExact: { type: 'boolean' },
      mutability: { type: 'string', enum: ['readOnly', 'readWrite', 'immutable', 'writeOnly'] },
      returned: { type: 'string', enum: ['always', 'never', 'default', 'request'] },
      uniqueness: { type: 'string', enum: ['none', 'server', 'global'] },
      subAttributes: { type: 'array', items: ref('schemas', 'SchemaAttribute') },
      canonicalValues: { type: 'array', items: { type: 'string' } },
      referenceTypes: { type: 'array', items: { type: 'string' } },
    },
    required: ['name', 'type'],
  };
  schemas.Schema = {
    type: 'object',
    description: `RFC 7643 §7. Served: ${registry.schemas.map((s) => s.id).join(', ')}.`,
    properties: {
      schemas: constUrn(SCIM_URN.schema),
      id: { type: 'string' },
      name: { type: 'string' },
      description: { type: 'string' },
      attributes: { type: 'array', items: ref('schemas', 'SchemaAttribute') },
      meta: { type: 'object' },
    },
    required: ['schemas', 'id', 'attributes'],
  };
  schemas.ResourceType = {
    type: 'object',
    description: 'RFC 7643 §6.',
    properties: {
      schemas: constUrn(SCIM_URN.resourceType),
      id: { type: 'string' },
      name: { type: 'string' },
      endpoint: { type: 'string' },
      description: { type: 'string' },
      schema: { type: 'string' },
      schemaExtensions: {
        type: 'array',
        items: {
          type: 'object',
          properties: { schema: { type: 'string' }, required: { type: 'boolean' } },
          required: ['schema', 'required'],
        },
      },
      meta: { type: 'object' },
    },
    required: ['schemas', 'name', 'endpoint', 'schema'],
  };
  schemas.SchemaListResponse = listResponse(ref('schemas', 'Schema'), 'Every schema (RFC 7644 §4).');
  schemas.ResourceTypeListResponse = listResponse(ref('schemas', 'ResourceType'), 'Every resource type (RFC 7644 §4).');
  return schemas;
}
