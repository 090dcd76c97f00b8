/** Testing the tester: against a deliberately broken server, the right steps fail and nothing crashes. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheck } from '../../src-main/check/index';
import type { CheckReport } from '../../src-main/check/types';
import { BROKEN_SERVER_TOKEN, startBrokenScimServer, type BrokenScimServer } from '../fixtures/broken-scim-server';
import { runCliToEnd } from './harness';

let broken: BrokenScimServer;
let report: CheckReport;

const verdict = (id: string) => report.steps.find((s) => s.id === id)?.verdict;

beforeAll(async () => {
  broken = await startBrokenScimServer();
  report = await runCheck({ baseUrl: broken.url, token: BROKEN_SERVER_TOKEN, profiles: ['rfc', 'entra', 'okta'] });
});
afterAll(() => broken.stop());

describe('check against a broken SCIM server', () => {
  it('fails the run', () => {
    expect(report.summary.ok).toBe(false);
    expect(report.summary.failed).toBeGreaterThan(0);
  });

  it.each([
    // 200 instead of 201 on create
    'users.create',
    'entra.create-user',
    'okta.create-user',
    // 400 instead of 404 for an unknown or deleted resource
    'users.get-unknown',
    'users.get-deleted',
    'okta.get-unknown-user',
    // duplicates accepted
    'users.duplicate',
    'entra.duplicate-user',
    'okta.create-user-again',
    // 401 without a SCIM error body (Okta's spec tests send `Authorization: non-token`)
    'okta.invalid-token',
    // ListResponse without totalResults
    'filter.eq',
    'filter.no-match',
    'entra.user-query-zero',
    'okta.user-exists-no',
    // count ignored, paging fields missing
    'paging.first-page',
    'paging.count-zero',
    // PATCH answered but not applied
    'users.patch-replace',
    'users.patch-applied',
    'entra.patch-multi-valued-applied',
    'entra.disable-user-applied',
    'okta.deactivate-user-applied',
    'okta.rename-group',
    // 200 instead of 204 on DELETE
    'users.delete',
    // a malformed body is a 500
    'errors.invalid-json',
  ])('fails %s', (id) => {
    expect(verdict(id)).toBe('fail');
  });

  it('warns, not fails, where a recommended step finds a problem: its findings are advice', () => {
    const step = report.steps.find((s) => s.id === 'entra.patch-manager')!;
    expect(step.findings.length).toBeGreaterThan(0);
    expect(step.findings.every((finding) => finding.level === 'recommended')).toBe(true);
    expect(step.verdict).toBe('warning');
  });

  it('skips reading back a cleared manager that was never stored, rather than passing it', () => {
    const step = report.steps.find((s) => s.id === 'entra.clear-manager-applied')!;
    expect(step.verdict).toBe('skipped');
    expect(step.skippedReason).toBe('depends on entra.patch-manager-applied, which did not succeed');
  });

  it('does not fail what the broken server does right', () => {
    for (const id of [
      'discovery.service-provider-config',
      'users.get',
      'users.replace',
      'groups.get',
      'okta.put-user',
    ]) {
      expect([id, verdict(id)]).toEqual([id, 'warning']);
    }
  });

  it('only warns when /Schemas would not satisfy the Entra gallery validator (a gallery listing is optional)', () => {
    const step = report.steps.find((s) => s.id === 'entra.gallery-schemas')!;
    expect(step.verdict).toBe('warning');
    expect(step.findings.map((f) => f.message)).toContain('status 404, expected 200 (detail: not here)');
  });

  it('records request, expected and actual for a failed step', () => {
    const step = report.steps.find((s) => s.id === 'users.create')!;
    expect(step.expected.status).toEqual([201]);
    expect(step.exchange?.request).toMatchObject({ method: 'POST', url: `${broken.url}/Users` });
    expect(step.exchange?.response?.status).toBe(200);
    expect(step.findings.map((f) => f.message)).toContain('status 200, expected 201');
  });

  it('only warns about application/json instead of application/scim+json', () => {
    const step = report.steps.find((s) => s.id === 'users.get')!;
    expect(step.findings).toEqual([
      { level: 'recommended', message: 'Content-Type is not application/scim+json (RFC 7644 §3.1, §8.1)' },
    ]);
  });

  it('only ever talks to the URL it was given', () => {
    expect(broken.requests.every((r) => r.split(' ')[1]!.startsWith('/scim/v2/'))).toBe(true);
  });

  it('the CLI exits 1 and names the failing steps', async () => {
    const run = await runCliToEnd(['check', '--url', broken.url, '--token', BROKEN_SERVER_TOKEN, '--profile', 'rfc']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContainEqual(expect.stringMatching(/^FAIL users\.create /));
    expect(run.stdout).toContainEqual('     - status 200, expected 201');
    expect(run.stdout.at(-1)).toMatch(/required steps failed$/);
  });

  it('reports an unreachable server as failures, not a crash', async () => {
    const gone = await startBrokenScimServer();
    await gone.stop();
    const result = await runCheck({ baseUrl: gone.url, token: 't', profiles: ['rfc'], timeoutMs: 2000 });
    expect(result.summary.ok).toBe(false);
    expect(result.steps[0]!.findings[0]!.message).toMatch(/^no response: ECONNREFUSED/);
  });
});

describe('check against a server whose member PATCHes wipe the other members', () => {
  let wiping: BrokenScimServer;
  let wiped: CheckReport;
  beforeAll(async () => {
    wiping = await startBrokenScimServer({ membership: 'wipes' });
    wiped = await runCheck({ baseUrl: wiping.url, token: BROKEN_SERVER_TOKEN, profiles: ['entra', 'okta'] });
  });
  afterAll(() => wiping.stop());

  it.each(['entra.add-member-applied', 'okta.add-members-applied'])('fails %s', (id) => {
    expect(wiped.steps.find((step) => step.id === id)?.verdict).toBe('fail');
  });

  it('blames a wiping re-add on the add, not on the filtered removal after it', () => {
    expect(wiped.steps.find((s) => s.id === 'entra.add-member-again-applied')?.verdict).toBe('fail');
    expect(wiped.steps.find((s) => s.id === 'entra.remove-member-filter-applied')).toMatchObject({
      verdict: 'skipped',
      skippedReason: 'depends on entra.add-member-again-applied, which did not succeed',
    });
  });

  it('does not read back a removal from a membership the add already broke, and says why', () => {
    const step = wiped.steps.find((s) => s.id === 'entra.remove-member-applied')!;
    expect(step.verdict).toBe('skipped');
    expect(step.skippedReason).toMatch(/depends on entra\.add-member-applied, which did not succeed/);
    expect(wiped.summary.ok).toBe(false);
  });
});

describe('check against a server whose member removals wipe the other members', () => {
  let wiping: BrokenScimServer;
  let wiped: CheckReport;
  beforeAll(async () => {
    wiping = await startBrokenScimServer({ membership: 'removal-wipes' });
    wiped = await runCheck({ baseUrl: wiping.url, token: BROKEN_SERVER_TOKEN, profiles: ['entra', 'okta'] });
  });
  afterAll(() => wiping.stop());

  it.each(['entra.add-member-applied', 'okta.add-members-applied'])(
    'holds %s (only its content type is advised on)',
    (id) => {
      const step = wiped.steps.find((s) => s.id === id)!;
      expect(step.findings.map((f) => f.message)).toEqual([
        'Content-Type is not application/scim+json (RFC 7644 §3.1, §8.1)',
      ]);
    },
  );

  it.each(['entra.remove-member-applied', 'okta.remove-members-applied'])(
    'fails %s, saying the member that was not removed is gone too',
    (id) => {
      const step = wiped.steps.find((s) => s.id === id)!;
      expect(step.verdict).toBe('fail');
      expect(step.findings.map((f) => f.message)).toContainEqual(
        expect.stringMatching(/^the member that was not removed is gone too\b/),
      );
    },
  );
});
