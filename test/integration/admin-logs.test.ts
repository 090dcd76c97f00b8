import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminTokens } from '../../src-main/auth/admin-tokens';
import { MAX_LIVE_STREAMS } from '../../src-main/http/log-stream';
import { loadOrCreateSigningKey } from '../../src-main/auth/signing-key';
import { systemClock } from '../../src-main/clock';
import { startTestServer, type TestServer } from './harness';

interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
}

/** Reads Server-Sent Events from a fetch response until `until` says enough, or a timeout. */
async function readEvents(response: Response, until: (events: SseEvent[]) => boolean, timeoutMs = 10_000) {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buffer = '';
  const deadline = Date.now() + timeoutMs;
  try {
    while (!until(events)) {
      if (Date.now() > deadline) throw new Error(`stream timed out with ${JSON.stringify(events)}`);
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event: SseEvent = {};
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const [field, ...rest] = line.split(': ');
          if (field === 'id' || field === 'event' || field === 'data') event[field] = rest.join(': ');
        }
        if (event.id !== undefined || event.event !== undefined) events.push(event);
      }
    }
  } finally {
    await reader.cancel();
  }
  return events;
}

describe('request logs, history and the live stream', () => {
  let server: TestServer;
  let admin: string;
  let tenantId: string;
  let secret: string;
  let tokenId: string;
  beforeAll(async () => {
    server = await startTestServer();
    admin = await server.adminToken();
    tenantId = String((await adminJson('POST', '/tenants', { name: 'Logged' })).id);
    const created = await adminJson('POST', '/scim-tokens', { tenant_id: tenantId, name: 'okta' });
    secret = String(created.token);
    tokenId = String(created.id);
  });
  afterAll(() => server.stop());

  async function adminJson(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    const response = await fetch(`${server.url}/api/v1/admin${path}`, {
      method,
      headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return (await response.json()) as Record<string, unknown>;
  }

  const scim = (method: string, path: string, body?: unknown) =>
    fetch(`${server.url}/scim/v2${path}`, {
      method,
      headers: { Authorization: `Bearer ${secret}`, 'Content-Type': 'application/scim+json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  const stream = (headers: Record<string, string> = {}, query = '') =>
    fetch(`${server.url}/api/v1/admin/request-logs/stream${query}`, {
      headers: { Authorization: `Bearer ${admin}`, ...headers },
    });

  it('logs SCIM traffic with credentials and passwords redacted, and the flags that fired', async () => {
    const created = (await (
      await scim('POST', '/Users', { userName: 'logged@example.com', password: 'S3cret-pw!' })
    ).json()) as {
      id: string;
    };
    await scim('PATCH', `/Users/${created.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
    });
    await scim('GET', '/Users?filter=bad%20filter');

    const list = await adminJson('GET', `/request-logs?tenant_id=${tenantId}&per_page=10`);
    const items = list.items as { id: string; method: string; status: number; flags: string[]; source: string }[];
    expect(items.map((i) => `${i.method} ${i.status}`)).toEqual(['GET 400', 'PATCH 200', 'POST 201']);
    expect(items[1]?.flags).toEqual(['opCaseInsensitive', 'booleanStrings']);
    expect(items[2]?.source).toBe('idp');

    const post = await adminJson('GET', `/request-logs/${items[2]!.id}`);
    const text = JSON.stringify(post);
    expect(text).not.toContain('S3cret-pw!');
    expect(text).not.toContain(secret);
    expect(post).toMatchObject({
      request: { headers: { authorization: 'Bearer [redacted]' }, body: { password: '[redacted]' } },
      response: { body: { userName: 'logged@example.com' } },
      token: { name: 'okta' },
    });
    const failed = await adminJson('GET', `/request-logs/${items[0]!.id}`);
    expect(failed).toMatchObject({ has_error: true, error: { code: 'invalidFilter' } });

    const clientErrors = await adminJson('GET', `/request-logs?tenant_id=${tenantId}&status=4xx`);
    expect(clientErrors.total).toBe(1);
    expect((await adminJson('GET', `/request-logs?tenant_id=${tenantId}&status=4XX`)).total).toBe(1);
    expect((await adminJson('GET', `/request-logs?tenant_id=${tenantId}&status=400`)).total).toBe(1);
    // Digits only: `1e2` is not a way to write 100, and a blank status is not "any".
    for (const status of ['1e2', '', '4x', '40O']) {
      expect(await adminJson('GET', `/request-logs?tenant_id=${tenantId}&status=${status}`)).toMatchObject({
        detail: [expect.objectContaining({ loc: ['query', 'status'] })],
      });
    }
    const byText = await adminJson('GET', `/request-logs?tenant_id=${tenantId}&q=logged%40example.com`);
    expect(byText.total).toBeGreaterThanOrEqual(1);
    expect((await adminJson('GET', '/request-logs/999999')).code).toBe('not_found');
  });

  it('lists what a request named but the server ignored, such as a custom extension it does not know', async () => {
    const tenant = String((await adminJson('POST', '/tenants', { name: 'Ignored' })).id);
    const token = String((await adminJson('POST', '/scim-tokens', { tenant_id: tenant, name: 'entra' })).token);
    const call = (method: string, path: string, body: unknown) =>
      fetch(`${server.url}/scim/v2${path}`, {
        method,
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' },
        body: JSON.stringify(body),
      });
    const CUSTOM = 'urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User';
    const created = await call('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', CUSTOM],
      userName: 'custom@example.com',
      [CUSTOM]: { CustomAttribute: 'abc' },
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    await call('PATCH', `/Users/${id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'Add', path: `${CUSTOM}:CustomAttribute`, value: 'abc' }],
    });
    // Sixty unknown attributes: the entry lists fifty and counts the rest.
    const many = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`unknown${i}`, i]));
    await call('PUT', `/Users/${id}`, { userName: 'custom@example.com', ...many });
    await call('GET', `/Users/${id}`, undefined);

    const items = (await adminJson('GET', `/request-logs?tenant_id=${tenant}&per_page=10`)).items as { id: string }[];
    const [get, put, patch, post] = await Promise.all(
      items.map((item) => adminJson('GET', `/request-logs/${item.id}`)),
    );
    expect(post).toMatchObject({
      method: 'POST',
      ignored: [{ target: CUSTOM, reason: expect.stringContaining('not an attribute') }],
    });
    expect(patch).toMatchObject({
      method: 'PATCH',
      ignored: [{ target: `${CUSTOM}:CustomAttribute`, reason: expect.stringContaining('not an attribute') }],
    });
    const listed = put!.ignored as { target: string; reason: string }[];
    expect(listed).toHaveLength(51);
    expect(listed[0]).toMatchObject({ target: 'unknown0' });
    expect(listed[50]).toEqual({ target: '…', reason: '10 more not listed' });
    expect(get).toMatchObject({ method: 'GET' });
    expect(get).not.toHaveProperty('ignored');

    // In a Bulk request each is named with the operation that sent it.
    await call('POST', '/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'a', data: { userName: 'bulk-a@example.com' } },
        { method: 'POST', path: '/Users', bulkId: 'b', data: { userName: 'bulk-b@example.com', shoeSize: 44 } },
      ],
    });
    const [bulk] = (await adminJson('GET', `/request-logs?tenant_id=${tenant}&per_page=1`)).items as { id: string }[];
    expect((await adminJson('GET', `/request-logs/${bulk!.id}`)).ignored).toEqual([
      { target: 'operation 2 (POST /Users): shoeSize', reason: expect.stringContaining('not an attribute') },
    ]);
  });

  it('never logs a password, whichever way the request writes it', async () => {
    const tenant = String((await adminJson('POST', '/tenants', { name: 'Passwords' })).id);
    const token = String((await adminJson('POST', '/scim-tokens', { tenant_id: tenant, name: 'entra' })).token);
    const send = (method: string, path: string, body?: string) =>
      fetch(`${server.url}/scim/v2${path}`, {
        method,
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' },
        body,
      });
    const user = (await (await send('POST', '/Users', JSON.stringify({ userName: 'pw@example.com' }))).json()) as {
      id: string;
    };
    const patch = (operation: Record<string, unknown>) =>
      JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [operation] });
    const passwords = [
      'Spaced-path-pw-1',
      'Capital-key-pw-2',
      'Wrong-type-pw-3',
      'Malformed-pw-4',
      'Filter-pw-5',
      'Unquoted-pw-6',
    ];
    const long = `${passwords[2]}${'x'.repeat(80)}`;
    const answers = [
      await send('PATCH', `/Users/${user.id}`, patch({ op: 'replace', path: ' password', value: passwords[0] })),
      await send('PATCH', `/Users/${user.id}`, patch({ op: 'replace', Path: 'password', Value: passwords[1] })),
      await send('POST', '/Users', JSON.stringify({ userName: 'typed@example.com', password: [long] })),
      await send('POST', '/Users', `{'userName':'bad@example.com','pass\\u0077ord':'${passwords[3]}'`),
      await send('GET', `/Users?filter=${encodeURIComponent(`password eq "${passwords[4]}"`)}`),
      // JSON.parse's message quotes the text around an unexpected token: here, the password's start.
      await send('POST', '/Users', `{"userName":"bare@example.com","password":${passwords[5]}}`),
    ];
    // (A capitalised `Path` is read as `path`, and refused by name in the strict profile; a filter
    // on password is refused.)
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 400, 400, 400, 400]);
    const refused = (await answers[2]!.json()) as { detail: string };
    expect(refused.detail).toContain("'password' is never returned");
    expect(refused.detail).not.toContain(passwords[2]);

    const list = await adminJson('GET', `/request-logs?tenant_id=${tenant}&per_page=10`);
    const ids = (list.items as { id: string }[]).map((item) => item.id);
    expect(ids).toHaveLength(7);
    const logged = JSON.stringify(await Promise.all(ids.map((id) => adminJson('GET', `/request-logs/${id}`))));
    for (const password of passwords) expect(logged).not.toContain(password.slice(0, 8));
  });

  it('stamps each Bulk operation’s version with the flags that operation fired, the request log with all', async () => {
    const made = (await (await scim('POST', '/Users', { userName: 'bulk-flags@example.com' })).json()) as {
      id: string;
    };
    const patchOp = (op: string) => ({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op, path: 'title', value: op }],
    });
    const answer = await scim('POST', '/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [
        { method: 'PATCH', path: `/Users/${made.id}`, data: patchOp('Replace') },
        { method: 'POST', path: '/Users', bulkId: 'plain', data: { userName: 'bulk-plain@example.com' } },
      ],
    });
    const results = ((await answer.json()) as { Operations: { status: string; location?: string }[] }).Operations;
    expect(results.map((result) => result.status)).toEqual(['200', '201']);
    const plainId = String(results[1]?.location?.split('/').pop());
    const timeline = (id: string) => adminJson('GET', `/tenants/${tenantId}/history/User/${id}`);
    expect(await timeline(made.id)).toMatchObject({ items: [{ version: 2, flags: ['opCaseInsensitive'] }, {}] });
    // Run after the flagged PATCH, the plain create fired nothing of its own.
    expect(await timeline(plainId)).toMatchObject({ items: [{ version: 1, kind: 'create', flags: [] }] });
    const logged = await adminJson('GET', `/request-logs?tenant_id=${tenantId}&method=POST&path=/Bulk&per_page=1`);
    expect(logged).toMatchObject({ items: [{ flags: ['opCaseInsensitive'] }] });
  });

  it('keeps a history of a user: timeline, any version, and a diff', async () => {
    const user = (await (
      await scim('POST', '/Users', { userName: 'history@example.com', title: 'Engineer' })
    ).json()) as {
      id: string;
    };
    await scim('PATCH', `/Users/${user.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'title', value: 'Manager' }],
    });
    const base = `/tenants/${tenantId}/history/User/${user.id}`;
    const timeline = await adminJson('GET', base);
    expect(timeline).toMatchObject({
      total: 2,
      items: [
        { version: 2, kind: 'change', attributes: ['title'], actor: `token "okta" (${tokenId})` },
        { version: 1, kind: 'create' },
      ],
    });
    expect(await adminJson('GET', `${base}/versions/1`)).toMatchObject({ resource: { title: 'Engineer' } });
    const diff = await adminJson('GET', `${base}/diff?from=1&to=2`);
    expect(diff.changes).toContainEqual({ op: 'set', path: ['title'], value: 'Manager' });
    // A diff to a version that does not exist names that one, not the one that does.
    expect(await adminJson('GET', `${base}/diff?from=1&to=9`)).toMatchObject({
      code: 'not_found',
      detail: `Version 9 of User ${String(user.id)} not found.`,
    });
    expect(await adminJson('GET', `${base}/diff?from=8&to=9`)).toMatchObject({
      detail: `Versions 8 and 9 of User ${String(user.id)} not found.`,
    });
    // A pinned timeline pages a fixed set while the user keeps changing.
    await scim('PATCH', `/Users/${user.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'title', value: 'Director' }],
    });
    const pinned = await adminJson('GET', `${base}?before_version=3&per_page=1&page=2`);
    expect(pinned).toMatchObject({ total: 2, items: [{ version: 1 }] });
    expect(await adminJson('GET', `${base}?before_version=1`)).toMatchObject({ total: 0, items: [] });
    // An id of nothing is not found, rather than an empty past; so is another tenant's user.
    const other = String((await adminJson('POST', '/tenants', { name: 'Other' })).id);
    for (const path of [`/tenants/${tenantId}/history/User/no-such-id`, `/tenants/${other}/history/User/${user.id}`]) {
      expect(await adminJson('GET', path)).toMatchObject({ code: 'not_found' });
    }
    // A tenant that does not exist is named as the thing not found, on every history path.
    for (const path of ['', '/versions/1', '/diff?from=1&to=2']) {
      expect(await adminJson('GET', `/tenants/tn_gone/history/User/${user.id}${path}`)).toMatchObject({
        code: 'not_found',
        detail: expect.stringContaining('tn_gone'),
      });
    }
  });

  it('says a password changed, by PUT or by PATCH, in the timeline and in diffs, never what it is', async () => {
    const body = { userName: 'pw-history@example.com', password: 'first-Secret-1' };
    const user = (await (await scim('POST', '/Users', body)).json()) as { id: string };
    expect((await scim('PUT', `/Users/${user.id}`, { ...body, password: 'second-Secret-2' })).status).toBe(200);
    const patched = await scim('PATCH', `/Users/${user.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'password', value: 'third-Secret-3' }],
    });
    expect(patched.status).toBe(200);
    const base = `/tenants/${tenantId}/history/User/${user.id}`;
    const timeline = await adminJson('GET', base);
    expect(timeline).toMatchObject({
      total: 3,
      items: [{ version: 3, attributes: ['password'] }, { version: 2, attributes: ['password'] }, { version: 1 }],
    });
    const setPassword = { op: 'set', path: ['password'], value: '[redacted]' };
    for (const [from, to] of [
      [1, 2],
      [2, 3],
      [1, 3],
      [3, 1],
    ]) {
      expect((await adminJson('GET', `${base}/diff?from=${from}&to=${to}`)).changes).toContainEqual(setPassword);
    }
    const version = await adminJson('GET', `${base}/versions/2`);
    expect(version).toMatchObject({ resource: { userName: body.userName, password: '[redacted]' } });
    const shown = JSON.stringify([timeline, version]);
    for (const secret of ['first-Secret', 'second-Secret', 'third-Secret', '$scrypt'])
      expect(shown).not.toContain(secret);
  });

  it('pages through a fixed set with before_seq while new traffic arrives; takes times with offsets', async () => {
    for (let i = 0; i < 6; i++) await scim('GET', `/Users?count=1&pin=${i}`);
    const listed = async (query: string) =>
      (
        (await adminJson('GET', `/request-logs?tenant_id=${tenantId}&path=/scim/v2/Users&${query}`)).items as {
          seq: number;
        }[]
      ).map((entry) => entry.seq);
    const first = await listed('per_page=2');
    const second = await listed('per_page=2&page=2');
    await scim('GET', '/Users?count=1&pin=late-1');
    await scim('GET', '/Users?count=1&pin=late-2');
    const pin = `before_seq=${first[0]! + 1}`;
    expect(await listed(`per_page=2&${pin}`)).toEqual(first);
    expect(await listed(`per_page=2&page=2&${pin}`)).toEqual(second);
    // Without the pin, the newest page holds the new entries.
    expect((await listed('per_page=2'))[0]).toBeGreaterThan(first[0]!);
    // A poll for what is new since the newest entry seen: by seq, which a slow request cannot undercut.
    const newest = await listed('per_page=2');
    expect(await listed(`after_seq=${first[0]!}`)).toEqual(newest);
    const refused = await fetch(
      `${server.url}/api/v1/admin/request-logs?after_seq=${first[0]!}&before_seq=${first[0]!}`,
      { headers: { Authorization: `Bearer ${admin}` } },
    );
    expect(refused.status).toBe(422);
    // Keyset paging: each next page below the oldest seq read, page 1, to the empty end of a window.
    const everything = await listed(`per_page=200&${pin}`);
    const walked: number[] = [];
    let below = first[0]! + 1;
    const floor = everything.at(-1)! - 1;
    for (;;) {
      const page = await listed(`per_page=2&after_seq=${floor}&before_seq=${below}`);
      walked.push(...page);
      if (page.length < 2) break;
      below = page.at(-1)!;
    }
    expect(walked).toEqual(everything);
    // A last page that came back full: the window below it is empty, not a mistake.
    expect(await listed(`per_page=2&after_seq=${floor}&before_seq=${floor + 1}`)).toEqual([]);
    // since/until take an offset as well as Z: the same instant either way.
    const since = (at: string) =>
      adminJson('GET', `/request-logs?tenant_id=${tenantId}&since=${encodeURIComponent(at)}`);
    const withOffset = await since('2000-01-01T02:00:00+02:00');
    expect(withOffset.total).toBeGreaterThan(0);
    expect(withOffset.total).toBe((await since('2000-01-01T00:00:00Z')).total);
    expect((await since('2099-01-01T02:00:00+02:00')).total).toBe(0);
  });

  it('copies no user data into entries of log and history reads; a deleted tenant leaves none behind', async () => {
    const doomed = String((await adminJson('POST', '/tenants', { name: 'Doomed' })).id);
    const token = String((await adminJson('POST', '/scim-tokens', { tenant_id: doomed, name: 'idp' })).token);
    // No character that a query string would percent-encode: a search for it matches query text too.
    const marker = 'DoomedPrivatePerson';
    const created = await fetch(`${server.url}/scim/v2/Users`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' },
      body: JSON.stringify({ userName: marker }),
    });
    const user = (await created.json()) as { id: string };
    const search = async () =>
      (await adminJson('GET', `/request-logs?q=${marker}&per_page=100`)).items as {
        id: string;
        path: string;
        tenant_id: string | null;
      }[];
    const [post] = await search();
    expect(post).toMatchObject({ path: '/scim/v2/Users', tenant_id: doomed });
    // The console reads the entry and the user's history, and searches again.
    expect((await adminJson('GET', `/request-logs/${post!.id}`)).request).toBeDefined();
    const history = `/tenants/${doomed}/history/User/${user.id}`;
    expect(await adminJson('GET', `${history}/versions/1`)).toMatchObject({ resource: { userName: marker } });
    expect((await search()).map((entry) => entry.path)).toEqual(['/scim/v2/Users']);
    const reads = (await adminJson('GET', '/request-logs?method=GET&path=/api/v1/admin/&per_page=20')).items as {
      id: string;
      path: string;
      query: string;
    }[];
    const versionRead = reads.find((entry) => entry.path === `/api/v1/admin${history}/versions/1`)!;
    const detail = await adminJson('GET', `/request-logs/${versionRead.id}`);
    expect(detail).toMatchObject({ request: { body: null }, response: { body: null } });
    expect(reads.map((entry) => entry.query)).toContain('q=[withheld]&per_page=100');
    // The search text is withheld from requests refused before they ran, too: without a token,
    // and on the stream, which does not search.
    expect((await fetch(`${server.url}/api/v1/admin/request-logs?q=${marker}`)).status).toBe(401);
    const streamed = await fetch(`${server.url}/api/v1/admin/request-logs/stream?q=${marker}`, {
      headers: { Authorization: `Bearer ${admin}` },
    });
    expect(streamed.status).toBe(422);
    // A misspelt q, refused for it, carries the same text.
    const misspelt = await fetch(`${server.url}/api/v1/admin/request-logs?Q=${marker}`, {
      headers: { Authorization: `Bearer ${admin}` },
    });
    expect(misspelt.status).toBe(422);
    const refusedReads = (await adminJson('GET', '/request-logs?path=/api/v1/admin/request-logs&per_page=20'))
      .items as { status: number; query: string }[];
    expect(refusedReads.filter((entry) => entry.status === 401 || entry.status === 422)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ status: 401, query: 'q=[withheld]' }),
        expect.objectContaining({ status: 422, query: 'q=[withheld]' }),
        expect.objectContaining({ status: 422, query: 'Q=[withheld]' }),
      ]),
    );

    const deleted = await fetch(`${server.url}/api/v1/admin/tenants/${doomed}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${admin}` },
    });
    expect(deleted.status).toBe(204);
    expect(await search()).toEqual([]);
    // The deletion itself stays on record.
    const deletion = (await adminJson('GET', '/request-logs?method=DELETE&per_page=10')).items as { path: string }[];
    expect(deletion.map((entry) => entry.path)).toContain(`/api/v1/admin/tenants/${doomed}`);
  });

  it('names the request log entry of the request behind each version, Bulk and console included', async () => {
    const created = await scim('POST', '/Users', { userName: 'linked@example.com' });
    const user = (await created.json()) as { id: string };
    const bulk = await scim('POST', '/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [
        {
          method: 'PATCH',
          path: `/Users/${user.id}`,
          data: {
            schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
            Operations: [{ op: 'replace', path: 'title', value: 'Bulk' }],
          },
        },
        {
          method: 'PATCH',
          path: `/Users/${user.id}`,
          data: {
            schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
            Operations: [{ op: 'replace', path: 'title', value: 'Bulk 2' }],
          },
        },
      ],
    });
    expect(bulk.status).toBe(200);
    // The console browsing through the tenant path with the admin token.
    const consolePatch = await fetch(`${server.url}/api/v1/tenants/${tenantId}/scim/v2/Users/${user.id}`, {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/scim+json' },
      body: JSON.stringify({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', path: 'title', value: 'Console' }],
      }),
    });
    expect(consolePatch.status).toBe(200);

    const timeline = await adminJson('GET', `/tenants/${tenantId}/history/User/${user.id}`);
    const items = timeline.items as { version: number; request_id: string | null; request_seq: number | null }[];
    expect(items.map((item) => item.version)).toEqual([4, 3, 2, 1]);
    const requestOf = async (item: (typeof items)[number]) => {
      expect(item.request_seq).toEqual(expect.any(Number));
      const entry = await adminJson('GET', `/request-logs/${item.request_seq}`);
      expect(entry.request_id).toBe(item.request_id);
      return `${String(entry.method)} ${String(entry.path)} ${String(entry.source)}`;
    };
    expect(await requestOf(items[3]!)).toBe('POST /scim/v2/Users idp');
    expect(await requestOf(items[2]!)).toBe('POST /scim/v2/Bulk idp');
    expect(await requestOf(items[1]!)).toBe('POST /scim/v2/Bulk idp');
    expect(items[1]!.request_seq).toBe(items[2]!.request_seq);
    expect(await requestOf(items[0]!)).toBe(`PATCH /api/v1/tenants/${tenantId}/scim/v2/Users/${user.id} console`);
    const version = await adminJson('GET', `/tenants/${tenantId}/history/User/${user.id}/versions/1`);
    expect(version).toMatchObject({ request_id: items[3]!.request_id, request_seq: items[3]!.request_seq });
    // Ids are the requests' own: no two requests share one.
    expect(new Set(items.map((item) => item.request_id)).size).toBe(3);
  });

  it('keeps the version of a resource a PUT restates, as Okta does on every push', async () => {
    const body = {
      userName: 'restated@example.com',
      name: { givenName: 'Re', familyName: 'Stated' },
      emails: [{ value: 'restated@example.com', type: 'work', primary: true }],
    };
    const user = (await (await scim('POST', '/Users', body)).json()) as { id: string; meta: { version: string } };
    // The same content again, keys in another order, null for what is not set.
    const restated = { emails: body.emails, name: { familyName: 'Stated', givenName: 'Re' }, userName: body.userName };
    for (const again of [body, restated, { ...body, title: null }]) {
      const response = await scim('PUT', `/Users/${user.id}`, again);
      expect(response.status).toBe(200);
      expect(response.headers.get('etag')).toBe(user.meta.version);
    }
    const changed = await scim('PUT', `/Users/${user.id}`, { ...body, title: 'Lead' });
    expect(changed.headers.get('etag')).toBe('W/"2"');
    const timeline = await adminJson('GET', `/tenants/${tenantId}/history/User/${user.id}`);
    expect(timeline).toMatchObject({ total: 2, items: [{ version: 2, attributes: ['title'] }, { version: 1 }] });

    // Groups too: members restated without their type (the server fills it in).
    const group = (await (
      await scim('POST', '/Groups', { displayName: 'Restated', members: [{ value: user.id }] })
    ).json()) as { id: string; meta: { version: string } };
    const again = await scim('PUT', `/Groups/${group.id}`, { displayName: 'Restated', members: [{ value: user.id }] });
    expect(again.headers.get('etag')).toBe(group.meta.version);
    // A user with a manager: PUT back what a GET answered (manager $ref and displayName derived),
    // then the body first sent, and again: one version throughout.
    const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
    const withManager = {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENT],
      userName: 'managed@example.com',
      [ENT]: { department: 'R&D', manager: { value: user.id } },
    };
    const managed = (await (await scim('POST', '/Users', withManager)).json()) as {
      id: string;
      meta: { version: string };
    };
    // Revision 1, with a digest of the manager's name a GET derives.
    expect(managed.meta.version).toMatch(/^W\/"1\.[0-9a-f]{12}"$/);
    for (let round = 0; round < 2; round++) {
      const answered = (await (await scim('GET', `/Users/${managed.id}`)).json()) as Record<string, unknown>;
      expect(answered[ENT]).toMatchObject({
        manager: { value: user.id, $ref: expect.any(String), displayName: 'restated@example.com' },
      });
      const back = await scim('PUT', `/Users/${managed.id}`, answered);
      expect(back.headers.get('etag')).toBe(managed.meta.version);
      const first = await scim('PUT', `/Users/${managed.id}`, withManager);
      expect(first.headers.get('etag')).toBe(managed.meta.version);
    }
    // A PATCH that sets the manager as a GET shows it changes nothing either.
    const shown = ((await (await scim('GET', `/Users/${managed.id}`)).json()) as Record<string, { manager: unknown }>)[
      ENT
    ]?.manager;
    const samePatch = await scim('PATCH', `/Users/${managed.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: `${ENT}:manager`, value: shown }],
    });
    expect(samePatch.status).toBe(200);
    expect(samePatch.headers.get('etag')).toBe(managed.meta.version);

    // A password is a change even when it is the same one: only its salted hash is kept.
    const password = await scim('PUT', `/Users/${user.id}`, { ...body, title: 'Lead', password: 'S3cret!pass' });
    // Revision 3; the user is a member of "Restated", so its tag carries a digest too.
    expect(password.headers.get('etag')).toMatch(/^W\/"3\.[0-9a-f]{12}"$/);
  });

  it('filters the log by token and reports server status', async () => {
    const other = String((await adminJson('POST', '/scim-tokens', { tenant_id: tenantId, name: 'other' })).token);
    const otherId = (
      (await adminJson('GET', `/scim-tokens?tenant_id=${tenantId}`)).items as { id: string; name: string }[]
    ).find((t) => t.name === 'other')!.id;
    await fetch(`${server.url}/scim/v2/Users?count=0`, { headers: { Authorization: `Bearer ${other}` } });
    const byToken = await adminJson('GET', `/request-logs?token_id=${otherId}`);
    expect(byToken).toMatchObject({ total: 1, items: [{ token: { name: 'other' } }] });

    await fetch(`${server.url}/scim/v2/Users`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${other}`, 'Content-Type': 'application/scim+json' },
      body: JSON.stringify({ userName: 'status@example.com' }),
    });
    const status = await adminJson('GET', '/status');
    expect(status).toMatchObject({ url: server.url, data_dir: server.dataDir, version: expect.any(String) });
    expect(status.requests_last_minute).toBeGreaterThan(0);
    expect(status.tenants).toContainEqual(
      expect.objectContaining({ id: tenantId, scim_tokens: 2, active_scim_tokens: 2 }),
    );
    // A revoked token is still held, and no longer usable.
    expect(
      (
        await fetch(`${server.url}/api/v1/admin/scim-tokens/${otherId}`, {
          method: 'DELETE',
          headers: { Authorization: `Bearer ${admin}` },
        })
      ).status,
    ).toBe(204);
    expect((await adminJson('GET', '/status')).tenants as unknown[]).toContainEqual(
      expect.objectContaining({ id: tenantId, scim_tokens: 2, active_scim_tokens: 1 }),
    );
    // What an operator watches for a folder that grows or a disk that fails.
    expect(status).toMatchObject({
      store: { journal_bytes: expect.any(Number) },
      history: { records: expect.any(Number), dropped: 0, write_errors: 0, last_error: null },
      request_log: { write_errors: 0, last_error: null },
      memory: { rss: expect.any(Number), heap_used: expect.any(Number) },
    });
    expect((status.store as { journal_bytes: number }).journal_bytes).toBeGreaterThan(0);
    expect((status.history as { records: number }).records).toBeGreaterThan(0);
    // A tenant deleted by an earlier test made one already (its writes leave the journal).
    const before = (status.store as { last_checkpoint_at: string | null }).last_checkpoint_at;
    await server.app.store.checkpoint(true);
    const after = await adminJson('GET', '/status');
    expect(Date.parse((after.store as { last_checkpoint_at: string }).last_checkpoint_at)).toBeGreaterThan(
      before === null ? 0 : Date.parse(before),
    );
  });

  it('logs requests without a credential at a bounded rate, and every request with one', async () => {
    const before = (await adminJson('GET', '/status')).request_log as { anonymous_dropped: number };
    // What any web page can have a browser send: no token, to SCIM and to the admin API.
    const flood = [
      ...Array.from({ length: 120 }, (_, i) => fetch(`${server.url}/scim/v2/Users?flood=${i}`)),
      ...Array.from({ length: 60 }, (_, i) => fetch(`${server.url}/api/v1/admin/no-such-thing?flood=${i}`)),
    ];
    expect(new Set((await Promise.all(flood)).map((answer) => answer.status))).toEqual(new Set([401, 404]));
    expect((await scim('GET', '/Users?count=0&after=flood')).status).toBe(200);
    const after = (await adminJson('GET', '/status')).request_log as { anonymous_dropped: number };
    // A burst of 100 is taken, then 2 a second: of 180 sent at once, at least 70 are only counted.
    expect(after.anonymous_dropped - before.anonymous_dropped).toBeGreaterThanOrEqual(70);
    const logged = await adminJson('GET', '/request-logs?q=after=flood');
    expect(logged).toMatchObject({ total: 1, items: [{ status: 200, token: { name: 'okta' } }] });
  });

  it('lists the compatibility flags for the console', async () => {
    const doc = await adminJson('GET', '/compat-flags');
    expect((doc.profiles as { name: string }[]).map((p) => p.name)).toEqual(['compatible', 'entra', 'okta', 'strict']);
    expect(doc.flags).toContainEqual(expect.objectContaining({ name: 'booleanStrings', kind: 'leniency' }));
  });

  it('streams new entries and resumes after Last-Event-ID without loss or repetition', async () => {
    const first = await stream();
    expect(first.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const firstEvents = readEvents(first, (events) =>
      events.some((e) => e.event === 'entry' && (e.data ?? '').includes('/scim/v2/Users/missing-1')),
    );
    await scim('GET', '/Users/missing-1');
    const seen = await firstEvents;
    const lastId = seen.at(-1)!.id!;

    // While nobody listens, three more requests happen.
    for (const n of [2, 3, 4]) await scim('GET', `/Users/missing-${n}`);

    const resumed = await stream({ 'Last-Event-ID': lastId }, `?tenant_id=${tenantId}`);
    const events = await readEvents(resumed, (evs) =>
      evs.some((e) => e.event === 'entry' && (e.data ?? '').includes('/scim/v2/Users/missing-4')),
    );
    const paths = events.filter((e) => e.event === 'entry').map((e) => (JSON.parse(e.data!) as { path: string }).path);
    expect(paths.filter((p) => p.includes('missing-'))).toEqual([
      '/scim/v2/Users/missing-2',
      '/scim/v2/Users/missing-3',
      '/scim/v2/Users/missing-4',
    ]);
    const ids = events.map((e) => Number(e.id));
    expect(ids.every((id) => id > Number(lastId))).toBe(true);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
  });

  it("says with a gap event how many of a tenant's entries were evicted before a resume, and only its own", async () => {
    const small = String((await adminJson('POST', '/tenants', { name: 'Small log', log_max_entries: 100 })).id);
    const token = String((await adminJson('POST', '/scim-tokens', { tenant_id: small, name: 'x' })).token);
    const before = (await adminJson('GET', '/request-logs?per_page=1')).items as { seq: number }[];
    const start = before[0]!.seq;
    for (let i = 0; i < 130; i++) {
      await fetch(`${server.url}/scim/v2/Users?count=0`, { headers: { Authorization: `Bearer ${token}` } });
    }
    const resumed = await stream({ 'Last-Event-ID': String(start) }, `?tenant_id=${small}`);
    const events = await readEvents(resumed, (evs) => evs.filter((e) => e.event === 'entry').length >= 100);
    const gap = events.find((e) => e.event === 'gap');
    expect(gap).toBeDefined();
    expect(JSON.parse(gap!.data!)).toEqual({ missed: 30 });

    // Another tenant's stream over the same span: the small log's evictions are none of its business.
    const mine = await stream({ 'Last-Event-ID': String(start) }, `?tenant_id=${tenantId}`);
    const mineEvents = readEvents(mine, (evs) =>
      evs.some((e) => e.event === 'entry' && (e.data ?? '').includes('/scim/v2/Users/after-the-evictions')),
    );
    await scim('GET', '/Users/after-the-evictions');
    expect((await mineEvents).filter((e) => e.event === 'gap')).toEqual([]);
  });

  it("keeps a tenant's real traffic through a flood with a made-up token at endpoints answered before any token is asked for", async () => {
    const capped = String((await adminJson('POST', '/tenants', { name: 'Flooded log', log_max_entries: 100 })).id);
    const token = String((await adminJson('POST', '/scim-tokens', { tenant_id: capped, name: 'idp' })).token);
    const base = `${server.url}/api/v1/tenants/${capped}/scim/v2`;
    const real = { headers: { Authorization: `Bearer ${token}` } };
    for (let i = 0; i < 10; i++) expect((await fetch(`${base}/Users?count=0&real=${i}`, real)).status).toBe(200);
    // A valid token on a public endpoint is the IdP's own traffic, named as such.
    expect((await fetch(`${base}/ServiceProviderConfig?real=discovery`, real)).status).toBe(200);
    const madeUp = { headers: { Authorization: `Bearer scimdesk_${'Z'.repeat(43)}` } };
    for (let i = 0; i < 150; i++) {
      const path = ['/Bulk', '/ServiceProviderConfig', '/Nope'][i % 3]!;
      await fetch(`${base}${path}`, madeUp);
    }
    const listed = await adminJson('GET', `/request-logs?tenant_id=${capped}&per_page=100`);
    const items = listed.items as { query: string; token: { name: string } | null }[];
    expect(items.filter((item) => item.query.includes('real=')).length).toBe(11);
    expect(items.find((item) => item.query === 'real=discovery')?.token?.name).toBe('idp');
  });

  it('narrows the live stream by the filters one entry can answer, and refuses those it cannot', async () => {
    const errorsOnly = await stream({}, `?tenant_id=${tenantId}&has_error=true&method=get`);
    const events = readEvents(errorsOnly, (evs) =>
      evs.some((e) => e.event === 'entry' && (e.data ?? '').includes('/scim/v2/Users/stream-filter-missing')),
    );
    await scim('POST', '/Users', { userName: 'stream-filter-ok@example.com' });
    await scim('GET', '/Users?count=1');
    await scim('GET', '/Users/stream-filter-missing');
    const entries = (await events)
      .filter((e) => e.event === 'entry')
      .map((e) => JSON.parse(e.data!) as { method: string; path: string; status: number });
    expect(entries).toEqual([
      expect.objectContaining({ method: 'GET', path: '/scim/v2/Users/stream-filter-missing', status: 404 }),
    ]);

    const refused = async (query: string) => {
      const response = await stream({}, query);
      expect(response.status).toBe(422);
      return ((await response.json()) as { detail: { loc: string[]; msg: string }[] }).detail;
    };
    // Ignored, these would stream everything while the reader believes it narrowed.
    expect(await refused('?q=alice&since=2026-01-01T00:00:00Z')).toEqual([
      {
        loc: ['query', 'q'],
        msg: 'The live stream does not filter by q; GET /request-logs does.',
        type: 'unrecognized_keys',
      },
      {
        loc: ['query', 'since'],
        msg: 'The live stream does not filter by since; GET /request-logs does.',
        type: 'unrecognized_keys',
      },
    ]);
    expect((await refused('?status=abc'))[0]).toMatchObject({
      loc: ['query', 'status'],
      msg: 'must be a status code (404) or a class (4xx), not "abc"',
    });
    expect((await refused('?has_eror=true'))[0]!.msg).toBe('Unknown query parameter; did you mean has_error?');
    expect((await refused('?after_seq=3'))[0]!.msg).toBe(
      'The live stream resumes after a sequence number given as after (or Last-Event-ID).',
    );
  });

  it('refuses a live stream past the cap of open ones, and takes one again once one closes', async () => {
    const readers = Array.from({ length: MAX_LIVE_STREAMS }, () => new AbortController());
    const open = await Promise.all(
      readers.map((reader) =>
        fetch(`${server.url}/api/v1/admin/request-logs/stream?path=/nothing-matches`, {
          headers: { Authorization: `Bearer ${admin}` },
          signal: reader.signal,
        }),
      ),
    );
    try {
      expect(open.map((response) => response.status)).toEqual(readers.map(() => 200));
      const refused = await stream({}, '?path=/nothing-matches');
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('5');
      expect(((await refused.json()) as { detail: string }).detail).toMatch(
        /live request-log streams are open already/,
      );
    } finally {
      for (const reader of readers) reader.abort();
    }
    await expect
      .poll(async () => {
        const again = await stream({}, '?path=/nothing-matches');
        await again.body?.cancel();
        return again.status;
      })
      .toBe(200);
  });

  it('refuses a filter naming a tenant or token that does not exist, on the list and on the stream', async () => {
    const list = (query: string) =>
      fetch(`${server.url}/api/v1/admin/request-logs${query}`, { headers: { Authorization: `Bearer ${admin}` } });
    const detailOf = async (response: Response) => {
      expect(response.status).toBe(404);
      return ((await response.json()) as { detail: string }).detail;
    };
    expect(await detailOf(await list('?tenant_id=tn_mistyped'))).toBe('Tenant tn_mistyped not found.');
    expect(await detailOf(await stream({}, '?tenant_id=tn_mistyped'))).toBe('Tenant tn_mistyped not found.');
    expect(await detailOf(await list('?token_id=tok_mistyped'))).toMatch(/tok_mistyped/);
    expect(await detailOf(await stream({}, '?token_id=tok_mistyped'))).toMatch(/tok_mistyped/);
    // A tenant that has gone takes its entries with it, but not its name for the filter while the
    // server runs: a live stream told `tenant_deleted` goes on, and is reconnected with it.
    const gone = String((await adminJson('POST', '/tenants', { name: 'Gone soon' })).id);
    await fetch(`${server.url}/api/v1/admin/tenants/${gone}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${admin}` },
    });
    const goneList = await list(`?tenant_id=${gone}`);
    expect(goneList.status).toBe(200);
    expect(((await goneList.json()) as { total: number }).total).toBe(0);
    expect((await list(`?tenant_id=${tenantId}&per_page=1`)).status).toBe(200);

    // An IdP whose base URL holds a mistyped tenant id is logged under that id: those entries are
    // what the reader is after, so the filter finds them.
    const unknownToken = { headers: { Authorization: 'Bearer scimdesk_not-a-token-of-this-server' } };
    expect((await fetch(`${server.url}/api/v1/tenants/tn_typo/scim/v2/Users`, unknownToken)).status).toBe(401);
    await expect.poll(async () => (await list('?tenant_id=tn_typo')).status).toBe(200);
    const typo = (await (await list('?tenant_id=tn_typo')).json()) as { total: number; items: { path: string }[] };
    expect(typo.items.map((item) => item.path)).toEqual(['/api/v1/tenants/tn_typo/scim/v2/Users']);
    const typoStream = await stream({}, '?tenant_id=tn_typo');
    expect(typoStream.status).toBe(200);
    await typoStream.body?.cancel();
  });

  it('marks a Bulk request whose operations failed as having an error, though it answered 200', async () => {
    const response = await scim('POST', '/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'ok', data: { userName: 'bulk-logged@example.com' } },
        { method: 'DELETE', path: '/Users/no-such-user' },
        { method: 'DELETE', path: '/Users/no-such-user-either' },
      ],
    });
    expect(response.status).toBe(200);
    const list = await adminJson('GET', `/request-logs?tenant_id=${tenantId}&per_page=1`);
    const [entry] = list.items as { id: string; path: string; status: number; has_error: boolean }[];
    expect(entry).toMatchObject({ path: '/scim/v2/Bulk', status: 200, has_error: true });
    const detail = await adminJson('GET', `/request-logs/${entry!.id}`);
    expect(detail.error).toEqual({
      message: expect.stringMatching(
        /^2 of 3 Bulk operations failed \(operations 2, 3\); the first, operation 2 \(DELETE\), answered 404:/,
      ),
    });

    await scim('POST', '/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [{ method: 'POST', path: '/Users', bulkId: 'ok2', data: { userName: 'bulk-logged-2@example.com' } }],
    });
    const clean = await adminJson('GET', `/request-logs?tenant_id=${tenantId}&per_page=1`);
    expect((clean.items as { has_error: boolean }[])[0]).toMatchObject({ has_error: false });

    // Many failures: the first 50 are named by number, the rest counted.
    await scim('POST', '/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: Array.from({ length: 53 }, (_, n) => ({ method: 'DELETE', path: `/Users/missing-${n}` })),
    });
    const [many] = (await adminJson('GET', `/request-logs?tenant_id=${tenantId}&per_page=1`)).items as { id: string }[];
    const numbers = Array.from({ length: 50 }, (_, n) => n + 1).join(', ');
    expect(((await adminJson('GET', `/request-logs/${many!.id}`)).error as { message: string }).message).toContain(
      `53 of 53 Bulk operations failed (operations ${numbers} and 3 more); the first, operation 1 (DELETE)`,
    );
    // Numbered as in the request, though a reference runs operation 3 first and failOnErrors stops there.
    await scim('POST', '/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      failOnErrors: 1,
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'fine', data: { userName: 'bulk-order@example.com' } },
        { method: 'POST', path: '/Groups', bulkId: 'g', data: { displayName: 'G', members: [{ value: 'bulkId:u1' }] } },
        { method: 'POST', path: '/Users', bulkId: 'u1', data: { userName: '' } },
      ],
    });
    const [ordered] = (await adminJson('GET', `/request-logs?tenant_id=${tenantId}&per_page=1`)).items as {
      id: string;
    }[];
    expect(((await adminJson('GET', `/request-logs/${ordered!.id}`)).error as { message: string }).message).toMatch(
      /^1 of 3 Bulk operations failed \(operation 3\); the first, operation 3 \(POST\)/,
    );

    // The failed Bulk is found by has_error, which status=4xx cannot do.
    type Row = { id: string; has_error: boolean; source: string };
    const ids = (body: Record<string, unknown>) => (body.items as Row[]).map((item) => item.id);
    const withErrors = await adminJson('GET', `/request-logs?tenant_id=${tenantId}&has_error=true&path=Bulk`);
    expect(ids(withErrors)).toContain(entry!.id);
    expect((withErrors.items as Row[]).every((item) => item.has_error)).toBe(true);
    const withoutErrors = await adminJson('GET', `/request-logs?tenant_id=${tenantId}&has_error=false&path=Bulk`);
    expect(ids(withoutErrors)).not.toContain(entry!.id);
    expect((withoutErrors.items as Row[]).every((item) => !item.has_error)).toBe(true);
    const fromIdp = await adminJson('GET', `/request-logs?tenant_id=${tenantId}&source=idp&path=Bulk`);
    expect(ids(fromIdp)).toContain(entry!.id);
    const fromConsole = await adminJson('GET', `/request-logs?tenant_id=${tenantId}&source=console&path=Bulk`);
    expect(ids(fromConsole)).not.toContain(entry!.id);
    expect((fromConsole.items as Row[]).every((item) => item.source === 'console')).toBe(true);
    const bad = await adminJson('GET', '/request-logs?has_error=maybe&source=bogus');
    expect((bad.detail as { loc: string[] }[]).map((d) => d.loc.join('.')).sort()).toEqual([
      'query.has_error',
      'query.source',
    ]);
  });

  it('refuses the stream without an admin token, and a malformed Last-Event-ID', async () => {
    expect((await fetch(`${server.url}/api/v1/admin/request-logs/stream`)).status).toBe(401);
    const bad = await stream({ 'Last-Event-ID': 'abc' });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { detail: { loc: string[] }[] }).detail[0]?.loc).toEqual(['header', 'Last-Event-ID']);
    const badQuery = await stream({}, '?after=abc');
    expect(((await badQuery.json()) as { detail: { loc: string[] }[] }).detail[0]?.loc).toEqual(['query', 'after']);
    expect((await stream({}, '?after=1&after=2')).status).toBe(422);
    expect((await stream({ 'Last-Event-ID': '5' }, '?after=abc')).status).toBe(422);
    for (const field of ['tenant_id', 'token_id', 'method']) {
      expect((await stream({}, `?${field}=`)).status).toBe(422);
      expect((await adminJson('GET', `/request-logs?${field}=`)).detail).toEqual([
        expect.objectContaining({ loc: ['query', field] }),
      ]);
    }
  });

  it('ends a stream with an expired event when the admin token that opened it expires', async () => {
    // As `scimdesk admin-token --ttl 2s` would mint it.
    const key = await loadOrCreateSigningKey(server.dataDir);
    const { token: shortLived } = await new AdminTokens(key, systemClock).issue(2);
    const response = await stream({ Authorization: `Bearer ${shortLived}` });
    expect(response.status).toBe(200);
    // Read until the server ends the stream: readEvents throws if it is still open after 10 s.
    const events = await readEvents(response, () => false);
    expect(events.at(-1)).toEqual({
      event: 'expired',
      data: JSON.stringify({ detail: 'The admin token has expired.' }),
    });
    expect((await stream({ Authorization: `Bearer ${shortLived}` })).status).toBe(401);
  });

  it('tells a stream that follows one tenant that it was deleted, and goes on with what its URL still gets', async () => {
    const created = (await adminJson('POST', '/tenants', { name: 'Followed, then deleted' })) as { id: string };
    const { token } = (await adminJson('POST', '/scim-tokens', { tenant_id: created.id, name: 'gone' })) as {
      token: string;
    };
    const response = await stream({}, `?tenant_id=${created.id}`);
    expect(response.status).toBe(200);
    const deleted = await fetch(`${server.url}/api/v1/admin/tenants/${created.id}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${admin}` },
    });
    expect(deleted.status).toBe(204);
    // The IdP has not been told: it calls again with its old token.
    const late = await fetch(`${server.url}/api/v1/tenants/${created.id}/scim/v2/Users`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(late.status).toBe(401);
    const events = await readEvents(response, (seen) => seen.some((event) => event.event === 'entry'));
    expect(events[0]).toEqual({ event: 'tenant_deleted', data: JSON.stringify({ tenant_id: created.id }) });
    expect(JSON.parse(events[1]?.data ?? 'null')).toMatchObject({ status: 401, tenant_id: created.id });
    // A reader that reconnects with the same filter is taken back, before any more traffic too.
    const quiet = (await adminJson('POST', '/tenants', { name: 'Deleted, then followed' })) as { id: string };
    await fetch(`${server.url}/api/v1/admin/tenants/${quiet.id}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${admin}` },
    });
    const again = await stream({}, `?tenant_id=${quiet.id}`);
    expect(again.status).toBe(200);
    await again.body?.cancel();
    expect(await adminJson('GET', `/request-logs?tenant_id=${quiet.id}`)).toMatchObject({ total: 0 });
  });

  it('ends open streams when the server stops', async () => {
    const other = await startTestServer();
    const token = await other.adminToken();
    const response = await fetch(`${other.url}/api/v1/admin/request-logs/stream`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    const reader = response.body!.getReader();
    await reader.read();
    const stopped = Date.now();
    await other.stop();
    // Well inside the 10 s grace after which a shutdown would cut connections by force.
    expect(Date.now() - stopped).toBeLessThan(5000);
    // The stream ends rather than hanging.
    let done = false;
    while (!done) done = (await reader.read()).done;
  });

  it('does not let a stream whose client stopped reading hold up a shutdown', { timeout: 60_000 }, async () => {
    const other = await startTestServer();
    const { token: scimToken, admin: otherAdmin } = await other.tenantWithToken('Stalled');
    const { port } = new URL(other.url);
    // A client that asks for the stream and then never reads a byte of it.
    const client = connect(Number(port), '127.0.0.1');
    client.pause();
    client.on('error', () => undefined);
    client.write(
      `GET /api/v1/admin/request-logs/stream HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
        `Authorization: Bearer ${otherAdmin}\r\n\r\n`,
    );
    // Streamed entries carry the query string: ~30 KB each, until far more than the socket buffers
    // (a few MB on loopback) hold. Without the cut, the shutdown waited its full 10 s grace.
    const query = `filter=${'userName eq "x" or '.repeat(1_000)}userName eq "y"`;
    for (let i = 0; i < 400; i++) {
      const response = await fetch(`${other.url}/scim/v2/Users?${encodeURI(query)}&i=${i}`, {
        headers: { Authorization: `Bearer ${scimToken}` },
      });
      await response.arrayBuffer();
    }
    try {
      const stopped = Date.now();
      await other.stop();
      expect(Date.now() - stopped).toBeLessThan(5000);
    } finally {
      client.destroy();
    }
  });
});
