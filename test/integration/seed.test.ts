/** `scimdesk seed` into scimdesk (Bulk and POSTs) and into a server without Bulk. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCIM_URN } from '@shared/scim/urns';
import { seedScim } from '../../src-main/seed/index';
import { BROKEN_SERVER_TOKEN, startBrokenScimServer } from '../fixtures/broken-scim-server';
import { runCli, runCliToEnd, startTestServer, type TestServer } from './harness';

let server: TestServer;
let admin: string;

async function tenant(name: string): Promise<{ base: string; token: string }> {
  const { token } = await server.tenantWithToken(name, admin);
  return { base: `${server.url}/scim/v2`, token };
}

interface Listed {
  totalResults: number;
  Resources: Record<string, unknown>[];
}

async function total(t: { base: string; token: string }, type: string): Promise<number> {
  const response = await fetch(`${t.base}/${type}?count=0`, { headers: { Authorization: `Bearer ${t.token}` } });
  return ((await response.json()) as Listed).totalResults;
}

async function list(t: { base: string; token: string }, type: string, query = ''): Promise<Listed> {
  const response = await fetch(`${t.base}/${type}?count=1000${query}`, {
    headers: { Authorization: `Bearer ${t.token}` },
  });
  return (await response.json()) as Listed;
}

beforeAll(async () => {
  server = await startTestServer();
  admin = await server.adminToken();
});
afterAll(() => server.stop());

describe.each(['bulk', 'post'] as const)('seed into scimdesk (%s)', (mode) => {
  it('creates exactly N users and M groups, with managers and memberships', async () => {
    const t = await tenant(`seed ${mode}`);
    const progress: number[] = [];
    const result = await seedScim({
      baseUrl: t.base,
      token: t.token,
      users: 300,
      groups: 12,
      seed: 'it',
      mode: mode === 'post' ? 'post' : 'auto',
      onProgress: (p) => progress.push(p.done),
    });
    expect(result).toMatchObject({ mode, usersCreated: 300, groupsCreated: 12, failed: 0, droppedReferences: 0 });
    if (mode === 'bulk') expect(result.bulk?.requests).toBe(1);
    // One GET of /Users first; --mode post skips reading the ServiceProviderConfig.
    else expect(result.requests).toBe(1 + 300 + 12);
    expect(progress.at(-1)).toBe(312);

    const users = await list(t, 'Users');
    const groups = await list(t, 'Groups');
    expect(users.totalResults).toBe(300);
    expect(groups.totalResults).toBe(12);
    const ids = new Set(users.Resources.map((u) => u['id']));
    const members = groups.Resources.flatMap((g) => (g['members'] as { value: string }[] | undefined) ?? []);
    expect(members.length).toBe(result.memberships);
    expect(members.length).toBeGreaterThan(0);
    expect(members.every((m) => ids.has(m.value))).toBe(true);
    // Everyone but the head of the company has a manager who is one of the seeded users.
    const managers = users.Resources.map(
      (u) => (u[SCIM_URN.enterpriseUser] as { manager?: { value: string } } | undefined)?.manager?.value,
    );
    expect(managers.filter((m) => m === undefined)).toHaveLength(1);
    expect(managers.every((m) => m === undefined || ids.has(m))).toBe(true);
  });
});

describe.each(['bulk', 'post'] as const)('seed asked to stop (%s)', (mode) => {
  it('sends nothing more, counts what the requests under way created and says what was not sent', async () => {
    const t = await tenant(`seed stopped ${mode}`);
    const stop = new AbortController();
    const result = await seedScim({
      baseUrl: t.base,
      token: t.token,
      users: 2500,
      groups: 10,
      seed: 'stop',
      mode: mode === 'post' ? 'post' : 'auto',
      concurrency: mode === 'post' ? 4 : 1,
      signal: stop.signal,
      onProgress: () => stop.abort(),
    });
    expect(result.interrupted).toBe(true);
    expect(result.notSent).toBeGreaterThan(0);
    expect(result.usersCreated + result.groupsCreated + result.failed + result.notSent).toBe(2510);
    // What it says it created is what the server holds: the requests under way were answered.
    expect((await list(t, 'Users')).totalResults).toBe(result.usersCreated);
    expect((await list(t, 'Groups')).totalResults).toBe(result.groupsCreated);
    // With one Bulk at a time and a stop after the first answer, exactly the first request's 1,000.
    if (mode === 'bulk') expect(result.usersCreated).toBe(1000);
  });
});

describe('seed', () => {
  it('the same seed gives the same people; a second run into the same tenant reports the conflicts', async () => {
    const t = await tenant('seed twice');
    await seedScim({ baseUrl: t.base, token: t.token, users: 20, groups: 0, seed: 'same' });
    const again = await seedScim({ baseUrl: t.base, token: t.token, users: 20, groups: 0, seed: 'same' });
    expect(again.usersCreated).toBe(0);
    expect(again.failed).toBe(20);
    // The first conflicts are 409 uniqueness; reports of a user that failed fail with it (bulkId unresolved).
    expect(again.failures[0]).toMatchObject({ kind: 'user: 409 uniqueness' });
    expect(again.failures.reduce((sum, f) => sum + f.count, 0)).toBe(20);
  });

  it('uses POSTs against a server whose ServiceProviderConfig says no Bulk', async () => {
    const broken = await startBrokenScimServer();
    try {
      const result = await seedScim({
        baseUrl: broken.url,
        token: BROKEN_SERVER_TOKEN,
        users: 40,
        groups: 5,
        seed: 'x',
      });
      expect(result).toMatchObject({ mode: 'post', usersCreated: 40, groupsCreated: 5, failed: 0 });
      expect(broken.users.size).toBe(40);
      expect(broken.groups.size).toBe(5);
      expect(broken.requests.filter((r) => r.includes('/Bulk'))).toEqual([]);
    } finally {
      await broken.stop();
    }
  });

  it('stops with a clear message on 401', async () => {
    await expect(
      seedScim({ baseUrl: `${server.url}/scim/v2`, token: 'scimdesk_nope', users: 5, groups: 1, seed: 'x' }),
    ).rejects.toThrow(/refused with 401: check --token/);
  });

  it('the built CLI seeds and prints one summary line', async () => {
    const t = await tenant('seed cli');
    const run = await runCliToEnd([
      'seed',
      '--url',
      t.base,
      '--token',
      t.token,
      '--users',
      '30',
      '--groups',
      '3',
      '--seed',
      'cli',
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toEqual([
      expect.stringMatching(/^seeded 30 users and 3 groups \(\d+ memberships\) into .* via Bulk, 1 request\(s\)$/),
    ]);
    // stderr is a pipe here: plain progress lines, no bar.
    expect(run.stderr.at(-1)).toBe('seed: 33/33 (groups, bulk)');
    expect((await list(t, 'Users')).totalResults).toBe(30);
  });

  it('Ctrl-C on the CLI waits for the requests under way and prints what was seeded, exit 130', async () => {
    const t = await tenant('seed cli interrupted');
    const run = runCli(['seed', '--url', t.base, '--token', t.token, '--users', '200000', '--groups', '0']);
    run.child.stdin.end();
    const deadline = Date.now() + 20_000;
    while ((await total(t, 'Users')) === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    run.child.kill('SIGINT');
    const { code } = await run.exited;
    await new Promise((resolve) => setImmediate(resolve));
    expect(code).toBe(130);
    expect(run.stderr.join('\n')).toContain('SIGINT: sending nothing more; waiting for the requests under way');
    const summary = run.lines.at(-1) ?? '';
    const match = /^interrupted: seeded (\d+) users and 0 groups .* via Bulk, \d+ request\(s\); (\d+) not sent$/.exec(
      summary,
    );
    expect(match, summary).not.toBeNull();
    expect(Number(match![1]) + Number(match![2])).toBe(200000);
    expect(await total(t, 'Users')).toBe(Number(match![1]));
    // And how to load more: the same seed would give the names now taken.
    expect(run.stderr.at(-1)).toBe(
      'scimdesk seed: to load more, run it with another --seed (this one would give the names now taken), or delete the tenant and start again.',
    );
    // Up to 20 s for the first users, then the Bulk requests under way finish: on a busy CI machine
    // that took over the default 30 s once. A bound, not a speed target.
  }, 90_000);

  it('stops before sending anything, with one line, when the URL is not a SCIM base', async () => {
    const t = await tenant('seed wrong url');
    const htmlServer = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!DOCTYPE html>\n<html><head><title>Welcome to nginx!</title></head><body>' + 'x'.repeat(5000));
    });
    await new Promise<void>((resolve) => htmlServer.listen(0, '127.0.0.1', () => resolve()));
    const htmlPort = (htmlServer.address() as AddressInfo).port;
    try {
      for (const [url, message] of [
        // The console's address, without /scim/v2.
        [server.url, /^scimdesk seed: GET \/Users answered 404 \(.*\): .* is not a SCIM base URL, or names a tenant/],
        // The tenant path of a tenant the token does not belong to.
        [
          `${server.url}/api/v1/tenants/00000000-0000-4000-8000-000000000000/scim/v2`,
          // With the server's own word for it.
          /^scimdesk seed: GET \/Users answered 404 \(".+"\): .*check --url$/,
        ],
        // A web server that answers every path with a page.
        [
          `http://127.0.0.1:${htmlPort}/scim/v2`,
          /^scimdesk seed: GET \/Users answered 200 with an HTML page \("Welcome to nginx!"\), not a SCIM ListResponse/,
        ],
      ] as const) {
        const before = await total(t, 'Users');
        const run = await runCliToEnd(['seed', '--url', url, '--token', t.token, '--users', '5', '--groups', '1']);
        expect(run.code).toBe(1);
        expect(run.stderr).toEqual([expect.stringMatching(message)]);
        expect(run.stderr[0]).not.toContain('<');
        expect(await total(t, 'Users')).toBe(before);
      }
    } finally {
      await new Promise((resolve) => htmlServer.close(resolve));
    }
  });

  it('the CLI exits 1 on a refused token', async () => {
    const run = await runCliToEnd([
      'seed',
      '--url',
      `${server.url}/scim/v2`,
      '--token',
      'bad',
      '--users',
      '1',
      '--groups',
      '0',
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toEqual([expect.stringMatching(/^scimdesk seed: .*refused with 401/)]);
  });
});
