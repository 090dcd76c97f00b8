import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { adminContract } from '@shared/contract';
import { ADMIN_OPERATION_NAMES } from '@shared/contract-ops';
import { coreSchemaRegistry } from '@shared/scim/registry';
import { SCIM_URN } from '@shared/scim/urns';
import { checkOpenApiDocument, resolvePointer } from '../../../src-main/http/openapi/check';
import { buildOpenApiDocument, type OpenApiDocument } from '../../../src-main/http/openapi/index';
import { zodJsonSchema } from '../../../src-main/http/openapi/json-schema';
import type { JsonSchema, Operation, Parameter, Reference } from '../../../src-main/http/openapi/types';
import { DEFAULT_SERVER_CAPABILITIES } from '../../../src-main/scim/service-provider-config';

const build = () => buildOpenApiDocument(coreSchemaRegistry(), DEFAULT_SERVER_CAPABILITIES, '9.8.7');

function operations(doc: OpenApiDocument): { path: string; method: string; op: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ path, method, op })),
  );
}

function params(doc: OpenApiDocument, op: Operation): Parameter[] {
  return (op.parameters ?? []).map((p: Parameter | Reference) =>
    '$ref' in p ? (resolvePointer(doc, p.$ref) as Parameter) : p,
  );
}

function schemaAt(doc: OpenApiDocument, schema: JsonSchema): JsonSchema {
  return typeof schema.$ref === 'string' ? (resolvePointer(doc, schema.$ref) as JsonSchema) : schema;
}

describe('the OpenAPI document', () => {
  it('keeps the structural rules of OpenAPI 3.1', () => {
    expect(checkOpenApiDocument(build())).toEqual([]);
  });

  it('is a pure function of its inputs, with the given version', () => {
    const doc = build();
    expect(doc.info.version).toBe('9.8.7');
    expect(JSON.parse(JSON.stringify(doc))).toEqual(JSON.parse(JSON.stringify(build())));
  });

  it('the structural check reports what breaks the rules', () => {
    const doc = structuredClone(build());
    const list = doc.paths['/scim/v2/Users']?.get;
    const one = doc.paths['/api/v1/admin/tenants/{id}']?.get;
    if (!list || !one) throw new Error('expected operations are missing');
    list.operationId = 'listTenants';
    list.responses['200'] = { $ref: '#/components/responses/Nope' };
    one.parameters = [];
    doc.paths['/api/v1/admin/tenants/{other}'] = {};
    const problems = checkOpenApiDocument(doc);
    expect(problems).toContain('operationId listTenants is used by GET /api/v1/admin/tenants and GET /scim/v2/Users');
    expect(problems).toContain('$ref #/components/responses/Nope does not resolve');
    expect(problems).toContain('GET /api/v1/admin/tenants/{id}: path parameter {id} is not declared');
    expect(problems).toContain(
      'paths /api/v1/admin/tenants/{id} and /api/v1/admin/tenants/{other} differ only in parameter names',
    );
  });

  // The full schema validation, once the validator package is installed (see docs/architecture.md, "API documentation").
  const validator = (() => {
    try {
      return createRequire(import.meta.url)('@readme/openapi-parser') as {
        validate(doc: unknown): Promise<{ valid: boolean; errors?: { message: string }[] }>;
      };
    } catch {
      return undefined;
    }
  })();
  it.runIf(validator)('validates against the OpenAPI 3.1 schema (@readme/openapi-parser)', async () => {
    const result = await validator!.validate(structuredClone(build()));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });
});

describe('admin operations, from the contract table', () => {
  const doc = build();

  it.each(ADMIN_OPERATION_NAMES)('%s: method, path, parameters, body and responses follow its row', (name) => {
    const row = adminContract[name];
    const pathParams = [...row.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]);
    const path = `/api/v1/admin${row.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`;
    const op = doc.paths[path]?.[row.method.toLowerCase() as 'get'];
    expect(op?.operationId).toBe(name);
    if (!op) return;
    expect(op.summary).toBe(row.summary);
    expect(op.security).toEqual([{ bearerAdmin: [] }]);

    const declared = params(doc, op);
    expect(declared.filter((p) => p.in === 'path').map((p) => p.name)).toEqual(pathParams);
    const inputFields = Object.keys((zodJsonSchema(row.input, 'input', {}, 'x')?.properties ?? {}) as object);
    if (row.method === 'GET' || row.method === 'DELETE') {
      expect(op.requestBody).toBeUndefined();
      expect(declared.filter((p) => p.in === 'query').map((p) => p.name)).toEqual(
        inputFields.filter((f) => !pathParams.includes(f)),
      );
    } else {
      const body = op.requestBody?.content['application/json']?.schema ?? {};
      // The body's own fields, then the path's, which it may repeat (not contradict).
      expect(Object.keys((body.properties ?? {}) as object)).toEqual([
        ...inputFields.filter((f) => !pathParams.includes(f)),
        ...pathParams,
      ]);
      expect(op.requestBody?.content['application/scim+json']?.schema).toEqual(body);
    }

    const success = op.responses[String(row.status)];
    expect(success).toBeDefined();
    if (row.status === 204) expect(success).not.toHaveProperty('content');
    else expect(success).toHaveProperty(['content', 'application/json', 'schema']);
    // What any request can meet: its credential refused, the listener's refusals, the server's failures.
    for (const status of ['401', '403', '400', '408', '417', '500', '503']) expect(op.responses).toHaveProperty(status);
    const statusOf = { not_found: '404', conflict: '409' } as Record<string, string>;
    for (const code of row.errors) expect(op.responses).toHaveProperty(statusOf[code] ?? 'missing-status');
  });

  it('says what the server refuses in a request: a name out of bounds, a SCIM token signing out', () => {
    const create = doc.paths['/api/v1/admin/tenants']?.post;
    const name = schemaAt(doc, create?.requestBody?.content['application/json']?.schema ?? {}).properties as Record<
      string,
      JsonSchema
    >;
    expect(name.name).toMatchObject({ type: 'string', minLength: 1, maxLength: 200 });
    expect(name.name?.description).toMatch(/control characters/);
    expect(doc.paths['/api/v1/admin/session']?.delete?.responses).toHaveProperty('403');
    expect(doc.components.responses.Admin_unsupported_media_type?.description).toContain('application/scim+json');
    // RFC 7644 §4: a discovery endpoint answers a filter with 403.
    for (const path of ['ServiceProviderConfig', 'Schemas', 'Schemas/{urn}', 'ResourceTypes', 'ResourceTypes/{name}']) {
      expect(doc.paths[`/scim/v2/${path}`]?.get?.responses).toHaveProperty('403');
    }
  });

  it('the admin error bodies are the seed 004 shapes', () => {
    const notFound = schemaAt(doc, { $ref: '#/components/schemas/AdminError' });
    expect(notFound.required).toEqual(['detail', 'code']);
    const validation = schemaAt(doc, { $ref: '#/components/schemas/AdminValidationError' });
    expect(validation).toHaveProperty(['properties', 'detail', 'items', 'required'], ['loc', 'msg', 'type']);
  });

  it('documents the session exchange (no credentials) and the event stream', () => {
    const session = doc.paths['/api/v1/admin/session']?.post;
    expect(session?.security).toEqual([]);
    expect(session?.responses).toHaveProperty('200');
    const stream = doc.paths['/api/v1/admin/request-logs/stream']?.get;
    expect(stream?.responses['200']).toHaveProperty(['content', 'text/event-stream']);
    expect(params(doc, stream!).map((p) => `${p.in}:${p.name}`)).toContain('header:Last-Event-ID');
  });
});

describe('SCIM operations', () => {
  const doc = build();
  const tokenBase = '/scim/v2';
  const tenantBase = '/api/v1/tenants/{tenant_id}/scim/v2';
  const under = (base: string) =>
    operations(doc)
      .filter((o) => o.path.startsWith(`${base}/`))
      .map((o) => `${o.method} ${o.path.slice(base.length)}`)
      .sort();

  it('the two base paths serve the same operations', () => {
    expect(under(tokenBase).length).toBeGreaterThan(0);
    expect(under(tenantBase)).toEqual(under(tokenBase));
  });

  it('the tenant path takes the admin token too; /scim/v2 only SCIM tokens; discovery none', () => {
    expect(doc.paths[`${tenantBase}/Users`]?.get?.security).toEqual([{ bearerScim: [] }, { bearerAdmin: [] }]);
    expect(doc.paths[`${tokenBase}/Users`]?.get?.security).toEqual([{ bearerScim: [] }]);
    expect(doc.paths[`${tokenBase}/ServiceProviderConfig`]?.get?.security).toEqual([]);
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['bearerAdmin', 'bearerScim']);
  });

  it('list operations take the RFC 7644 §3.4.2 query parameters, and the export format', () => {
    const list = doc.paths[`${tokenBase}/Users`]?.get;
    expect(params(doc, list!).map((p) => p.name)).toEqual([
      'filter',
      'startIndex',
      'count',
      'sortBy',
      'sortOrder',
      'attributes',
      'excludedAttributes',
      'format',
    ]);
    const ok = list?.responses['200'];
    expect(Object.keys(ok && 'content' in ok ? (ok.content ?? {}) : {})).toEqual([
      'application/scim+json',
      'application/x-ndjson',
      'text/csv',
    ]);
  });

  it('speaks application/scim+json, with RFC 7644 §3.12 errors', () => {
    const create = doc.paths[`${tokenBase}/Users`]?.post;
    expect(Object.keys(create?.requestBody?.content ?? {})).toEqual(['application/scim+json', 'application/json']);
    expect(create?.responses['201']).toHaveProperty(['content', 'application/scim+json']);
    expect(create?.responses['201']).toHaveProperty(['headers', 'Location']);
    const error = schemaAt(doc, { $ref: '#/components/schemas/ScimError' });
    expect(error).toHaveProperty(['properties', 'schemas', 'contains', 'const'], SCIM_URN.error);
    expect(error).toHaveProperty(['properties', 'status', 'type'], 'string');
    expect(doc.paths[`${tokenBase}/Me`]?.get?.responses).toHaveProperty('501');
  });

  it('resource schemas follow the attribute definitions in each view', () => {
    const user = doc.components.schemas.User as { properties: Record<string, JsonSchema>; required: string[] };
    const write = doc.components.schemas.UserWrite as { properties: Record<string, JsonSchema>; required: string[] };
    // Response view: id and schemas always; never the password (returned: never).
    expect(user.required).toEqual(expect.arrayContaining(['id', 'schemas']));
    expect(user.properties).not.toHaveProperty('password');
    expect(user.properties.id).toMatchObject({ type: 'string', readOnly: true });
    expect(user.properties.emails).toMatchObject({ type: 'array', items: { type: 'object' } });
    expect(user.properties[SCIM_URN.enterpriseUser]).toHaveProperty(['properties', 'employeeNumber']);
    // Write view: no readOnly attributes, userName required, defaults stated, password write-only.
    expect(write.properties).not.toHaveProperty('id');
    expect(write.properties).not.toHaveProperty('meta');
    expect(write.properties).not.toHaveProperty('groups');
    expect(write.required).toContain('userName');
    expect(write.properties.active).toMatchObject({ type: 'boolean', default: true });
    expect(write.properties.password).toMatchObject({ writeOnly: true });
    const group = doc.components.schemas.Group as { properties: Record<string, JsonSchema> };
    expect(group.properties.members).toMatchObject({ type: 'array' });
  });

  it('states the bulk limits from the capabilities', () => {
    const bulk = doc.components.schemas.BulkRequest as JsonSchema;
    expect(bulk).toHaveProperty(
      ['properties', 'Operations', 'maxItems'],
      DEFAULT_SERVER_CAPABILITIES.bulk.maxOperations,
    );
  });
});

describe('zod to JSON Schema', () => {
  it('a schema for no body gives no schema (the 204 rows)', () => {
    expect(zodJsonSchema(z.undefined(), 'output', {}, 'x')).toBeUndefined();
  });

  it('what JSON Schema cannot express becomes "any value" instead of an exception', () => {
    const schema = z.object({ at: z.date(), n: z.number() });
    expect(zodJsonSchema(schema, 'output', {}, 'x')).toMatchObject({ properties: { at: {}, n: { type: 'number' } } });
  });

  it('request schemas are the input side: defaults make a field optional', () => {
    const schema = z.object({ page: z.coerce.number().default(1), name: z.string() });
    expect(zodJsonSchema(schema, 'input', {}, 'x')?.required).toEqual(['name']);
  });

  it('recursive schemas move their definitions into components, where their references point', () => {
    interface Node {
      name: string;
      children: Node[];
    }
    const Node: z.ZodType<Node> = z.object({
      name: z.string(),
      get children() {
        return z.array(Node);
      },
    });
    const components: Record<string, JsonSchema> = {};
    const schema = zodJsonSchema(z.object({ root: Node }), 'output', components, 'Tree');
    const doc = { components: { schemas: components }, schema };
    expect(Object.keys(components).length).toBeGreaterThan(0);
    expect(JSON.stringify(doc)).not.toContain('$defs');
    const pointers = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(pointers.length).toBeGreaterThan(0);
    for (const pointer of pointers) {
      expect(resolvePointer(doc, pointer.slice(8, -1)), pointer).toBeDefined();
    }
  });
});
