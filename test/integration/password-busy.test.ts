/**
 * A password write is refused with 503 when the hasher is busy, so that the IdP retries it; a Bulk
 * request's operations wait their turn instead, since one refused operation failed every other
 * that referred to it. The hasher here takes no hash from a single request at all (maxQueued 0).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './harness';

describe('password writes on a busy hasher', () => {
  let server: TestServer;
  let token: string;
  beforeAll(async () => {
    server = await startTestServer({
      hasher: { workers: 1, maxQueued: 0, params: { N: 2 ** 10, r: 8, p: 1, keyLength: 32 } },
    });
    ({ token } = await server.tenantWithToken('Busy hasher'));
  });
  afterAll(() => server.stop());

  const post = (path: string, body: unknown) =>
    fetch(`${server.url}/scim/v2${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' },
      body: JSON.stringify(body),
    });

  it('refuses a single create with 503 and Retry-After, and runs a Bulk of them in turn', async () => {
    const single = await post('/Users', { userName: 'alone@example.com', password: 'Alone-pw-1' });
    expect(single.status).toBe(503);
    expect(single.headers.get('retry-after')).toMatch(/^\d+$/);

    const bulk = await post('/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'ceo', data: { userName: 'ceo@example.com', password: 'Ceo-pw-1' } },
        {
          method: 'POST',
          path: '/Users',
          bulkId: 'vp',
          data: {
            userName: 'vp@example.com',
            password: 'Vp-pw-1',
            'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { manager: { value: 'bulkId:ceo' } },
          },
        },
      ],
    });
    expect(bulk.status).toBe(200);
    const { Operations } = (await bulk.json()) as { Operations: { status: string }[] };
    expect(Operations.map((operation) => operation.status)).toEqual(['201', '201']);
  });
});
