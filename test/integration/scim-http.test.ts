import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, tempDataDir, type TestServer } from './harness';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const SCIM_JSON = 'application/scim+json';

interface Setup {
  server: TestServer;
  admin: string;
  tenantId: string;
  secret: string;
  tokenId: string;
}

async function adminCall(s: Pick<Setup, 'server' | 'admin'>, method: string, path: string, body?: unknown) {
  const response = await fetch(`${s.server.url}/api/v1/admin${path}`, {
    method,
    headers: { Authorization: `Bearer ${s.admin}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

async function setup(): Promise<Setup> {
  const server = await startTestServer();
  const admin = await server.adminToken();
  const tenant = await adminCall({ server, admin }, 'POST', '/tenants', { name: 'Contoso' });
  const tenantId = String(tenant.body?.id);
  const token = await adminCall({ server, admin }, 'POST', '/scim-tokens/', { tenant_id: tenantId, name: 'idp' });
  return { server, admin, tenantId, secret: String(token.body?.token), tokenId: String(token.body?.id) };
}

describe.each([
  ['token-scoped /scim/v2', (s: Setup) => `${s.server.url}/scim/v2`],
  ['tenant path', (s: Setup) => `${s.server.url}/api/v1/tenants/${s.tenantId}/scim/v2`],
])('SCIM over HTTP on the %s', (_name, baseOf) => {
  let s: Setup;
  let base: string;
  beforeAll(async () => {
    s = await setup();
    base = baseOf(s);
  });
  afterAll(() => s.server.stop());

  const scim = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method,
      headers: { Authorization: `Bearer ${s.secret}`, 'Content-Type': SCIM_JSON, ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('tells browsers not to sniff any API answer, errors included, nor to cache the admin API', async () => {
    const answers = [
      await scim('GET', '/Users?count=1'),
      await scim('GET', '/Users/no-such-id'),
      await fetch(`${base}/Users`),
      await fetch(`${s.server.url}/api/v1/admin/tenants`),
      // No API path: the plain-text 404 echoes the path.
      await fetch(`${base};x`),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([200, 404, 401, 401, 404]);
    for (const answer of answers) expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
    const created = await fetch(`${s.server.url}/api/v1/admin/scim-tokens`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${s.admin}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ tenant_id: s.tenantId, name: `cache-${base.length}` }),
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
  });

  it('creates a user: 201, Location equal to meta.location, ETag, SCIM content type', async () => {
    const response = await scim('POST', '/Users', { schemas: [USER], userName: 'create@example.com' });
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toBe('application/scim+json; charset=utf-8');
    const user = (await response.json()) as { id: string; meta: { location: string; version: string } };
    expect(response.headers.get('location')).toBe(user.meta.location);
    expect(user.meta.location).toBe(`${base}/Users/${user.id}`);
    expect(response.headers.get('etag')).toBe(user.meta.version);
    const fetched = await scim('GET', `/Users/${user.id}`);
    expect(fetched.status).toBe(200);
    expect(await fetched.json()).toEqual(user);
  });

  it('hands out https URLs behind a tunnel that forwards X-Forwarded-Proto: https', async () => {
    const tunneled = await scim(
      'POST',
      '/Users',
      { userName: 'tunneled@example.com' },
      { 'X-Forwarded-Proto': 'https' },
    );
    const user = (await tunneled.json()) as { id: string; meta: { location: string } };
    const secure = base.replace(/^http:/, 'https:');
    expect(user.meta.location).toBe(`${secure}/Users/${user.id}`);
    expect(tunneled.headers.get('location')).toBe(user.meta.location);
    // Anything but http or https is not a scheme to hand out.
    const odd = await scim('GET', `/Users/${user.id}`, undefined, { 'X-Forwarded-Proto': 'javascript' });
    expect(((await odd.json()) as { meta: { location: string } }).meta.location).toBe(`${base}/Users/${user.id}`);
  });

  it('accepts application/json bodies, with or without charset, in any case', async () => {
    for (const [i, type] of [
      'application/json',
      'application/json; charset=utf-8',
      'application/scim+json; charset=UTF-8',
      'APPLICATION/JSON',
      'Application/SCIM+json ; charset=utf-8',
    ].entries()) {
      const response = await scim('POST', '/Users', { userName: `ct${i}@example.com` }, { 'Content-Type': type });
      expect(response.status).toBe(201);
    }
  });

  it('refuses a body announced in a charset other than UTF-8, saying so', async () => {
    const response = await scim(
      'POST',
      '/Users',
      { userName: 'utf16@example.com' },
      { 'Content-Type': 'application/json; charset=utf-16' },
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      scimType: 'invalidSyntax',
      detail: 'The body is announced as charset=utf-16; send JSON as UTF-8 (RFC 8259 §8.1).',
    });
    // An ASCII-compatible label on ASCII text is read as the UTF-8 it also is.
    const latin = await scim(
      'POST',
      '/Users',
      { userName: 'latin1-label@example.com' },
      { 'Content-Type': 'application/json; charset=ISO-8859-1' },
    );
    expect(latin.status).toBe(201);
  });

  it('reads a body without Content-Type as JSON where the profile allows it (Okta’s spec test sends none)', async () => {
    // A byte array: fetch sends it without a Content-Type (a string would go as text/plain).
    const untyped = (userName: string) =>
      fetch(`${base}/Users`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${s.secret}` },
        body: new TextEncoder().encode(JSON.stringify({ userName })),
      });
    const accepted = await untyped('untyped@example.com');
    expect(accepted.status).toBe(201);
    expect(await accepted.json()).toMatchObject({ userName: 'untyped@example.com' });
    // A type that is given and is not JSON is still refused.
    const typed = await scim('POST', '/Users', JSON.stringify({ userName: 'typed@example.com' }), {
      'Content-Type': 'text/plain',
    });
    expect(typed.status).toBe(400);

    // The entra profile sends a Content-Type always, and refuses a body without one, naming the flag.
    expect((await adminCall(s, 'PATCH', `/tenants/${s.tenantId}`, { compat_profile: 'entra' })).status).toBe(200);
    try {
      const refused = await untyped('untyped-entra@example.com');
      expect(refused.status).toBe(400);
      expect(await refused.json()).toMatchObject({
        scimType: 'invalidSyntax',
        detail: expect.stringContaining('contentTypeOptional'),
      });
    } finally {
      await adminCall(s, 'PATCH', `/tenants/${s.tenantId}`, { compat_profile: 'compatible' });
    }
  });

  it('answers If-None-Match with 304 and a stale If-Match with 412', async () => {
    const created = (await (await scim('POST', '/Users', { userName: 'etag@example.com' })).json()) as {
      id: string;
      meta: { version: string };
    };
    const notModified = await scim('GET', `/Users/${created.id}`, undefined, { 'If-None-Match': created.meta.version });
    expect(notModified.status).toBe(304);
    const stale = await scim('PUT', `/Users/${created.id}`, { userName: 'etag@example.com' }, { 'If-Match': 'W/"99"' });
    expect(stale.status).toBe(412);
    // Names the revision, not a stored tag the client never saw: it reads the resource again for the ETag.
    expect(await stale.json()).toMatchObject({
      status: '412',
      detail:
        'The resource has changed since the version If-Match names: it is now at revision 1. Read it again for its current ETag.',
    });
    const fresh = await scim(
      'PUT',
      `/Users/${created.id}`,
      { userName: 'etag@example.com', title: 'x' },
      { 'If-Match': created.meta.version },
    );
    expect(fresh.status).toBe(200);
    expect(fresh.headers.get('etag')).toBe('W/"2"');
  });

  it('tells a stale If-Match or a gone id before a body it cannot read (RFC 9110 §13.2.1)', async () => {
    const created = (await (await scim('POST', '/Users', { userName: 'unreadable@example.com' })).json()) as {
      id: string;
    };
    const stale = { 'If-Match': 'W/"99"' };
    expect((await scim('PATCH', `/Users/${created.id}`, '{"schemas":', stale)).status).toBe(412);
    expect((await scim('PUT', `/Users/${created.id}`, '{', stale)).status).toBe(412);
    expect((await scim('PUT', '/Users/no-such-id', '{')).status).toBe(404);
    expect((await scim('PATCH', '/Groups/no-such-id', '{', stale)).status).toBe(404);
    // With its preconditions met, the body's own fault is told.
    const unreadable = await scim('PATCH', `/Users/${created.id}`, '{"schemas":');
    expect(unreadable.status).toBe(400);
    expect(await unreadable.json()).toMatchObject({ scimType: 'invalidSyntax' });
  });

  it("answers a PATCH with no operations as one that changed nothing, as Microsoft's SCIM Validator expects", async () => {
    const created = (await (await scim('POST', '/Groups', { displayName: 'Validator group' })).json()) as {
      id: string;
      meta: { version: string; lastModified: string };
    };
    const empty = { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [] };
    const answer = await scim('PATCH', `/Groups/${created.id}`, empty, { 'If-Match': created.meta.version });
    expect(answer.status).toBe(200);
    // Nothing changed: the same version, the same lastModified.
    expect(answer.headers.get('etag')).toBe(created.meta.version);
    expect(await answer.json()).toMatchObject({ id: created.id, displayName: 'Validator group', meta: created.meta });
    // Strict keeps RFC 7644 §3.5.2's "one or more", naming the flag.
    await adminCall(s, 'PATCH', `/tenants/${s.tenantId}`, { compat_overrides: { emptyPatchAccepted: false } });
    try {
      const refused = await scim('PATCH', `/Groups/${created.id}`, empty);
      expect(refused.status).toBe(400);
      expect(await refused.json()).toMatchObject({
        scimType: 'invalidSyntax',
        detail: expect.stringContaining('compatibility flag "emptyPatchAccepted" is off'),
      });
    } finally {
      await adminCall(s, 'PATCH', `/tenants/${s.tenantId}`, { compat_overrides: {} });
    }
  });

  it('applies the compat_overrides a tenant sets against its profile (requireIfMatch, no profile has it on)', async () => {
    const created = (await (await scim('POST', '/Users', { userName: 'overrides@example.com' })).json()) as {
      id: string;
      meta: { version: string };
    };
    const set = await adminCall(s, 'PATCH', `/tenants/${s.tenantId}`, { compat_overrides: { requireIfMatch: true } });
    expect(set).toMatchObject({ status: 200, body: { compat_overrides: { requireIfMatch: true } } });
    try {
      const blind = await scim('PATCH', `/Users/${created.id}`, {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', path: 'title', value: 'x' }],
      });
      expect(blind.status).toBe(412);
      const detail = String(((await blind.json()) as { detail: string }).detail);
      // Says where the setting lives: the profile's table does not have it on.
      expect(detail).toContain('compatibility flag "requireIfMatch" is on in this tenant\'s compat_overrides');
      expect((await scim('DELETE', `/Users/${created.id}`)).status).toBe(412);
      const matched = await scim(
        'PUT',
        `/Users/${created.id}`,
        { userName: 'overrides@example.com' },
        {
          'If-Match': created.meta.version,
        },
      );
      expect(matched.status).toBe(200);
      // A leniency switched off: the compatible profile's "True" for a boolean is refused, naming where.
      await adminCall(s, 'PATCH', `/tenants/${s.tenantId}`, { compat_overrides: { booleanStrings: false } });
      const stringy = await scim('POST', '/Users', { userName: 'stringy@example.com', active: 'True' });
      expect(stringy.status).toBe(400);
      expect(((await stringy.json()) as { detail: string }).detail).toContain(
        '"booleanStrings" is off in this tenant\'s compat_overrides',
      );
      // The new overrides replaced the old whole: requireIfMatch is back to the profile's off.
      expect((await scim('DELETE', `/Users/${created.id}`)).status).toBe(204);
      // A misspelt flag is refused, not stored and ignored.
      const misspelt = await adminCall(s, 'PATCH', `/tenants/${s.tenantId}`, {
        compat_overrides: { requireIfmatch: true },
      });
      expect(misspelt).toMatchObject({
        status: 422,
        body: {
          detail: [
            {
              loc: ['body', 'compat_overrides', 'requireIfmatch'],
              msg: expect.stringContaining('did you mean requireIfMatch?'),
            },
          ],
        },
      });
    } finally {
      await adminCall(s, 'PATCH', `/tenants/${s.tenantId}`, { compat_overrides: {} });
    }
    const cleared = await adminCall(s, 'GET', `/tenants/${s.tenantId}`);
    expect(cleared.body?.compat_overrides).toEqual({});
    expect((await scim('POST', '/Users', { userName: 'stringy@example.com', active: 'True' })).status).toBe(201);
  });

  it('answers a 304 with the ETag and neither body nor Content-Type, on GET and HEAD', async () => {
    const created = (await (await scim('POST', '/Users', { userName: 'not-modified@example.com' })).json()) as {
      id: string;
      meta: { version: string };
    };
    for (const method of ['GET', 'HEAD']) {
      for (const tag of [created.meta.version, '"1"', `"x", ${created.meta.version}`, '*']) {
        const response = await scim(method, `/Users/${created.id}`, undefined, { 'If-None-Match': tag });
        expect([tag, response.status, response.headers.get('etag')]).toEqual([tag, 304, created.meta.version]);
        expect(response.headers.get('content-type')).toBeNull();
        expect(await response.text()).toBe('');
      }
    }
  });

  it('disregards an Accept that names no JSON type: SCIM JSON, not 406 (architecture.md, Accept)', async () => {
    const created = (await (await scim('POST', '/Users', { userName: 'accept@example.com' })).json()) as {
      id: string;
    };
    for (const accept of ['text/html', 'application/scim+json;q=0', 'application/json']) {
      for (const [path, status] of [
        [`/Users/${created.id}`, 200],
        ['/Users?count=1', 200],
        ['/Users/missing', 404],
      ] as const) {
        const response = await scim('GET', path, undefined, { Accept: accept });
        expect([accept, path, response.status]).toEqual([accept, path, status]);
        expect(response.headers.get('content-type')).toBe('application/scim+json; charset=utf-8');
      }
    }
  });

  it('holds a GET or HEAD of one resource to If-Match: 412 when no listed tag is current, before If-None-Match', async () => {
    const created = (await (await scim('POST', '/Users', { userName: 'get-if-match@example.com' })).json()) as {
      id: string;
      meta: { version: string };
    };
    const path = `/Users/${created.id}`;
    for (const method of ['GET', 'HEAD']) {
      const stale = await scim(method, path, undefined, { 'If-Match': 'W/"99", "98"' });
      expect(stale.status).toBe(412);
      if (method === 'GET') expect(await stale.json()).toMatchObject({ status: '412' });
      // If-Match is evaluated first (RFC 9110 §13.2.2): a matching If-None-Match does not turn it into a 304.
      const both = await scim(method, path, undefined, { 'If-Match': 'W/"99"', 'If-None-Match': created.meta.version });
      expect(both.status).toBe(412);
      for (const current of [created.meta.version, '"1"', `"x", ${created.meta.version}`, '*']) {
        const fresh = await scim(method, path, undefined, { 'If-Match': current });
        expect(fresh.status).toBe(200);
        expect(fresh.headers.get('etag')).toBe(created.meta.version);
      }
    }
    expect((await scim('GET', '/Users/missing', undefined, { 'If-Match': '*' })).status).toBe(404);
  });

  it('moves the ETag when what a GET derives changes: groups, member and manager names', async () => {
    type Answer = { id: string; meta: { version: string }; groups?: { display: string }[] };
    const post = async (path: string, body: unknown) => (await (await scim('POST', path, body)).json()) as Answer;
    const get = async (path: string, etag: string) => {
      const response = await scim('GET', path, undefined, { 'If-None-Match': etag });
      const body = response.status === 200 ? ((await response.json()) as Answer) : undefined;
      if (body) expect(response.headers.get('etag')).toBe(body.meta.version);
      return { status: response.status, etag: response.headers.get('etag') ?? '', body };
    };
    const rename = (path: string, attribute: string, value: string) =>
      scim('PATCH', path, {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', path: attribute, value }],
      });
    const titled = (title: string) => ({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'title', value: title }],
    });
    const boss = await post('/Users', { userName: 'derived-boss@example.com', displayName: 'Boss' });
    const member = await post('/Users', {
      schemas: [USER, ENTERPRISE],
      userName: 'derived-member@example.com',
      [ENTERPRISE]: { manager: { value: boss.id } },
    });
    const userPath = `/Users/${member.id}`;
    let userTag = (await get(userPath, '"none"')).etag;

    // Joining a group changes the user's `groups`, not the user: a cached copy is stale all the same.
    const group = await post('/Groups', { displayName: 'Derived', members: [{ value: member.id }] });
    const joined = await get(userPath, userTag);
    expect(joined.status).toBe(200);
    expect(joined.body?.groups).toEqual([expect.objectContaining({ display: 'Derived' })]);
    expect(await get(userPath, joined.etag)).toMatchObject({ status: 304, etag: joined.etag });
    userTag = joined.etag;

    // The group's new name is in the user's answer; the manager's new name too.
    await rename(`/Groups/${group.id}`, 'displayName', 'Renamed');
    const regrouped = await get(userPath, userTag);
    expect(regrouped.status).toBe(200);
    expect(regrouped.body?.groups).toEqual([expect.objectContaining({ display: 'Renamed' })]);
    await rename(`/Users/${boss.id}`, 'displayName', 'New Boss');
    const rebossed = await get(userPath, regrouped.etag);
    expect(rebossed.status).toBe(200);
    expect(JSON.stringify(rebossed.body)).toContain('New Boss');

    // The group shows its member's name: renaming the member moves the group's ETag.
    const groupPath = `/Groups/${group.id}`;
    const groupTag = (await get(groupPath, '"none"')).etag;
    await rename(userPath, 'displayName', 'Member Renamed');
    const renamedMember = await get(groupPath, groupTag);
    expect(renamedMember.status).toBe(200);
    expect(JSON.stringify(renamedMember.body)).toContain('Member Renamed');

    // A write held to an older tag of the same revision goes through: what is derived cannot be
    // lost by a write. Another revision is still refused.
    const before = await get(userPath, '"none"');
    await rename(`/Groups/${group.id}`, 'displayName', 'Renamed Again');
    expect((await get(userPath, before.etag)).status).toBe(200);
    const held = await scim(
      'PUT',
      userPath,
      { userName: 'derived-member@example.com', title: 'held' },
      { 'If-Match': before.etag },
    );
    expect(held.status).toBe(200);
    const stale = await scim('PATCH', userPath, titled('late'), { 'If-Match': before.etag });
    expect(stale.status).toBe(412);
  });

  it('finds users and groups by the meta.version a GET shows, derived values included', async () => {
    type Answer = { id: string; meta: { version: string } };
    type List = { totalResults: number; Resources: Answer[] };
    const post = async (path: string, body: unknown) => (await (await scim('POST', path, body)).json()) as Answer;
    const user = await post('/Users', { userName: 'version-filter@example.com' });
    const group = await post('/Groups', { displayName: 'Version filter', members: [{ value: user.id }] });
    for (const [endpoint, id] of [
      ['Users', user.id],
      ['Groups', group.id],
    ] as const) {
      const shown = (await (await scim('GET', `/${endpoint}/${id}`)).json()) as Answer;
      // The member's name and the user's group are in the tag (W/"1.<digest>"), not the bare revision.
      expect(shown.meta.version).toMatch(/^W\/"\d+\.[0-9a-f]+"$/);
      const filter = encodeURIComponent(`meta.version eq ${JSON.stringify(shown.meta.version)}`);
      const found = (await (await scim('GET', `/${endpoint}?filter=${filter}`)).json()) as List;
      expect(found.Resources.map((r) => r.id)).toEqual([id]);
      const revisionOnly = encodeURIComponent(
        `meta.version eq ${JSON.stringify(shown.meta.version.split('.')[0] + '"')}`,
      );
      const byRevision = (await (await scim('GET', `/${endpoint}?filter=${revisionOnly}`)).json()) as List;
      expect(byRevision.Resources.map((r) => r.id)).not.toContain(id);
    }
  });

  it("lists a user's groups through nested groups as indirect, each once, and moves its ETag when a nesting changes", async () => {
    type Membership = { value: string; display: string; type: string; $ref: string };
    type Answer = { id: string; meta: { version: string }; groups?: Membership[] };
    const post = async (path: string, body: unknown) => (await (await scim('POST', path, body)).json()) as Answer;
    const members = (path: string, op: string, value: unknown, filter = '') =>
      scim('PATCH', path, {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op, path: `members${filter}`, ...(value === undefined ? {} : { value }) }],
      });
    const groupsOf = async (id: string) => {
      const response = await scim('GET', `/Users/${id}`);
      expect(response.status).toBe(200);
      const body = (await response.json()) as Answer;
      return { etag: response.headers.get('etag') ?? '', groups: body.groups ?? [] };
    };
    const membership = (group: Answer, display: string, type: string) => ({
      value: group.id,
      display,
      type,
      $ref: `${base}/Groups/${group.id}`,
    });
    const byId = (a: { value: string }, b: { value: string }) => (a.value < b.value ? -1 : 1);

    const user = await post('/Users', { userName: 'nested-member@example.com' });
    const team = await post('/Groups', { displayName: 'Nested Team', members: [{ value: user.id }] });
    const dept = await post('/Groups', { displayName: 'Nested Dept', members: [{ value: team.id }] });
    const org = await post('/Groups', { displayName: 'Nested Org', members: [{ value: dept.id }] });

    // Direct first, then the groups that hold them, at any depth.
    const nested = await groupsOf(user.id);
    expect(nested.groups).toEqual([
      membership(team, 'Nested Team', 'direct'),
      ...[membership(dept, 'Nested Dept', 'indirect'), membership(org, 'Nested Org', 'indirect')].sort(byId),
    ]);
    const found = async (filter: string) => {
      const response = await scim('GET', `/Users?filter=${encodeURIComponent(filter)}`);
      return ((await response.json()) as { Resources: Answer[] }).Resources.map((r) => r.id);
    };
    expect(await found(`groups[value eq "${org.id}" and type eq "indirect"]`)).toEqual([user.id]);
    expect(await found(`groups.value eq "${org.id}"`)).toEqual([user.id]);

    // The user itself did not change, but what its GET shows did: so did its ETag.
    expect((await members(`/Groups/${dept.id}`, 'remove', undefined, `[value eq "${team.id}"]`)).status).toBe(200);
    const cut = await groupsOf(user.id);
    expect(cut.groups).toEqual([membership(team, 'Nested Team', 'direct')]);
    expect(cut.etag).not.toBe(nested.etag);
    expect(await found(`groups.value eq "${org.id}"`)).toEqual([]);

    // A circle of groups (Team in Org in Dept in Team) ends where it began.
    expect((await members(`/Groups/${dept.id}`, 'add', [{ value: team.id }])).status).toBe(200);
    expect((await members(`/Groups/${team.id}`, 'add', [{ value: org.id }])).status).toBe(200);
    const circle = await groupsOf(user.id);
    expect(circle.groups).toEqual(nested.groups);
    expect(circle.etag).not.toBe(cut.etag);

    // A group both listing the user and holding one that does is a direct membership, listed once.
    expect((await members(`/Groups/${org.id}`, 'add', [{ value: user.id }])).status).toBe(200);
    expect((await groupsOf(user.id)).groups).toEqual([
      ...[membership(team, 'Nested Team', 'direct'), membership(org, 'Nested Org', 'direct')].sort(byId),
      membership(dept, 'Nested Dept', 'indirect'),
    ]);
  });

  it('holds PUT, PATCH and DELETE to If-None-Match: 412 when it names the current version or *', async () => {
    const created = (await (await scim('POST', '/Users', { userName: 'inm@example.com' })).json()) as {
      id: string;
      meta: { version: string };
    };
    const path = `/Users/${created.id}`;
    const patch = { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [] as unknown[] };
    const titled = (title: string) => ({
      ...patch,
      Operations: [{ op: 'replace', path: 'title', value: title }],
    });
    for (const tag of [created.meta.version, '*', `W/"0", ${created.meta.version}`]) {
      const refused = [
        await scim('PUT', path, { userName: 'inm@example.com', title: 'put' }, { 'If-None-Match': tag }),
        await scim('PATCH', path, titled('patch'), { 'If-None-Match': tag }),
        await scim('DELETE', path, undefined, { 'If-None-Match': tag }),
      ];
      for (const response of refused) {
        expect(response.status).toBe(412);
        expect(await response.json()).toMatchObject({
          status: '412',
          detail: expect.stringContaining('If-None-Match'),
        });
      }
    }
    const unchanged = await scim('GET', path);
    expect(unchanged.headers.get('etag')).toBe(created.meta.version);
    expect(await unchanged.json()).not.toHaveProperty('title');

    // A tag of another version lets the write through.
    const patched = await scim('PATCH', path, titled('patched'), { 'If-None-Match': 'W/"99"' });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ title: 'patched' });
    expect((await scim('DELETE', path, undefined, { 'If-None-Match': created.meta.version })).status).toBe(204);
  });

  it("compares a write's If-None-Match with the representation's tag, as a GET does", async () => {
    type Answer = { id: string; meta: { version: string } };
    const user = (await (await scim('POST', '/Users', { userName: 'inm-derived@example.com' })).json()) as Answer;
    await scim('POST', '/Groups', { displayName: 'INM group', members: [{ value: user.id }] });
    const path = `/Users/${user.id}`;
    const shown = (await scim('GET', path)).headers.get('etag')!;
    expect(shown).toMatch(/^W\/"1\.[0-9a-f]{12}"$/);
    const titled = (title: string) => ({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'title', value: title }],
    });
    // W/"1" is the user before it joined the group: another representation, which a GET with it
    // answers in full (200), so a write with it goes ahead.
    expect((await scim('GET', path, undefined, { 'If-None-Match': user.meta.version })).status).toBe(200);
    expect((await scim('PATCH', path, titled('through'), { 'If-None-Match': user.meta.version })).status).toBe(200);
    const current = (await scim('GET', path)).headers.get('etag')!;
    const refused = await scim('PATCH', path, titled('held'), { 'If-None-Match': current });
    expect(refused.status).toBe(412);
  });

  it('holds a write only to a tag of the shape it gives out, as a GET is', async () => {
    type Answer = { id: string; meta: { version: string } };
    // Its title already 'x': the PATCHes below change nothing, so the revision stays 1.
    const created = await scim('POST', '/Users', { userName: 'tag-shape@example.com', title: 'x' });
    const user = (await created.json()) as Answer;
    const path = `/Users/${user.id}`;
    const titled = {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'title', value: 'x' }],
    };
    for (const tag of ['1', 'W/1', 'W/"1.zzz"', 'W/"1."', 'W/"1.0"', '"1', 'W/"01x"', 'W/"01"']) {
      expect((await scim('GET', path, undefined, { 'If-Match': tag })).status).toBe(412);
      expect((await scim('PATCH', path, titled, { 'If-Match': tag })).status).toBe(412);
    }
    // The tag answered, with or without W/, and one of the same revision with a digest the
    // resource may have had (a group joined and left since) still hold a write.
    for (const tag of ['"1"', 'W/"1.0123456789ab"', user.meta.version]) {
      const answer = await scim('PATCH', path, titled, { 'If-Match': tag });
      expect(answer.status).toBe(200);
    }
  });

  it('tells a PUT, as a PATCH, of a failed precondition or a missing resource before judging its body', async () => {
    const created = (await (await scim('POST', '/Users', { userName: 'put-order@example.com' })).json()) as {
      id: string;
      meta: { version: string };
    };
    const path = `/Users/${created.id}`;
    const badPut = { userName: 5 };
    const badPatch = { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'frob' }] };
    for (const [method, body] of [
      ['PUT', badPut],
      ['PATCH', badPatch],
    ] as const) {
      const stale = await scim(method, path, body, { 'If-Match': 'W/"99"' });
      expect([method, stale.status]).toEqual([method, 412]);
      expect(await stale.json()).toMatchObject({ status: '412' });
      const current = await scim(method, path, body, { 'If-None-Match': '*' });
      expect([method, current.status]).toEqual([method, 412]);
      expect([method, (await scim(method, '/Users/missing', body)).status]).toEqual([method, 404]);
      // With the precondition met, the body is judged: 400 as before.
      const judged = await scim(method, path, body, { 'If-Match': created.meta.version });
      expect([method, judged.status]).toEqual([method, 400]);
    }
  });

  it('honours attributes and excludedAttributes on writes, with Location and ETag from the stored resource', async () => {
    const created = await scim('POST', '/Users?attributes=userName', { schemas: [USER], userName: 'slim@example.com' });
    expect(created.status).toBe(201);
    const body = (await created.json()) as Record<string, unknown>;
    expect(body).toEqual({ schemas: [USER], id: body.id, userName: 'slim@example.com' });
    const stored = (await (await scim('GET', `/Users/${String(body.id)}`)).json()) as {
      meta: { location: string; version: string };
    };
    expect(created.headers.get('location')).toBe(stored.meta.location);
    expect(created.headers.get('etag')).toBe('W/"1"');
    const put = await scim('PUT', `/Users/${String(body.id)}?attributes=nickName`, {
      schemas: [USER],
      userName: 'slim@example.com',
      nickName: 'Slim',
    });
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ schemas: [USER], id: body.id, nickName: 'Slim' });
    expect(put.headers.get('etag')).toBe('W/"2"');
    expect(put.headers.get('location')).toBe(stored.meta.location);
    const patch = await scim('PATCH', `/Users/${String(body.id)}?excludedAttributes=emails,meta`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'title', value: 'Engineer' }],
    });
    expect(patch.status).toBe(200);
    expect(await patch.json()).not.toHaveProperty('meta');
    expect(patch.headers.get('etag')).toBe('W/"3"');
    expect(patch.headers.get('location')).toBe(stored.meta.location);
    const group = await scim('POST', '/Groups?excludedAttributes=meta', { displayName: 'Slim group' });
    expect(group.status).toBe(201);
    const groupBody = (await group.json()) as Record<string, unknown>;
    expect(groupBody).not.toHaveProperty('meta');
    expect(group.headers.get('location')).toBe(`${base}/Groups/${String(groupBody.id)}`);
  });

  it('takes emails without a value: what Entra sends when a user’s mail is cleared, and bodies that give none', async () => {
    const created = (await (
      await scim('POST', '/Users', {
        userName: 'mail-cleared@example.com',
        emails: [{ value: 'original@example.org', type: 'work', primary: true }],
      })
    ).json()) as { id: string };
    const cleared = await scim('PATCH', `/Users/${created.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'Remove', path: 'emails[type eq "work"].value' }],
    });
    expect(cleared.status).toBe(200);
    expect(await cleared.json()).toMatchObject({ emails: [{ type: 'work', primary: true }] });
    const found = await scim('GET', `/Users?filter=${encodeURIComponent('emails.value eq "original@example.org"')}`);
    expect(await found.json()).toMatchObject({ totalResults: 0 });

    const valueless = await scim('POST', '/Users', { userName: 'no-mail@example.com', emails: [{ type: 'work' }] });
    expect(valueless.status).toBe(201);
    const nulled = await scim('POST', '/Users', {
      userName: 'null-mail@example.com',
      emails: [{ value: null, type: 'home' }],
    });
    expect(nulled.status).toBe(201);
  });

  it('deletes with 204, then answers 404', async () => {
    const created = (await (await scim('POST', '/Users', { userName: 'gone@example.com' })).json()) as { id: string };
    expect((await scim('DELETE', `/Users/${created.id}`)).status).toBe(204);
    const after = await scim('GET', `/Users/${created.id}`);
    expect(after.status).toBe(404);
    expect(await after.json()).toMatchObject({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '404',
    });
  });

  it('lists with a filter the way Entra and Okta look users up', async () => {
    await scim('POST', '/Users', { userName: 'Lookup@Example.com', externalId: 'ext-lookup' });
    const byName = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "lookup@example.com"')}`);
    expect(await byName.json()).toMatchObject({ totalResults: 1, startIndex: 1, itemsPerPage: 1 });
    const okta = await scim(
      'GET',
      `/Users?filter=${encodeURIComponent('userName eq "nobody@example.com"')}&startIndex=1&count=1`,
    );
    expect(await okta.json()).toEqual({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: 0,
      startIndex: 1,
      itemsPerPage: 0,
      Resources: [],
    });
    const byExternal = await scim('GET', `/Users?filter=${encodeURIComponent('externalId eq "ext-lookup"')}`);
    expect(await byExternal.json()).toMatchObject({ totalResults: 1 });
  });

  it('bounds the list work of a PATCH, and of all the PATCHes of one Bulk request together', async () => {
    const emails = Array.from({ length: 20_000 }, (_, i) => ({ value: `w${i}@example.com`, type: 'other' }));
    const created = await scim('POST', '/Users', { schemas: [USER], userName: 'many-emails@example.com', emails });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const patchOf = (ops: number) => ({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: Array.from({ length: ops }, (_, i) => ({ op: 'remove', path: `emails[value eq "gone${i}"]` })),
    });
    // 120 operations on 20,000 values: 2.4 million, over the bound of 2 million.
    const alone = await scim('PATCH', `/Users/${id}`, patchOf(120));
    expect(alone.status).toBe(400);
    expect(await alone.json()).toMatchObject({ scimType: 'tooMany', detail: expect.stringContaining('this PATCH') });
    // 60 are fine on their own; two such PATCHes in one Bulk request are not.
    const bulk = await scim('POST', '/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [1, 2].map((n) => ({ method: 'PATCH', path: `/Users/${id}`, bulkId: `p${n}`, data: patchOf(60) })),
    });
    expect(bulk.status).toBe(200);
    const { Operations } = (await bulk.json()) as {
      Operations: { status: string; response?: { scimType?: string } }[];
    };
    expect(Operations.map((op) => op.status)).toEqual(['200', '400']);
    expect(Operations[1]!.response).toMatchObject({
      scimType: 'tooMany',
      detail: expect.stringContaining('Bulk request'),
    });
  });

  it('resolves circular bulkIds (RFC 7644 §3.7.1): both groups exist, each a member of the other', async () => {
    const rfc = JSON.parse(readFileSync('test/fixtures/rfc/rfc7644-3.7-bulk.json', 'utf8')) as {
      requests: { circular: { Operations: { data: { displayName: string } }[] } };
    };
    const request = structuredClone(rfc.requests.circular);
    // Unique names per base path: both describe blocks share nothing but the fixture.
    for (const op of request.Operations) op.data.displayName += ` ${base.length}`;
    const bulk = await scim('POST', '/Bulk', request);
    expect(bulk.status).toBe(200);
    const { Operations } = (await bulk.json()) as {
      Operations: { bulkId: string; status: string; location: string; version: string }[];
    };
    expect(Operations.map((op) => [op.bulkId, op.status])).toEqual([
      ['qwerty', '201'],
      ['ytrewq', '201'],
    ]);
    const [a, b] = await Promise.all(
      Operations.map(async (op) => {
        const response = await fetch(op.location, { headers: { Authorization: `Bearer ${s.secret}` } });
        expect(response.headers.get('etag')).toBe(op.version);
        return (await response.json()) as { id: string; members: { value: string; type: string }[] };
      }),
    );
    expect(a!.members).toMatchObject([{ value: b!.id, type: 'Group' }]);
    expect(b!.members).toMatchObject([{ value: a!.id, type: 'Group' }]);
  });

  it('fails a Bulk operation that cannot be read alone and runs the rest (RFC 7644 §3.7.3)', async () => {
    const userName = `readable-${base.length}@example.com`;
    const bulk = await scim('POST', '/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'ok', data: { userName } },
        { method: 'POST', path: '/Widgets', bulkId: 'widget', data: {} },
      ],
    });
    expect(bulk.status).toBe(200);
    const { Operations } = (await bulk.json()) as {
      Operations: { method: string; bulkId: string; status: string; response?: { detail: string } }[];
    };
    expect(Operations.map((op) => [op.method, op.bulkId, op.status])).toEqual([
      ['POST', 'ok', '201'],
      ['POST', 'widget', '400'],
    ]);
    expect(Operations[1]!.response!.detail).toContain('/Widgets');
    const found = await scim('GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`);
    expect(await found.json()).toMatchObject({ totalResults: 1 });
  });

  it('runs a Bulk job to the state its written order means when one operation waits for a later POST', async () => {
    const tag = `order-${base.length}`;
    const x = (await (await scim('POST', '/Users', { userName: `${tag}-x@example.com` })).json()) as { id: string };
    const group = (await (await scim('POST', '/Groups', { displayName: tag })).json()) as { id: string };
    const members = (op: string, value: string) => ({
      method: 'PATCH',
      path: `/Groups/${group.id}`,
      data: {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op, path: 'members', value: [{ value }] }],
      },
    });
    const bulk = await scim('POST', '/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [
        members('replace', 'bulkId:u'),
        members('add', x.id),
        { method: 'POST', path: '/Users', bulkId: 'u', data: { userName: `${tag}-u@example.com` } },
      ],
    });
    const { Operations } = (await bulk.json()) as { Operations: { status: string; location?: string }[] };
    expect(Operations.map((op) => op.status)).toEqual(['200', '200', '201']);
    const u = Operations[2]!.location!.split('/').pop();
    const after = (await (await scim('GET', `/Groups/${group.id}`)).json()) as { members: { value: string }[] };
    expect(after.members.map((m) => m.value).sort()).toEqual([u, x.id].sort());
  });

  it("resolves users that are each other's manager when Entra ID's bare manager id is used", async () => {
    const userName = (who: string) => `bare-manager-${who}-${base.length}@example.com`;
    const bulk = await scim('POST', '/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [
        {
          method: 'POST',
          path: '/Users',
          bulkId: 'a',
          data: { userName: userName('a'), [ENTERPRISE]: { manager: 'bulkId:b' } },
        },
        {
          method: 'POST',
          path: '/Users',
          bulkId: 'b',
          data: { userName: userName('b'), [ENTERPRISE]: { manager: 'bulkId:a' } },
        },
      ],
    });
    const { Operations } = (await bulk.json()) as { Operations: { status: string; location: string }[] };
    expect(Operations.map((op) => op.status)).toEqual(['201', '201']);
    const [a, b] = await Promise.all(
      Operations.map(async (op) => {
        const response = await fetch(op.location, { headers: { Authorization: `Bearer ${s.secret}` } });
        return (await response.json()) as { id: string; [ENTERPRISE]: { manager: { value: string } } };
      }),
    );
    expect(a![ENTERPRISE].manager.value).toBe(b!.id);
    expect(b![ENTERPRISE].manager.value).toBe(a!.id);
  });

  it('takes back a circle whose POST fails, even where DELETE only deactivates users', async () => {
    const tenantPath = `/tenants/${s.tenantId}`;
    expect((await adminCall(s, 'PATCH', tenantPath, { delete_mode: 'deactivate' })).status).toBe(200);
    try {
      const taken = `circle-taken-${base.length}@example.com`;
      expect((await scim('POST', '/Users', { schemas: [USER], userName: taken })).status).toBe(201);
      const manager = (ref: string) => ({ [ENTERPRISE]: { manager: { value: ref } } });
      const bulk = await scim('POST', '/Bulk', {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
        Operations: [
          {
            method: 'POST',
            path: '/Users',
            bulkId: 'a',
            data: { userName: `circle-a-${base.length}`, ...manager('bulkId:b') },
          },
          { method: 'POST', path: '/Users', bulkId: 'b', data: { userName: taken, ...manager('bulkId:a') } },
        ],
      });
      const { Operations } = (await bulk.json()) as { Operations: { status: string; response: { detail: string } }[] };
      expect(Operations.map((op) => op.status)).toEqual(['409', '409']);
      expect(Operations[0]!.response.detail).toMatch(/circular bulkId reference with operation 2, which failed/);
      const filter = encodeURIComponent(`userName eq "circle-a-${base.length}"`);
      const left = (await (await scim('GET', `/Users?filter=${filter}`)).json()) as { totalResults: number };
      expect(left.totalResults).toBe(0);
    } finally {
      await adminCall(s, 'PATCH', tenantPath, { delete_mode: 'delete' });
    }
  });

  it('says a circle member is refused for a userName another member of its circle took', async () => {
    const manager = (ref: string) => ({ [ENTERPRISE]: { manager: { value: ref } } });
    const name = `circle-twice-${base.length}@example.com`;
    const bulk = await scim('POST', '/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'a', data: { userName: name, ...manager('bulkId:b') } },
        { method: 'POST', path: '/Users', bulkId: 'b', data: { userName: name.toUpperCase(), ...manager('bulkId:a') } },
      ],
    });
    const { Operations } = (await bulk.json()) as { Operations: { status: string; response: { detail: string } }[] };
    expect(Operations.map((op) => op.status)).toEqual(['409', '409']);
    // Not "already taken in this tenant": nothing of the circle is left to have taken it.
    expect(Operations[1]!.response.detail).toBe(
      `userName "${name.toUpperCase()}" is given by operation 1 of this request, in the same bulkId circle; the whole circle is taken back.`,
    );
    const filter = encodeURIComponent(`userName eq "${name}"`);
    expect(
      ((await (await scim('GET', `/Users?filter=${filter}`)).json()) as { totalResults: number }).totalResults,
    ).toBe(0);
  });

  it('runs a circle in one transaction: no other request sees what it creates before it is whole', async () => {
    const taken = `circle-seen-taken-${base.length}@example.com`;
    const first = `circle-seen-a-${base.length}@example.com`;
    expect((await scim('POST', '/Users', { schemas: [USER], userName: taken })).status).toBe(201);
    const manager = (ref: string) => ({ [ENTERPRISE]: { manager: { value: ref } } });
    const circle = (second: string) =>
      scim('POST', '/Bulk', {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
        Operations: [
          { method: 'POST', path: '/Users', bulkId: 'a', data: { userName: first, ...manager('bulkId:b') } },
          // Its password is hashed while the first POST's user would be there to see, were it written.
          {
            method: 'POST',
            path: '/Users',
            bulkId: 'b',
            data: { userName: second, password: 'Circle-pass-1234', ...manager('bulkId:a') },
          },
        ],
      }).then(async (response) => (await response.json()) as { Operations: { status: string }[] });
    const filter = encodeURIComponent(`userName eq "${first}"`);
    const watch = async (until: Promise<unknown>) => {
      let done = false;
      void until.finally(() => (done = true));
      const seen: number[] = [];
      while (!done) {
        const list = (await (await scim('GET', `/Users?filter=${filter}`)).json()) as { totalResults: number };
        seen.push(list.totalResults);
      }
      return seen;
    };
    const failing = circle(taken);
    const seenWhileFailing = await watch(failing);
    expect((await failing).Operations.map((op) => op.status)).toEqual(['409', '409']);
    expect(seenWhileFailing.every((count) => count === 0)).toBe(true);
    // One that succeeds is seen whole, once it is.
    const succeeding = circle(`circle-seen-b-${base.length}@example.com`);
    await watch(succeeding);
    expect((await succeeding).Operations.map((op) => op.status)).toEqual(['201', '201']);
    const [made] = (
      (await (await scim('GET', `/Users?filter=${filter}`)).json()) as {
        Resources: Record<string, { manager: { value: string } }>[];
      }
    ).Resources;
    expect(made?.[ENTERPRISE]?.manager.value).toBeTruthy();
  });

  it('keeps nothing of a circle one of whose members refers to an operation that failed', async () => {
    const taken = `circle-refused-taken-${base.length}@example.com`;
    expect((await scim('POST', '/Users', { schemas: [USER], userName: taken })).status).toBe(201);
    const name = `Circle refused ${base.length}`;
    const bulk = await scim('POST', '/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'u', data: { schemas: [USER], userName: taken } },
        {
          method: 'POST',
          path: '/Groups',
          bulkId: 'g1',
          data: { schemas: [GROUP], displayName: `${name} 1`, members: [{ value: 'bulkId:g2' }] },
        },
        // Refused by the plan once g1 is made: u, outside the circle, failed.
        {
          method: 'POST',
          path: '/Groups',
          bulkId: 'g2',
          data: {
            schemas: [GROUP],
            displayName: `${name} 2`,
            members: [{ value: 'bulkId:g1' }, { value: 'bulkId:u' }],
          },
        },
      ],
    });
    const { Operations } = (await bulk.json()) as { Operations: { status: string }[] };
    expect(Operations.map((op) => op.status)).toEqual(['409', '409', '409']);
    const filter = encodeURIComponent(`displayName sw "${name}"`);
    const left = (await (await scim('GET', `/Groups?filter=${filter}`)).json()) as { totalResults: number };
    expect(left.totalResults).toBe(0);
  });

  it("hashes each circle member's password with its own salt, and refuses one naming its own circle", async () => {
    const manager = (ref: string) => ({ [ENTERPRISE]: { manager: { value: ref } } });
    const user = (bulkId: string, other: string, password: string) => ({
      method: 'POST',
      path: '/Users',
      bulkId,
      data: { schemas: [USER], userName: `salted-${bulkId}-${base.length}@example.com`, password, ...manager(other) },
    });
    const bulk = (Operations: unknown[]) =>
      scim('POST', '/Bulk', { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations })
        .then((response) => response.json())
        .then((body) => (body as { Operations: { status: string; location?: string }[] }).Operations);
    const made = await bulk([user('a', 'bulkId:b', 'Same-pass-2026!'), user('b', 'bulkId:a', 'Same-pass-2026!')]);
    expect(made.map((op) => op.status)).toEqual(['201', '201']);
    const tenant = s.server.app.store.tenant(s.tenantId)!;
    const hashes = made.map((op) => tenant.get('users', op.location!.split('/').pop()!)?.passwordHash);
    expect(hashes[0]).toMatch(/^\$scrypt\$/);
    expect(hashes[0]).not.toBe(hashes[1]);
    // d runs first; c's password names it, resolved only in the circle's transaction.
    const naming = await bulk([user('d', 'bulkId:c', 'Other-pass-2026!'), user('c', 'bulkId:d', 'bulkId:d')]);
    expect(naming.map((op) => op.status)).toEqual(['409', '400']);
  });

  it('answers a DELETE that only deactivates with the ETag of the user it leaves, for the next conditional write', async () => {
    const tenantPath = `/tenants/${s.tenantId}`;
    expect((await adminCall(s, 'PATCH', tenantPath, { delete_mode: 'deactivate' })).status).toBe(200);
    try {
      const create = (userName: string) => scim('POST', '/Users', { userName }).then((r) => r.json());
      const { id } = (await create(`kept-${base.length}@example.com`)) as { id: string };
      const deleted = await scim('DELETE', `/Users/${id}`);
      expect(deleted.status).toBe(204);
      const etag = deleted.headers.get('etag');
      const read = await scim('GET', `/Users/${id}`);
      expect(await read.json()).toMatchObject({ active: false });
      expect(etag).toBe(read.headers.get('etag'));
      // The tag works as If-Match; a DELETE of an inactive user changes nothing and answers the same tag.
      const again = await scim('DELETE', `/Users/${id}`, undefined, { 'If-Match': etag! });
      expect(again.status).toBe(204);
      expect(again.headers.get('etag')).toBe(etag);
      const patched = await scim(
        'PATCH',
        `/Users/${id}`,
        {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
          Operations: [{ op: 'replace', path: 'active', value: true }],
        },
        { 'If-Match': etag! },
      );
      expect(patched.status).toBe(200);
      // In a Bulk request the same version is the operation's `version`.
      const bulk = await scim('POST', '/Bulk', {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
        Operations: [{ method: 'DELETE', path: `/Users/${id}` }],
      });
      const [op] = ((await bulk.json()) as { Operations: { status: string; version?: string }[] }).Operations;
      expect(op?.status).toBe('204');
      expect(op?.version).toBe((await scim('GET', `/Users/${id}`)).headers.get('etag'));
      // A user or group really deleted has no version to answer.
      const { id: gone } = (await (await scim('POST', '/Groups', { displayName: `Gone ${base.length}` })).json()) as {
        id: string;
      };
      const removed = await scim('DELETE', `/Groups/${gone}`);
      expect(removed.status).toBe(204);
      expect(removed.headers.get('etag')).toBeNull();
    } finally {
      await adminCall(s, 'PATCH', tenantPath, { delete_mode: 'delete' });
    }
  });

  it("holds a Bulk operation's version as If-Match: a 412 for that operation alone, the version answered is the ETag", async () => {
    const created = (await (await scim('POST', '/Users', { userName: 'bulk-version@example.com' })).json()) as {
      id: string;
      meta: { version: string };
    };
    const path = `/Users/${created.id}`;
    const titled = (title: string) => ({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'title', value: title }],
    });
    const response = await scim('POST', '/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [
        { method: 'PATCH', path, version: 'W/"9"', data: titled('stale') },
        { method: 'PUT', path, version: '"a", W/"9"', data: { userName: 'bulk-version@example.com' } },
        { method: 'DELETE', path, version: 'W/"9"' },
        { method: 'PATCH', path, version: `"a", ${created.meta.version}`, data: titled('fresh') },
        { method: 'PATCH', path, version: '*', data: titled('any') },
      ],
    });
    expect(response.status).toBe(200);
    const ops = ((await response.json()) as { Operations: { status: string; version?: string; response?: unknown }[] })
      .Operations;
    expect(ops.map((op) => op.status)).toEqual(['412', '412', '412', '200', '200']);
    expect(ops[0]?.response).toMatchObject({ status: '412' });
    const read = await scim('GET', path);
    expect(await read.json()).toMatchObject({ title: 'any' });
    expect(ops[4]?.version).toBe(read.headers.get('etag'));
    expect(read.headers.get('etag')).toBe('W/"3"');
  });

  it('bounds what the GETs of a Bulk request put in its answer', async () => {
    // About 0.9 MB of JSON: 40 GETs of it would be 36 MB of answer from a 4 KB request.
    const emails = Array.from({ length: 22_000 }, (_, i) => ({ value: `large${i}@example.com` }));
    const created = await scim('POST', '/Users', { schemas: [USER], userName: 'large@example.com', emails });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const bulk = await scim('POST', '/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: Array.from({ length: 40 }, () => ({ method: 'GET', path: `/Users/${id}` })),
    });
    expect(bulk.status).toBe(200);
    const { Operations } = (await bulk.json()) as {
      Operations: { status: string; response?: { emails?: unknown[]; scimType?: string; detail?: string } }[];
    };
    const statuses = Operations.map((op) => op.status);
    expect(statuses[0]).toBe('200');
    expect(Operations[0]!.response?.emails).toHaveLength(22_000);
    expect(statuses.at(-1)).toBe('400');
    expect(statuses.join(',')).toMatch(/^(200,)+(400,)*400$/);
    expect(Operations.at(-1)!.response).toMatchObject({ scimType: 'tooMany', detail: expect.stringContaining('MiB') });
  });

  it('selects members in a PATCH by the display and $ref a GET shows', async () => {
    const one = (await (
      await scim('POST', '/Users', { userName: 'member-one@example.com', displayName: 'Member One' })
    ).json()) as { id: string };
    const two = (await (await scim('POST', '/Users', { userName: 'member-two@example.com' })).json()) as {
      id: string;
    };
    const group = (await (
      await scim('POST', '/Groups', { displayName: 'by-display', members: [{ value: one.id }, { value: two.id }] })
    ).json()) as { id: string; members: { value: string; $ref: string }[] };
    const patchOp = (path: string) => ({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'remove', path }],
    });
    const byDisplay = await scim('PATCH', `/Groups/${group.id}`, patchOp('members[display eq "member one"]'));
    expect(byDisplay.status).toBe(200);
    expect(byDisplay.headers.get('etag')).toMatch(/^W\/"2\.[0-9a-f]{12}"$/);
    expect(((await byDisplay.json()) as { members: { value: string }[] }).members.map((m) => m.value)).toEqual([
      two.id,
    ]);
    // A member without a displayName shows its userName.
    const ref = group.members.find((m) => m.value === two.id)?.$ref ?? '';
    const byRef = await scim('PATCH', `/Groups/${group.id}`, patchOp(`members[$ref eq "${ref}"]`));
    expect(byRef.status).toBe(200);
    // Empty now, and said so (DESIGN.md §3: group responses include members unless excluded).
    expect(await byRef.json()).toHaveProperty('members', []);
  });

  it('answers an empty group with members: [] wherever members are asked for (DESIGN.md §3)', async () => {
    type Group = { id: string; members?: unknown };
    const posted = await scim('POST', '/Groups', { displayName: 'empty-members-a', members: [] });
    expect(posted.status).toBe(201);
    const a = (await posted.json()) as Group;
    expect(a.members).toEqual([]);
    const b = (await (await scim('POST', '/Groups', { displayName: 'empty-members-b' })).json()) as Group;
    expect(b.members).toEqual([]);
    expect(await (await scim('GET', `/Groups/${a.id}`)).json()).toHaveProperty('members', []);
    const listed = (await (
      await scim('GET', `/Groups?filter=${encodeURIComponent('displayName sw "empty-members-"')}`)
    ).json()) as { Resources: Group[] };
    expect(listed.Resources.map((group) => group.members)).toEqual([[], []]);
    const searched = (await (
      await scim('POST', '/Groups/.search', {
        filter: 'displayName eq "empty-members-a"',
        attributes: ['members.value'],
      })
    ).json()) as { Resources: Group[] };
    expect(searched.Resources[0]).toHaveProperty('members', []);
    // Left out when excluded, or not asked for.
    expect(await (await scim('GET', `/Groups/${a.id}?excludedAttributes=members`)).json()).not.toHaveProperty(
      'members',
    );
    expect(await (await scim('GET', `/Groups/${a.id}?attributes=displayName`)).json()).not.toHaveProperty('members');
  });

  it('serves groups with members and POST .search', async () => {
    const user = (await (await scim('POST', '/Users', { userName: 'member@example.com' })).json()) as { id: string };
    const group = await scim('POST', '/Groups', { displayName: 'Engineering', members: [{ value: user.id }] });
    expect(group.status).toBe(201);
    const search = await scim('POST', '/Groups/.search', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
      filter: `members[value eq "${user.id}"]`,
      attributes: ['displayName'],
    });
    expect(search.status).toBe(200);
    expect(await search.json()).toMatchObject({ totalResults: 1, Resources: [{ displayName: 'Engineering' }] });
  });

  it('says what a member needs: a value that names a user or group of this tenant', async () => {
    const { id } = (await (await scim('POST', '/Groups', { displayName: `member-needs-${base.length}` })).json()) as {
      id: string;
    };
    const add = async (value: unknown) => {
      const response = await scim('PATCH', `/Groups/${id}`, {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'add', path: 'members', value }],
      });
      return { status: response.status, detail: ((await response.json()) as { detail: string }).detail };
    };
    expect(await add([{ value: '' }])).toEqual({
      status: 400,
      detail:
        'A member needs a "value": the id of a user or group of this tenant ("$ref" or "display" alone does not name one).',
    });
    expect(await add([{ value: 'nobody' }])).toEqual({
      status: 400,
      detail: 'Member "nobody" is not a user or group of this tenant.',
    });
  });

  it('searches across types at the root, reading an attribute a type lacks as absent', async () => {
    const searchRoot = async (filter: string) => {
      const response = await scim('POST', '/.search', { filter, attributes: ['userName', 'displayName'] });
      const body = (await response.json()) as { Resources?: { userName?: string; displayName?: string }[] };
      return { status: response.status, names: (body.Resources ?? []).map((r) => r.userName ?? r.displayName).sort() };
    };
    await scim('POST', '/Users', { userName: 'rootsearch-bo@example.com' });
    await scim('POST', '/Groups', { displayName: 'rootsearch-group' });
    expect(await searchRoot('displayName eq "rootsearch-group" or userName sw "rootsearch-"')).toEqual({
      status: 200,
      names: ['rootsearch-bo@example.com', 'rootsearch-group'],
    });
    const notAUser = await searchRoot('not (userName pr) and displayName sw "rootsearch"');
    expect(notAUser).toEqual({ status: 200, names: ['rootsearch-group'] });
    expect((await searchRoot('usrName sw "x"')).status).toBe(400);
    // A comparison one type's attribute refuses is invalid, even though the other type lacks it.
    expect((await searchRoot('userName gt true')).status).toBe(400);
    expect((await searchRoot('emails[value gt 3]')).status).toBe(400);
  });

  it('reads .search attribute names in any case, and refuses one given in two spellings', async () => {
    await scim('POST', '/Users', { userName: 'anycase@example.com' });
    const body = {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
      Filter: 'userName eq "anycase@example.com"',
      Count: 1,
    };
    for (const path of ['/Users/.search', '/.search']) {
      const search = await scim('POST', path, body);
      expect(search.status).toBe(200);
      expect(await search.json()).toMatchObject({
        totalResults: 1,
        itemsPerPage: 1,
        Resources: [{ userName: 'anycase@example.com' }],
      });
    }
    const twice = await scim('POST', '/Groups/.search', { count: 1, COUNT: 2 });
    expect(twice.status).toBe(400);
    expect(await twice.json()).toMatchObject({ scimType: 'invalidSyntax', detail: expect.stringContaining('count') });
  });

  it('refuses a .search whose parameters came in its URL, which it would ignore and answer with everything', async () => {
    for (const path of ['/Users/.search?filter=userName%20eq%20%22x%22', '/.search?Count=1&attributes=id']) {
      const search = await scim('POST', path, { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'] });
      expect(search.status).toBe(400);
      expect(await search.json()).toMatchObject({
        scimType: 'invalidValue',
        detail: expect.stringMatching(/in its body .* not in the URL: move (filter|Count, attributes) into the body/),
      });
    }
  });

  it('refuses format where no export is made: on a .search, the root query and one resource', async () => {
    const one = (await (await scim('POST', '/Users', { userName: 'format-one@example.com' })).json()) as { id: string };
    for (const [method, path] of [
      ['POST', '/Users/.search?format=csv'],
      ['POST', '/.search?Format=ndjson'],
      ['GET', '/?format=csv'],
      ['GET', `/Users/${one.id}?format=csv`],
    ] as const) {
      const body = method === 'POST' ? { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'] } : undefined;
      const answer = await scim(method, path, body);
      expect(answer.status).toBe(400);
      expect(await answer.json()).toMatchObject({
        scimType: 'invalidValue',
        detail: expect.stringContaining('format is taken by GET /Users and GET /Groups (an export)'),
      });
    }
  });

  it('reads list query parameter names in any case, and refuses one given in two spellings', async () => {
    await scim('POST', '/Users', { userName: 'anycase-get@example.com' });
    await scim('POST', '/Users', { userName: 'anycase-get2@example.com' });
    const filter = encodeURIComponent('userName sw "anycase-get"');
    const list = await scim('GET', `/Users?Filter=${filter}&COUNT=1&SortBy=userName&sortorder=descending`);
    expect(list.status).toBe(200);
    expect(await list.json()).toMatchObject({
      totalResults: 2,
      itemsPerPage: 1,
      Resources: [{ userName: 'anycase-get@example.com' }],
    });
    const twice = await scim('GET', `/Users?filter=${filter}&Filter=${filter}`);
    expect(twice.status).toBe(400);
    expect(await twice.json()).toMatchObject({
      scimType: 'invalidValue',
      detail: 'filter may be given once (it came as filter and Filter).',
    });
  });

  it('compares a boolean with the string "TRUE" only where booleanStrings is on', async () => {
    await scim('POST', '/Users', { userName: 'boolstring@example.com', active: true });
    const filter = `?filter=${encodeURIComponent('userName eq "boolstring@example.com" and active eq "TRUE"')}`;
    const lenient = await scim('GET', `/Users${filter}`);
    expect(lenient.status).toBe(200);
    expect(await lenient.json()).toMatchObject({ totalResults: 1 });
    expect((await adminCall(s, 'PATCH', `/tenants/${s.tenantId}`, { compat_profile: 'strict' })).status).toBe(200);
    try {
      for (const path of [`/Users${filter}`, filter]) {
        const refused = await scim('GET', path);
        expect(refused.status).toBe(400);
        expect(await refused.json()).toMatchObject({
          scimType: 'invalidFilter',
          detail: expect.stringContaining('"booleanStrings" is off'),
        });
      }
    } finally {
      await adminCall(s, 'PATCH', `/tenants/${s.tenantId}`, { compat_profile: 'compatible' });
    }
  });

  it('checks sortBy whatever count asks for, and echoes a huge startIndex as an exact integer', async () => {
    expect((await scim('GET', '/Users?sortBy=nosuch&count=0')).status).toBe(400);
    expect((await scim('GET', '/Users?sortBy=nosuch&count=1')).status).toBe(400);
    const far = await scim('POST', '/Users/.search', { startIndex: 1e30, count: 1 });
    expect(far.status).toBe(200);
    const text = await far.text();
    expect(text).toContain(`"startIndex":${Number.MAX_SAFE_INTEGER}`);
    expect(JSON.parse(text)).toMatchObject({ itemsPerPage: 0, Resources: [] });
    // Past what a double holds, JSON.parse gives Infinity; still a startIndex past every result.
    const farther = await scim('POST', '/Users/.search', '{"startIndex":1e400,"count":1e400}');
    expect(farther.status).toBe(200);
    expect(await farther.json()).toMatchObject({ startIndex: Number.MAX_SAFE_INTEGER, itemsPerPage: 0 });
  });

  it('answers a GET on the root with a query as POST /.search answers the same query (RFC 7644 §3.4.2.1)', async () => {
    await scim('POST', '/Users', { userName: 'rootget-amy@example.com', displayName: 'rootget-amy' });
    await scim('POST', '/Users', { userName: 'rootget-bob@example.com', displayName: 'rootget-bob' });
    await scim('POST', '/Groups', { displayName: 'rootget-group' });
    const query = { filter: 'displayName sw "rootget-"', sortBy: 'displayName', sortOrder: 'descending' };
    const asGet = (q: Record<string, string | number>) =>
      new URLSearchParams(Object.entries(q).map(([k, v]): [string, string] => [k, String(v)])).toString();
    for (const [page, shape] of [
      [{ startIndex: 2, count: 2, attributes: 'displayName' }, ['displayName', 'id', 'schemas']],
      // Descending, the group comes first: without its meta, it has just these (members: []).
      [{ count: 1, excludedAttributes: 'meta' }, ['displayName', 'id', 'members', 'schemas']],
    ] as const) {
      const posted = await scim('POST', '/.search', { ...query, ...page });
      expect(posted.status).toBe(200);
      const expected = (await posted.json()) as { Resources: Record<string, unknown>[] };
      expect(expected).toMatchObject({ totalResults: 3, itemsPerPage: page.count });
      expect(Object.keys(expected.Resources[0] ?? {}).sort()).toEqual(shape);
      for (const root of ['', '/']) {
        const got = await scim('GET', `${root}?${asGet({ ...query, ...page })}`);
        expect(got.status).toBe(200);
        expect(got.headers.get('content-type')).toBe('application/scim+json; charset=utf-8');
        expect(await got.json()).toEqual(expected);
      }
    }
    const second = await scim('GET', `?${asGet({ ...query, startIndex: 2, count: 2, attributes: 'displayName' })}`);
    expect(((await second.json()) as { Resources: { displayName: string }[] }).Resources).toEqual([
      expect.objectContaining({ displayName: 'rootget-bob' }),
      expect.objectContaining({ displayName: 'rootget-amy' }),
    ]);
    // The root's refusals are the root .search's: a filter no type can take, an unknown sortBy, no token.
    const badFilter = await scim('GET', `?filter=${encodeURIComponent('usrName sw "x"')}`);
    expect(badFilter.status).toBe(400);
    expect(await badFilter.json()).toMatchObject({ scimType: 'invalidFilter' });
    expect((await scim('GET', '?sortBy=shoeSize')).status).toBe(400);
    const anonymous = await fetch(`${base}?${asGet(query)}`);
    expect(anonymous.status).toBe(401);
    expect((await scim('DELETE', '')).status).toBe(405);
  });

  it('sorts a search at the root as one list across types, and sorts by values derived when read', async () => {
    const bob = (await (
      await scim('POST', '/Users', { userName: 'xsort-bob@example.com', displayName: 'xsort-bob' })
    ).json()) as { id: string };
    const amy = (await (
      await scim('POST', '/Users', { userName: 'xsort-amy@example.com', displayName: 'xsort-amy' })
    ).json()) as { id: string };
    await scim('POST', '/Groups', { displayName: 'xsort-aaa', members: [{ value: bob.id }] });
    await scim('POST', '/Groups', { displayName: 'xsort-zzz', members: [{ value: amy.id }] });
    const rootSorted = async (sortBy: string, sortOrder: string, count?: number) => {
      const response = await scim('POST', '/.search', {
        filter: 'displayName sw "xsort-"',
        sortBy,
        sortOrder,
        attributes: ['displayName'],
        ...(count === undefined ? {} : { count }),
      });
      expect(response.status).toBe(200);
      return ((await response.json()) as { Resources: { displayName: string }[] }).Resources.map((r) => r.displayName);
    };
    expect(await rootSorted('displayName', 'ascending')).toEqual(['xsort-aaa', 'xsort-amy', 'xsort-bob', 'xsort-zzz']);
    expect(await rootSorted('displayName', 'descending', 2)).toEqual(['xsort-zzz', 'xsort-bob']);
    // userName only users have: groups have no value, so they come last ascending, first descending.
    // (Resources with no value are in id order among themselves: which group is first is chance.)
    const ascending = await rootSorted('userName', 'ascending');
    expect(ascending.slice(0, 2)).toEqual(['xsort-amy', 'xsort-bob']);
    expect(ascending.slice(2).sort()).toEqual(['xsort-aaa', 'xsort-zzz']);
    const descending = await rootSorted('userName', 'descending');
    expect(descending.slice(0, 2).sort()).toEqual(['xsort-aaa', 'xsort-zzz']);
    expect(descending.slice(2)).toEqual(['xsort-bob', 'xsort-amy']);
    const unknown = await scim('POST', '/.search', { sortBy: 'shoeSize' });
    expect(unknown.status).toBe(400);

    // members.display is derived from the member's displayName when read: the sort sees it.
    const groupsBy = async (sortOrder: string) => {
      const query = `filter=${encodeURIComponent('displayName sw "xsort-"')}&sortBy=members.display&sortOrder=${sortOrder}`;
      const body = (await (await scim('GET', `/Groups?${query}`)).json()) as { Resources: { displayName: string }[] };
      return body.Resources.map((r) => r.displayName);
    };
    expect(await groupsBy('ascending')).toEqual(['xsort-zzz', 'xsort-aaa']);
    expect(await groupsBy('descending')).toEqual(['xsort-aaa', 'xsort-zzz']);
  });

  it('serves discovery documents', async () => {
    const schemas = (await (await scim('GET', '/Schemas')).json()) as { totalResults: number };
    expect(schemas.totalResults).toBeGreaterThanOrEqual(3);
    const user = await scim('GET', `/Schemas/${USER}`);
    expect(await user.json()).toMatchObject({ id: USER, meta: { location: `${base}/Schemas/${USER}` } });
    const types = await scim('GET', '/ResourceTypes/User');
    expect(await types.json()).toMatchObject({ id: 'User', endpoint: '/Users' });
    expect((await scim('GET', '/Schemas/urn:nope')).status).toBe(404);
  });

  it.each([
    ['malformed JSON', '{"userName": ', 400, 'invalidSyntax'],
    ['a JSON array', '[]', 400, 'invalidSyntax'],
    ['a missing userName', { displayName: 'x' }, 400, 'invalidValue'],
    ['a wrong type', { userName: 'wt@example.com', active: { yes: true } }, 400, 'invalidValue'],
  ])('refuses %s with an RFC 7644 error', async (_what, body, status, scimType) => {
    const response = await scim('POST', '/Users', body);
    expect(response.status).toBe(status);
    expect(await response.json()).toMatchObject({ status: String(status), scimType });
  });

  it('refuses a duplicate userName with 409 uniqueness', async () => {
    await scim('POST', '/Users', { userName: 'dup@example.com' });
    const again = await scim('POST', '/Users', { userName: 'DUP@example.com' });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ scimType: 'uniqueness' });
  });

  it('answers OPTIONS with the methods the path takes, the same Allow as its 405s', async () => {
    const cases: [path: string, allow: string, refusedMethod: string][] = [
      ['/Users', 'HEAD, GET, POST', 'PATCH'],
      ['/Users/some-id', 'HEAD, GET, PUT, PATCH, DELETE', 'POST'],
      ['/Users/.search', 'POST', 'DELETE'],
      ['/Groups/.search', 'POST', 'GET'],
      ['/.search', 'POST', 'PUT'],
      ['/Bulk', 'POST', 'GET'],
    ];
    for (const [path, allow, refusedMethod] of cases) {
      const options = await scim('OPTIONS', path);
      expect([path, options.status, options.headers.get('allow')]).toEqual([path, 200, allow]);
      const refused = await scim(refusedMethod, path);
      expect([path, refused.status, refused.headers.get('allow')]).toEqual([path, 405, allow]);
    }
  });

  it('reads a blank filter as none, as IdPs that send `filter=` expect', async () => {
    const everyone = (await (await scim('GET', '/Users?count=0')).json()) as { totalResults: number };
    for (const blank of ['', '   ', '\t']) {
      const answer = await scim('GET', `/Users?count=0&filter=${encodeURIComponent(blank)}`);
      expect([blank, answer.status]).toEqual([blank, 200]);
      expect(await answer.json()).toMatchObject({ totalResults: everyone.totalResults });
    }
    // Blank is not an expression: inside one it is still refused.
    const combined = await scim('GET', `/Users?filter=${encodeURIComponent('userName pr and ( )')}`);
    expect(combined.status).toBe(400);
    expect(await combined.json()).toMatchObject({ scimType: 'invalidFilter' });
  });

  it('answers a base URL pasted with a trailing slash (…/scim/v2//Users), and logs the path as sent', async () => {
    const created = await scim('POST', '//Users', { schemas: [USER], userName: 'slash@example.com' });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    expect(created.headers.get('location')).toBe(`${base}/Users/${id}`);
    expect((await scim('GET', `//Users//${id}`)).status).toBe(200);
    const list = await scim('GET', `//Users?filter=${encodeURIComponent('userName eq "slash@example.com"')}`);
    expect(await list.json()).toMatchObject({ totalResults: 1 });
    const logged = await adminCall(s, 'GET', '/request-logs?per_page=1');
    const [entry] = logged.body?.items as { path: string }[];
    expect(entry?.path).toBe(`${new URL(base).pathname}//Users`);
  });

  it('refuses bad filters, unknown routes, wrong methods and oversized bodies', async () => {
    const filter = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq')}`);
    expect(filter.status).toBe(400);
    expect(await filter.json()).toMatchObject({ scimType: 'invalidFilter' });
    const longFilter = await scim(
      'GET',
      `/Users?filter=${encodeURIComponent(`${'('.repeat(200)}userName pr${')'.repeat(200)}`)}`,
    );
    expect(longFilter.status).toBe(400);
    expect((await scim('GET', '/Nope')).status).toBe(404);
    const wrong = await scim('PATCH', '/Users');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('HEAD, GET, POST');
    const getSearch = await scim('GET', '/Users/.search');
    expect(getSearch.status).toBe(405);
    expect(getSearch.headers.get('allow')).toBe('POST');
    expect(await getSearch.json()).toMatchObject({ status: '405' });
    // Routes match in any case, and POST takes /Users/.SEARCH as a search: so do the others.
    expect((await scim('DELETE', '/Users/.SEARCH')).status).toBe(405);
    expect(await wrong.json()).toMatchObject({ status: '405', detail: expect.stringContaining('HEAD, GET, POST') });
    // A method no route has: RFC 7644 §3.12's 501, not a server failure.
    const unknown = await scim('PROPFIND', '/Users');
    expect(unknown.status).toBe(501);
    expect(await unknown.json()).toMatchObject({ status: '501', detail: expect.stringContaining('PROPFIND') });
    // On .search it names what .search takes, as its 405 does, not the methods of a resource by id.
    const unknownOnSearch = await scim('PROPFIND', '/Users/.search');
    expect(unknownOnSearch.status).toBe(501);
    expect(unknownOnSearch.headers.get('allow')).toBe('POST');
    const bigUser = { userName: 'big@example.com', title: 'x'.repeat(1024 * 1024) };
    const big = await scim('POST', '/Users', bigUser);
    expect(big.status).toBe(413);
    // How far over it is, not only the limit: a long attribute, or a batch meant for /Bulk.
    const size = Buffer.byteLength(JSON.stringify(bigUser)).toLocaleString('en-US');
    expect(await big.json()).toMatchObject({
      status: '413',
      detail: `The request body (${size} bytes) exceeds the limit of 1,048,576 bytes.`,
    });
    // Through Bulk (whose own limit is 4 MiB) the same user is refused the same way, alone.
    const bulk = await scim('POST', '/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'big', data: bigUser },
        { method: 'POST', path: '/Users', bulkId: 'small', data: { userName: 'small-beside-big@example.com' } },
      ],
    });
    expect(bulk.status).toBe(200);
    const [tooBig, small] = ((await bulk.json()) as { Operations: { status: string; response?: unknown }[] })
      .Operations;
    expect(tooBig).toMatchObject({
      status: '413',
      response: {
        detail: `This operation's data (${size} bytes) exceeds the limit of 1,048,576 bytes of one POST, in a Bulk request as on its own.`,
      },
    });
    expect(small).toMatchObject({ status: '201' });
    const found = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "big@example.com"')}`);
    expect(await found.json()).toMatchObject({ totalResults: 0 });
  });

  it('takes filters up to their limit in the URL, and explains a URL too long for any server', async () => {
    // 7,014 characters, over 21 KB once percent-encoded: above Node's default header room.
    const spaces = `userName eq "${' '.repeat(7000)}"`;
    const long = await scim('GET', `/Users?filter=${encodeURIComponent(spaces)}`);
    expect(long.status).toBe(200);
    expect(await long.json()).toMatchObject({ totalResults: 0 });
    // On a connection of its own (fetch's pool would reuse one the server then closes).
    const tooLong = await new Promise<{ status?: number; type?: string; body: string }>((resolve, reject) => {
      const url = `${base}/Users?filter=${encodeURIComponent(`userName eq "${'x'.repeat(70_000)}"`)}`;
      const req = request(url, { agent: false, headers: { Authorization: `Bearer ${s.secret}` } }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], body }));
      });
      req.on('error', reject).end();
    });
    expect(tooLong.status).toBe(431);
    expect(tooLong.type).toBe('application/scim+json; charset=utf-8');
    expect(JSON.parse(tooLong.body)).toMatchObject({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '431',
      detail: expect.stringContaining('POST .search'),
    });
    // The admin API has no filter to move: the console's sign-in with a pasted 70 KB token said so.
    const adminTooLong = await new Promise<{ status?: number; body: string }>((resolve, reject) => {
      const req = request(
        `${s.server.url}/api/v1/admin/tenants`,
        { agent: false, headers: { Authorization: `Bearer ${'a'.repeat(70_000)}.b.c` } },
        (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode, body }));
        },
      );
      req.on('error', reject).end();
    });
    expect(adminTooLong.status).toBe(431);
    // Its request line came in a chunk of its own: the path is not known, so the advice is conditional.
    expect(JSON.parse(adminTooLong.body)).toMatchObject({
      detail:
        'The request line and headers are over 64 KiB. If it is a SCIM list, send its filter in the body of POST .search (RFC 7644 §3.4.3) instead of the URL.',
    });
  });

  it('answers an over-long request on a kept-alive connection too', async () => {
    const { hostname, port, pathname } = new URL(base);
    const answers = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => {
        const head = (path: string) =>
          `GET ${pathname}${path} HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${s.secret}\r\n\r\n`;
        socket.write(head('/Users?count=1'));
        socket.write(head(`/Users?filter=${'x'.repeat(70_000)}`));
      });
      let text = '';
      socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      socket.on('close', () => resolve(text)).on('error', reject);
    });
    expect(answers).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(answers).toContain('HTTP/1.1 431 Request Header Fields Too Large');
    expect(answers).toContain('POST .search');
  });

  it('reads every header a request sends, however many (an If-Match after 2,000 others still counts)', async () => {
    const { hostname, port, pathname } = new URL(base);
    const made = await scim('POST', '/Users', { userName: `many-headers-${pathname.length}@example.com` });
    const { id } = (await made.json()) as { id: string };
    const fillers = Array.from({ length: 2_100 }, (_, i) => `X-Filler-${i}: a\r\n`).join('');
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () =>
        socket.write(
          `DELETE ${pathname}/Users/${id} HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${s.secret}\r\n` +
            `Connection: close\r\n${fillers}If-Match: W/"stale"\r\n\r\n`,
        ),
      );
      let text = '';
      socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      socket.on('close', () => resolve(text)).on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 412 /);
    expect((await scim('GET', `/Users/${id}`)).status).toBe(200);
  });

  it('answers a request pipelined ahead of a refused one first, then the refusal (RFC 9112 §9.3)', async () => {
    const { hostname, port, pathname } = new URL(base);
    const userName = `pipelined-${pathname.length}@example.com`;
    const body = JSON.stringify({ userName });
    const answers = await new Promise<string>((resolve, reject) => {
      // One write: the parser refuses the second request while the first waits for its commit.
      const socket = connect(Number(port), hostname, () =>
        socket.write(
          `POST ${pathname}/Users HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${s.secret}\r\n` +
            `Content-Type: ${SCIM_JSON}\r\nContent-Length: ${body.length}\r\n\r\n${body}` +
            `GET ${pathname}/Users?count=0 HTTP/1.1\r\nHost: ${hostname}\r\nX-Bad: a\x01b\r\n\r\n`,
        ),
      );
      let text = '';
      socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      socket.on('close', () => resolve(text)).on('error', reject);
    });
    expect(answers).toMatch(/^HTTP\/1\.1 201 Created/);
    expect(answers.indexOf('HTTP/1.1 400 Bad Request')).toBeGreaterThan(answers.indexOf(userName));
    const logged = await adminCall(s, 'GET', '/request-logs?per_page=2');
    const entries = logged.body?.items as { method: string; status: number }[];
    expect(entries.map((e) => [e.method, e.status])).toEqual([
      ['GET', 400],
      ['POST', 201],
    ]);
  });

  it('runs pipelined writes in the order they were sent: the last PUT wins, a DELETE comes after the PUT', async () => {
    const { hostname, port, pathname } = new URL(base);
    const userName = `pipelined-writes-${pathname.length}@example.com`;
    const { id } = (await (await scim('POST', '/Users', { schemas: [USER], userName })).json()) as { id: string };
    const put = (nickName: string) => {
      const body = JSON.stringify({ schemas: [USER], userName, nickName });
      return (
        `PUT ${pathname}/Users/${id} HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${s.secret}\r\n` +
        `Content-Type: ${SCIM_JSON}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
      );
    };
    const other = `${pathname}/Users/${id} HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${s.secret}\r\n`;
    // One write: every request is parsed before the first has committed.
    const answers = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () =>
        socket.write(
          put('FIRST') +
            put('SECOND') +
            `GET ${other}\r\n` +
            `DELETE ${other}\r\n` +
            `GET ${other}Connection: close\r\n\r\n`,
        ),
      );
      let text = '';
      socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      socket.on('close', () => resolve(text)).on('error', reject);
    });
    const statuses = [...answers.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((match) => Number(match[1]));
    expect(statuses).toEqual([200, 200, 200, 204, 404]);
    const etags = [...answers.matchAll(/^ETag: (.+)\r$/gm)].map((match) => match[1]);
    expect(etags.slice(0, 3)).toEqual(['W/"2"', 'W/"3"', 'W/"3"']);
    expect(answers).toMatch(/"nickName":"SECOND"[^]*"nickName":"SECOND"/);
  });

  it.each([
    ['one Node’s parser does not know', 'FOO', 'FOO'],
    ['CONNECT, which asks for a tunnel', 'CONNECT', 'CONNECT'],
  ])('answers a method %s with a SCIM 501, not a 400 or a closed connection', async (_case, method, named) => {
    const { hostname, port, pathname } = new URL(base);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () =>
        socket.write(
          `${method} ${pathname}/Users HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${s.secret}\r\n\r\n`,
        ),
      );
      let text = '';
      socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      socket.on('close', () => resolve(text)).on('error', reject);
    });
    const [head = '', body = ''] = answer.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 501 /);
    expect(head).toMatch(/Content-Type: application\/scim\+json; charset=utf-8/);
    expect(JSON.parse(body)).toEqual({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '501',
      detail: `The server does not support the ${named} method.`,
    });
  });

  it.each([
    ['a Content-Length that is not a number', 'Content-Length: ten\r\n\r\n', 400, 'not valid HTTP/1.1'],
    ['both Content-Length and chunked', 'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n', 400, 'HTTP/1.1'],
    ['chunk extensions over 16 KiB', `Transfer-Encoding: chunked\r\n\r\n5;${'x'.repeat(20_000)}\r\n`, 413, '16 KiB'],
    ['an Expect it cannot meet', 'Expect: foo\r\nContent-Length: 2\r\n\r\n{}', 417, 'Expect: 100-continue'],
  ])('answers a request Node’s HTTP server refuses (%s) with a SCIM error', async (_case, rest, status, detail) => {
    const { hostname, port, pathname } = new URL(base);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => {
        socket.write(`POST ${pathname}/Users HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${s.secret}\r\n`);
        socket.write(rest);
      });
      let text = '';
      socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      socket.on('close', () => resolve(text)).on('error', reject);
    });
    const [head = '', body = ''] = answer.split('\r\n\r\n');
    expect(head).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(head).toMatch(/Content-Type: application\/scim\+json; charset=utf-8/);
    expect(head).toMatch(/X-Content-Type-Options: nosniff/);
    expect(JSON.parse(body)).toEqual({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: String(status),
      detail: expect.stringContaining(detail),
    });
  });

  it('refuses an HTTP/1.1 request without Host with a SCIM error, and serves HTTP/1.0 at the address it reached', async () => {
    const { hostname, port, pathname } = new URL(base);
    const raw = (text: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), hostname, () => socket.write(text));
        let answer = '';
        socket.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
        socket.on('close', () => resolve(answer)).on('error', reject);
      });
    const body = JSON.stringify({ userName: `nohost-${pathname.length}@example.com` });
    const post = (version: string) =>
      `POST ${pathname}/Users HTTP/${version}\r\nAuthorization: Bearer ${s.secret}\r\n` +
      `Content-Type: ${SCIM_JSON}\r\nContent-Length: ${body.length}\r\n\r\n${body}`;

    const [head11 = '', body11 = ''] = (await raw(post('1.1'))).split('\r\n\r\n');
    expect(head11).toMatch(/^HTTP\/1\.1 400 /);
    expect(head11).toMatch(/Content-Type: application\/scim\+json; charset=utf-8/);
    expect(JSON.parse(body11)).toMatchObject({ status: '400', detail: expect.stringContaining('no Host header') });

    const [head10 = '', body10 = ''] = (await raw(post('1.0'))).split('\r\n\r\n');
    expect(head10).toMatch(/^HTTP\/1\.1 201 /);
    const created = JSON.parse(body10) as { meta: { location: string } };
    expect(created.meta.location.startsWith(`http://${hostname}:${port}${pathname}/Users/`)).toBe(true);
    expect(head10).toContain(`Location: ${created.meta.location}`);
  });

  it('refuses a body that is not UTF-8 instead of storing replacement characters', async () => {
    const bytes = Buffer.concat([Buffer.from('{"userName":"bad'), Buffer.from([0xff, 0xfe]), Buffer.from('@x.com"}')]);
    const response = await fetch(`${base}/Users`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${s.secret}`, 'Content-Type': SCIM_JSON },
      body: bytes,
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      scimType: 'invalidSyntax',
      detail: expect.stringContaining('UTF-8'),
    });
    const bom = await scim('POST', '/Users', `\uFEFF${JSON.stringify({ userName: 'bom@example.com' })}`);
    expect(bom.status).toBe(201);
  });

  it('names a compressed body as such instead of reading it as text', async () => {
    const { gzipSync } = await import('node:zlib');
    const gzipped = await fetch(`${base}/Users`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${s.secret}`, 'Content-Type': SCIM_JSON, 'Content-Encoding': 'gzip' },
      body: gzipSync(JSON.stringify({ userName: 'gzip@example.com' })),
    });
    expect(gzipped.status).toBe(400);
    expect(await gzipped.json()).toMatchObject({
      scimType: 'invalidSyntax',
      detail: 'Content-Encoding "gzip" is not supported: send the body uncompressed.',
    });
    const identity = await scim(
      'POST',
      '/Users',
      { userName: 'identity@example.com' },
      { 'Content-Encoding': 'Identity' },
    );
    expect(identity.status).toBe(201);
    const listed = await scim(
      'POST',
      '/Users',
      { userName: 'identity-listed@example.com' },
      { 'Content-Encoding': 'identity, identity' },
    );
    expect(listed.status).toBe(201);
    const admin = await fetch(`${s.server.url}/api/v1/admin/tenants`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${s.admin}`, 'Content-Type': 'application/json', 'Content-Encoding': 'br' },
      body: '{"name":"x"}',
    });
    expect(admin.status).toBe(415);
    // A transfer coding other than chunked: the body was read as sent, and a JSON one stored.
    const { hostname, port, pathname } = new URL(base);
    const json = JSON.stringify({ userName: `te-gzip-${pathname.length}@example.com` });
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () =>
        socket.write(
          `POST ${pathname}/Users HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${s.secret}\r\n` +
            `Content-Type: ${SCIM_JSON}\r\nTransfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n` +
            `${json.length.toString(16)}\r\n${json}\r\n0\r\n\r\n`,
        ),
      );
      let text = '';
      socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      socket.on('close', () => resolve(text)).on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('Transfer-Encoding \\"gzip, chunked\\" is not supported');
    const found = await scim(
      'GET',
      `/Users?filter=${encodeURIComponent(`userName eq "${JSON.parse(json).userName}"`)}`,
    );
    expect(await found.json()).toMatchObject({ totalResults: 0 });
  });

  it('survives hostile bodies: deep nesting and prototype keys', async () => {
    const deep = `{"userName":"deep@example.com","name":${'['.repeat(50_000)}${']'.repeat(50_000)}}`;
    const response = await scim('POST', '/Users', deep);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      scimType: 'invalidSyntax',
      detail: expect.stringContaining('nested'),
    });
    // Deep, but within the limit, and of the wrong type: refused by validation, not by a crash.
    const wrongType = await scim(
      'POST',
      '/Users',
      `{"userName":"deep2@example.com","name":${'['.repeat(60)}${']'.repeat(60)}}`,
    );
    expect(wrongType.status).toBe(400);
    const proto = await scim(
      'POST',
      '/Users',
      '{"userName":"proto@example.com","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}',
    );
    expect([201, 400]).toContain(proto.status);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(s.server.errors).toEqual([]);
  });

  it('reads an escaped unreserved character in an endpoint name as the character (RFC 3986 §6.2.2.2)', async () => {
    const created = await scim('POST', '/Users', { schemas: [USER], userName: 'escaped-endpoint@example.com' });
    const { id } = (await created.json()) as { id: string };
    const got = await scim('GET', `/%55sers/${id}`);
    expect(got.status).toBe(200);
    expect(((await got.json()) as { id: string }).id).toBe(id);
    expect(
      (
        await scim('POST', '/Users/%2Esearch', {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
          count: 0,
        })
      ).status,
    ).toBe(200);
    // A reserved character escaped stays what it is: `%2F` is no path separator.
    expect((await scim('GET', `/Users%2F${id}`)).status).toBe(404);
  });

  it('reads escaped unreserved characters in the base path as the characters, on the admin API too', async () => {
    const escapedBase = base.replace('/api/v1/', '/%61pi/v1/').replace('/scim/v2', '/%73cim/%76%32');
    const auth = { Authorization: `Bearer ${s.secret}` };
    const listed = await fetch(`${escapedBase}/Users?count=0`, { headers: auth });
    expect(listed.status).toBe(200);
    expect(listed.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    // An unknown endpoint under it is a SCIM 404, not the console's.
    const unknown = await fetch(`${escapedBase}/Nope`, { headers: auth });
    expect([unknown.status, unknown.headers.get('content-type')]).toEqual([404, expect.stringMatching(/scim\+json/)]);
    const status = await fetch(`${s.server.url}/api/v1/%61dmin/status`, {
      headers: { Authorization: `Bearer ${s.admin}` },
    });
    expect(status.status).toBe(200);
  });

  it('answers /Me with 501', async () => {
    expect((await scim('GET', '/Me')).status).toBe(501);
  });
});

describe('ETags across a restart', () => {
  const patchOp = (value: unknown) => ({
    schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
    Operations: [{ op: 'add', path: 'members', value }],
  });

  it('keeps the ETag of every unchanged resource, derived values included, on both base paths', async () => {
    const data = await tempDataDir();
    const servers: TestServer[] = [];
    const start = async () => {
      const server = await startTestServer({ dataDir: data.dir });
      servers.push(server);
      return server;
    };
    try {
      const first = await start();
      const { tenantId, token } = await first.tenantWithToken('Restart');
      const call = (url: string, method: string, body?: unknown, headers: Record<string, string> = {}) =>
        fetch(url, {
          method,
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': SCIM_JSON, ...headers },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      const base = `${first.url}/scim/v2`;
      const create = async (path: string, body: unknown) =>
        String(((await (await call(`${base}${path}`, 'POST', body)).json()) as { id: string }).id);
      const boss = await create('/Users', { userName: 'boss@example.com', displayName: 'Boss' });
      const users = [boss];
      for (const n of [1, 2, 3]) {
        users.push(await create('/Users', { userName: `u${n}@example.com`, [ENTERPRISE]: { manager: boss } }));
      }
      // A snapshot's rebuild reads groups in their order: members joining the older group after
      // the newer one are where a restart could reorder a user's groups.
      const older = await create('/Groups', { displayName: 'Older', members: [{ value: boss }] });
      const newer = await create('/Groups', {
        displayName: 'Newer',
        members: [...users].reverse().map((value) => ({ value })),
      });
      const joined = await call(
        `${base}/Groups/${older}`,
        'PATCH',
        patchOp(users.slice(1).map((value) => ({ value }))),
      );
      expect(joined.status).toBe(200);
      const paths = [...users.map((id) => `/Users/${id}`), `/Groups/${older}`, `/Groups/${newer}`];
      const tags = new Map<string, string>();
      for (const path of paths) tags.set(path, (await call(`${base}${path}`, 'GET')).headers.get('etag') ?? '');

      const expectSameTags = async (server: TestServer) => {
        for (const again of [`${server.url}/scim/v2`, `${server.url}/api/v1/tenants/${tenantId}/scim/v2`]) {
          for (const path of paths) {
            const response = await call(`${again}${path}`, 'GET', undefined, { 'If-None-Match': tags.get(path) ?? '' });
            expect([path, response.status, response.headers.get('etag')]).toEqual([path, 304, tags.get(path)]);
          }
        }
      };
      // Restarted from the journal (replayed in write order), then from a snapshot (the one a
      // long-running server takes once its journal grows).
      await first.app.close();
      const second = await start();
      await expectSameTags(second);
      await second.app.store.checkpoint(true);
      await second.app.close();
      await expectSameTags(await start());
    } finally {
      for (const server of servers) await server.app.close().catch(() => undefined);
      await data.remove();
    }
  });
});

describe('a burst of password writes', () => {
  it('is answered 503 with Retry-After beyond what the hasher takes, not logged as a server failure', async () => {
    const server = await startTestServer({ hasher: { workers: 1, maxQueued: 1 } });
    try {
      const { token: secret } = await server.tenantWithToken('Burst');
      const post = (i: number) =>
        fetch(`${server.url}/scim/v2/Users`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${secret}`, 'Content-Type': SCIM_JSON },
          body: JSON.stringify({ userName: `burst${i}@example.com`, password: `Burst-pw-${i}!` }),
        });
      const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => post(i)));
      const statuses = answers.map((answer) => answer.status);
      expect(statuses).toContain(201);
      const busy = answers.filter((answer) => answer.status === 503);
      expect(busy.length).toBeGreaterThan(0);
      expect(statuses.every((status) => status === 201 || status === 503)).toBe(true);
      for (const answer of busy) {
        expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        expect(await answer.json()).toMatchObject({ status: '503', detail: expect.stringContaining('try again') });
      }
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});

describe('SCIM authentication', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup();
  });
  afterAll(() => s.server.stop());

  const get = (path: string, token?: string) =>
    fetch(`${s.server.url}${path}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });

  it('answers 401 with WWW-Authenticate without a token or with a bad one, naming a refused token invalid_token', async () => {
    for (const token of [undefined, 'garbage', `scimdesk_${'x'.repeat(43)}`]) {
      const response = await get('/scim/v2/Users', token);
      expect(response.status).toBe(401);
      // RFC 6750 §3.1: an error code only when a token was presented.
      expect(response.headers.get('www-authenticate')).toBe(
        token === undefined ? 'Bearer realm="scimdesk"' : 'Bearer realm="scimdesk", error="invalid_token"',
      );
      expect(await response.json()).toMatchObject({ status: '401' });
    }
  });

  it('refuses a request with two Authorization headers instead of picking one', async () => {
    const { hostname, port } = new URL(s.server.url);
    const twice = (path: string, first: string, second: string) =>
      new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
        const socket = connect(Number(port), hostname, () =>
          socket.write(
            `GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n` +
              `Authorization: Bearer ${first}\r\nAuthorization: Bearer ${second}\r\n\r\n`,
          ),
        );
        let text = '';
        socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        socket.on('error', reject).on('close', () => {
          const [head = '', body = ''] = text.split('\r\n\r\n');
          resolve({ status: Number(head.split(' ')[1]), body: JSON.parse(body) as Record<string, unknown> });
        });
      });
    for (const [first, second] of [
      [s.secret, 'garbage'],
      ['garbage', s.secret],
      [s.secret, s.secret],
    ] as const) {
      const refused = await twice('/scim/v2/Users', first, second);
      expect(refused.status).toBe(401);
      expect(refused.body).toMatchObject({ status: '401', detail: expect.stringContaining('more than one') });
    }
    const admin = await twice('/api/v1/admin/tenants', s.admin, s.admin);
    expect(admin.status).toBe(401);
    expect(admin.body).toMatchObject({ detail: expect.stringContaining('more than one') });
    expect((await get('/scim/v2/Users', s.secret)).status).toBe(200);
  });

  it('refuses a Host that is not a host and port, or two of them, with 400 (RFC 9112 §3.2), before it reaches a URL', async () => {
    const { hostname, port } = new URL(s.server.url);
    const send = (hostLines: string) =>
      new Promise<{ status: number; head: string; body: string }>((resolve, reject) => {
        const body = JSON.stringify({ userName: `host-${Math.random()}@example.com` });
        const socket = connect(Number(port), hostname, () =>
          socket.write(
            `POST /scim/v2/Users HTTP/1.1\r\n${hostLines}Connection: close\r\nAuthorization: Bearer ${s.secret}\r\n` +
              `Content-Type: application/scim+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
          ),
        );
        let text = '';
        socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        socket.on('error', reject).on('close', () => {
          const [head = '', rest = ''] = text.split('\r\n\r\n');
          resolve({ status: Number(head.split(' ')[1]), head, body: rest });
        });
      });
    for (const hostLines of [
      'Host: evil.example/x?\r\n',
      'Host: a b\r\n',
      'Host: h:80:80\r\n',
      'Host: a\r\nHost: b\r\n',
    ]) {
      const refused = await send(hostLines);
      expect(refused.status).toBe(400);
      expect(JSON.parse(refused.body)).toMatchObject({ status: '400', detail: expect.stringContaining('Host') });
    }
    for (const [host, origin] of [
      ['scim.example.com:8443', 'http://scim.example.com:8443'],
      ['[::1]:9', 'http://[::1]:9'],
      ['xn--bcher-kva.example', 'http://xn--bcher-kva.example'],
    ] as const) {
      const created = await send(`Host: ${host}\r\n`);
      expect(created.status).toBe(201);
      expect(created.head).toMatch(
        new RegExp(`\r\nlocation: ${origin.replace(/[[\].]/g, '\\$&')}/scim/v2/Users/`, 'i'),
      );
    }
  });

  it('keeps tenants apart: another tenant’s path answers 404', async () => {
    const other = await adminCall(s, 'POST', '/tenants', { name: 'Other' });
    const response = await get(`/api/v1/tenants/${String(other.body?.id)}/scim/v2/Users`, s.secret);
    expect(response.status).toBe(404);
    expect((await get(`/api/v1/tenants/tn_missing/scim/v2/Users`, s.secret)).status).toBe(404);
  });

  it('answers a tenant id that is not valid percent-encoding with a SCIM error, not a 500', async () => {
    for (const [token, status] of [
      [s.secret, 404],
      ['garbage', 401],
    ] as const) {
      const response = await get('/api/v1/tenants/%E0%A4/scim/v2/Users', token);
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toMatch(/^application\/scim\+json/);
      expect(await response.json()).toMatchObject({ status: String(status) });
    }
  });

  it('lets the admin token browse the tenant path, and refuses it on /scim/v2', async () => {
    expect((await get(`/api/v1/tenants/${s.tenantId}/scim/v2/Users`, s.admin)).status).toBe(200);
    const refused = await get('/scim/v2/Users', s.admin);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ detail: expect.stringContaining('/api/v1/tenants/') });
  });

  it('stops a revoked token on the very next request', async () => {
    const token = await adminCall(s, 'POST', '/scim-tokens', { tenant_id: s.tenantId, name: 'short-lived' });
    const secret = String(token.body?.token);
    expect((await get('/scim/v2/Users', secret)).status).toBe(200);
    expect((await adminCall(s, 'DELETE', `/scim-tokens/${String(token.body?.id)}`)).status).toBe(204);
    expect((await get('/scim/v2/Users', secret)).status).toBe(401);
  });

  it('refuses a body over its limit with its size, and the pooled connection serves the next request', async () => {
    const { hostname, port } = new URL(s.server.url);
    // One pooled connection, as an IdP's HTTP client keeps: after a 413 the next request must not
    // go out on a connection the server has stopped reading.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const send = (method: string, path: string, parts: string[], headers: Record<string, string> = {}) =>
      new Promise<{ status: number; connection?: string; body: string }>((resolve, reject) => {
        const req = request(
          {
            agent,
            hostname,
            port,
            method,
            path,
            headers: { Authorization: `Bearer ${s.secret}`, 'Content-Type': 'application/scim+json', ...headers },
          },
          (res) => {
            let text = '';
            res.on('data', (data: Buffer) => (text += data.toString()));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body: text }),
            );
          },
        );
        // The server may answer and close before the last bytes are written.
        req.on('error', (error) => (/EPIPE|ECONNRESET/.test(String(error)) ? undefined : reject(error)));
        for (const part of parts.slice(0, -1)) req.write(part);
        req.end(parts.at(-1));
      });
    try {
      const body = `{"userName":"too-big@example.com","title":"${'x'.repeat(1200 * 1024)}"}`;
      // With a Content-Length the size is known before reading; chunked, only by reading.
      const announced = await send('POST', '/scim/v2/Users', [body], {
        'Content-Length': String(Buffer.byteLength(body)),
      });
      expect(announced.status).toBe(413);
      expect(announced.connection).toBe('close');
      expect(JSON.parse(announced.body)).toMatchObject({
        detail: `The request body (${Buffer.byteLength(body).toLocaleString('en-US')} bytes) exceeds the limit of 1,048,576 bytes.`,
      });
      expect((await send('GET', '/scim/v2/Users?count=0', [''])).status).toBe(200);

      const chunked = await send('POST', '/scim/v2/Users', [body.slice(0, 600 * 1024), body.slice(600 * 1024)]);
      expect(chunked.status).toBe(413);
      expect(chunked.connection).toBe('close');
      expect(JSON.parse(chunked.body)).toMatchObject({
        detail: expect.stringMatching(
          /^The request body exceeds the limit of 1,048,576 bytes; [\d,]+ bytes came before it was refused\.$/,
        ),
      });
      expect((await send('GET', '/scim/v2/Users?count=0', [''])).status).toBe(200);
    } finally {
      agent.destroy();
    }
  });

  /**
   * POSTs a user to `path` with `secret`: the headers (and so the token check) at once, the body only
   * once `meanwhile` has run. Then says whether the user was written.
   */
  async function createWhile(path: string, secret: string, userName: string, meanwhile: () => Promise<unknown>) {
    const body = JSON.stringify({ userName });
    const { hostname, port } = new URL(s.server.url);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        {
          hostname,
          port,
          method: 'POST',
          path,
          headers: {
            Authorization: `Bearer ${secret}`,
            'Content-Type': 'application/scim+json',
            'Content-Length': Buffer.byteLength(body),
          },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      req.flushHeaders();
      void new Promise((wait) => setTimeout(wait, 200)).then(meanwhile).then(() => req.end(body));
    });
    const filter = encodeURIComponent(`userName eq "${userName}"`);
    const found = (await (await get(`/scim/v2/Users?filter=${filter}`, s.secret)).json()) as { totalResults: number };
    return { status: answer.status, answer: JSON.parse(answer.body) as unknown, written: found.totalResults > 0 };
  }

  it('writes nothing for a token revoked while its request was under way', async () => {
    const token = await adminCall(s, 'POST', '/scim-tokens', { tenant_id: s.tenantId, name: 'revoked-mid-request' });
    const result = await createWhile(
      '/scim/v2/Users',
      String(token.body?.token),
      'written-after-revocation@example.com',
      () => adminCall(s, 'DELETE', `/scim-tokens/${String(token.body?.id)}`),
    );
    expect(result).toMatchObject({
      status: 401,
      answer: { detail: expect.stringContaining('revoked while this request ran') },
      written: false,
    });
  });

  it('writes nothing for the console when its admin token is signed out while the request is under way', async () => {
    const admin = await s.server.adminToken();
    const path = `/api/v1/tenants/${s.tenantId}/scim/v2/Users`;
    const result = await createWhile(path, admin, 'written-after-sign-out@example.com', () =>
      fetch(`${s.server.url}/api/v1/admin/session`, {
        method: 'DELETE',
        headers: { Authorization: `Bearer ${admin}` },
      }),
    );
    expect(result).toMatchObject({
      status: 401,
      answer: { detail: 'The admin token was signed out while this request ran.' },
      written: false,
    });
  });

  it('stops an expired token on the first request after its expiry, on both base paths', async () => {
    const expiresAt = new Date(Date.now() + 1_000).toISOString();
    const token = await adminCall(s, 'POST', '/scim-tokens', {
      tenant_id: s.tenantId,
      name: 'expiring',
      expires_at: expiresAt,
    });
    const secret = String(token.body?.token);
    const tenantPath = `/api/v1/tenants/${s.tenantId}/scim/v2/Users`;
    expect((await get('/scim/v2/Users', secret)).status).toBe(200);
    expect((await get(tenantPath, secret)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(expiresAt) - Date.now()) + 50));
    for (const path of ['/scim/v2/Users', tenantPath]) {
      const refused = await get(path, secret);
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer realm="scimdesk", error="invalid_token"$/);
      expect(await refused.json()).toMatchObject({ status: '401', detail: expect.stringMatching(/expired/i) });
    }
  });

  it('records when a token was last used', async () => {
    await get('/scim/v2/Users', s.secret);
    const token = await adminCall(s, 'GET', `/scim-tokens/${s.tokenId}`);
    expect(token.body?.last_used_at).toEqual(expect.any(String));
  });
});

describe('admin API: tenants and SCIM tokens', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup();
  });
  afterAll(() => s.server.stop());

  it('creates, reads, updates and deletes tenants with the documented statuses', async () => {
    const created = await adminCall(s, 'POST', '/tenants/', { name: 'Fabrikam' });
    expect(created.status).toBe(201);
    const id = String(created.body?.id);
    expect((await adminCall(s, 'GET', `/tenants/${id}`)).body).toMatchObject({ name: 'Fabrikam' });
    const updated = await adminCall(s, 'PATCH', `/tenants/${id}`, { name: 'Fabrikam Inc', delete_mode: 'deactivate' });
    expect(updated).toMatchObject({ status: 200, body: { name: 'Fabrikam Inc', delete_mode: 'deactivate' } });
    expect((await adminCall(s, 'POST', '/tenants', { name: 'fabrikam inc' })).status).toBe(409);
    expect((await adminCall(s, 'DELETE', `/tenants/${id}`)).status).toBe(204);
    expect((await adminCall(s, 'GET', `/tenants/${id}`)).status).toBe(404);
  });

  it('validates admin input with 422 details', async () => {
    const bad = await adminCall(s, 'POST', '/tenants', { name: '' });
    expect(bad.status).toBe(422);
    expect(bad.body).toMatchObject({ detail: [{ loc: ['body', 'name'] }] });
    const badMode = await adminCall(s, 'PATCH', `/tenants/${s.tenantId}`, { delete_mode: 'shred' });
    expect(badMode.status).toBe(422);
  });

  it('lists tokens per tenant without secrets, paged', async () => {
    const list = await adminCall(s, 'GET', `/scim-tokens/?tenant_id=${s.tenantId}&page=1&per_page=10`);
    expect(list).toMatchObject({ status: 200, body: { total: 1, page: 1, per_page: 10 } });
    expect(JSON.stringify(list.body)).not.toContain(s.secret);
    expect((await adminCall(s, 'GET', '/scim-tokens/?tenant_id=tn_none')).status).toBe(404);
  });

  it('gives endpoint info whose URLs work when pasted into an IdP', async () => {
    const info = await adminCall(s, 'GET', `/scim-tokens/endpoint-info?tenant_id=${s.tenantId}`);
    expect(info.status).toBe(200);
    expect(info.body?.active_tokens).toBe(1);
    const entra = info.body?.entra as { tenant_url: string };
    const okta = info.body?.okta as { base_url: string; unique_identifier_field: string };
    expect(okta.unique_identifier_field).toBe('userName');
    for (const url of [entra.tenant_url, okta.base_url, String(info.body?.tenant_scim_base_url)]) {
      const response = await fetch(`${url}/Users?count=1`, { headers: { Authorization: `Bearer ${s.secret}` } });
      expect(response.status).toBe(200);
    }
  });
});
