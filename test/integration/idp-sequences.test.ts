/**
 * The provisioning sequences Microsoft documents for Entra ID and Okta documents for its SCIM
 * integration, replayed request by request against the real server on both base paths
 * (test/fixtures/idp/<idp>/provisioning-sequence.json). `{{name}}` is filled from earlier answers.
 * Each sequence runs in the default profile and in the IdP's own profile, which a tenant picks
 * for that IdP and which must therefore accept everything the IdP sends.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './harness';

/** A key, or the keys leading to a nested one (an extension URN holds dots, so no dotted form). */
type KeyPath = string | string[];

interface Step {
  name: string;
  /** Where the request is documented, when it is not the file's own source. */
  source?: string;
  method: string;
  path: string;
  /** Sent instead of (or beside) the usual bearer token and Content-Type. */
  headers?: Record<string, string>;
  body?: unknown;
  status: number;
  response?: unknown;
  absent?: KeyPath[];
  /** Must be absent, null or "" (how the Microsoft Entra SCIM validator checks a cleared value). */
  blank?: KeyPath[];
  /** Values of the answer kept for later steps' `{{name}}`. */
  capture?: Record<string, KeyPath>;
}

function at(json: unknown, path: KeyPath): unknown {
  let v = json;
  for (const key of typeof path === 'string' ? [path] : path) {
    v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
  }
  return v;
}

function load(idp: string): Step[] {
  const url = new URL(`../fixtures/idp/${idp}/provisioning-sequence.json`, import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { steps: Step[] }).steps;
}

function fill<T>(value: T, vars: Record<string, string>): T {
  return JSON.parse(
    JSON.stringify(value).replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
      const v = vars[name];
      if (v === undefined) throw new Error(`{{${name}}} is used before it was captured`);
      return JSON.stringify(v).slice(1, -1); // inside a JSON string: a tag's quotes escaped
    }),
  ) as T;
}

describe.each([
  ['entra', 'compatible'],
  ['entra', 'entra'],
  ['okta', 'compatible'],
  ['okta', 'okta'],
])('%s provisioning sequence, %s profile', (idp, profile) => {
  const steps = load(idp);
  let server: TestServer;
  let secret: string;
  let tenantId: string;
  beforeAll(async () => {
    server = await startTestServer();
    const tenant = await server.tenantWithToken(`${idp} tenant`);
    ({ tenantId, token: secret } = tenant);
    const chosen = await fetch(`${server.url}/api/v1/admin/tenants/${tenantId}`, {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${tenant.admin}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ compat_profile: profile }),
    });
    expect(chosen.status).toBe(200);
  });
  afterAll(() => server.stop());

  describe.each([
    ['/scim/v2', () => `${server.url}/scim/v2`],
    ['tenant path', () => `${server.url}/api/v1/tenants/${tenantId}/scim/v2`],
  ])('on %s', (_label, base) => {
    const vars: Record<string, string> = {};
    it.each(steps.map((step, i) => [`${i + 1}. ${step.name}`, step] as const))('%s', async (_title, raw) => {
      // Each base path replays against its own users: names are made unique per path.
      const step = fill(raw, vars);
      const suffix = _label === '/scim/v2' ? '' : '-tp';
      const uniquify = <T>(v: T): T =>
        v === undefined
          ? v
          : (JSON.parse(
              JSON.stringify(v).replace(
                /(Test_User_[\w-]+|test\.user\d*(?:%40|@)okta\.local|0a21f0f2-[\w-]+|00ujl29u0le5T6Aj10h7|8aa1a0c0-[\w-]+)/gi,
                `$1${suffix}`,
              ),
            ) as T);
      const path = suffix ? uniquify(step.path) : step.path;
      const body = suffix ? uniquify(step.body) : step.body;
      const response = await fetch(`${base()}${path}`, {
        method: step.method,
        headers: { Authorization: `Bearer ${secret}`, 'Content-Type': 'application/scim+json', ...step.headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      expect(response.status, text).toBe(step.status);
      if (step.status === 204) return;
      expect(response.headers.get('content-type')).toMatch(/^application\/scim\+json/);
      const json = JSON.parse(text) as Record<string, unknown>;
      if (step.response !== undefined) {
        expect(json).toMatchObject((suffix ? uniquify(step.response) : step.response) as Record<string, unknown>);
      }
      for (const key of step.absent ?? []) expect(at(json, key), String(key)).toBeUndefined();
      for (const key of step.blank ?? []) expect([undefined, null, ''], String(key)).toContain(at(json, key));
      for (const [name, field] of Object.entries(step.capture ?? {})) vars[name] = String(at(json, field));
    });
  });
});
