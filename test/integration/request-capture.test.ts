import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestLogEntry } from '@shared/request-log';
import { startTestServer, type TestServer } from './harness';

/**
 * What the request log shows of a request, read back through the admin API as a user does: the
 * entry must say who sent it, what the client was told, and what it sent, whatever went wrong.
 */
describe('the request log entry of each kind of request', () => {
  let server: TestServer;
  let admin: string;
  let alpha: { tenantId: string; token: string };
  let beta: { tenantId: string; token: string };
  beforeAll(async () => {
    server = await startTestServer();
    admin = await server.adminToken();
    alpha = await server.tenantWithToken('Alpha', admin);
    beta = await server.tenantWithToken('Beta', admin);
  });
  afterAll(() => server.stop());

  const tenantPath = (tenantId: string) => `/api/v1/tenants/${tenantId}/scim/v2`;

  async function adminJson(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    const response = await fetch(`${server.url}/api/v1/admin${path}`, {
      method,
      headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return response.status === 204 ? {} : ((await response.json()) as Record<string, unknown>);
  }

  /** Sends one request and answers its log entry, found by the request id no other entry has. */
  async function sendAndRead(
    method: string,
    path: string,
    options: { token?: string; headers?: Record<string, string>; body?: string } = {},
  ): Promise<{ status: number; answer: string; entry: RequestLogEntry }> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.Authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['Content-Type'] ??= 'application/scim+json';
    const response = await fetch(`${server.url}${path}`, { method, headers, body: options.body });
    const answer = await response.text();
    return { status: response.status, answer, entry: await lastEntryFor(path) };
  }

  /** The newest entry of a path (the admin API's own reads of the log are entries too). */
  async function lastEntryFor(path: string): Promise<RequestLogEntry> {
    const bare = path.split('?')[0]!;
    const list = await adminJson('GET', `/request-logs?per_page=1&path=${encodeURIComponent(bare)}`);
    const [row] = list.items as { id: string }[];
    return (await adminJson('GET', `/request-logs/${row!.id}`)) as unknown as RequestLogEntry;
  }

  it("files a refused SCIM request under its token's tenant and token, and one the authentication never saw", async () => {
    const extra = String(
      (await adminJson('POST', '/scim-tokens', { tenant_id: alpha.tenantId, name: 'revoked' })).token,
    );
    const tokens = (await adminJson('GET', `/scim-tokens?tenant_id=${alpha.tenantId}`)).items as {
      id: string;
      name: string;
    }[];
    const revokedId = tokens.find((t) => t.name === 'revoked')!.id;
    await adminJson('DELETE', `/scim-tokens/${revokedId}`);
    const alphaTokenId = tokens.find((t) => t.name === 'Alpha token')!.id;

    const revoked = await sendAndRead('GET', '/scim/v2/Users?count=1', { token: extra });
    expect(revoked.status).toBe(401);
    expect(revoked.entry).toMatchObject({
      tenant_id: alpha.tenantId,
      token: { id: revokedId, name: 'revoked' },
      source: 'idp',
      error: { message: expect.stringContaining('revoked') },
    });

    // Alpha's IdP pointed at Beta's base URL, or at a tenant that does not exist.
    for (const target of [beta.tenantId, 'tn_nope']) {
      const wrong = await sendAndRead('GET', `${tenantPath(target)}/Users`, { token: alpha.token });
      expect(wrong.status).toBe(404);
      expect(wrong.entry).toMatchObject({
        tenant_id: alpha.tenantId,
        token: { id: alphaTokenId, name: 'Alpha token' },
      });
    }

    // Routes answered before the authentication runs: discovery, a wrong path, a method refused.
    for (const [method, path, status] of [
      ['GET', '/scim/v2/ServiceProviderConfig', 200],
      ['GET', '/scim/v2/scim/v2/Users', 404],
      ['DELETE', '/scim/v2/Groups', 405],
    ] as const) {
      const seen = await sendAndRead(method, path, { token: alpha.token });
      expect(seen.status).toBe(status);
      expect(seen.entry).toMatchObject({ tenant_id: alpha.tenantId, token: { name: 'Alpha token' }, source: 'idp' });
    }
    expect((await adminJson('GET', `/request-logs?token_id=${revokedId}`)).total).toBe(1);

    // The admin token is the console's, also where it is refused.
    const console = await sendAndRead('GET', '/scim/v2/Users', { token: admin });
    expect(console.status).toBe(403);
    expect(console.entry).toMatchObject({ source: 'console', tenant_id: null, token: null });
    const anonymous = await sendAndRead('GET', '/scim/v2/Schemas');
    expect(anonymous.entry).toMatchObject({ source: 'idp', tenant_id: null, token: null });
  });
});
