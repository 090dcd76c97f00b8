import type { ResourceSchema } from '@shared/scim/registry';
import { SCIM_CONTENT_TYPE } from '@shared/scim/urns';
import type { ServerCapabilities } from '../../scim/service-provider-config';
import { resourceComponentNames } from './scim-schemas';
import {
  ref,
  type JsonSchema,
  type MediaType,
  type Operation,
  type Parameter,
  type PathItem,
  type Reference,
  type RequestBody,
  type ResponseObject,
  type SecurityRequirement,
} from './types';

/** How the two SCIM base paths differ (DESIGN.md §3); everything under them is the same API. */
export interface ScimBase {
  /** The path as OpenAPI writes it. */
  path: string;
  tag: string;
  /** Prepended to operationIds, which must be unique across the document. */
  idPrefix: string;
  security: SecurityRequirement[];
  /** Parameters every operation under this base takes (the tenant in the path). */
  parameters: Reference[];
  /** The errors the base adds, by status: how a credential can be refused here. */
  authErrors: string[];
}

export const SCIM_BASES: readonly ScimBase[] = [
  {
    path: '/scim/v2',
    tag: 'scim',
    idPrefix: 'scim',
    security: [{ bearerScim: [] }],
    parameters: [],
    authErrors: ['401', '403'],
  },
  {
    path: '/api/v1/tenants/{tenant_id}/scim/v2',
    tag: 'scim-tenant',
    idPrefix: 'tenantScim',
    // The admin token opens tenant paths too (the console browses identities this way).
    security: [{ bearerScim: [] }, { bearerAdmin: [] }],
    parameters: [ref('parameters', 'TenantId')],
    authErrors: ['401', '404'],
  },
];

export const SCIM_BASE_DESCRIPTIONS: Record<string, string> = {
  '/scim/v2':
    'SCIM 2.0 at /scim/v2. The tenant is the one the SCIM token belongs to — the URL most identity providers are given. ' +
    'An admin token gets 403 here: it has no tenant; use the tenant path.',
  '/api/v1/tenants/{tenant_id}/scim/v2':
    "SCIM 2.0 at /api/v1/tenants/{tenant_id}/scim/v2. The tenant is in the path; a SCIM token must belong to it (another tenant's token gets 404). " +
    'The admin token is accepted here too; such requests are logged as console traffic.',
};

const scimContent = (schema: JsonSchema): Record<string, MediaType> => ({ [SCIM_CONTENT_TYPE]: { schema } });

/** RFC 7644 §3.12 error responses, one component per status. */
export function scimErrorResponses(capabilities: ServerCapabilities): Record<string, ResponseObject> {
  const error = (description: string): ResponseObject => ({
    description,
    content: scimContent(ref('schemas', 'ScimError')),
  });
  const unauthorized = error('No bearer token, or one that is unknown, expired or revoked.');
  unauthorized.headers = {
    'WWW-Authenticate': {
      description:
        'Bearer realm="scimdesk"; with error="invalid_token" when the token presented was refused (RFC 6750 §3.1)',
      schema: { type: 'string' },
    },
  };
  const busy = error('Too many passwords are being hashed right now (a burst of password writes): try again later.');
  busy.headers = {
    'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'integer' } },
  };
  return {
    Scim400: error(
      'A bad request; `scimType` says why (invalidFilter, invalidSyntax, invalidPath, invalidValue, mutability, noTarget, tooMany).',
    ),
    Scim401: unauthorized,
    Scim403: error('An admin token on /scim/v2 (use the tenant path), or a filter on a discovery endpoint.'),
    Scim404: error('No such resource, or no such tenant (also when the token belongs to another tenant).'),
    Scim409: error('`uniqueness`: userName (case-insensitive) or externalId already taken in the tenant.'),
    Scim412: error("`If-Match` did not match the resource's current version."),
    Scim413: error(
      `The body is over its limit: 1 MiB, or ${capabilities.bulk.maxPayloadSize} bytes / ${capabilities.bulk.maxOperations} operations for /Bulk.`,
    ),
    Scim408: error('The request head or body did not arrive in time (30 s for the head, 120 s for the whole request).'),
    Scim417: error('An `Expect` header other than `100-continue`, which is the only expectation the server meets.'),
    Scim500: error(
      'A fault of the server (logged there with detail), or its store is unavailable (the detail says what to do).',
    ),
    Scim501: error('Not implemented.'),
    Scim503: busy,
  };
}

/** Query and header parameters of the SCIM API (RFC 7644 §3.4.2, §3.9, §3.14). */
export function scimParameters(capabilities: ServerCapabilities): Record<string, Parameter> {
  const query = (name: string, description: string, schema: JsonSchema = { type: 'string' }): Parameter => ({
    name,
    in: 'query',
    required: false,
    description,
    schema,
  });
  return {
    TenantId: {
      name: 'tenant_id',
      in: 'path',
      required: true,
      description: 'The tenant id.',
      schema: { type: 'string' },
    },
    ResourceId: { name: 'id', in: 'path', required: true, description: 'The resource id.', schema: { type: 'string' } },
    filter: query('filter', 'RFC 7644 §3.4.2.2, e.g. `userName eq "bjensen"` (at most 8192 characters).'),
    startIndex: query('startIndex', '1-based; values below 1 are read as 1.', { type: 'integer' }),
    count: query(
      'count',
      `Page size; 0 returns totalResults only, negative is 0, capped at ${capabilities.filter.maxResults}.`,
      { type: 'integer' },
    ),
    sortBy: query('sortBy', 'An attribute path; without it pages come in a stable order.'),
    sortOrder: query('sortOrder', 'ascending (default) or descending.', {
      type: 'string',
      enum: ['ascending', 'descending'],
    }),
    attributes: query('attributes', 'Comma-separated attribute paths to return (plus those always returned).'),
    format: query(
      'format',
      'Export instead of a page: every match, streamed, as `ndjson` (one resource a line) or `csv` ' +
        '(one row a resource; every value of a multi-valued attribute, primary first, one per line of ' +
        'its cell). Also chosen by `Accept: application/x-ndjson` or `text/csv`. Streams in id order: ' +
        '`startIndex`, `count`, `sortBy` and `sortOrder` are refused with it (400).',
      { type: 'string', enum: ['ndjson', 'csv'] },
    ),
    excludedAttributes: query(
      'excludedAttributes',
      'Comma-separated attribute paths (or whole extension URNs) to leave out.',
    ),
    IfMatch: {
      name: 'If-Match',
      in: 'header',
      required: false,
      description: 'Go ahead only if the resource still has this version (RFC 7644 §3.14), on a GET too; else 412.',
      schema: { type: 'string' },
    },
    IfNoneMatch: {
      name: 'If-None-Match',
      in: 'header',
      required: false,
      description: 'Answer 304 without a body if the resource still has this version.',
      schema: { type: 'string' },
    },
    IfNoneMatchWrite: {
      name: 'If-None-Match',
      in: 'header',
      required: false,
      description: 'Refuse with 412 if the resource has this version, or any version with `*` (RFC 9110 §13.1.2).',
      schema: { type: 'string' },
    },
  };
}

const LIST_PARAMS = ['filter', 'startIndex', 'count', 'sortBy', 'sortOrder', 'attributes', 'excludedAttributes'];
const PROJECTION_PARAMS = ['attributes', 'excludedAttributes'];

function scimBody(schema: JsonSchema, description: string): RequestBody {
  // Requests with application/json are accepted too (DESIGN.md §3).
  return {
    required: true,
    description,
    content: { [SCIM_CONTENT_TYPE]: { schema }, 'application/json': { schema } },
  };
}

const ETAG_HEADER = { description: 'The weak ETag of the resource (`meta.version`).', schema: { type: 'string' } };

interface OperationSpec {
  id: string;
  summary: string;
  description?: string;
  params?: string[];
  body?: RequestBody;
  ok: [status: string, response: ResponseObject];
  errors: string[];
  /** Discovery is public (RFC 7644 §4 leaves it to the server; it describes no tenant's data). */
  public?: boolean;
}

/** What any request can be answered, whatever its operation: too slow, an unmet Expect, a fault. */
const ANY_REQUEST_ERRORS = ['408', '417', '500'];

/** RFC 7644 §4: a discovery endpoint given a `filter` answers 403. */
const DISCOVERY_ERRORS = ['403'];

function operation(base: ScimBase, spec: OperationSpec): Operation {
  const responses: Record<string, ResponseObject | Reference> = { [spec.ok[0]]: spec.ok[1] };
  const errors = [...(spec.public ? spec.errors : [...base.authErrors, ...spec.errors]), ...ANY_REQUEST_ERRORS];
  for (const status of [...new Set(errors)].sort()) responses[status] = ref('responses', `Scim${status}`);
  const op: Operation = {
    operationId: `${base.idPrefix}${spec.id[0]?.toUpperCase() ?? ''}${spec.id.slice(1)}`,
    summary: spec.summary,
    tags: [base.tag],
    parameters: [...base.parameters, ...(spec.params ?? []).map((name) => ref('parameters', name))],
    responses,
    security: spec.public ? [] : base.security,
  };
  if (spec.description) op.description = spec.description;
  if (spec.body) op.requestBody = spec.body;
  if (op.parameters?.length === 0) delete op.parameters;
  return op;
}

function resourcePaths(
  base: ScimBase,
  kind: ResourceSchema,
  capabilities: ServerCapabilities,
): Record<string, PathItem> {
  const type = kind.type.name;
  const plural = kind.type.endpoint.replace(/^\//, '');
  const names = resourceComponentNames(type);
  const one = (status: string, description: string, location = false): [string, ResponseObject] => {
    const response: ResponseObject = { description, content: scimContent(ref('schemas', names.response)) };
    if (capabilities.etag) response.headers = { ETag: ETAG_HEADER };
    if (location) {
      response.headers = {
        ...response.headers,
        Location: { description: "The resource's URL (`meta.location`).", schema: { type: 'string' } },
      };
    }
    return [status, response];
  };
  const list: [string, ResponseObject] = [
    '200',
    { description: `A page of ${plural}.`, content: scimContent(ref('schemas', names.list)) },
  ];
  const listOrExport: [string, ResponseObject] = [
    '200',
    {
      description: `A page of ${plural}; with \`format\`, all of them, streamed.`,
      content: {
        ...scimContent(ref('schemas', names.list)),
        'application/x-ndjson': {
          schema: { type: 'string', description: `One ${type} (as JSON) a line.` },
        },
        'text/csv': { schema: { type: 'string', description: `A header row, then one row a ${type}.` } },
      },
    },
  ];
  const conditionHeaders = capabilities.etag ? ['IfMatch', 'IfNoneMatchWrite'] : [];
  // Only users carry a password, whose hashing can be busy.
  const passwordBusy = type === 'User' ? ['503'] : [];
  const write = scimBody(ref('schemas', names.write), `The ${type}; readOnly attributes are ignored.`);

  const getOne: Operation = operation(base, {
    id: `get${type}`,
    summary: `Get one ${type}.`,
    params: ['ResourceId', ...PROJECTION_PARAMS, ...(capabilities.etag ? ['IfMatch', 'IfNoneMatch'] : [])],
    ok: one('200', `The ${type}.`),
    errors: ['400', '404', ...(capabilities.etag ? ['412'] : [])],
  });
  if (capabilities.etag) getOne.responses['304'] = { description: 'Not modified (If-None-Match matched).' };

  return {
    [`${base.path}${kind.type.endpoint}`]: {
      get: operation(base, {
        id: `list${plural}`,
        summary: `List or filter ${plural} (RFC 7644 §3.4.2), or export them.`,
        params: [...LIST_PARAMS, 'format'],
        ok: listOrExport,
        errors: ['400'],
      }),
      post: operation(base, {
        id: `create${type}`,
        summary: `Create a ${type} (RFC 7644 §3.3).`,
        params: PROJECTION_PARAMS,
        body: write,
        ok: one('201', `The new ${type}.`, true),
        errors: ['400', '409', '413', ...passwordBusy],
      }),
    },
    [`${base.path}${kind.type.endpoint}/.search`]: {
      post: operation(base, {
        id: `search${plural}`,
        summary: `Search ${plural} with a POST body (RFC 7644 §3.4.3).`,
        body: scimBody(ref('schemas', 'SearchRequest'), 'The query.'),
        ok: list,
        errors: ['400', '413'],
      }),
    },
    [`${base.path}${kind.type.endpoint}/{id}`]: {
      get: getOne,
      put: operation(base, {
        id: `replace${type}`,
        summary: `Replace a ${type} (RFC 7644 §3.5.1): attributes left out are cleared.`,
        params: ['ResourceId', ...PROJECTION_PARAMS, ...conditionHeaders],
        body: write,
        ok: one('200', `The ${type} as stored.`, true),
        errors: ['400', '404', '409', '412', '413', ...passwordBusy],
      }),
      patch: operation(base, {
        id: `patch${type}`,
        summary: `Modify a ${type} (RFC 7644 §3.5.2).`,
        params: ['ResourceId', ...PROJECTION_PARAMS, ...conditionHeaders],
        body: scimBody(ref('schemas', 'PatchOp'), 'The operations, applied in order, all or none.'),
        ok: one('200', `The ${type} as stored.`, true),
        errors: ['400', '404', '409', '412', '413', ...passwordBusy],
      }),
      delete: operation(base, {
        id: `delete${type}`,
        summary: `Delete a ${type} (RFC 7644 §3.6).`,
        description:
          'A hard delete by default (removing a user from every group); a tenant with ' +
          '`delete_mode: "deactivate"` sets `active` to false instead, and answers the ETag of the user it leaves.',
        params: ['ResourceId', ...conditionHeaders],
        ok: [
          '204',
          {
            description: 'Deleted, or deactivated.',
            ...(capabilities.etag
              ? { headers: { ETag: { ...ETAG_HEADER, description: 'Only after a deactivation: the new version.' } } }
              : {}),
          },
        ],
        errors: ['404', '412'],
      }),
    },
  };
}

function rootPaths(base: ScimBase, capabilities: ServerCapabilities): Record<string, PathItem> {
  const json = (description: string, schema: string): [string, ResponseObject] => [
    '200',
    { description, content: scimContent(ref('schemas', schema)) },
  ];
  const byName = (name: string, description: string): Parameter => ({
    name,
    in: 'path',
    required: true,
    description,
    schema: { type: 'string' },
  });
  const schemaById = operation(base, {
    id: 'getSchema',
    summary: 'One schema by URN.',
    ok: json('The schema.', 'Schema'),
    errors: [...DISCOVERY_ERRORS, '404'],
    public: true,
  });
  schemaById.parameters = [...(schemaById.parameters ?? []), byName('urn', 'The schema URN.')];
  const typeById = operation(base, {
    id: 'getResourceType',
    summary: 'One resource type by name.',
    ok: json('The resource type.', 'ResourceType'),
    errors: [...DISCOVERY_ERRORS, '404'],
    public: true,
  });
  typeById.parameters = [...(typeById.parameters ?? []), byName('name', 'The resource type name, e.g. User.')];
  return {
    [base.path]: {
      get: operation(base, {
        id: 'queryAll',
        summary: 'Query every resource type at once (RFC 7644 §3.4.2.1): the GET form of POST /.search.',
        params: LIST_PARAMS,
        ok: json('A page of users and groups.', 'ScimResourceListResponse'),
        errors: ['400'],
      }),
    },
    [`${base.path}/.search`]: {
      post: operation(base, {
        id: 'searchAll',
        summary: 'Search every resource type at once (RFC 7644 §3.4.3).',
        body: scimBody(ref('schemas', 'SearchRequest'), 'The query.'),
        ok: json('A page of users and groups.', 'ScimResourceListResponse'),
        errors: ['400', '413'],
      }),
    },
    [`${base.path}/Bulk`]: {
      post: operation(base, {
        id: 'bulk',
        summary: 'Many operations in one request (RFC 7644 §3.7).',
        description: capabilities.bulk.supported
          ? `Up to ${capabilities.bulk.maxOperations} operations and ${capabilities.bulk.maxPayloadSize} bytes; ` +
            'bulkId references are resolved, operations run in dependency order.'
          : 'Not advertised in ServiceProviderConfig.',
        body: scimBody(ref('schemas', 'BulkRequest'), 'The operations.'),
        ok: json('One result per operation; failures carry their own status.', 'BulkResponse'),
        errors: ['400', '413'],
      }),
    },
    [`${base.path}/ServiceProviderConfig`]: {
      get: operation(base, {
        id: 'getServiceProviderConfig',
        summary: 'What the server supports (RFC 7643 §5). Public.',
        ok: json('The configuration.', 'ServiceProviderConfig'),
        errors: DISCOVERY_ERRORS,
        public: true,
      }),
    },
    [`${base.path}/Schemas`]: {
      get: operation(base, {
        id: 'listSchemas',
        summary: 'Every schema (RFC 7644 §4). Public.',
        ok: json('The schemas.', 'SchemaListResponse'),
        errors: DISCOVERY_ERRORS,
        public: true,
      }),
    },
    [`${base.path}/Schemas/{urn}`]: { get: schemaById },
    [`${base.path}/ResourceTypes`]: {
      get: operation(base, {
        id: 'listResourceTypes',
        summary: 'Every resource type (RFC 7644 §4). Public.',
        ok: json('The resource types.', 'ResourceTypeListResponse'),
        errors: DISCOVERY_ERRORS,
        public: true,
      }),
    },
    [`${base.path}/ResourceTypes/{name}`]: { get: typeById },
    [`${base.path}/Me`]: {
      get: operation(base, {
        id: 'getMe',
        summary: 'Not supported: scimdesk tokens act for an identity provider, not a user.',
        ok: ['501', { description: 'Not implemented.', content: scimContent(ref('schemas', 'ScimError')) }],
        errors: [],
      }),
    },
  };
}

/** Every SCIM operation under both base paths. */
export function scimPaths(
  kinds: readonly ResourceSchema[],
  capabilities: ServerCapabilities,
): Record<string, PathItem> {
  const paths: Record<string, PathItem> = {};
  for (const base of SCIM_BASES) {
    for (const kind of kinds) Object.assign(paths, resourcePaths(base, kind, capabilities));
    Object.assign(paths, rootPaths(base, capabilities));
  }
  return paths;
}
