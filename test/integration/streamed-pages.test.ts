import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RequestLogEntry } from '@shared/request-log';
import { startTestServer, type TestServer } from './harness';

const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const USERS = 2_000;
const GROUPS = 40;

interface Group {
  id: string;
  displayName: string;
  members?: { value: string; display?: string }[];
}

/** A GET read to its end, with its status, headers and text. */
function getText(url: string, token: string): Promise<{ status: number; headers: Headers; text: string }> {
  return fetch(url, { headers: { Authorization: `Bearer ${token}` } }).then(async (response) => ({
    status: response.status,
    headers: response.headers,
    text: await response.text(),
  }));
}

/**
 * Pages of groups with their members, from a tenant whose groups hold many (80,000 member values
 * here): built whole, such a page held every tenant's requests and its memory until it was sent.
 */
describe('a page of groups with many members is streamed', () => {
  let server: TestServer;
  let admin: string;
  let tenant: { tenantId: string; token: string; admin: string };
  let tokenId: string;
  let scim: string;

  beforeAll(async () => {
    server = await startTestServer();
    tenant = await server.tenantWithToken('Large groups');
    admin = tenant.admin;
    scim = `${server.url}/api/v1/tenants/${tenant.tenantId}/scim/v2`;
    const ids: string[] = [];
    for (let batch = 0; batch < USERS / 500; batch++) {
      const Operations = Array.from({ length: 500 }, (_, i) => ({
        method: 'POST',
        path: '/Users',
        bulkId: `u${i}`,
        data: { userName: `user-${batch}-${i}@large.test`, displayName: `Large Group Member ${batch}-${i}` },
      }));
      const answer = await fetch(`${server.url}/scim/v2/Bulk`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${tenant.token}`, 'Content-Type': 'application/scim+json' },
        body: JSON.stringify({ schemas: [BULK], Operations }),
      });
      const body = (await answer.json()) as { Operations: { location: string }[] };
      ids.push(...body.Operations.map(({ location }) => location.split('/').pop()!));
    }
    const members = ids.map((value) => ({ value }));
    for (let g = 0; g < GROUPS; g++) {
      const made = await fetch(`${server.url}/scim/v2/Groups`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${tenant.token}`, 'Content-Type': 'application/scim+json' },
        body: JSON.stringify({ displayName: `Everyone ${g}`, members }),
      });
      expect(made.status).toBe(201);
    }
    const tokens = (await (
      await fetch(`${server.url}/api/v1/admin/scim-tokens?tenant_id=${tenant.tenantId}`, {
        headers: { Authorization: `Bearer ${admin}` },
      })
    ).json()) as { items: { id: string }[] };
    tokenId = tokens.items[0]!.id;
  }, 120_000);
  afterAll(() => server.stop());

  const asAdmin = async (path: string) =>
    (await fetch(`${server.url}/api/v1/admin${path}`, { headers: { Authorization: `Bearer ${admin}` } })).json();

  /** The newest seq in the log, so that an entry filed later can be told from earlier ones. */
  async function newestSeq(): Promise<number> {
    const list = (await asAdmin('/request-logs?per_page=1')) as { items: { seq: number }[] };
    return list.items[0]?.seq ?? 0;
  }

  /** The newest entry matching `q`, once filed after `after` (a streamed answer is filed when it ends). */
  function entryAfter(after: number, q: string): Promise<RequestLogEntry> {
    return vi.waitFor(
      async () => {
        const list = (await asAdmin(`/request-logs?per_page=1&q=${q}`)) as { items: { id: string; seq: number }[] };
        const [row] = list.items;
        if (!row || row.seq <= after) throw new Error('not logged yet');
        return (await asAdmin(`/request-logs/${row.id}`)) as RequestLogEntry;
      },
      { timeout: 10_000, interval: 50 },
    );
  }

  it('sends the page as it goes, each group as a GET of it answers it', { timeout: 60_000 }, async () => {
    const { status, headers, text } = await getText(`${scim}/Groups?count=5`, tenant.token);
    expect(status).toBe(200);
    expect(headers.get('content-type')).toBe('application/scim+json; charset=utf-8');
    // Streamed: its length was not known before it was sent.
    expect(headers.get('content-length')).toBeNull();
    expect(headers.get('transfer-encoding')).toBe('chunked');
    const page = JSON.parse(text) as { Resources: Group[] };
    expect(page).toMatchObject({ schemas: [LIST], totalResults: GROUPS, startIndex: 1, itemsPerPage: 5 });
    expect(page.Resources.map((group) => group.displayName)).toEqual([0, 1, 2, 3, 4].map((g) => `Everyone ${g}`));
    // HEAD reads nothing of it.
    const head = await fetch(`${scim}/Groups?count=5`, {
      method: 'HEAD',
      headers: { Authorization: `Bearer ${tenant.token}` },
    });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const alone: unknown[] = [];
    for (const group of page.Resources) {
      const answer = await getText(`${scim}/Groups/${group.id}`, tenant.token);
      alone.push(JSON.parse(answer.text));
      expect(group.members).toHaveLength(USERS);
    }
    // Each group's members sent in slices: the very text a page built whole would be.
    const { schemas, totalResults, startIndex, itemsPerPage } = page as unknown as Record<string, unknown>;
    expect(text).toBe(JSON.stringify({ schemas, totalResults, startIndex, itemsPerPage, Resources: alone }));
  });

  it('streams a search with its projection, and keeps a small page whole', { timeout: 60_000 }, async () => {
    const searched = await fetch(`${scim}/Groups/.search`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${tenant.token}`, 'Content-Type': 'application/scim+json' },
      body: JSON.stringify({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
        filter: 'displayName sw "Everyone 1"',
        attributes: ['members.value'],
        startIndex: 2,
        count: 3,
      }),
    });
    expect(searched.headers.get('transfer-encoding')).toBe('chunked');
    const page = (await searched.json()) as { Resources: Group[] };
    // Everyone 1, 10, 11, 12…: the second to the fourth.
    expect(page).toMatchObject({ totalResults: 11, startIndex: 2, itemsPerPage: 3 });
    expect(page.Resources.map((group) => Object.keys(group).sort())).toEqual([
      ['id', 'members', 'schemas'],
      ['id', 'members', 'schemas'],
      ['id', 'members', 'schemas'],
    ]);
    expect(Object.keys(page.Resources[0]!.members![0]!)).toEqual(['value']);
    // Without members, the page is small and built whole, as every other answer.
    const names = await getText(`${scim}/Groups?count=40&excludedAttributes=members`, tenant.token);
    expect(names.headers.get('content-length')).toBe(String(Buffer.byteLength(names.text)));
    expect(JSON.parse(names.text)).toMatchObject({ itemsPerPage: GROUPS });
  });

  it('logs a streamed page with its size and its head, redacted and cut as a large answer built whole', async () => {
    // A name that reads like a form's secret in free text: the head is kept as JSON, not as text.
    const [seventh] = (
      JSON.parse((await getText(`${scim}/Groups?count=1&startIndex=7&attributes=id`, tenant.token)).text) as {
        Resources: Group[];
      }
    ).Resources;
    const renamed = await fetch(`${scim}/Groups/${seventh!.id}`, {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${tenant.token}`, 'Content-Type': 'application/scim+json' },
      body: JSON.stringify({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', path: 'displayName', value: 'Vault secret=rotate-weekly' }],
      }),
    });
    expect(renamed.status).toBe(200);
    const before = await newestSeq();
    const { text } = await getText(`${scim}/Groups?count=2&startIndex=7`, tenant.token);
    expect(text).toContain('"displayName":"Vault secret=rotate-weekly"');
    const entry = await entryAfter(before, 'startIndex%3D7');
    expect(entry).toMatchObject({ status: 200, has_error: false, error: null });
    expect(entry.response).toMatchObject({ truncated: true, bytes: Buffer.byteLength(text) });
    expect(typeof entry.response.body).toBe('string');
    // The first 64 KB as sent, the group's name included.
    expect(text.startsWith(String(entry.response.body))).toBe(true);
    expect(String(entry.response.body).length).toBeGreaterThan(60_000);
    expect(String(entry.response.body)).toContain('"displayName":"Vault secret=rotate-weekly"');
  });

  it(
    'streams one large group as GET, POST, PUT and PATCH answer it, with its ETag and Location',
    { timeout: 60_000 },
    async () => {
      const send = (method: string, path: string, body?: unknown) =>
        fetch(`${scim}${path}`, {
          method,
          headers: { Authorization: `Bearer ${tenant.token}`, 'Content-Type': 'application/scim+json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      const everyone = (
        JSON.parse((await getText(`${scim}/Groups?count=1`, tenant.token)).text) as { Resources: Group[] }
      ).Resources[0]!;
      const members = everyone.members!.map(({ value }) => ({ value }));
      const created = await send('POST', '/Groups', { displayName: 'Streamed on create', members });
      const answers = [created];
      const id = ((await created.clone().json()) as Group).id;
      answers.push(await send('GET', `/Groups/${id}`));
      answers.push(await send('PUT', `/Groups/${id}`, { displayName: 'Streamed on PUT', members }));
      answers.push(
        await send('PATCH', `/Groups/${id}`, {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
          Operations: [{ op: 'replace', path: 'displayName', value: 'Streamed on PATCH' }],
        }),
      );
      expect(answers.map((answer) => answer.status)).toEqual([201, 200, 200, 200]);
      for (const answer of answers) {
        expect(answer.headers.get('transfer-encoding')).toBe('chunked');
        const text = await answer.text();
        const group = JSON.parse(text) as Group & { meta: { version: string; location: string } };
        // The order a resource built whole has: members before meta, which comes last.
        expect(Object.keys(group)).toEqual(['schemas', 'id', 'displayName', 'members', 'meta']);
        expect(answer.headers.get('etag')).toBe(group.meta.version);
        if (answer.status === 201) expect(answer.headers.get('location')).toBe(group.meta.location);
      }
      // What the last answer said is what a GET now says.
      const now = JSON.parse((await getText(`${scim}/Groups/${id}`, tenant.token)).text) as Group;
      expect(now.displayName).toBe('Streamed on PATCH');
      expect(now.members).toHaveLength(USERS);
      // A projection leaving the members out is answered whole, with its length.
      const bare = await send('GET', `/Groups/${id}?excludedAttributes=members`);
      expect(bare.headers.get('content-length')).not.toBeNull();
      expect(await bare.json()).not.toHaveProperty('members');
      expect((await send('DELETE', `/Groups/${id}`)).status).toBe(204);
    },
  );

  it('stops a page whose token is revoked while its client reads it', { timeout: 60_000 }, async () => {
    // About 14 MB (40 groups of 2,000 members): more than a connection holds while its client pauses.
    const url = new URL(`${server.url}/scim/v2/Groups?count=${GROUPS}`);
    const before = await newestSeq();
    const cut = await new Promise<{ read: number; ended: string; text: string }>((resolve, reject) => {
      const get = request(url, { headers: { Authorization: `Bearer ${tenant.token}` } }, (response) => {
        let read = 0;
        let tail = '';
        const chunks: Buffer[] = [];
        response.once('data', (chunk: Buffer) => {
          read += chunk.length;
          chunks.push(chunk);
          response.pause();
          void fetch(`${server.url}/api/v1/admin/scim-tokens/${tokenId}`, {
            method: 'DELETE',
            headers: { Authorization: `Bearer ${admin}` },
          }).then((revoked) => {
            expect(revoked.status).toBe(204);
            response.on('data', (more: Buffer) => {
              read += more.length;
              chunks.push(more);
              tail = (tail + more.toString('latin1')).slice(-2);
            });
            response.resume();
          });
        });
        const done = () => resolve({ read, ended: tail, text: Buffer.concat(chunks).toString('utf8') });
        response.on('end', done).on('aborted', done).on('error', done);
      });
      get.on('error', reject).end();
    });
    // Cut before its end: the JSON never closes.
    expect(cut.ended).not.toBe(']}');
    expect(cut.read).toBeLessThan(8 * 1024 * 1024);
    // The log says how many whole groups the client got, and that the revocation stopped it.
    const sent = cut.text.split('{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"]').length - 1;
    expect(sent).toBeGreaterThan(0);
    const entry = await entryAfter(before, `count%3D${GROUPS}`);
    expect(entry).toMatchObject({ status: 200, has_error: true, response: { bytes: cut.read } });
    expect(entry.error!.message).toBe(
      `The answer was stopped after ${sent} resources (${cut.read.toLocaleString('en-US')} bytes): The SCIM token was revoked while this request ran.`,
    );
    const again = await getText(`${url}`, tenant.token);
    expect(again.status).toBe(401);
  });
});
