/** Signing an admin token out on the server: DELETE /api/v1/admin/session. */
import { writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startScimdesk } from '../../src-main/app';
import { SIGNOUTS_FILE } from '../../src-main/auth/admin-signouts';
import { RENDERER_DIR, startTestServer, tempDataDir, type TestServer } from './harness';

const SIGNED_OUT = 'The admin token was signed out. scimdesk admin-token prints a new one.';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function serverOn(dataDir: string): Promise<TestServer> {
  const server = await startTestServer({ dataDir });
  cleanup.push(() => server.stop());
  return server;
}

const admin = (server: TestServer, token: string, path = '/tenants', method = 'GET') =>
  fetch(`${server.url}/api/v1/admin${path}`, { method, headers: { Authorization: `Bearer ${token}` } });

describe('signing out an admin token', () => {
  it('ends that token for good, on the admin API and the SCIM paths, and no other', async () => {
    const data = await tempDataDir();
    cleanup.push(data.remove);
    let server = await serverOn(data.dir);
    const { tenantId, admin: signedOut } = await server.tenantWithToken('Signed out');
    const other = await server.adminToken();

    const signOut = await admin(server, signedOut, '/session', 'DELETE');
    expect(signOut.status).toBe(204);
    const refused = await admin(server, signedOut);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ code: 'unauthorized', detail: SIGNED_OUT });
    const scim = await fetch(`${server.url}/api/v1/tenants/${tenantId}/scim/v2/Users`, {
      headers: { Authorization: `Bearer ${signedOut}` },
    });
    expect(scim.status).toBe(401);
    expect(await scim.json()).toMatchObject({ detail: SIGNED_OUT });
    expect((await admin(server, other)).status).toBe(200);
    // Signing out again is refused like any use of it.
    expect((await admin(server, signedOut, '/session', 'DELETE')).status).toBe(401);

    // A restart does not sign it back in.
    await cleanup.pop()!();
    server = await serverOn(data.dir);
    expect((await admin(server, signedOut)).status).toBe(401);
    expect((await admin(server, other)).status).toBe(200);
  });

  it("ends the token's live log streams with an expired event saying it was signed out", async () => {
    const server = await serverOn((await tempDataDirFor()).dir);
    const token = await server.adminToken();
    const stream = await admin(server, token, '/request-logs/stream');
    expect(stream.status).toBe(200);
    const text = stream.text();
    expect((await admin(server, token, '/session', 'DELETE')).status).toBe(204);
    // The server ends the stream: text() resolves (the test's timeout is the bound).
    expect(await text).toContain(`event: expired\ndata: ${JSON.stringify({ detail: SIGNED_OUT })}\n\n`);
  });

  it('does not run a write whose body was still arriving when its token was signed out', async () => {
    const server = await serverOn((await tempDataDirFor()).dir);
    const { tenantId } = await server.tenantWithToken('Slow body');
    const token = await server.adminToken();
    const body = JSON.stringify({ tenant_id: tenantId, name: 'minted late' });
    const url = new URL(`${server.url}/api/v1/admin/scim-tokens`);
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = httpRequest(
        url,
        {
          method: 'POST',
          headers: {
            Authorization: `Bearer ${token}`,
            'Content-Type': 'application/json',
            'Content-Length': Buffer.byteLength(body),
          },
        },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
        },
      );
      request.on('error', reject);
      // The headers and a first part of the body now; the rest once the token is signed out.
      request.write(body.slice(0, 5));
      cleanup.push(async () => void request.destroy());
      void (async () => {
        // The gate has let it through once the server waits for its body: give it that moment.
        await new Promise((wait) => setTimeout(wait, 300));
        expect((await admin(server, token, '/session', 'DELETE')).status).toBe(204);
        request.end(body.slice(5));
      })().catch(reject);
    });
    const refused = await answer;
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body)).toMatchObject({
      code: 'unauthorized',
      detail: expect.stringContaining('signed out while this request was being sent; nothing was changed'),
    });
    const other = await server.adminToken();
    const tokens = (await (await admin(server, other, `/scim-tokens?tenant_id=${tenantId}`)).json()) as {
      items: { name: string }[];
    };
    expect(tokens.items.map(({ name }) => name)).not.toContain('minted late');
  });

  it('refuses to start on a damaged sign-out list, saying what deleting it does', async () => {
    const data = await tempDataDirFor();
    await writeFile(join(data.dir, SIGNOUTS_FILE), '{"version":1,"signed_out":[{"jti":');
    const start = startScimdesk({
      host: '127.0.0.1',
      port: 0,
      dataDir: data.dir,
      rendererDir: RENDERER_DIR,
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    await expect(start).rejects.toThrow(
      `${join(data.dir, SIGNOUTS_FILE)} is damaged. Delete it to start: the admin tokens it signed out work again until they expire`,
    );
    // The store's lock was released: the folder can be used once the file is dealt with.
    await writeFile(join(data.dir, SIGNOUTS_FILE), '{"version":1,"signed_out":[]}');
    await serverOn(data.dir);
  });
});

async function tempDataDirFor() {
  const data = await tempDataDir();
  cleanup.push(data.remove);
  return data;
}
