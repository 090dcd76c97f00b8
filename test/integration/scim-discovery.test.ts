import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './harness';

describe('SCIM discovery slice', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it('serves ServiceProviderConfig as application/scim+json', async () => {
    const response = await fetch(`${server.url}/scim/v2/ServiceProviderConfig`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/scim+json; charset=utf-8');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body.schemas).toEqual(['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig']);
    expect(body).toMatchObject({
      filter: { maxResults: 1000 },
      bulk: { maxOperations: 1000, maxPayloadSize: 4 * 1024 * 1024 },
      authenticationSchemes: [{ type: 'oauthbearertoken', primary: true }],
      meta: { resourceType: 'ServiceProviderConfig', location: `${server.url}/scim/v2/ServiceProviderConfig` },
    });
  });

  it('answers unknown SCIM paths with an RFC 7644 error body', async () => {
    for (const path of ['/scim/v2/Nope', '/api/v1/tenants/t1/scim/v2/Nope']) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toMatch(/^application\/scim\+json/);
      expect(await response.json()).toMatchObject({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
        status: '404',
      });
    }
  });

  it('answers a wrong method with 405 as a SCIM error', async () => {
    const response = await fetch(`${server.url}/scim/v2/ServiceProviderConfig`, { method: 'DELETE' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('HEAD, GET');
    expect(await response.json()).toMatchObject({ status: '405' });
    expect(server.errors).toEqual([]);
  });
});

describe('discovery takes no filter (RFC 7644 §4)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it('answers a filtered discovery request with 403, and finds resource types ignoring case', async () => {
    for (const path of ['/scim/v2/Schemas', '/scim/v2/ResourceTypes', '/scim/v2/ServiceProviderConfig']) {
      for (const name of ['filter', 'Filter']) {
        const response = await fetch(`${server.url}${path}?${name}=${encodeURIComponent('id eq "User"')}`);
        expect(response.status).toBe(403);
        expect(await response.json()).toMatchObject({ status: '403' });
      }
    }
    const user = await fetch(`${server.url}/scim/v2/ResourceTypes/user`);
    expect(await user.json()).toMatchObject({ id: 'User' });
    expect((await fetch(`${server.url}/scim/v2/ResourceTypes/Widget`)).status).toBe(404);
  });
});

describe('discovery documents on both base paths (RFC 7643 §5–§7, RFC 7644 §4)', () => {
  let server: TestServer;
  let bases: string[];
  let token: string;
  beforeAll(async () => {
    server = await startTestServer();
    const tenant = await server.tenantWithToken('Discovery');
    token = tenant.token;
    bases = [`${server.url}/scim/v2`, `${server.url}/api/v1/tenants/${tenant.tenantId}/scim/v2`];
  });
  afterAll(() => server.stop());

  const get = async (url: string) => {
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const user = 'urn:ietf:params:scim:schemas:core:2.0:User';

  it('lists schemas and resource types as whole ListResponses, each with its meta under the base asked', async () => {
    for (const base of bases) {
      for (const [path, resourceType, ids] of [
        [
          'Schemas',
          'Schema',
          [
            user,
            'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
            'urn:ietf:params:scim:schemas:core:2.0:Group',
          ],
        ],
        ['ResourceTypes', 'ResourceType', ['User', 'Group']],
      ] as const) {
        const { status, body } = await get(`${base}/${path}`);
        expect(status).toBe(200);
        expect(body).toMatchObject({
          schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
          totalResults: ids.length,
          itemsPerPage: ids.length,
          startIndex: 1,
        });
        const resources = body.Resources as { id: string; meta: unknown }[];
        expect(resources.map((r) => r.id)).toEqual(ids);
        for (const r of resources) expect(r.meta).toEqual({ resourceType, location: `${base}/${path}/${r.id}` });
      }
      const config = await get(`${base}/ServiceProviderConfig`);
      expect(config.body.meta).toEqual({
        resourceType: 'ServiceProviderConfig',
        location: `${base}/ServiceProviderConfig`,
      });
    }
  });

  it('finds a schema by its URN in any case, answering with its own spelling; an unknown URN is a SCIM 404', async () => {
    for (const base of bases) {
      const found = await get(`${base}/Schemas/${user.toUpperCase()}`);
      expect(found.status).toBe(200);
      expect(found.body).toMatchObject({ id: user, meta: { location: `${base}/Schemas/${user}` } });
      const missing = await get(`${base}/Schemas/urn:ietf:params:scim:schemas:core:2.0:Widget`);
      expect(missing.status).toBe(404);
      expect(missing.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '404' });
    }
  });

  it('describes the enterprise extension of User as optional', async () => {
    const { body } = await get(`${bases[0]}/ResourceTypes/User`);
    expect(body.schemaExtensions).toEqual([
      { schema: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', required: false },
    ]);
  });
});
