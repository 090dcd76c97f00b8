import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './harness';
import { missingForGallery } from '../../src-main/check/profiles/entra-gallery';
import { DEFAULT_SERVER_CAPABILITIES } from '../../src-main/scim/service-provider-config';

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

describe('what ServiceProviderConfig advertises is what the server does (RFC 7643 §5)', () => {
  let server: TestServer;
  let scim: (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<Response>;
  let config: {
    patch: { supported: boolean };
    bulk: { supported: boolean; maxOperations: number; maxPayloadSize: number };
    filter: { supported: boolean; maxResults: number };
    changePassword: { supported: boolean };
    sort: { supported: boolean };
    etag: { supported: boolean };
  };
  beforeAll(async () => {
    server = await startTestServer();
    const { token } = await server.tenantWithToken('Advertised');
    scim = (method, path, body, headers = {}) =>
      fetch(`${server.url}/scim/v2${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json', ...headers },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
    config = (await (await scim('GET', '/ServiceProviderConfig')).json()) as typeof config;
  });
  afterAll(() => server.stop());

  const bulkOf = (operations: unknown[]) => ({
    schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
    Operations: operations,
  });

  it('caps a page at filter.maxResults', async () => {
    expect(config.filter.supported).toBe(true);
    const { maxResults } = config.filter;
    const creates = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({
        method: 'POST',
        path: '/Users',
        bulkId: `u${from + i}`,
        data: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `cap${from + i}@example.com` },
      }));
    for (let from = 0; from <= maxResults; from += config.bulk.maxOperations) {
      const n = Math.min(config.bulk.maxOperations, maxResults + 1 - from);
      expect((await scim('POST', '/Bulk', bulkOf(creates(from, n)))).status).toBe(200);
    }
    const page = (await (await scim('GET', `/Users?count=${maxResults + 1}`)).json()) as Record<string, unknown>;
    expect(page).toMatchObject({ totalResults: maxResults + 1, itemsPerPage: maxResults });
  });

  it('takes bulk.maxOperations operations and refuses one more; refuses a body over bulk.maxPayloadSize', async () => {
    expect(config.bulk.supported).toBe(true);
    const gets = (n: number) => Array.from({ length: n }, () => ({ method: 'GET', path: '/Users/nosuch' }));
    expect((await scim('POST', '/Bulk', bulkOf(gets(config.bulk.maxOperations)))).status).toBe(200);
    const over = await scim('POST', '/Bulk', bulkOf(gets(config.bulk.maxOperations + 1)));
    expect(over.status).toBe(413);
    const padded = JSON.stringify(bulkOf(gets(1))).replace('{', `{"pad":"${'x'.repeat(config.bulk.maxPayloadSize)}",`);
    expect((await scim('POST', '/Bulk', padded)).status).toBe(413);
  });

  it('patches, changes a password, sorts and answers ETags', async () => {
    expect(config).toMatchObject({
      patch: { supported: true },
      changePassword: { supported: true },
      sort: { supported: true },
      etag: { supported: true },
    });
    const created = await scim('POST', '/Users', { userName: 'zed@example.com', password: 'First-pw-1!' });
    const { id } = (await created.json()) as { id: string };
    const patch = (operations: unknown[]) =>
      scim('PATCH', `/Users/${id}`, {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: operations,
      });
    expect((await patch([{ op: 'replace', path: 'title', value: 'Boss' }])).status).toBe(200);
    const changed = await patch([{ op: 'replace', path: 'password', value: 'Second-pw-2!' }]);
    expect(changed.status).toBe(200);
    expect(await changed.json()).not.toHaveProperty('password');
    await scim('POST', '/Users', { userName: 'amy@example.com' });
    const sorted = (await (
      await scim(
        'GET',
        `/Users?sortBy=userName&sortOrder=descending&filter=${encodeURIComponent('userName ew "y@example.com" or userName eq "zed@example.com"')}`,
      )
    ).json()) as { Resources: { userName: string }[] };
    expect(sorted.Resources.map((r) => r.userName)).toEqual(['zed@example.com', 'amy@example.com']);
    const got = await scim('GET', `/Users/${id}`);
    const etag = got.headers.get('etag');
    expect(etag).toMatch(/^W\/"/);
    expect((await scim('GET', `/Users/${id}`, undefined, { 'if-none-match': etag! })).status).toBe(304);
  });
});

describe('a server given other limits advertises and enforces those', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      capabilities: {
        ...DEFAULT_SERVER_CAPABILITIES,
        filter: { supported: true, maxResults: 3 },
        bulk: { supported: true, maxOperations: 2, maxPayloadSize: 4096 },
      },
    });
  });
  afterAll(() => server.stop());

  it('caps pages and Bulk requests at what ServiceProviderConfig says', async () => {
    const { token } = await server.tenantWithToken('Small');
    const scim = (method: string, path: string, body?: unknown) =>
      fetch(`${server.url}/scim/v2${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const config = (await (await scim('GET', '/ServiceProviderConfig')).json()) as Record<string, unknown>;
    expect(config).toMatchObject({
      filter: { maxResults: 3 },
      bulk: { supported: true, maxOperations: 2, maxPayloadSize: 4096 },
    });
    for (const name of ['a', 'b', 'c', 'd']) {
      expect((await scim('POST', '/Users', { userName: `${name}@example.com` })).status).toBe(201);
    }
    for (const path of ['/Users', '/Users?count=10', '/?count=10']) {
      expect(await (await scim('GET', path)).json()).toMatchObject({ totalResults: 4, itemsPerPage: 3 });
    }
    const gets = (n: number) => ({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: Array.from({ length: n }, () => ({ method: 'GET', path: '/Users/nosuch' })),
    });
    expect((await scim('POST', '/Bulk', gets(2))).status).toBe(200);
    expect((await scim('POST', '/Bulk', gets(3))).status).toBe(413);
  });
});

describe("Microsoft's Entra gallery validator reading /Schemas (Schema_Discoverability_Test)", () => {
  let server: TestServer;
  let token = '';
  let tenantId = '';
  beforeAll(async () => {
    server = await startTestServer();
    ({ token, tenantId } = await server.tenantWithToken('Gallery'));
  });
  afterAll(() => server.stop());

  it.each([
    ['token-scoped /scim/v2', () => `${server.url}/scim/v2`],
    ['tenant path', () => `${server.url}/api/v1/tenants/${tenantId}/scim/v2`],
  ])('finds every attribute Entra maps, externalId included, on the %s', async (_name, baseOf) => {
    const response = await fetch(`${baseOf()}/Schemas`, {
      headers: { Authorization: `Bearer ${token}`, Accept: 'application/scim+json' },
    });
    expect(response.status).toBe(200);
    expect(missingForGallery(await response.json())).toEqual({ user: [], group: [] });
  });
});
