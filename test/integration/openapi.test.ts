import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreSchemaRegistry } from '@shared/scim/registry';
import { SCIM_URN } from '@shared/scim/urns';
import { apiDocs, findViewerDir, VIEWER_PACKAGE } from '../../src-main/http/api-docs';
import { checkOpenApiDocument } from '../../src-main/http/openapi/check';
import type { OpenApiDocument } from '../../src-main/http/openapi/index';
import type { Operation } from '../../src-main/http/openapi/types';
import { DEFAULT_SERVER_CAPABILITIES } from '../../src-main/scim/service-provider-config';
import { ROOT, startTestServer, type TestServer } from './harness';

/**
 * The document the running server publishes, checked against the running server: every documented
 * operation answers with a status the document lists for it, and paths it does not list are 404.
 */
let server: TestServer;
let doc: OpenApiDocument;
let adminToken: string;
let tenantId: string;

beforeAll(async () => {
  server = await startTestServer();
  adminToken = await server.adminToken();
  const created = await fetch(`${server.url}/api/v1/admin/tenants`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'Docs Probe' }),
  });
  tenantId = ((await created.json()) as { id: string }).id;
  doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as OpenApiDocument;
});
afterAll(() => server.stop());

interface DocumentedOperation {
  method: string;
  template: string;
  op: Operation;
}

function documentedOperations(): DocumentedOperation[] {
  return Object.entries(doc.paths).flatMap(([template, item]) =>
    Object.entries(item).map(([method, op]) => ({ method: method.toUpperCase(), template, op })),
  );
}

/** Path parameters filled with values that exist where the answer would otherwise be 404. */
function fill(template: string, values: Record<string, string> = {}): string {
  const defaults: Record<string, string> = { urn: SCIM_URN.user, name: 'User', tenant_id: tenantId };
  return template.replace(/\{([^}]+)\}/g, (_m, name: string) =>
    encodeURIComponent(values[name] ?? defaults[name] ?? 'doc-probe'),
  );
}

function call(method: string, path: string, token?: string): Promise<Response> {
  const headers: Record<string, string> = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  const withBody = method === 'POST' || method === 'PUT' || method === 'PATCH';
  if (withBody) headers['Content-Type'] = 'application/json';
  return fetch(`${server.url}${path}`, { method, headers, body: withBody ? '{}' : undefined });
}

describe('GET /openapi.json', () => {
  it('is public JSON that keeps the OpenAPI 3.1 structural rules', async () => {
    const response = await fetch(`${server.url}/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(checkOpenApiDocument(doc)).toEqual([]);
    expect(Object.keys(doc.paths).length).toBeGreaterThan(0);
  });

  it("carries scimdesk's version from package.json", async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(doc.info.version).toBe(pkg.version);
  });
});

describe('the document and the server agree', () => {
  it('without credentials, every documented operation answers a status it documents (never 404/405)', async () => {
    const wrong: string[] = [];
    for (const { method, template, op } of documentedOperations()) {
      const response = await call(method, fill(template));
      await response.body?.cancel();
      const status = String(response.status);
      if (!(status in op.responses) || status === '404' || status === '405') {
        wrong.push(`${method} ${template} → ${status} (documented: ${Object.keys(op.responses).join(', ')})`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('with the admin token, every GET without required inputs answers a documented success or refusal', async () => {
    const probed: string[] = [];
    const wrong: string[] = [];
    for (const { method, template, op } of documentedOperations()) {
      const needsInput = (op.parameters ?? []).some((p) => !('$ref' in p) && p.in !== 'path' && p.required === true);
      const hasPathParams = /\{(?!tenant_id\})/.test(template);
      const isStream = Object.values(op.responses).some((r) => 'content' in r && r.content?.['text/event-stream']);
      if (method !== 'GET' || needsInput || isStream || hasPathParams) continue;
      const response = await call(method, fill(template), adminToken);
      await response.body?.cancel();
      const status = String(response.status);
      probed.push(`${template} ${status}`);
      if (!(status in op.responses) || status === '404') wrong.push(`${template} → ${status}`);
      // The admin token opens the admin API and tenant paths; /scim/v2 refuses it (no tenant).
      const tokenBase = template === '/scim/v2' || template.startsWith('/scim/v2/');
      const expected = tokenBase && op.security.length > 0 ? /^403$/ : /^(200|501)$/;
      if (!expected.test(status)) wrong.push(`${template} → ${status}, expected ${expected.source}`);
    }
    expect(probed.length).toBeGreaterThan(0);
    expect(probed).toContain('/scim/v2/ServiceProviderConfig 200');
    expect(wrong).toEqual([]);
  });

  it('every operation sent an Expect it cannot meet answers 417, which it documents', async () => {
    const wrong: string[] = [];
    for (const { method, template, op } of documentedOperations()) {
      if (method === 'HEAD') continue;
      const withBody = method === 'POST' || method === 'PUT' || method === 'PATCH';
      // fetch refuses to send an Expect header: node:http sends what it is given.
      const status = await new Promise<number>((resolve, reject) => {
        const sent = request(
          `${server.url}${fill(template)}`,
          {
            method,
            headers: {
              Authorization: `Bearer ${adminToken}`,
              Expect: 'something-else',
              ...(withBody ? { 'Content-Type': 'application/json', 'Content-Length': '2' } : {}),
            },
          },
          (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          },
        );
        sent.on('error', reject);
        sent.end(withBody ? '{}' : undefined);
      });
      if (status !== 417 || !('417' in op.responses)) {
        wrong.push(`${method} ${template} → ${status} (documented: ${Object.keys(op.responses).join(', ')})`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('admin errors come with the statuses the document gives them', async () => {
    const auth = { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' };
    const missing = await fetch(`${server.url}/api/v1/admin/tenants/no-such-tenant`, { headers: auth });
    expect(missing.status).toBe(404);
    expect(doc.paths['/api/v1/admin/tenants/{id}']?.get?.responses).toHaveProperty('404');

    const duplicate = await fetch(`${server.url}/api/v1/admin/tenants`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ name: 'docs probe' }),
    });
    expect(duplicate.status).toBe(409);
    expect(doc.paths['/api/v1/admin/tenants']?.post?.responses).toHaveProperty('409');

    const invalid = await fetch(`${server.url}/api/v1/admin/tenants`, { method: 'POST', headers: auth, body: '{}' });
    expect(invalid.status).toBe(422);
    const body = (await invalid.json()) as { detail: { loc: unknown[]; msg: string; type: string }[] };
    expect(body.detail[0]).toMatchObject({ loc: expect.any(Array), msg: expect.any(String), type: expect.any(String) });
    expect(doc.paths['/api/v1/admin/tenants']?.post?.responses).toHaveProperty('422');
  });

  it.each(['/api/v1/admin/not-documented', '/scim/v2/NotDocumented', '/api/v1/tenants/x/scim/v2/Nope'])(
    'an undocumented path is not in the document and answers 404: %s',
    async (path) => {
      expect(Object.keys(doc.paths)).not.toContain(path);
      const response = await call('GET', path, adminToken);
      await response.body?.cancel();
      expect(response.status).toBe(404);
    },
  );
});

describe('GET /docs', () => {
  const viewerInstalled = findViewerDir() !== undefined;

  it(`has its viewer package installed (${VIEWER_PACKAGE})`, () => {
    expect(
      viewerInstalled,
      `${VIEWER_PACKAGE} is a dependency: run npm install (docs/architecture.md, "API documentation")`,
    ).toBe(true);
  });

  it.each(['/docs', '/docs/'])(
    '%s serves a page under a strict CSP that loads only same-origin assets',
    async (path) => {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).not.toContain('unsafe');
      const html = await response.text();
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
      expect(html).not.toMatch(/<style|style="/);
      const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '');
      expect(assets.length).toBeGreaterThan(0);
      const types: Record<string, RegExp> = { js: /javascript/, css: /^text\/css/, png: /^image\/png/ };
      for (const asset of assets) {
        expect(asset, 'same origin, absolute path').toMatch(/^\/(?!\/)/);
        const loaded = await fetch(`${server.url}${asset}`);
        expect(loaded.status, asset).toBe(200);
        const extension = asset.split('.').pop() ?? '';
        expect(loaded.headers.get('content-type'), asset).toMatch(types[extension] ?? /^$/);
        await loaded.body?.cancel();
      }
    },
  );

  it('points the viewer at /openapi.json, and at nothing else', async () => {
    const html = await (await fetch(`${server.url}/docs`)).text();
    const scripts = [...html.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1] ?? '');
    const init = scripts.find((s) => !s.includes(VIEWER_PACKAGE) && !s.includes('swagger-ui-bundle'));
    expect(init).toBeDefined();
    const text = await (await fetch(`${server.url}${init}`)).text();
    expect(text).toContain('"/openapi.json"');
    expect(text).not.toMatch(/https?:\/\//);
  });

  it.each(['/docs/package.json', '/docs/index.js', '/docs/swagger-initializer.js', '/docs/README.md'])(
    'serves none of the package files the page does not use: %s',
    async (path) => {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status).toBe(404);
      expect(await response.text()).not.toContain('"version"');
    },
  );

  it('does not let an encoded `..` out of the docs', async () => {
    // fetch() would resolve `%2e%2e` itself; node:http sends the path as written.
    const { hostname, port } = new URL(server.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ hostname, port, path: '/docs/%2e%2e/%2e%2e/package.json', method: 'GET' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(404);
  });
});

describe('without the viewer package', () => {
  it('/docs answers 503 with a hint, and /openapi.json still works', async () => {
    const app = new Koa();
    app.use(
      apiDocs({
        registry: coreSchemaRegistry(),
        capabilities: DEFAULT_SERVER_CAPABILITIES,
        version: '1.2.3',
        viewerDir: () => undefined,
      }),
    );
    const listener = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => listener.once('listening', resolve));
    try {
      const { port } = listener.address() as { port: number };
      const docs = await fetch(`http://127.0.0.1:${port}/docs`);
      expect(docs.status).toBe(503);
      expect(docs.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await docs.text()).toContain(VIEWER_PACKAGE);
      const document = await fetch(`http://127.0.0.1:${port}/openapi.json`);
      expect(document.status).toBe(200);
      expect(((await document.json()) as OpenApiDocument).info.version).toBe('1.2.3');
    } finally {
      await new Promise((resolve) => listener.close(resolve));
    }
  });
});
