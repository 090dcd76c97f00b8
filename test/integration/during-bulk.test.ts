import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './harness';

/**
 * What an admin does while an IdP's Bulk request runs. Each operation below hashes a password,
 * so the request takes seconds; the test acts once the first user exists and the request is
 * still far from its end.
 */
describe('changes an admin makes while a Bulk request runs', () => {
  let server: TestServer;
  let admin: string;
  beforeAll(async () => {
    server = await startTestServer();
    admin = await server.adminToken();
  });
  afterAll(() => server.stop());

  async function adminCall(method: string, path: string, body?: unknown) {
    const response = await fetch(`${server.url}/api/v1/admin${path}`, {
      method,
      headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    expect(response.status).toBeLessThan(300);
    return response.status === 204 ? {} : ((await response.json()) as Record<string, unknown>);
  }

  async function tenantWithToken(name: string) {
    const tenant = String((await adminCall('POST', '/tenants', { name })).id);
    const token = await adminCall('POST', '/scim-tokens', { tenant_id: tenant, name: 'okta' });
    return { tenant, tokenId: String(token.id), secret: String(token.token) };
  }

  /** Starts a Bulk of `count` user creations with passwords; resolves with each operation's status. */
  function bulkCreates(secret: string, count: number): Promise<string[]> {
    return fetch(`${server.url}/scim/v2/Bulk`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${secret}`, 'Content-Type': 'application/scim+json' },
      body: JSON.stringify({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
        Operations: Array.from({ length: count }, (_, i) => ({
          method: 'POST',
          path: '/Users',
          bulkId: `u${i}`,
          data: { userName: `bulk${i}@example.com`, password: `Pass-word-${i}!` },
        })),
      }),
    }).then(async (response) => {
      expect(response.status).toBe(200);
      return ((await response.json()) as { Operations: { status: string }[] }).Operations.map((op) => op.status);
    });
  }

  /** Resolves once the tenant holds at least one user (read through the console's tenant path). */
  async function firstUserIn(tenant: string): Promise<void> {
    for (let attempt = 0; attempt < 500; attempt++) {
      const response = await fetch(`${server.url}/api/v1/tenants/${tenant}/scim/v2/Users?count=0`, {
        headers: { Authorization: `Bearer ${admin}` },
      });
      const { totalResults } = (await response.json()) as { totalResults: number };
      if (totalResults > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('no user was created');
  }

  it('refuses the rest of the request with 401 once its token is revoked', async () => {
    const { tenant, tokenId, secret } = await tenantWithToken('Revoked mid-Bulk');
    const statuses = bulkCreates(secret, 60);
    await firstUserIn(tenant);
    await adminCall('DELETE', `/scim-tokens/${tokenId}`);
    const all = await statuses;
    expect(all[0]).toBe('201');
    expect(all.at(-1)).toBe('401');
    // Nothing but creations before the revocation and refusals after it.
    expect(all.join(',')).toMatch(/^(201,)+(401,)*401$/);
  });

  it('refuses the rest with 401, not 500, once the tenant is deleted (its tokens go with it)', async () => {
    const { tenant, secret } = await tenantWithToken('Deleted mid-Bulk');
    const statuses = bulkCreates(secret, 60);
    await firstUserIn(tenant);
    await adminCall('DELETE', `/tenants/${tenant}`);
    const all = await statuses;
    expect(all[0]).toBe('201');
    expect(all.at(-1)).toBe('401');
    // The operation under way when the tenant went too: its write found no tenant, and says why
    // as the others do (it was a 404 "not found").
    expect(all.join(',')).toMatch(/^(201,)+(401,)*401$/);
  });
});
