/**
 * DESIGN.md §4: no token secret, password or request credential is ever stored in clear. A realistic
 * session through the real server (every way a password or a credential can arrive), then every
 * byte in the data folder is searched for each secret used.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { startTestServer, tempDataDir } from './harness';

async function everyFile(dir: string): Promise<Buffer[]> {
  const names = await readdir(dir, { recursive: true, withFileTypes: true });
  return Promise.all(names.filter((e) => e.isFile()).map((e) => readFile(join(e.parentPath, e.name))));
}

describe('secrets on disk', () => {
  it('finds no password, SCIM token, admin token or login code anywhere in the data folder', async () => {
    const data = await tempDataDir();
    const server = await startTestServer({ dataDir: data.dir });
    const secrets: string[] = [];
    try {
      const loginCode = new URL(server.app.consoleLoginUrl()).hash.replace('#code=', '');
      const session = (await (
        await fetch(`${server.url}/api/v1/admin/session`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ code: loginCode }),
        })
      ).json()) as { token: string };
      const admin = session.token;
      secrets.push(loginCode, admin);
      const adminCall = async (method: string, path: string, body: unknown) =>
        (await (
          await fetch(`${server.url}/api/v1/admin${path}`, {
            method,
            headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' },
            body: JSON.stringify(body),
          })
        ).json()) as Record<string, string>;
      const tenant = (await adminCall('POST', '/tenants', { name: 'Secretive' })).id!;
      const token = (await adminCall('POST', '/scim-tokens', { tenant_id: tenant, name: 'idp' })).token!;
      secrets.push(token);

      const passwords = ['Pw-post-7f3a', 'Pw-put-91c2', 'Pw-patch-path-55d0', 'Pw-patch-value-e1b9', 'Pw-bulk-0c4d'];
      secrets.push(...passwords);
      const scim = async (method: string, path: string, body: unknown, auth = token) =>
        (await (
          await fetch(`${server.url}/scim/v2${path}`, {
            method,
            headers: { Authorization: `Bearer ${auth}`, 'Content-Type': 'application/scim+json' },
            body: JSON.stringify(body),
          })
        ).json()) as Record<string, unknown>;
      const user = await scim('POST', '/Users', { userName: 'keeper@example.com', password: passwords[0] });
      const id = String(user.id);
      await scim('PUT', `/Users/${id}`, { userName: 'keeper@example.com', password: passwords[1] });
      const patch = (operation: object) =>
        scim('PATCH', `/Users/${id}`, {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
          Operations: [operation],
        });
      await patch({ op: 'replace', path: 'password', value: passwords[2] });
      await patch({ op: 'replace', value: { password: passwords[3] } });
      await scim('POST', '/Bulk', {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
        Operations: [
          {
            method: 'POST',
            path: '/Users',
            bulkId: 'b',
            data: { userName: 'bulk@example.com', password: passwords[4] },
          },
        ],
      });
      // Credentials that fail are logged too, and must be redacted as well.
      const wrong = `scimdesk_${'Q'.repeat(43)}`;
      secrets.push(wrong);
      await fetch(`${server.url}/scim/v2/Users`, { headers: { Authorization: `Bearer ${wrong}` } });
      await fetch(`${server.url}/scim/v2/Users?access_token=${token}`, {
        headers: { Authorization: `Bearer ${token}` },
      });
    } finally {
      await server.stop(); // flushes the request log, the history and the store
    }
    const files = await everyFile(data.dir);
    expect(files.length).toBeGreaterThan(3);
    // The search itself works: what is not secret is there to be found.
    expect(files.some((file) => file.includes(Buffer.from('keeper@example.com')))).toBe(true);
    for (const secret of secrets) {
      const needle = Buffer.from(secret);
      const found = files.some((file) => file.includes(needle));
      expect(found, `a secret (${secret.slice(0, 12)}…) is on disk`).toBe(false);
    }
    await data.remove();
  });

  it('keeps nothing of a deleted tenant in the data folder, its journaled writes included', async () => {
    const data = await tempDataDir();
    const server = await startTestServer({ dataDir: data.dir });
    try {
      const admin = await server.adminToken();
      const { tenantId, token } = await server.tenantWithToken('Leaving', admin);
      const name = 'leaving-tenant-person-7d1e@example.com';
      const created = await fetch(`${server.url}/scim/v2/Users`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' },
        body: JSON.stringify({ userName: name }),
      });
      expect(created.status).toBe(201);
      const holds = async () => (await everyFile(data.dir)).some((file) => file.includes(Buffer.from(name)));
      expect(await holds()).toBe(true);
      const deleted = await fetch(`${server.url}/api/v1/admin/tenants/${tenantId}`, {
        method: 'DELETE',
        headers: { Authorization: `Bearer ${admin}` },
      });
      expect(deleted.status).toBe(204);
      // While the server runs, not only after a stop's snapshot.
      await vi.waitFor(async () => expect(await holds()).toBe(false), { timeout: 10_000, interval: 100 });
    } finally {
      await server.stop();
    }
    await data.remove();
  });
});
