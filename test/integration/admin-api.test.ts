import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededTenants, startTestServer, tempDataDir, type TestServer } from './harness';

describe('admin API over HTTP', () => {
  let server: TestServer;
  let token: string;
  let removeData: () => Promise<void>;

  beforeAll(async () => {
    const data = await tempDataDir();
    removeData = data.remove;
    await writeFile(join(data.dir, 'db.json'), JSON.stringify({ version: 1, tenants: seededTenants }));
    server = await startTestServer({ dataDir: data.dir });
    token = await server.adminToken();
  });
  afterAll(async () => {
    await server.stop();
    await removeData();
  });

  const get = (path: string, auth: string | null = token) =>
    fetch(`${server.url}${path}`, { headers: auth ? { Authorization: `Bearer ${auth}` } : {} });
  const send = (method: string, path: string, body: unknown) =>
    fetch(`${server.url}/api/v1/admin${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('lists tenants oldest first in the admin list shape', async () => {
    const response = await get('/api/v1/admin/tenants');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await response.json()) as { items: { name: string }[]; total: number };
    expect(body).toMatchObject({ total: 2, page: 1, per_page: 50 });
    expect(body.items.map((t) => t.name)).toEqual(['Acme', 'Beta Corp']);
  });

  it('accepts the path with a trailing slash', async () => {
    expect((await get('/api/v1/admin/tenants/')).status).toBe(200);
  });

  it('pages with page and per_page', async () => {
    const body = (await (await get('/api/v1/admin/tenants?page=2&per_page=1')).json()) as {
      items: { name: string }[];
    };
    expect(body).toMatchObject({ total: 2, page: 2, per_page: 1 });
    expect(body.items.map((t) => t.name)).toEqual(['Beta Corp']);
  });

  it('answers 422 with FastAPI-style details for bad query values', async () => {
    const response = await get('/api/v1/admin/tenants?page=0&per_page=abc');
    expect(response.status).toBe(422);
    const body = (await response.json()) as { detail: { loc: string[]; msg: string; type: string }[] };
    expect(body.detail.map((d) => d.loc)).toEqual([
      ['query', 'page'],
      ['query', 'per_page'],
    ]);
    expect(body.detail[0]).toMatchObject({ type: 'too_small' });
  });

  it('says what is wrong with a blank, repeated or non-decimal number in the query', async () => {
    const messages = async (query: string) => {
      const response = await get(`/api/v1/admin/tenants?${query}`);
      expect(response.status).toBe(422);
      return ((await response.json()) as { detail: { msg: string }[] }).detail.map((d) => d.msg);
    };
    expect(await messages('page=')).toEqual(['must be a whole number, not ""']);
    expect(await messages('page=1&page=2')).toEqual(['must be given once']);
    // Any field given twice is told alike, a text one too.
    const repeated = await get('/api/v1/admin/request-logs?tenant_id=a&tenant_id=b&status=4xx&status=5xx');
    expect(repeated.status).toBe(422);
    expect(((await repeated.json()) as { detail: unknown[] }).detail).toEqual([
      { loc: ['query', 'tenant_id'], msg: 'must be given once', type: 'list_type' },
      { loc: ['query', 'status'], msg: 'must be given once', type: 'list_type' },
    ]);
    // The live stream's too.
    const stream = await get('/api/v1/admin/request-logs/stream?tenant_id=a&tenant_id=b');
    expect(stream.status).toBe(422);
    expect(((await stream.json()) as { detail: unknown[] }).detail).toEqual([
      { loc: ['query', 'tenant_id'], msg: 'must be given once', type: 'list_type' },
    ]);
    expect(await messages('page=1e2&per_page=0x10')).toEqual([
      'must be a whole number, not "1e2"',
      'must be a whole number, not "0x10"',
    ]);
  });

  it('says what a query value must be, and what it got, for numbers out of range and request-log filters', async () => {
    const messages = async (path: string) => {
      const response = await get(`/api/v1/admin/${path}`);
      expect(response.status).toBe(422);
      return ((await response.json()) as { detail: { msg: string }[] }).detail.map((d) => d.msg);
    };
    expect(await messages('tenants?page=0&per_page=201')).toEqual([
      'must be at least 1, not 0',
      'must be at most 200, not 201',
    ]);
    // A negative or huge number is out of range, not "no whole number"; the limit is the one the
    // OpenAPI document states.
    expect(await messages('tenants?page=-1&per_page=-5')).toEqual([
      'must be at least 1, not -1',
      'must be at least 1, not -5',
    ]);
    expect(await messages('request-logs?page=9007199254740992')).toEqual([
      'must be at most 9007199254740991, not 9007199254740992',
    ]);
    expect((await get('/api/v1/admin/request-logs?page=9007199254740991')).status).toBe(200);
    expect(await messages('request-logs?has_error=yes&status=abc&since=yesterday')).toEqual([
      'must be true or false, not "yes"',
      'must be a status code (404) or a class (4xx), not "abc"',
      'must be an ISO 8601 date-time with Z or an offset, like 2026-01-31T09:00:00Z, not "yesterday"',
    ]);
    // An offset's + typed unencoded arrives as a space: the refusal says how to write it.
    expect(await messages('request-logs?since=2026-01-02T13:50:00+05:30')).toEqual([
      'must be an ISO 8601 date-time with Z or an offset, like 2026-01-31T09:00:00Z, not "2026-01-02T13:50:00 05:30" ' +
        '(a + in a URL query stands for a space: write the offset as %2B05:30)',
    ]);
    // A window that ends before it starts, offsets taken into account, is refused rather than empty.
    expect(await messages('request-logs?since=2026-01-02T00:00:00Z&until=2026-01-02T01:00:00%2B02:00')).toEqual([
      'must not be before since (2026-01-02T00:00:00Z)',
    ]);
    expect((await get('/api/v1/admin/request-logs?since=2026-01-02T00:00:00Z&until=2026-01-02T00:00:00Z')).status).toBe(
      200,
    );
  });

  it('answers a fixed path beside a path with an id with its own methods only', async () => {
    for (const [method, path, allow] of [
      ['POST', '/scim-tokens/endpoint-info', 'HEAD, GET'],
      ['PATCH', '/scim-tokens/endpoint-info', 'HEAD, GET'],
      ['DELETE', '/scim-tokens/endpoint-info', 'HEAD, GET'],
      ['DELETE', '/request-logs/stream', 'HEAD, GET'],
    ] as const) {
      const response = await send(method, path, {});
      expect(response.status, `${method} ${path}`).toBe(405);
      expect(response.headers.get('allow')).toBe(allow);
      expect(await response.json()).toMatchObject({ code: 'method_not_allowed' });
    }
    // The path with an id keeps all of its methods.
    const patch = await send('PATCH', '/scim-tokens/no-such-token', { name: 'x' });
    expect(patch.status).toBe(404);
  });

  it('answers OPTIONS on a fixed path beside a path with an id with its own methods, as on any other path', async () => {
    for (const [path, allow] of [
      ['/tenants', 'HEAD, GET, POST'],
      ['/scim-tokens/endpoint-info', 'HEAD, GET'],
      ['/request-logs/stream', 'HEAD, GET'],
    ] as const) {
      const response = await fetch(`${server.url}/api/v1/admin${path}`, {
        method: 'OPTIONS',
        headers: { Authorization: `Bearer ${token}` },
      });
      expect([path, response.status, response.headers.get('allow')]).toEqual([path, 200, allow]);
    }
  });

  it('answers 401 with WWW-Authenticate without a token, and for a bad one', async () => {
    for (const auth of [null, 'aaa.bbb.ccc', 'garbage']) {
      const response = await get('/api/v1/admin/tenants', auth);
      expect(response.status).toBe(401);
      // RFC 6750 §3.1: an error code only when a token was presented.
      expect(response.headers.get('www-authenticate')).toBe(
        auth === null ? 'Bearer realm="scimdesk-admin"' : 'Bearer realm="scimdesk-admin", error="invalid_token"',
      );
      expect(await response.json()).toMatchObject({ code: 'unauthorized' });
    }
  });

  it('answers 403 to a SCIM token on the admin API, and 401 to a cut one', async () => {
    const response = await get('/api/v1/admin/tenants', `scimdesk_${'A'.repeat(43)}`);
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ code: 'forbidden' });
    // No credential of any kind: "a SCIM token cannot be used" sent its sender after the wrong fault.
    const cut = await get('/api/v1/admin/tenants', 'scimdesk_0123456789abcdef');
    expect(cut.status).toBe(401);
    expect(await cut.json()).toMatchObject({
      code: 'unauthorized',
      detail:
        'The bearer token is not a scimdesk admin token, nor a whole SCIM token (it may have been cut when copied).',
    });
  });

  it('answers unknown admin paths with 404 and wrong methods with 405, in the admin shape', async () => {
    const missing = await get('/api/v1/admin/nothing-here');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'not_found' });
    const wrong = await fetch(`${server.url}/api/v1/admin/tenants`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('HEAD, GET, POST');
    expect(await wrong.json()).toMatchObject({ code: 'method_not_allowed' });
    const unknown = await fetch(`${server.url}/api/v1/admin/tenants`, {
      method: 'PROPFIND',
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(unknown.status).toBe(501);
    expect(await unknown.json()).toMatchObject({ code: 'not_implemented' });
  });

  it('refuses tenant and token names with control characters or bidirectional overrides', async () => {
    const refused = async (response: Response, codePoint: string) => {
      expect(response.status).toBe(422);
      const body = (await response.json()) as { detail: { loc: string[]; msg: string }[] };
      expect(body.detail[0]?.loc).toEqual(['body', 'name']);
      expect(body.detail[0]?.msg).toContain(codePoint);
    };
    // Reads as "Acme exe.pdf" in the console while it is "Acme \u202Efdp.exe".
    await refused(await send('POST', '/tenants', { name: 'Acme \u202Efdp.exe' }), 'U+202E');
    await refused(await send('POST', '/tenants', { name: 'Acme\nreal tenant: Beta' }), 'U+000A');
    await refused(await send('POST', '/tenants', { name: 'Acme\u2028Beta' }), 'U+2028');
    await refused(await send('POST', '/tenants', { name: 'Ac\u200Bme' }), 'U+200B');
    // Each shows as "Acme" beside the real one.
    for (const [invisible, codePoint] of [
      ['\u00AD', 'U+00AD'],
      ['\u034F', 'U+034F'],
      ['\u180E', 'U+180E'],
      ['\u2060', 'U+2060'],
      ['\u2062', 'U+2062'],
      ['\u3164', 'U+3164'],
      ['\u2800', 'U+2800'],
      ['\u{E0041}', 'U+E0041'],
      ['\uFFF9', 'U+FFF9'],
      ['\u{1BCA0}', 'U+1BCA0'],
    ] as const) {
      await refused(await send('POST', '/tenants', { name: `Ac${invisible}me` }), codePoint);
    }
    await refused(await send('POST', '/tenants', { name: 'Acme\u2063' }), 'U+2063');
    // A flag made of tags (Scotland's) is part of a name; a tag outside one is not.
    const scotland = '\u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}';
    const flagged = await send('POST', '/tenants', { name: `Glasgow ${scotland}` });
    expect(flagged.status).toBe(201);
    const { id: flaggedId } = (await flagged.json()) as { id: string };
    expect((await send('DELETE', `/tenants/${flaggedId}`, undefined)).status).toBe(204);
    await refused(await send('POST', '/tenants', { name: `Glasgow \u{1F3F4}\u{E0067}` }), 'U+E0067');
    // A zero-width joiner inside an emoji sequence is part of the name.
    const created = await send('POST', '/tenants', { name: 'Zürich 東京 👩\u200D💻' });
    expect(created.status).toBe(201);
    const tenant = (await created.json()) as { id: string; name: string };
    expect(tenant.name).toBe('Zürich 東京 👩\u200D💻');
    await refused(await send('PATCH', `/tenants/${tenant.id}`, { name: 'x\u2066y' }), 'U+2066');
    await refused(await send('POST', '/scim-tokens', { tenant_id: tenant.id, name: '\u001b[31mred' }), 'U+001B');
    const scimToken = await send('POST', '/scim-tokens', { tenant_id: tenant.id, name: 'Entra ID' });
    expect(scimToken.status).toBe(201);
    const { id } = (await scimToken.json()) as { id: string };
    await refused(await send('PATCH', `/scim-tokens/${id}`, { name: 'Entra\u0085ID' }), 'U+0085');
    const names = (await (await get('/api/v1/admin/tenants')).json()) as { items: { name: string }[] };
    expect(names.items.map((t) => t.name)).toEqual(['Acme', 'Beta Corp', 'Zürich 東京 👩\u200D💻']);
  });

  it('keeps names as they show: one Café however its é was typed; half a surrogate pair refused', async () => {
    const composed = await send('POST', '/tenants', { name: 'Caf\u00e9 Lab' });
    expect(composed.status).toBe(201);
    expect(((await composed.json()) as { name: string }).name).toBe('Caf\u00e9 Lab');
    const decomposed = await send('POST', '/tenants', { name: 'Cafe\u0301 Lab' });
    expect(decomposed.status).toBe(409);
    // A no-break or ideographic space shows as the space it stands for.
    expect((await send('POST', '/tenants', { name: 'Caf\u00e9\u00a0Lab' })).status).toBe(409);
    expect((await send('POST', '/tenants', { name: 'caf\u00e9\u3000lab' })).status).toBe(409);
    // JSON.stringify writes a lone surrogate as the escape \ud800, which JSON.parse reads back as one.
    const lone = await send('POST', '/tenants', { name: 'Half\ud800 pair' });
    expect(lone.status).toBe(422);
    expect(JSON.stringify(await lone.json())).toContain('half of a surrogate pair (U+D800 at position 5)');
    // Nor kept as U+FFFD: a second, different half was refused as a name that already existed.
    expect((await send('POST', '/tenants', { name: 'Half\udc00 pair' })).status).toBe(422);
    expect((await send('POST', '/tenants', { name: 'Whole \ud83d\ude00 pair' })).status).toBe(201);
    // Checked as kept: U+0344 is two characters in NFC, so 150 of them are over the 200 allowed.
    expect((await send('POST', '/tenants', { name: `a${'\u0344'.repeat(150)}` })).status).toBe(422);
  });

  it('refuses a body field the operation does not take with 422 naming it, and changes nothing', async () => {
    type Detail = { detail: { loc: string[]; type: string }[] };
    const tenant = (await (await send('POST', '/tenants', { name: 'Strict bodies' })).json()) as { id: string };
    const created = (await (
      await send('POST', '/scim-tokens', { tenant_id: tenant.id, name: 'to revoke' })
    ).json()) as { id: string; token: string };
    const scimGet = () =>
      fetch(`${server.url}/scim/v2/Users`, { headers: { Authorization: `Bearer ${created.token}` } });
    // A guessed "revoke by PATCH" must not look done while the token goes on working.
    const revoked = await send('PATCH', `/scim-tokens/${created.id}`, { revoked: true });
    expect(revoked.status).toBe(422);
    expect(((await revoked.json()) as Detail).detail).toEqual([
      expect.objectContaining({ loc: ['body', 'revoked'], type: 'unrecognized_keys' }),
    ]);
    expect((await scimGet()).status).toBe(200);
    // A misspelt setting is named, and the setting keeps its value.
    const misspelt = await send('PATCH', `/tenants/${tenant.id}`, { compatProfile: 'strict', name: 'Renamed?' });
    expect(misspelt.status).toBe(422);
    expect(((await misspelt.json()) as Detail).detail.map((d) => d.loc)).toEqual([['body', 'compatProfile']]);
    expect(await (await get(`/api/v1/admin/tenants/${tenant.id}`)).json()).toMatchObject({
      name: 'Strict bodies',
      compat_profile: 'compatible',
    });
    const extra = await send('POST', '/scim-tokens', { tenant_id: tenant.id, name: 'x', extra: 1 });
    expect(extra.status).toBe(422);
    expect(((await extra.json()) as Detail).detail.map((d) => d.loc)).toEqual([['body', 'extra']]);
    // Names every object inherits are body fields too, not path parameters.
    for (const inherited of ['constructor', 'toString', 'hasOwnProperty']) {
      const odd = await send('POST', '/tenants', { name: 'x', [inherited]: 1 });
      expect(odd.status).toBe(422);
      expect(((await odd.json()) as Detail).detail.map((d) => d.loc)).toEqual([['body', inherited]]);
    }
    // A `__proto__` key (an own key once parsed), where zod's records skip it: it was answered 200
    // and cleared the overrides it replaced.
    const pinned = await send('PATCH', `/tenants/${tenant.id}`, { compat_overrides: { requireIfMatch: true } });
    expect(pinned.status).toBe(200);
    for (const body of ['{"compat_overrides":{"__proto__":{"requireIfMatch":true}}}', '{"__proto__":{"name":"x"}}']) {
      const proto = await send('PATCH', `/tenants/${tenant.id}`, JSON.parse(body) as object);
      expect(proto.status).toBe(422);
      const [issue] = ((await proto.json()) as Detail).detail;
      expect(issue?.loc.at(-1)).toBe('__proto__');
    }
    expect(await (await get(`/api/v1/admin/tenants/${tenant.id}`)).json()).toMatchObject({
      compat_overrides: { requireIfMatch: true },
    });
    const tenantExtra = await send('POST', '/tenants', { name: 'With extra', deleteMode: 'hard' });
    expect(tenantExtra.status).toBe(422);
    expect(((await tenantExtra.json()) as { detail: { msg: string }[] }).detail[0]!.msg).toBe(
      'Unknown field: this request takes no such field; did you mean delete_mode?',
    );
  });

  it('refuses a query parameter that misspells one the operation takes, saying which; ignores others', async () => {
    type Detail = { detail: { loc: string[]; msg: string }[] };
    // A camelCase typo filtered nothing and listed every tenant's tokens as if they were one's.
    const typo = await get('/api/v1/admin/scim-tokens?tenantId=tn_a');
    expect(typo.status).toBe(422);
    expect(((await typo.json()) as Detail).detail).toEqual([
      {
        loc: ['query', 'tenantId'],
        msg: 'Unknown query parameter; did you mean tenant_id?',
        type: 'unrecognized_keys',
      },
    ]);
    const logs = await get('/api/v1/admin/request-logs?stauts=404');
    expect(((await logs.json()) as Detail).detail[0]!.msg).toMatch(/did you mean status\?$/);
    expect((await get('/api/v1/admin/request-logs?Tenant_ID=tn_a')).status).toBe(422);
    // The live stream too: it would have streamed every tenant's traffic.
    const stream = await get('/api/v1/admin/request-logs/stream?tenantId=tn_a');
    expect(stream.status).toBe(422);
    expect(((await stream.json()) as Detail).detail[0]!.msg).toBe('Unknown query parameter; did you mean tenant_id?');
    // A name sharing a word with one (`tenant`, `status_code`) is a guess at it, not a cache-buster.
    for (const [guess, meant] of [
      ['/request-logs/stream?tenant=tn_a', 'tenant_id'],
      ['/request-logs?tenant=tn_a', 'tenant_id'],
      ['/request-logs?status_code=401', 'status'],
    ]) {
      const refused = await get(`/api/v1/admin${guess}`);
      expect(refused.status, guess).toBe(422);
      expect(((await refused.json()) as Detail).detail[0]!.msg).toBe(`Unknown query parameter; did you mean ${meant}?`);
    }
    // Anything else may be a cache-buster of a browser or proxy: ignored, as before.
    expect((await get('/api/v1/admin/tenants?_=1733450000000')).status).toBe(200);
  });

  it('refuses a body that contradicts the id in the path, and accepts one that repeats it', async () => {
    const tenant = (await (await send('POST', '/tenants', { name: 'Path wins' })).json()) as { id: string };
    const moved = await send('PATCH', `/tenants/${tenant.id}`, { id: 'tn_other', name: 'Moved?' });
    expect(moved.status).toBe(422);
    expect(((await moved.json()) as { detail: { loc: string[]; msg: string }[] }).detail).toEqual([
      expect.objectContaining({
        loc: ['body', 'id'],
        msg: `The path gives id as "${tenant.id}"; it cannot be changed, so leave it out of the body or repeat the path's value.`,
      }),
    ]);
    expect(await (await get(`/api/v1/admin/tenants/${tenant.id}`)).json()).toMatchObject({ name: 'Path wins' });
    const echoed = await send('PATCH', `/tenants/${tenant.id}`, { id: tenant.id, name: 'Renamed' });
    expect(echoed.status).toBe(200);
    expect(await echoed.json()).toMatchObject({ id: tenant.id, name: 'Renamed' });
  });

  it('refuses a token expiry past the year 9999 in UTC with 422, and lists tokens after', async () => {
    const tenants = (await (await get('/api/v1/admin/tenants')).json()) as { items: { id: string }[] };
    const tenantId = tenants.items[0]!.id;
    const late = '9999-12-31T23:59:59-05:00';
    const created = await send('POST', '/scim-tokens', { tenant_id: tenantId, name: 'y10k', expires_at: late });
    expect(created.status).toBe(422);
    expect(((await created.json()) as { detail: { loc: string[] }[] }).detail[0]?.loc).toEqual(['body', 'expires_at']);
    const fine = await send('POST', '/scim-tokens', {
      tenant_id: tenantId,
      name: 'y9k',
      expires_at: '9999-12-31T23:00:00Z',
    });
    expect(fine.status).toBe(201);
    const { id } = (await fine.json()) as { id: string };
    expect((await send('PATCH', `/scim-tokens/${id}`, { expires_at: late })).status).toBe(422);
    expect((await get('/api/v1/admin/scim-tokens')).status).toBe(200);
    // A value that is no date at all gets one issue that says what is wanted, not also "too late".
    const garbled = await send('POST', '/scim-tokens', { tenant_id: tenantId, name: 'when', expires_at: 'tomorrow' });
    expect(((await garbled.json()) as { detail: { msg: string }[] }).detail.map((d) => d.msg)).toEqual([
      'must be an ISO 8601 date-time with Z or an offset, like 2027-01-31T09:00:00Z, or null for never; not "tomorrow"',
    ]);
  });

  it.each([
    ['no Host header', 'GET /api/v1/admin/tenants HTTP/1.1\r\n\r\n', 400, 'bad_request'],
    [
      'a Content-Length that is not a number',
      'POST /api/v1/admin/tenants HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n',
      400,
      'bad_request',
    ],
    [
      'an Expect it cannot meet',
      'POST /api/v1/admin/tenants HTTP/1.1\r\nHost: x\r\nExpect: foo\r\nContent-Length: 2\r\n\r\n{}',
      417,
      'expectation_failed',
    ],
  ])(
    'answers what the HTTP server refuses itself (%s) in the admin shape, with a code',
    async (_c, raw, status, code) => {
      const { hostname, port } = new URL(server.url);
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), hostname, () => socket.write(raw));
        let text = '';
        socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        socket.on('close', () => resolve(text)).on('error', reject);
      });
      const [head = '', body = ''] = answer.split('\r\n\r\n');
      expect(head).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      expect(JSON.parse(body)).toEqual({ detail: expect.any(String), code });
    },
  );

  it('sends no CORS headers', async () => {
    const response = await fetch(`${server.url}/api/v1/admin/tenants`, {
      headers: { Authorization: `Bearer ${token}`, Origin: 'https://evil.example' },
    });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('console session exchange', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  const exchange = (body: unknown, contentType = 'application/json') =>
    fetch(`${server.url}/api/v1/admin/session`, {
      method: 'POST',
      headers: { 'Content-Type': contentType },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('trades a code for an admin token once, and refuses the code after', async () => {
    const code = new URL(server.app.consoleLoginUrl()).hash.replace('#code=', '');
    const first = await exchange({ code });
    expect(first.status).toBe(200);
    const session = (await first.json()) as { token: string; expires_at: string };
    expect(Date.parse(session.expires_at)).toBeGreaterThan(Date.now() + 11 * 3600_000);
    const listed = await fetch(`${server.url}/api/v1/admin/tenants`, {
      headers: { Authorization: `Bearer ${session.token}` },
    });
    expect(listed.status).toBe(200);
    expect(await listed.json()).toEqual({ items: [], total: 0, page: 1, per_page: 50 });

    const again = await exchange({ code });
    expect(again.status).toBe(401);
    expect(await again.json()).toMatchObject({ code: 'unauthorized' });
  });

  it('refuses unknown codes with 401', async () => {
    expect((await exchange({ code: 'never-issued' })).status).toBe(401);
  });

  it('validates the body: 422 for a missing code or malformed JSON, 415 for other media types', async () => {
    const missing = await exchange({});
    expect(missing.status).toBe(422);
    expect(await missing.json()).toMatchObject({ detail: [{ loc: ['body', 'code'] }] });
    const malformed = await exchange('{"code": ');
    expect(malformed.status).toBe(422);
    expect(await malformed.json()).toMatchObject({ detail: [{ loc: ['body'], type: 'json_invalid' }] });
    expect((await exchange('code=x', 'application/x-www-form-urlencoded')).status).toBe(415);
  });

  it('refuses bodies over 1 MiB with 413', async () => {
    const response = await exchange({ code: 'x'.repeat(1024 * 1024 + 10) });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ code: 'payload_too_large' });
  });
});
