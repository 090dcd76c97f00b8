/**
 * `scimdesk check` against scimdesk itself: every profile passes on both base paths, through the
 * engine and through the built CLI; the run leaves the tenant as it found it unless --keep.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCheck } from '../../src-main/check/index';
import type { CheckEvent } from '../../src-main/check/types';
import { runCli, runCliToEnd, startTestServer, type TestServer } from './harness';

let server: TestServer;
let admin: string;

async function adminPost(path: string, body: unknown): Promise<Record<string, string>> {
  const response = await fetch(`${server.url}/api/v1/admin${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as Record<string, string>;
}

/** A fresh tenant and SCIM token, with both base URLs. */
async function tenant(name: string, settings: Record<string, unknown> = {}) {
  const { id } = await adminPost('/tenants', { name, ...settings });
  const { token } = await adminPost('/scim-tokens', { tenant_id: id, name: 'check' });
  return {
    token: token!,
    bases: { token: `${server.url}/scim/v2`, tenant: `${server.url}/api/v1/tenants/${id}/scim/v2` },
  };
}

/** The built CLI checking a new tenant with every profile, once it has created its first user. */
async function checkUnderWay(name: string) {
  const t = await tenant(name);
  const run = runCli(['check', '--url', t.bases.tenant, '--token', t.token, '--profile', 'all']);
  run.child.stdin.end();
  await run.waitForLine(/^PASS users\.create /);
  return { t, run };
}

async function count(base: string, token: string, type: 'Users' | 'Groups'): Promise<number> {
  const response = await fetch(`${base}/${type}?count=0`, { headers: { Authorization: `Bearer ${token}` } });
  return ((await response.json()) as { totalResults: number }).totalResults;
}

beforeAll(async () => {
  server = await startTestServer();
  admin = await server.adminToken();
});
afterAll(() => server.stop());

describe('scimdesk check against scimdesk', () => {
  it.each([
    ['token path', 'token'],
    ['tenant path', 'tenant'],
  ] as const)('passes every profile on the %s and leaves the tenant empty', async (_label, which) => {
    const t = await tenant(`check ${which}`);
    const events: CheckEvent[] = [];
    const report = await runCheck({
      baseUrl: t.bases[which],
      token: t.token,
      profiles: ['rfc', 'entra', 'okta'],
      onEvent: (e) => events.push(e),
    });
    const notPassed = report.steps
      .filter((s) => s.verdict !== 'pass')
      .map((s) => `${s.id}: ${s.verdict} ${JSON.stringify(s.findings)}`);
    expect(notPassed).toEqual([]);
    expect(report.summary).toMatchObject({ ok: true, failed: 0, skipped: 0 });
    expect(new Set(report.steps.map((s) => s.profile))).toEqual(new Set(['rfc', 'entra', 'okta']));
    // Progress: start, one event per step, cleanup, done — in that order.
    expect(events[0]?.type).toBe('start');
    expect(events.filter((e) => e.type === 'step')).toHaveLength(report.steps.length);
    expect(events.at(-1)?.type).toBe('done');
    expect(report.cleanup.failures).toEqual([]);
    expect(report.cleanup.deleted).toBeGreaterThan(0);
    expect(await count(t.bases[which], t.token, 'Users')).toBe(0);
    expect(await count(t.bases[which], t.token, 'Groups')).toBe(0);
  });

  it('leaves what it created with keep, and names it', async () => {
    const t = await tenant('check keep');
    const report = await runCheck({ baseUrl: t.bases.token, token: t.token, profiles: ['rfc'], keep: true });
    expect(report.summary.ok).toBe(true);
    expect(report.cleanup.kept).toBe(true);
    // rfc deletes its first user and group itself; the second user stays.
    expect(report.cleanup.remaining).toEqual([{ type: 'User', id: expect.any(String) }]);
    expect(await count(t.bases.token, t.token, 'Users')).toBe(1);
  });

  it('says which resources a server kept after answering their DELETE, and counts only those gone as deleted', async () => {
    // In deactivate mode a DELETE answers 204 and the user stays, inactive; groups do go.
    const t = await tenant('check deactivating', { delete_mode: 'deactivate' });
    const report = await runCheck({ baseUrl: t.bases.token, token: t.token, profiles: ['rfc'] });
    const left = await count(t.bases.token, t.token, 'Users');
    expect(left).toBeGreaterThan(0);
    expect(report.cleanup.remaining).toHaveLength(left);
    expect(report.cleanup.remaining.every((r) => r.type === 'User')).toBe(true);
    expect(report.cleanup.failures[0]?.detail).toMatch(/yet GET still answers 200: the server kept it$/);
    expect(await count(t.bases.token, t.token, 'Groups')).toBe(0);
    expect(report.cleanup.deleted).toBeGreaterThan(0);
  });

  it('cleans up on a tenant that requires If-Match, whose DELETEs without one are refused', async () => {
    const t = await tenant('check if-match', { compat_overrides: { requireIfMatch: true } });
    const report = await runCheck({ baseUrl: t.bases.token, token: t.token, profiles: ['rfc'] });
    // The steps' own writes fail there, each saying why; what they made is still removed.
    expect(report.summary.failed).toBeGreaterThan(0);
    expect(report.cleanup.failures).toEqual([]);
    expect(report.cleanup.deleted).toBeGreaterThan(0);
    expect(await count(t.bases.token, t.token, 'Users')).toBe(0);
    expect(await count(t.bases.token, t.token, 'Groups')).toBe(0);
  });

  it('counts a refused write once: the step reading it back is skipped, saying why', async () => {
    // The okta profile refuses Entra's capitalised "Replace" (opCaseInsensitive off).
    const t = await tenant('check refused write', { compat_profile: 'okta' });
    const report = await runCheck({ baseUrl: t.bases.token, token: t.token, profiles: ['entra'] });
    const step = (id: string) => report.steps.find((s) => s.id === id)!;
    expect(step('entra.patch-multi-valued').verdict).toBe('fail');
    expect(step('entra.patch-multi-valued-applied')).toMatchObject({
      verdict: 'skipped',
      skippedReason: 'reads back entra.patch-multi-valued, which the server did not accept: nothing was stored to read',
    });
  });

  it('uses new names each run, so repeated runs do not collide', async () => {
    const t = await tenant('check twice');
    const first = await runCheck({ baseUrl: t.bases.token, token: t.token, profiles: ['okta'], keep: true });
    const second = await runCheck({ baseUrl: t.bases.token, token: t.token, profiles: ['okta'], keep: true });
    expect(first.runId).not.toBe(second.runId);
    expect(second.summary.ok).toBe(true);
    // Okta never deletes users: its user and the group's other member, from each run, are kept.
    expect(await count(t.bases.token, t.token, 'Users')).toBe(4);
  });

  it('reports a wrong token as failed steps, exit-worthy, without crashing', async () => {
    const t = await tenant('check bad token');
    const report = await runCheck({ baseUrl: t.bases.token, token: 'scimdesk_wrong', profiles: ['entra'] });
    expect(report.summary.ok).toBe(false);
    // The first refusal fails its step; the rest are not run, for that one reason.
    const failed = report.steps.filter((s) => s.verdict === 'fail');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.exchange?.response?.status).toBe(401);
    const rest = report.steps.slice(report.steps.indexOf(failed[0]!) + 1);
    expect(rest.length).toBeGreaterThan(5);
    for (const step of rest) expect(step.skippedReason).toMatch(/^not run: the server refused the token with 401/);
  });
});

describe('a check of a server that answers PATCHes with less than it stores', () => {
  it('reads the manager back, so a clear the server ignores is still found', async () => {
    const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
    const t = await tenant('Minimal answers', { compat_profile: 'entra' });
    // Stores the manager but answers without the extension, and drops the clear with a 204.
    const minimal: typeof fetch = async (url, init) => {
      const body = typeof init?.body === 'string' ? init.body : '';
      if (init?.method !== 'PATCH' || !body.includes(':manager')) return fetch(url, init);
      if (body.includes('"value":""')) return new Response(null, { status: 204 });
      const answer = (await (await fetch(url, init)).json()) as Record<string, unknown>;
      delete answer[ENTERPRISE];
      return Response.json(answer, { headers: { 'Content-Type': 'application/scim+json' } });
    };
    const report = await runCheck({ baseUrl: t.bases.tenant, token: t.token, profiles: ['entra'], fetch: minimal });
    const step = (id: string) => report.steps.find((s) => s.id === id)!;
    expect(step('entra.patch-manager-applied').verdict).toBe('pass');
    expect(step('entra.clear-manager-applied')).toMatchObject({ verdict: 'warning' });
    expect(step('entra.clear-manager-applied').findings.map((f) => f.message)).toContainEqual(
      expect.stringMatching(/^the manager is still set/),
    );
  });
});

describe('a check pointed at the wrong thing', () => {
  it('says once that an admin token is not a SCIM token on /scim/v2', async () => {
    const report = await runCheck({ baseUrl: `${server.url}/scim/v2`, token: admin, profiles: ['entra'] });
    const failed = report.steps.filter((s) => s.verdict === 'fail');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.exchange?.response?.status).toBe(403);
    const rest = report.steps.slice(report.steps.indexOf(failed[0]!) + 1);
    expect(rest.length).toBeGreaterThan(5);
    for (const step of rest) expect(step.skippedReason).toMatch(/^not run: the server forbade the token \(403\)/);
  });

  it('says once that the tenant in the URL is not one the token can see', async () => {
    const t = await tenant('check wrong tenant');
    const base = `${server.url}/api/v1/tenants/00000000-0000-4000-8000-000000000000/scim/v2`;
    const run = await runCliToEnd(['check', '--url', base, '--token', t.token, '--profile', 'rfc']);
    expect(run.code).toBe(1);
    const fails = run.stdout.filter((line) => line.startsWith('FAIL '));
    expect(fails).toHaveLength(1);
    expect(run.stdout.join('\n')).toMatch(/answered 404 at step .*: the URL is not a SCIM base URL/);
  });
});

describe('an interrupted check', () => {
  it('stops after the step under way, says so, and still deletes what it created', async () => {
    const t = await tenant('check interrupted');
    const interrupt = new AbortController();
    const report = await runCheck({
      baseUrl: t.bases.token,
      token: t.token,
      profiles: ['rfc'],
      signal: interrupt.signal,
      onEvent: (e) => {
        if (e.type === 'step' && e.result.id === 'users.create') interrupt.abort();
      },
    });
    expect(report.interrupted).toBe(true);
    const at = report.steps.findIndex((s) => s.id === 'users.create');
    expect(report.steps[at]?.verdict).toBe('pass');
    const rest = report.steps.slice(at + 1);
    expect(rest.length).toBeGreaterThan(0);
    for (const step of rest) expect(step.skippedReason).toBe('not run: the check was interrupted');
    expect(report.cleanup.deleted).toBeGreaterThan(0);
    expect(await count(t.bases.token, t.token, 'Users')).toBe(0);
  });

  it('Ctrl-C on the CLI exits 130 after deleting what the run created', async () => {
    const { t, run } = await checkUnderWay('cli interrupted');
    run.child.kill('SIGINT');
    const { code } = await run.exited;
    await new Promise((resolve) => setImmediate(resolve));
    expect(code).toBe(130);
    expect(run.stderr.join('\n')).toContain(
      'SIGINT: stopping after the current step, then deleting what the check created',
    );
    expect(run.lines.some((line) => /not run for the same reason|the check was interrupted/.test(line))).toBe(true);
    // The summary says why the run ended, not that required steps failed.
    expect(run.lines.at(-1)).toMatch(/^summary: \d+ passed, 0 failed, .* — interrupted before the end$/);
    expect(await count(t.bases.tenant, t.token, 'Users')).toBe(0);
    expect(await count(t.bases.tenant, t.token, 'Groups')).toBe(0);
  });
});

describe('a check whose terminal closes', () => {
  it('stops on the hang-up, sent twice as a closing terminal does, and deletes what it created: exit 129', async () => {
    const { t, run } = await checkUnderWay('cli hung up');
    run.child.kill('SIGHUP');
    // The second once the first is taken (two sent together arrive as one), while the stop deletes
    // what the check made. (Sent as the process ends, it would race Node's own teardown, which gives
    // the signal its default back: see test/unit/main/interrupt.test.ts.)
    await vi.waitFor(() => expect(run.stderr.some((line) => line.includes('SIGHUP: stopping'))).toBe(true), {
      timeout: 10_000,
      interval: 5,
    });
    run.child.kill('SIGHUP');
    expect(await run.exited).toEqual({ code: 129, signal: null });
    expect(await count(t.bases.tenant, t.token, 'Users')).toBe(0);
    expect(await count(t.bases.tenant, t.token, 'Groups')).toBe(0);
  });
});

describe('the built CLI', () => {
  it('check --profile rfc exits 0 with the summary line', async () => {
    const t = await tenant('cli check');
    const run = await runCliToEnd(['check', '--url', t.bases.tenant, '--token', t.token, '--profile', 'rfc']);
    expect(run.stderr).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.stdout.at(-1)).toMatch(/^summary: \d+ passed, 0 failed, \d+ warnings, 0 skipped \(\d+ steps\)$/);
    expect(run.stdout.some((line) => line.startsWith('PASS users.create '))).toBe(true);
    // Piped stdout: no colour codes.
    expect(run.stdout.join('\n')).not.toContain('\u001b[');
    expect(await count(t.bases.tenant, t.token, 'Users')).toBe(0);
  });

  it("check --url with Entra's flag in its query runs against the base URL, and says the query is not sent", async () => {
    const t = await tenant('cli query');
    const url = `${t.bases.token}?aadOptscim062020`;
    const run = await runCliToEnd(['check', '--url', url, '--token', t.token, '--profile', 'rfc']);
    expect(run.stderr).toEqual([
      "scimdesk check: note: --url's query (?aadOptscim062020) is not sent: requests go to the base URL and a path",
    ]);
    expect(run.code).toBe(0);
  });

  it('check piped into a reader that stops early (| head) runs to its end without a stack trace', async () => {
    const t = await tenant('cli head');
    const run = runCli(['check', '--url', t.bases.tenant, '--token', t.token, '--profile', 'rfc']);
    run.child.stdin.end();
    await run.waitForLine(/^PASS users\.create /);
    // What `head -n 3` does when it has its lines: closes the pipe's reading end.
    run.child.stdout.destroy();
    const { code } = await run.exited;
    await new Promise((resolve) => setImmediate(resolve));
    expect(run.stderr.join('\n')).not.toMatch(/EPIPE|at .*cli\.js/);
    expect(code).toBe(0);
    // It went on to the cleanup, so the users it created are gone.
    expect(await count(t.bases.tenant, t.token, 'Users')).toBe(0);
  });

  it('check --json prints one JSON report', async () => {
    const t = await tenant('cli json');
    const run = await runCliToEnd(['check', '--json', '--url', t.bases.token, '--token', t.token, '--profile', 'okta']);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout.join('\n')) as {
      summary: { ok: boolean; total: number };
      steps: { id: string; verdict: string; exchange: { request: { headers: Record<string, string> } } }[];
    };
    expect(report.summary.ok).toBe(true);
    expect(report.steps).toHaveLength(report.summary.total);
    // The token never appears in the report.
    expect(run.stdout.join('\n')).not.toContain(t.token);
    expect(report.steps[0]!.exchange.request.headers['Authorization']).toBe('Bearer <redacted>');
  });

  it('exits 1 when required steps fail', async () => {
    const t = await tenant('cli fail');
    const run = await runCliToEnd(['check', '--url', t.bases.token, '--token', 'nope', '--profile', 'okta']);
    expect(run.code).toBe(1);
    expect(run.stdout.at(-1)).toMatch(/^summary: 0 passed, \d+ failed, .* required steps failed$/);
  });

  it.each([
    [['check', '--token', 't'], /--url is required/],
    [['check', '--url', 'ftp://example.com', '--token', 't'], /must be an http/],
    [['check', '--url', 'http://127.0.0.1:1', '--token', 't', '--profile', 'azure'], /--profile 'azure'/],
    [['check', '--url', 'http://127.0.0.1:1', '--token', 't', '--json=yes'], /'--json' does not take an argument/],
    [['check', '--url', 'http://127.0.0.1:1', '--token', 't', '--frobnicate'], /--frobnicate/],
    [['seed', '--url', 'http://127.0.0.1:1', '--token', 't', '--users', '3'], /--groups is required/],
    [['seed', '--url', 'http://127.0.0.1:1', '--token', 't', '--users', '1.5', '--groups', '1'], /--users '1.5'/],
    [['seed', '--url', 'http://127.0.0.1:1', '--token', 't', '--users', 'ten', '--groups', '1'], /--users 'ten'/],
    [['seed', '--url', 'file:///etc', '--token', 't', '--users', '1', '--groups', '1'], /must be an http/],
    [
      ['check', '--url', 'http://127.0.0.1:1', '--token', 'abc\u0007def'],
      /--token has a control character \(U\+0007\) at character 4/,
    ],
    [
      ['check', '--url', 'http://127.0.0.1:1', '--token', 'two words'],
      /--token has a space \(U\+0020\) at character 4/,
    ],
    [
      ['seed', '--url', 'http://127.0.0.1:1', '--token', 'tök€n', '--users', '1', '--groups', '1'],
      /--token has a non-Latin-1 character \(U\+20AC\) at character 4/,
    ],
  ])('usage error %j exits 2 with one line', async (args, message) => {
    const run = await runCliToEnd(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toHaveLength(1);
    expect(run.stderr[0]).toMatch(message);
    expect(run.stdout).toEqual([]);
  });

  it.each([['check'], ['seed']])('%s --help prints its usage', async (command) => {
    const run = await runCliToEnd([command, '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout[0]).toMatch(new RegExp(`^Usage: scimdesk ${command} --url BASE --token TOKEN`));
  });
});
