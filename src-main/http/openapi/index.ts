/**
 * The server's OpenAPI 3.1 document, derived — never written by hand — from what the routes are
 * derived from: the admin contract table (admin-router.ts registers one route per row) and the SCIM
 * schema registry plus the route list of scim/router.ts. Pure: same inputs, same document; the
 * caller supplies the version, so nothing here reads files.
 */
import type { SchemaRegistry } from '@shared/scim/registry';
import type { ServerCapabilities } from '../../scim/service-provider-config';
import type { ResourceKind } from '@shared/scim/index-keys';
import { adminErrorComponents, adminPaths, adminTags } from './admin-paths';
import { SCIM_BASE_DESCRIPTIONS, SCIM_BASES, scimErrorResponses, scimParameters, scimPaths } from './scim-paths';
import { scimComponentSchemas } from './scim-schemas';
import type { JsonSchema, OpenApiDocument } from './types';

export type { OpenApiDocument } from './types';

/** The resource types scim/router.ts serves; other types in a registry have no endpoint. */
const SERVED_KINDS: readonly ResourceKind[] = ['User', 'Group'];

export function buildOpenApiDocument(
  registry: SchemaRegistry,
  capabilities: ServerCapabilities,
  version: string,
): OpenApiDocument {
  const kinds = SERVED_KINDS.flatMap((name) => registry.resource(name) ?? []);
  const adminErrors = adminErrorComponents();
  const schemas: Record<string, JsonSchema> = {
    ...scimComponentSchemas(registry, kinds, capabilities),
    ...adminErrors.schemas,
  };
  // Admin paths add the zod-derived definitions they need (if any) to `schemas` as they go.
  const admin = adminPaths(schemas);
  return {
    openapi: '3.1.0',
    info: {
      title: 'scimdesk',
      version,
      description:
        'A multi-tenant SCIM 2.0 server (RFC 7643 / RFC 7644) and the admin API of its console. ' +
        'Admin errors are `{detail, code}` (422: `{detail: [{loc, msg, type}]}`); SCIM errors ' +
        'are RFC 7644 §3.12 bodies. Admin paths are accepted with and without a trailing slash.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    // Relative: the document describes whichever host and port it was fetched from.
    servers: [{ url: '/', description: 'This server' }],
    tags: [
      ...adminTags(admin),
      ...SCIM_BASES.map((base) => ({ name: base.tag, description: SCIM_BASE_DESCRIPTIONS[base.path] ?? '' })),
    ],
    paths: { ...admin, ...scimPaths(kinds, capabilities) },
    components: {
      schemas,
      responses: { ...adminErrors.responses, ...scimErrorResponses(capabilities) },
      parameters: scimParameters(capabilities),
      securitySchemes: {
        bearerAdmin: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'An admin token: from `scimdesk admin-token`, or the console session (`POST /api/v1/admin/session`). ' +
            'Opens the admin API and the tenant-path SCIM endpoints.',
        },
        bearerScim: {
          type: 'http',
          scheme: 'bearer',
          description:
            "A tenant's SCIM token (`scimdesk_...`), created with the admin API (`POST /api/v1/admin/scim-tokens`).",
        },
      },
    },
  };
}
