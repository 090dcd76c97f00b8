import type Router from '@koa/router';
import { describe, expect, it } from 'vitest';
import { coreSchemaRegistry } from '@shared/scim/registry';
import { createAdminRouter, type AdminRouterDeps } from '../../../src-main/http/admin-router';
import { buildOpenApiDocument } from '../../../src-main/http/openapi/index';
import { createScimRouters, type ScimRouterDeps } from '../../../src-main/http/scim/router';
import { DEFAULT_SERVER_CAPABILITIES } from '../../../src-main/scim/service-provider-config';

/**
 * The document and the routers agree, both ways. The route list is read from the real routers'
 * layers (building a router calls none of its dependencies, so empty stand-ins do); parameter names
 * are compared as placeholders, since the router says `:tenantId` where the document says
 * `{tenant_id}`.
 */
const registry = coreSchemaRegistry();
const doc = buildOpenApiDocument(registry, DEFAULT_SERVER_CAPABILITIES, '0.0.0');
const documented = new Set(
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.keys(item).map((method) => `${method.toUpperCase()} ${path.replace(/\{[^}]+\}/g, '{}')}`),
  ),
);

const DOCUMENTED_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

function routesOf(router: Router): { key: string; path: string; methods: string[] }[] {
  return router.stack
    .filter((layer) => layer.methods.length > 0)
    .map((layer) => ({
      key: String(layer.path).replace(/:[A-Za-z0-9_]+/g, '{}'),
      path: String(layer.path),
      // HEAD comes with every GET in @koa/router; OPTIONS and the WebDAV verbs only with `all`.
      methods: layer.methods.filter((m) => DOCUMENTED_METHODS.includes(m)),
    }));
}

const scimRouters = createScimRouters({
  capabilities: DEFAULT_SERVER_CAPABILITIES,
  registry,
} as Partial<ScimRouterDeps> as ScimRouterDeps);
const scimRoutes = [...routesOf(scimRouters.token), ...routesOf(scimRouters.tenant)];
const adminRoutes = routesOf(createAdminRouter({ streams: new Set() } as Partial<AdminRouterDeps> as AdminRouterDeps));
const allRoutes = [...adminRoutes, ...scimRoutes];

describe('the document matches the routers', () => {
  it('found routes on both routers (the comparison below is not vacuous)', () => {
    expect(adminRoutes.length).toBeGreaterThan(0);
    expect(scimRoutes.length).toBeGreaterThan(0);
  });

  it('every route the routers serve is documented', () => {
    const missing: string[] = [];
    for (const route of allRoutes) {
      // A catch-all route (`router.all`, /Me) is documented by its GET.
      const methods = route.methods.length === DOCUMENTED_METHODS.length ? ['GET'] : route.methods;
      for (const method of methods) {
        if (!documented.has(`${method} ${route.key}`)) missing.push(`${method} ${route.path}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('every documented operation is a route', () => {
    const served = new Set(allRoutes.flatMap((r) => r.methods.map((m) => `${m} ${r.key}`)));
    expect([...documented].filter((op) => !served.has(op))).toEqual([]);
  });
});
