/**
 * The parts of OpenAPI 3.1 (https://spec.openapis.org/oas/v3.1.0) this server's document uses.
 * Schema Objects are JSON Schema 2020-12 (OAS 3.1 §4.8.24), kept as plain JSON values: they come
 * from zod's converter and from the SCIM attribute definitions, and nothing here inspects them.
 */
export type JsonSchema = { [key: string]: unknown };

export type HttpMethodLower = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** A type alias, not an interface, so that it is also a valid JsonSchema (index signature). */
export type Reference = { $ref: string };

export interface MediaType {
  schema: JsonSchema;
  example?: unknown;
}

export interface HeaderObject {
  description: string;
  schema: JsonSchema;
}

export interface ResponseObject {
  description: string;
  headers?: Record<string, HeaderObject>;
  content?: Record<string, MediaType>;
}

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  description?: string;
  schema: JsonSchema;
}

export interface RequestBody {
  required: boolean;
  description?: string;
  content: Record<string, MediaType>;
}

/** `[]` means "no credentials"; each entry is one alternative (OAS 3.1 §4.8.30). */
export type SecurityRequirement = Record<string, string[]>;

export interface Operation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  parameters?: (Parameter | Reference)[];
  requestBody?: RequestBody;
  responses: Record<string, ResponseObject | Reference>;
  security: SecurityRequirement[];
}

export type PathItem = Partial<Record<HttpMethodLower, Operation>>;

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string; license?: { name: string; identifier: string } };
  jsonSchemaDialect: string;
  servers: { url: string; description: string }[];
  tags: { name: string; description: string }[];
  paths: Record<string, PathItem>;
  components: {
    schemas: Record<string, JsonSchema>;
    responses: Record<string, ResponseObject>;
    parameters: Record<string, Parameter>;
    securitySchemes: Record<string, { type: 'http'; scheme: 'bearer'; bearerFormat?: string; description: string }>;
  };
}

/** A `$ref` to a component, by kind and name. */
export function ref(kind: 'schemas' | 'responses' | 'parameters', name: string): Reference {
  return { $ref: `#/components/${kind}/${name}` };
}
