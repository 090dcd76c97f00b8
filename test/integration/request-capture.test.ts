import type * as Http from 'node:http';
import type { RequestListener, Server, ServerOptions } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RequestLogEntry } from '@shared/request-log';
import { startTestServer, type TestServer } from './harness';

const servers = vi.hoisted(() => [] as Server[]);
// Node looks for timed-out requests every 30 s; a test cannot wait for that.
vi.mock('node:http', async (importOriginal) => {
  const http = await importOriginal<typeof Http>();
  const createServer = (options: ServerOptions, handler: RequestListener) => {
    const server = http.createServer({ ...options, connectionsCheckingInterval: 200 }, handler);
    servers.push(server);
    return server;
  };
  return { ...http, default: { ...http, createServer }, createServer };
});

/** Writes raw bytes on a new connection, optionally cuts it (closed or reset) after a while; answers what came back. */
function rawExchange(url: string, request: string, cutAfterMs?: number, reset = false): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('utf8')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(received));
    socket.write(request);
    if (cutAfterMs !== undefined) setTimeout(() => (reset ? socket.resetAndDestroy() : socket.destroy()), cutAfterMs);
  });
}

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

  it('keeps no SCIM or admin token in clear where a misconfigured client put it: path, query, any header', async () => {
    const requests: [string, Record<string, string>][] = [
      [`/scim/v2/${alpha.token}/Users`, {}],
      [`/scim/v2/Users?${alpha.token}`, {}],
      [`/scim/v2/Users?authorization=Bearer%20${alpha.token}`, {}],
      [`/scim/v2/Users?x=Bearer+${admin}`, {}],
      ['/scim/v2/Groups', { Authentication: `Bearer ${alpha.token}`, 'X-Foo': admin }],
      // Where the tenant's id goes, with a wrong credential: the log reads the tenant from the path.
      [`/api/v1/tenants/${alpha.token}/scim/v2/Users`, { Authorization: 'Bearer wrong' }],
    ];
    for (const [path, headers] of requests) {
      const response = await fetch(`${server.url}${path}`, { headers });
      expect(response.status, path).toBeGreaterThanOrEqual(400);
      const entry = await lastEntryFor(path.replace(alpha.token, '[redacted]'));
      expect(entry.status, path).toBe(response.status);
      expect(JSON.stringify(entry), path).not.toContain(alpha.token);
      expect(JSON.stringify(entry), path).not.toContain(admin);
    }
  });

  it("files a request under its token's tenant even when a password it carries is the tenant's id", async () => {
    const body = JSON.stringify({ userName: 'same-as-tenant@x.org', password: beta.tenantId });
    const { status, entry } = await sendAndRead('POST', '/scim/v2/Users', { token: beta.token, body });
    expect(status).toBe(201);
    expect(entry.tenant_id).toBe(beta.tenantId);
    expect(JSON.stringify(entry.request.body)).toContain('same-as-tenant@x.org');
    expect(JSON.stringify(entry.request.body)).not.toContain(`"password":"${beta.tenantId}"`);
    const listed = await adminJson('GET', `/request-logs?tenant_id=${beta.tenantId}&path=%2Fscim%2Fv2%2FUsers`);
    expect((listed.items as { id: string }[]).map((item) => item.id)).toContain(entry.id);
  });

  it('files a refused request under the tenant its path names, an escaped character read as itself', async () => {
    const path = `/%61pi/v1/tenants/${alpha.tenantId}/scim/v2/Users`;
    const response = await fetch(`${server.url}${path}`, { headers: { Authorization: 'Bearer wrong' } });
    expect(response.status).toBe(401);
    expect((await lastEntryFor(path)).tenant_id).toBe(alpha.tenantId);
  });

  it('files an IdP pointed at a mistyped base URL under its tenant, and tells it where SCIM is', async () => {
    for (const path of ['/scim/Users', '/SCIM/v2/Users', '/v2/Users']) {
      const { status, answer, entry } = await sendAndRead('GET', path, { token: alpha.token });
      expect(status, path).toBe(404);
      expect(answer, path).toMatch(/is neither a SCIM nor an admin API path\. SCIM is at \/scim\/v2/);
      expect(entry, path).toMatchObject({ path, status: 404, tenant_id: alpha.tenantId, source: 'idp' });
      expect(entry.token?.name, path).toBe('Alpha token');
      // The answer is text: its words are the entry's error, not a bare "error".
      expect(entry.error?.message, path).toMatch(/is neither a SCIM nor an admin API path/);
    }
    // A write without a token is API traffic too; a browser's read of a console file is not logged.
    const posted = await sendAndRead('POST', '/Users', { body: '{"userName":"x"}' });
    expect(posted.entry).toMatchObject({ path: '/Users', method: 'POST', status: 404, tenant_id: null });
    await fetch(`${server.url}/no-such-console-file.js`);
    const files = await adminJson('GET', `/request-logs?path=${encodeURIComponent('/no-such-console-file.js')}`);
    expect(files.total).toBe(0);
    // The console itself is served whatever credentials come with it (a proxy's Basic ones, a
    // bearer token), and its files are not logged.
    for (const authorization of ['Basic dXNlcjpwYXNz', `Bearer ${alpha.token}`]) {
      const page = await fetch(`${server.url}/`, { headers: { Authorization: authorization } });
      expect(page.status, authorization).toBe(200);
      expect(await page.text()).toMatch(/<!doctype html>/i);
    }
    const root = (await adminJson('GET', '/request-logs?per_page=100')).items as { path: string }[];
    expect(root.filter((entry) => entry.path === '/')).toEqual([]);
  });

  it('logs a repeated header with each of its values, and UTF-8 values, as sent', async () => {
    const path = '/scim/v2/Users?repeated=headers';
    const answer = await rawExchange(
      server.url,
      `GET ${path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${alpha.token}\r\n` +
        `Authorization: Bearer ${beta.token}\r\nAccept: application/scim+json\r\nAccept: text/html\r\n` +
        'X-Requested-For: José Müller\r\nConnection: close\r\n\r\n',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 401/);
    const entry = await lastEntryFor(path);
    expect(entry.status).toBe(401);
    expect(entry.request.headers.authorization).toEqual(['Bearer [redacted]', 'Bearer [redacted]']);
    expect(entry.request.headers.accept).toEqual(['application/scim+json', 'text/html']);
    // Sent as UTF-8, shown as sent (Node reads header bytes as Latin-1: "JosÃ©").
    expect(entry.request.headers['x-requested-for']).toBe('José Müller');
    expect(JSON.stringify(entry)).not.toContain(beta.token);
  });

  it('says what is wrong with a malformed Authorization header without echoing it, and files it under the token’s tenant', async () => {
    const cases: [string, RegExp, boolean][] = [
      [`Bearer Bearer ${alpha.token}`, /says "Bearer" twice/, true],
      [alpha.token, /no scheme before it/, true],
      [`Basic ${Buffer.from(`u:${alpha.token}`).toString('base64')}`, /not Basic credentials/, false],
      // Okta's own API scheme, pasted where a SCIM app's header is set up.
      [`SSWS ${alpha.token}`, /not SSWS credentials/, true],
      ['Bearer', /no token after it/, false],
      [`Bearer ${alpha.token} extra`, /more than one word/, false],
    ];
    for (const [authorization, detail, attributed] of cases) {
      const refused = await sendAndRead('GET', '/scim/v2/Users?count=1', { headers: { Authorization: authorization } });
      expect(refused.status).toBe(401);
      const body = JSON.parse(refused.answer) as { detail: string };
      expect(body.detail).toMatch(detail);
      expect(body.detail).not.toContain(alpha.token);
      expect(refused.entry.error?.message).toContain('credential refused: malformed');
      expect(refused.entry.tenant_id).toBe(attributed ? alpha.tenantId : null);
    }
    const admin = await fetch(`${server.url}/api/v1/admin/tenants`, { headers: { Authorization: `Bearer Bearer x` } });
    expect(await admin.json()).toMatchObject({ detail: expect.stringContaining('says "Bearer" twice') });
  });

  it('says a pipelined answer was never sent when its client hung up while it waited behind another', async () => {
    // A user of ~900 KB: thirty answers of it are more than a connection's buffers hold.
    const emails = Array.from({ length: 9 }, (_, i) => ({ value: `${'x'.repeat(100_000)}${i}@example.com` }));
    const made = await fetch(`${server.url}/scim/v2/Users`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${alpha.token}`, 'Content-Type': 'application/scim+json' },
      body: JSON.stringify({ userName: 'pipelined@example.com', emails }),
    });
    const { id } = (await made.json()) as { id: string };
    const { hostname, port } = new URL(server.url);
    const socket = connect(Number(port), hostname);
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
    // Not read: the answers back up behind the first, which the client never takes.
    socket.pause();
    const asked = 30;
    let requests = '';
    for (let i = 0; i < asked; i++) {
      requests += `GET /scim/v2/Users/${id}?pipelined=${i} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${alpha.token}\r\n\r\n`;
    }
    socket.write(requests);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    socket.destroy();
    const entries = async () =>
      (
        (await adminJson('GET', `/request-logs?per_page=100&path=${encodeURIComponent(`/scim/v2/Users/${id}`)}`))
          .items as {
          id: string;
          status: number;
          query: string;
        }[]
      ).filter((item) => item.query.startsWith('pipelined='));
    await expect.poll(async () => (await entries()).length).toBe(asked);
    const unsent = (await entries()).filter((item) => item.status === 499);
    // Most of them: the first answers fill the connection's buffers, and the rest wait.
    expect(unsent.length).toBeGreaterThan(asked / 2);
    const one = (await adminJson('GET', `/request-logs/${unsent[0]!.id}`)) as unknown as RequestLogEntry;
    expect(one.error?.message).toBe('The client closed the connection before the answer (200) was sent.');
  });

  it('files under its tenant a token sent in quotes, or in a header a proxy repeated as it was, and refuses both', async () => {
    const quoted = await sendAndRead('GET', '/scim/v2/Users?count=1&quoted', {
      headers: { Authorization: `Bearer "${alpha.token}"` },
    });
    expect(quoted.status).toBe(401);
    expect(JSON.parse(quoted.answer)).toMatchObject({
      detail: 'The bearer token is in quotes: send it without them ("Authorization: Bearer <token>").',
    });
    expect(quoted.entry.tenant_id).toBe(alpha.tenantId);

    const path = '/scim/v2/Users?same=twice';
    const twice = `Authorization: Bearer ${alpha.token}\r\n`;
    const answer = await rawExchange(
      server.url,
      `GET ${path} HTTP/1.1\r\nHost: localhost\r\n${twice}${twice}Connection: close\r\n\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 401/);
    expect(answer).toContain('more than one Authorization header');
    const entry = await lastEntryFor(path);
    expect(entry.tenant_id).toBe(alpha.tenantId);
    expect(JSON.stringify(entry)).not.toContain(alpha.token);
  });

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

  it('keeps the body an IdP sent with a refused credential, and the size of one sent with none', async () => {
    const body = JSON.stringify({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'refused-body@example.com',
      password: 'Refused-Passw0rd!',
    });
    const wrong = await sendAndRead('POST', '/scim/v2/Users', { token: `scimdesk_${'x'.repeat(43)}`, body });
    expect(wrong.status).toBe(401);
    expect(wrong.entry.request).toMatchObject({
      body: { userName: 'refused-body@example.com', password: '[redacted]' },
      bytes: body.length,
    });
    const basic = await sendAndRead('POST', `${tenantPath(alpha.tenantId)}/Users`, {
      headers: { Authorization: 'Basic dXNlcjpwYXNz' },
      body,
    });
    expect(basic.status).toBe(401);
    expect(basic.entry.request).toMatchObject({ body: { userName: 'refused-body@example.com' }, bytes: body.length });
    const none = await sendAndRead('POST', '/scim/v2/Users', { body });
    expect(none.status).toBe(401);
    expect(none.entry.request).toMatchObject({ body: null, bytes: body.length });
  });

  it('gives an admin 422 the fields and reasons the client was told, not "validation failed"', async () => {
    const { status, answer, entry } = await sendAndRead('POST', '/api/v1/admin/tenants', {
      token: admin,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 5, delete_mode: 'shred' }),
    });
    expect(status).toBe(422);
    const told = (JSON.parse(answer) as { detail: { loc: string[]; msg: string }[] }).detail;
    expect(told.length).toBe(2);
    expect(entry.error).toEqual({ message: told.map((d) => `${d.loc.join('.')}: ${d.msg}`).join('; ') });
    expect(entry.error?.message).toMatch(/^body\.name: .+; body\.delete_mode: /);
  });

  it('keeps the body of a request refused for its media type, redacted, on both base paths', async () => {
    for (const base of ['/scim/v2', tenantPath(alpha.tenantId)]) {
      const path = `${base}/Users`;
      const plain = await sendAndRead('POST', path, {
        token: alpha.token,
        headers: { 'Content-Type': 'text/plain' },
        body: '{"userName":"plain@example.com","password":"Plain-secret-1"}',
      });
      expect(plain.status).toBe(400);
      expect(plain.entry).toMatchObject({
        error: { code: 'invalidSyntax', message: expect.stringContaining('(got text/plain)') },
        request: { body: { userName: 'plain@example.com', password: '[redacted]' }, truncated: false },
      });
      const form = await sendAndRead('POST', path, {
        token: alpha.token,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'userName=form%40example.com&password=Form-secret-1',
      });
      expect(form.entry.request.body).toBe('userName=form%40example.com&password=[redacted]');
      expect(JSON.stringify([plain.entry, form.entry])).not.toMatch(/Plain-secret-1|Form-secret-1/);
    }
  });

  it('keeps no refused body whose secrets the redaction cannot find (XML, multipart)', async () => {
    const path = `${tenantPath(alpha.tenantId)}/Users`;
    const boundary = 'scimdesk-boundary';
    for (const [type, body] of [
      ['application/xml', '<User><userName>xml@example.com</userName><password>Xml-secret-1</password></User>'],
      ['text/plain', '<User><userName>xml@example.com</userName><password>Xml-secret-1</password></User>'],
      [
        `multipart/form-data; boundary=${boundary}`,
        `--${boundary}\r\nContent-Disposition: form-data; name="password"\r\n\r\nXml-secret-1\r\n--${boundary}--\r\n`,
      ],
    ] as const) {
      const refused = await sendAndRead('POST', path, { token: alpha.token, headers: { 'Content-Type': type }, body });
      expect([type, refused.status]).toEqual([type, 400]);
      expect(refused.entry, type).toMatchObject({ status: 400, error: { code: 'invalidSyntax' } });
      expect(JSON.stringify(refused.entry), type).not.toContain('Xml-secret-1');
      // Not kept, but its size is.
      expect(refused.entry.request, type).toMatchObject({ body: null, bytes: Buffer.byteLength(body) });
    }
  });

  /** Creates a user on alpha's tenant path from raw bytes; answers the status and the log entry. */
  async function postBytes(bytes: Buffer, contentType: string): Promise<{ status: number; entry: RequestLogEntry }> {
    const path = `${tenantPath(alpha.tenantId)}/Users`;
    const sent = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${alpha.token}`, 'Content-Type': contentType },
      body: bytes,
    });
    return { status: sent.status, entry: await lastEntryFor(path) };
  }

  it('shows the bytes of a body that is not UTF-8 as \\xNN, with the size that came', async () => {
    const latin1 = Buffer.from('{"userName":"Jos\xe9","password":"Latin-secret-1"}', 'latin1');
    const { status, entry } = await postBytes(latin1, 'application/scim+json');
    expect(status).toBe(400);
    expect(entry.request.bytes).toBe(latin1.length);
    expect(entry.request.body).toBe('{"userName":"Jos\\xE9","password":"[redacted]"}');
    expect(JSON.stringify(entry)).not.toContain('\uFFFD');
  });

  it('logs a UTF-16 body it refused decoded, so its password is found and redacted', async () => {
    const utf16 = Buffer.from('{"userName":"wide@example.com","password":"Wide-secret-16"}', 'utf16le');
    const { status, entry } = await postBytes(utf16, 'application/scim+json; charset=utf-16le');
    expect(status).toBe(400);
    expect(entry.request.bytes).toBe(utf16.length);
    expect(entry.request.body).toEqual({ userName: 'wide@example.com', password: '[redacted]' });
    expect(JSON.stringify(entry)).not.toMatch(/W\\u0000i\\u0000d\\u0000e|Wide-secret/);
  });

  it('keeps a body refused for having no Content-Type where the tenant does not allow that', async () => {
    const strict = await server.tenantWithToken('Strict bodies capture', admin);
    await adminJson('PATCH', `/tenants/${strict.tenantId}`, { compat_profile: 'entra' });
    const path = `${tenantPath(strict.tenantId)}/Users`;
    const body = new TextEncoder().encode('{"userName":"untyped@example.com","password":"Untyped-secret-1"}');
    // A Uint8Array body: fetch sends it without a Content-Type.
    const sent = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${strict.token}` },
      body,
    });
    expect(sent.status).toBe(400);
    const entry = await lastEntryFor(path);
    expect(entry.flags).toContain('contentTypeOptional');
    expect(entry.request).toMatchObject({
      body: { userName: 'untyped@example.com', password: '[redacted]' },
      bytes: body.length,
    });
  });

  it('keeps the size of a compressed body it refused', async () => {
    const path = `${tenantPath(alpha.tenantId)}/Users`;
    const { status, entry } = await sendAndRead('POST', path, {
      token: alpha.token,
      headers: { 'Content-Encoding': 'gzip' },
      body: 'not really gzip, 32 bytes long..',
    });
    expect(status).toBe(400);
    expect(entry.request).toMatchObject({ body: null, bytes: 32 });
  });

  it('logs the length of each JSON answer it sent: SCIM and admin, errors and successes', async () => {
    const answers = [
      await sendAndRead('GET', '/scim/v2/Users/no-such-user', { token: alpha.token }),
      await sendAndRead('POST', '/scim/v2/Users', { token: alpha.token, body: '{"userName":' }),
      await sendAndRead('GET', '/api/v1/admin/tenants/no-such-tenant', {
        headers: { Authorization: `Bearer ${admin}` },
      }),
      await sendAndRead('GET', `/api/v1/admin/tenants/${alpha.tenantId}`, {
        headers: { Authorization: `Bearer ${admin}` },
      }),
    ];
    expect(answers.map((a) => a.status)).toEqual([404, 400, 404, 200]);
    for (const { answer, entry } of answers) {
      expect(entry.response.headers['content-length']).toBe(String(Buffer.byteLength(answer)));
    }
  });

  it('shows the answers of HEAD, a 304 and OPTIONS as sent: headers, no body', async () => {
    const base = tenantPath(alpha.tenantId);
    const created = await fetch(`${server.url}${base}/Users`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${alpha.token}`, 'Content-Type': 'application/scim+json' },
      body: JSON.stringify({ userName: 'head@example.com' }),
    });
    const { id, meta } = (await created.json()) as { id: string; meta: { version: string } };
    const head = await sendAndRead('HEAD', `${base}/Users/${id}`, { token: alpha.token });
    expect(head.answer).toBe('');
    expect(head.entry).toMatchObject({
      status: 200,
      response: { body: null, bytes: 0, headers: { etag: meta.version } },
    });
    expect(Number(head.entry.response.headers['content-length'])).toBeGreaterThan(0);

    const notModified = await sendAndRead('GET', `${base}/Users/${id}`, {
      token: alpha.token,
      headers: { 'If-None-Match': meta.version },
    });
    expect(notModified.entry).toMatchObject({ status: 304, has_error: false, error: null, response: { body: null } });
    const options = await sendAndRead('OPTIONS', `${base}/Users`, { token: alpha.token });
    expect(options.entry).toMatchObject({
      status: 200,
      tenant_id: alpha.tenantId,
      response: { body: null, headers: { allow: 'HEAD, GET, POST' } },
    });
  });

  it('cuts a large body at 64 KiB, flagged, with the size that was sent', async () => {
    const body = JSON.stringify({
      userName: 'large@example.com',
      password: 'Large-secret-password-1',
      title: 't'.repeat(100_000),
    });
    const { status, entry } = await sendAndRead('POST', `${tenantPath(alpha.tenantId)}/Users`, {
      token: alpha.token,
      body,
    });
    expect(status).toBe(201);
    expect(entry.request).toMatchObject({ truncated: true, bytes: Buffer.byteLength(body) });
    expect(entry.request.body).toEqual(
      expect.stringMatching(/^\{"userName":"large@example.com","password":"\[redacted\]"/),
    );
    expect(Buffer.byteLength(entry.request.body as string)).toBeLessThanOrEqual(64 * 1024);
    expect(entry.response).toMatchObject({ truncated: true, bytes: Number(entry.response.headers['content-length']) });
  });

  it('keeps the head of a body refused for its size, redacted, with the size that was sent', async () => {
    const path = `${tenantPath(alpha.tenantId)}/Users`;
    const huge = JSON.stringify({
      userName: 'huge@example.com',
      password: 'Huge-secret-password-1',
      title: 't'.repeat(1_100_000),
    });
    const announced = await sendAndRead('POST', path, { token: alpha.token, body: huge });
    expect(announced.status).toBe(413);
    expect(announced.entry.request).toMatchObject({ truncated: true, bytes: Buffer.byteLength(huge) });
    expect(announced.entry.request.body).toEqual(
      expect.stringMatching(/^\{"userName":"huge@example.com","password":"\[redacted\]","title":"ttt/),
    );
    expect(Buffer.byteLength(announced.entry.request.body as string)).toBeLessThanOrEqual(64 * 1024);

    // Chunked, without a length: the head of what came before the limit was passed.
    const chunked = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${alpha.token}`, 'Content-Type': 'application/scim+json' },
      body: new Blob([huge]).stream(),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    const streamed = await lastEntryFor(path);
    expect(streamed.request.truncated).toBe(true);
    expect(streamed.request.bytes).toBeGreaterThan(1024 * 1024);
    expect(streamed.request.body).toEqual(
      expect.stringMatching(/^\{"userName":"huge@example.com","password":"\[redacted\]"/),
    );

    // A password cut by the head's end is not kept in part.
    const before = '{"userName":"cut@example.com","title":"';
    const filler = 't'.repeat(64 * 1024 - Buffer.byteLength(`${before}","password":"Cut-s`));
    const cut = `${before}${filler}","password":"Cut-secret-password-1","nickName":"${'n'.repeat(1_100_000)}"}`;
    const refused = await sendAndRead('POST', path, { token: alpha.token, body: cut });
    expect(refused.status).toBe(413);
    expect(JSON.stringify([announced.entry, streamed, refused.entry])).not.toMatch(/Huge-secret|Cut-s/);
    // The redaction mark is longer than what it replaced: the log's own 64 KiB cut may end inside it.
    expect(refused.entry.request.body).toEqual(expect.stringMatching(/"password":"\[reda/));
  });

  it('answers a body announced over its limit without waiting for a client that stopped sending', async () => {
    const path = `${tenantPath(alpha.tenantId)}/Users`;
    const started = Date.now();
    const answer = await rawExchange(server.url, postHead(path, alpha.token, 2_000_000) + '{"userName":"stalled');
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    // Bounded by the wait for the head (2 s), not by the request timeout (120 s).
    expect(Date.now() - started).toBeLessThan(30_000);
    const entry = await lastEntryFor(path);
    expect(entry).toMatchObject({
      status: 413,
      request: { body: '{"userName":"stalled', truncated: true, bytes: 2_000_000 },
    });
  });

  it('closes the connection after refusing a Bulk announced over maxPayloadSize, and keeps its head', async () => {
    const path = `${tenantPath(alpha.tenantId)}/Bulk`;
    const started = Date.now();
    // Cut after 20 s at the latest: left open, the connection went on reading the refused gigabyte.
    const answer = await rawExchange(
      server.url,
      postHead(path, alpha.token, 1_000_000_000) + '{"Operations":[',
      20_000,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toMatch(/^connection: close\r$/im);
    expect(answer).toContain('maxPayloadSize');
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await lastEntryFor(path)).toMatchObject({
      status: 413,
      request: { body: '{"Operations":[', truncated: true, bytes: 1_000_000_000 },
    });
  });

  const postHead = (path: string, token: string, length: number) =>
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n` +
    `Content-Type: application/scim+json\r\nContent-Length: ${length}\r\n\r\n`;

  it('says the client went away while sending the body, not a 400 it never got', async () => {
    const path = `${tenantPath(alpha.tenantId)}/Users`;
    // A reset: nothing can be answered.
    const reset = await rawExchange(server.url, postHead(path, alpha.token, 100) + '{"userName":"half', 150, true);
    expect(reset).toBe('');
    const entry = await lastEntryFor(path);
    expect(entry).toMatchObject({
      status: 499,
      has_error: true,
      tenant_id: alpha.tenantId,
      error: { message: expect.stringContaining('while sending the body (17 of 100 bytes came)') },
      // What came is kept: which user it was.
      request: { body: '{"userName":"half', bytes: 17 },
      response: { body: null },
    });
    expect(entry.error?.code).toBeUndefined();

    // A close: the listener answers, in case the client still reads; the log says what it sent.
    await rawExchange(server.url, postHead(path, alpha.token, 100) + '{"userName":"half', 150);
    const closed = await lastEntryFor(path);
    const told = 'The connection was closed before the whole request arrived.';
    expect(closed).toMatchObject({ status: 400, error: { message: told }, response: { body: { detail: told } } });
  });

  it('says the client went away before the answer, and what it would have been; a Bulk stops there', async () => {
    // Password hashes take a worker ~90 ms each: the answer comes well after the cut.
    const operations = Array.from({ length: 30 }, (_, n) => ({
      method: 'POST',
      path: '/Users',
      bulkId: `b${n}`,
      data: { userName: `gone-${n}@example.com`, password: `Gone-secret-${n}` },
    }));
    const body = JSON.stringify({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: operations,
    });
    const received = await rawExchange(
      server.url,
      postHead('/scim/v2/Bulk', alpha.token, Buffer.byteLength(body)) + body,
      50,
    );
    expect(received).toBe('');
    // The Bulk goes on without its client; its entry is recorded when it ends.
    await expect
      .poll(async () => (await lastEntryFor('/scim/v2/Bulk')).request.body, { timeout: 10_000 })
      .toMatchObject({ Operations: expect.any(Array) });
    const entry = await lastEntryFor('/scim/v2/Bulk');
    expect(entry).toMatchObject({
      status: 499,
      has_error: true,
      error: { message: 'The client closed the connection before the answer (200) was sent.' },
      response: { body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkResponse'] } },
    });
    // Nobody reads the answer, so the operations after the cut are not run: the tenant stops changing.
    const results = (entry.response.body as { Operations: { status: string; response?: { detail: string } }[] })
      .Operations;
    const notRun = results.filter((r) => r.status === '503');
    expect(notRun.length).toBeGreaterThan(0);
    expect(notRun[0]?.response?.detail).toMatch(/^Not run: the connection closed/);
    expect(results.filter((r) => r.status === '201').length).toBe(30 - notRun.length);
    const users = await fetch(
      `${server.url}/scim/v2/Users?filter=${encodeURIComponent('userName sw "gone-"')}&count=0`,
      {
        headers: { Authorization: `Bearer ${alpha.token}` },
      },
    );
    expect(((await users.json()) as { totalResults: number }).totalResults).toBe(30 - notRun.length);
  });

  it('logs the 408 the listener answered when a body does not arrive in time', async () => {
    const slow = await startTestServer();
    try {
      const listening = servers.at(-1)!;
      [listening.headersTimeout, listening.requestTimeout] = [400, 500];
      const token = (await slow.tenantWithToken('Slow')).token;
      const received = await rawExchange(slow.url, postHead('/scim/v2/Users', token, 100) + '{"userName":"slow');
      expect(received).toMatch(/^HTTP\/1\.1 408 /);
      const told = JSON.parse(received.slice(received.indexOf('\r\n\r\n') + 4)) as { detail: string };
      const slowAdmin = await slow.adminToken();
      const read = async (path: string) =>
        (await (
          await fetch(`${slow.url}/api/v1/admin${path}`, { headers: { Authorization: `Bearer ${slowAdmin}` } })
        ).json()) as {
          items: { id: string }[];
        };
      const [row] = (await read('/request-logs?path=%2Fscim%2Fv2%2FUsers&per_page=1')).items;
      const entry = (await read(`/request-logs/${row!.id}`)) as unknown as RequestLogEntry;
      expect(entry).toMatchObject({
        status: 408,
        has_error: true,
        token: { name: 'Slow token' },
        error: { message: told.detail },
        response: { headers: { 'content-type': 'application/scim+json; charset=utf-8' } },
      });
      expect(JSON.stringify(entry.response.body)).toContain('did not arrive in time');
    } finally {
      await slow.stop();
    }
  });

  it('files what the listener refused itself, which the app never saw, with the answer it sent', async () => {
    const base = tenantPath(alpha.tenantId);
    const auth = `Authorization: Bearer ${alpha.token}\r\n`;
    const cases = [
      {
        // Two lengths: which one frames the body?
        request: `POST ${base}/Users?access_token=Query-secret-1 HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 1\r\nContent-Length: 2\r\n\r\n{}`,
        method: 'POST',
        status: 400,
      },
      // No Host, which HTTP/1.1 requires.
      { request: `GET ${base}/Groups HTTP/1.1\r\n${auth}\r\n`, method: 'GET', status: 400 },
      {
        request: `PUT ${base}/Groups/g1 HTTP/1.1\r\nHost: x\r\n${auth}Expect: later\r\n\r\n`,
        method: 'PUT',
        status: 417,
      },
    ];
    for (const { request, method, status } of cases) {
      const received = await rawExchange(server.url, request);
      expect(received).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      const told = JSON.parse(received.slice(received.indexOf('\r\n\r\n') + 4)) as { detail: string };
      const path = request.split(' ')[1]!.split('?')[0]!;
      const entry = await lastEntryFor(path);
      expect(entry).toMatchObject({
        method,
        path,
        status,
        tenant_id: alpha.tenantId,
        has_error: true,
        error: { message: told.detail },
        request: { headers: { authorization: 'Bearer [redacted]' } },
        response: { body: { detail: told.detail } },
      });
      expect(JSON.stringify(entry)).not.toMatch(new RegExp(`${alpha.token}|Query-secret-1`));
      if (method === 'POST') expect(entry.query).toBe('access_token=[redacted]');
    }
  });

  it("files what the listener refused on /scim/v2 under its token's tenant, as the app's refusals are", async () => {
    const auth = `Authorization: Bearer ${alpha.token}\r\n`;
    for (const [request, path] of [
      [`GET /scim/v2/Groups?count=1 HTTP/1.1\r\n${auth}\r\n`, '/scim/v2/Groups'],
      [`PUT /scim/v2/Groups/g2 HTTP/1.1\r\nHost: x\r\n${auth}Expect: later\r\n\r\n`, '/scim/v2/Groups/g2'],
      [
        `POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 1\r\nContent-Length: 2\r\n\r\n{}`,
        '/scim/v2/Users',
      ],
    ] as const) {
      expect(await rawExchange(server.url, request)).toMatch(/^HTTP\/1\.1 4\d\d /);
      expect(await lastEntryFor(path), path).toMatchObject({
        path,
        tenant_id: alpha.tenantId,
        token: { name: 'Alpha token' },
        source: 'idp',
      });
    }
  });
});
