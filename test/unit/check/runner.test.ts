import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  bodyTextOf,
  MAX_ANSWER_BYTES,
  normalizeBaseUrl,
  resolveUnderBase,
  ScimHttpClient,
} from '../../../src-main/check/http-client';
import { runCheck } from '../../../src-main/check/runner';
import { PROFILES } from '../../../src-main/check/profiles';

describe('the HTTP client', () => {
  it('keeps every request under the base URL', () => {
    const base = normalizeBaseUrl('http://host:1/scim/v2/');
    expect(resolveUnderBase(base, '/Users?x=1').href).toBe('http://host:1/scim/v2/Users?x=1');
    expect(resolveUnderBase(base, '//evil.example/x').origin).toBe('http://host:1');
    expect(() => resolveUnderBase(base, '/../../other')).toThrow(/outside/);
    expect(() => resolveUnderBase(base, 'Users')).toThrow(/start with/);
    expect(() => normalizeBaseUrl('ftp://host/')).toThrow(/http/);
  });

  it('puts a base URL at the host root right: /Users, not //Users', () => {
    for (const raw of ['http://host:1', 'http://host:1/', 'http://host:1//']) {
      expect(resolveUnderBase(normalizeBaseUrl(raw), '/Users?count=0').href).toBe('http://host:1/Users?count=0');
    }
  });

  it('redacts the token in what it records and never follows redirects', async () => {
    const seen: RequestInit[] = [];
    const fake: typeof fetch = async (_url, init) => {
      seen.push(init!);
      return new Response(null, { status: 302, headers: { Location: 'http://elsewhere/' } });
    };
    const client = new ScimHttpClient({ baseUrl: 'http://host/scim', token: 's3cret', fetch: fake });
    const exchange = await client.send({ method: 'GET', path: '/Users' });
    expect(exchange.request.headers['Authorization']).toBe('Bearer <redacted>');
    expect(seen[0]!.redirect).toBe('manual');
    expect(exchange.response?.status).toBe(302);
  });

  it('gives up on an answer over 64 MB instead of reading it whole, and hangs up', async () => {
    let sent = 0;
    let hungUp = false;
    // Endless spaces until the client hangs up, bounded at twice the cap in case it never does.
    const server = createServer((_req, res) => {
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      res.writeHead(200, { 'Content-Type': 'application/scim+json' });
      res.on('close', () => (hungUp = true));
      const more = () => {
        while (!hungUp && sent < 2 * MAX_ANSWER_BYTES) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      more();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const client = new ScimHttpClient({ baseUrl: `http://127.0.0.1:${port}/scim`, token: 't' });
      const exchange = await client.send({ method: 'GET', path: '/Users' });
      expect(exchange.error).toBe("the answer's body is over 64 MB; not read");
      await expect.poll(() => hungUp).toBe(true);
      expect(sent).toBeLessThan(2 * MAX_ANSWER_BYTES);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('reads a body whole up to the cap, a character split between chunks included, and refuses one announced over it', async () => {
    const euro = Buffer.from('€');
    const split = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(Uint8Array.from([...Buffer.from('{"a":"'), euro[0]!]));
        controller.enqueue(Uint8Array.from([euro[1]!, euro[2]!, ...Buffer.from('"}')]));
        controller.close();
      },
    });
    expect(await bodyTextOf(new Response(split), 11)).toBe('{"a":"€"}');
    await expect(bodyTextOf(new Response('x'.repeat(12)), 11)).rejects.toThrow(/over/);
    const announced = new Response('x', { headers: { 'Content-Length': String(MAX_ANSWER_BYTES + 1) } });
    await expect(bodyTextOf(announced)).rejects.toThrow("the answer's body is over 64 MB; not read");
  });

  it('turns a hung server into a timed-out exchange', async () => {
    const hang: typeof fetch = (_url, init) =>
      new Promise((_, reject) => init!.signal!.addEventListener('abort', () => reject(init!.signal!.reason)));
    const client = new ScimHttpClient({ baseUrl: 'http://host/scim', token: 't', fetch: hang, timeoutMs: 20 });
    const exchange = await client.send({ method: 'GET', path: '/Users' });
    expect(exchange.error).toBe('no answer within 20 ms');
  });
});

describe('runCheck', () => {
  it('skips steps whose inputs an earlier failure did not provide, and never throws on garbage', async () => {
    const garbage: typeof fetch = async () => new Response('<html>oops</html>', { status: 500 });
    const report = await runCheck({ baseUrl: 'http://host/scim', token: 't', profiles: ['okta'], fetch: garbage });
    expect(report.summary.ok).toBe(false);
    expect(report.steps.find((s) => s.id === 'okta.create-user')?.verdict).toBe('fail');
    const skipped = report.steps.find((s) => s.id === 'okta.get-user')!;
    expect(skipped.verdict).toBe('skipped');
    expect(skipped.skippedReason).toBe('needs {{userId}}, which an earlier step did not provide');
    expect(report.steps.find((s) => s.id === 'okta.create-user')?.exchange?.response?.body).toBe('<html>oops</html>');
  });

  it('stops at the first refusal of the token, and when the server cannot be reached; not on a timeout', async () => {
    const refusing: typeof fetch = async (_url, init) => {
      const anonymous = !new Headers(init?.headers).has('Authorization');
      const discovery = /ServiceProviderConfig|ResourceTypes|Schemas/.test(String(_url));
      return discovery || anonymous
        ? new Response('{}', { status: discovery ? 200 : 401 })
        : new Response('{"detail":"bad token"}', { status: 401 });
    };
    const refused = await runCheck({ baseUrl: 'http://host/scim', token: 't', profiles: ['rfc'], fetch: refusing });
    // Discovery answers `{}` here (and fails its checks); the first refusal stops the run.
    const failed = refused.steps.filter((step) => step.verdict === 'fail' && !step.id.startsWith('discovery.'));
    expect(failed.map((step) => step.id)).toEqual(['users.create']);
    const after = refused.steps.slice(refused.steps.indexOf(failed[0]!) + 1);
    expect(after.length).toBeGreaterThan(10);
    for (const step of after) {
      expect(step).toMatchObject({
        verdict: 'skipped',
        skippedReason: expect.stringMatching(/refused the token with 401/),
      });
      expect(step.exchange).toBeUndefined();
    }

    const unreachable: typeof fetch = async () => {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      });
    };
    const down = await runCheck({ baseUrl: 'http://host/scim', token: 't', profiles: ['rfc'], fetch: unreachable });
    expect(down.steps.filter((step) => step.exchange !== undefined)).toHaveLength(1);
    expect(down.steps.at(-1)?.skippedReason).toMatch(/could not be reached at step .* \(ECONNREFUSED/);

    // A 403 is one operation's refusal: the run goes on.
    const forbidsPut: typeof fetch = async (_url, init) =>
      init?.method === 'PUT' ? new Response('{}', { status: 403 }) : new Response('{}', { status: 200 });
    const partial = await runCheck({ baseUrl: 'http://host/scim', token: 't', profiles: ['okta'], fetch: forbidsPut });
    expect(partial.steps.some((step) => step.skippedReason?.startsWith('not run'))).toBe(false);

    // One step without an answer in time is that step's failure; the run goes on.
    const hang = (init: RequestInit | undefined) =>
      new Promise<Response>((_, reject) => init!.signal!.addEventListener('abort', () => reject(init!.signal!.reason)));
    let calls = 0;
    const slowOnce: typeof fetch = async (_url, init) => (++calls === 2 ? hang(init) : new Response('{}'));
    const once = await runCheck({
      baseUrl: 'http://host/scim',
      token: 't',
      profiles: ['rfc'],
      fetch: slowOnce,
      timeoutMs: 5,
    });
    expect(once.steps.filter((step) => step.exchange?.error === 'no answer within 5 ms')).toHaveLength(1);
    expect(once.steps.some((step) => step.skippedReason?.startsWith('not run'))).toBe(false);

    // A server gone silent stops the run at the second step in a row it leaves unanswered, instead
    // of every step waiting out its timeout.
    calls = 0;
    const silent: typeof fetch = async (_url, init) => (++calls > 3 ? hang(init) : new Response('{}'));
    const gone = await runCheck({
      baseUrl: 'http://host/scim',
      token: 't',
      profiles: ['rfc'],
      fetch: silent,
      timeoutMs: 5,
    });
    expect(calls).toBe(5);
    const [fourth, fifth] = gone.steps.slice(3, 5).map((step) => step.id);
    const unrun = gone.steps.slice(5);
    expect(unrun.length).toBeGreaterThan(10);
    for (const step of unrun) {
      expect(step.skippedReason).toBe(
        `not run: the server answered neither ${fourth} nor ${fifth} within 5 ms; it has stopped answering`,
      );
    }
  });

  it('stops at a 403 before the token opened any resource, and at a 404 for /Users itself', async () => {
    const discovery = (url: unknown) => /ServiceProviderConfig|ResourceTypes|Schemas/.test(String(url));
    // Discovery answers without a token; every resource request is forbidden (a token for another API).
    const forbidding: typeof fetch = async (url) =>
      new Response('{"detail":"not this token"}', { status: discovery(url) ? 200 : 403 });
    const forbidden = await runCheck({
      baseUrl: 'http://host/scim',
      token: 't',
      profiles: ['okta'],
      fetch: forbidding,
    });
    const answered = forbidden.steps.filter((step) => step.exchange?.response?.status === 403);
    expect(answered).toHaveLength(1);
    const after = forbidden.steps.slice(forbidden.steps.indexOf(answered[0]!) + 1);
    expect(after.length).toBeGreaterThan(5);
    for (const step of after) expect(step.skippedReason).toMatch(/^not run: the server forbade the token \(403\)/);

    // A wrong base path (or a tenant the token cannot see): discovery passes, /Users is not there.
    const elsewhere: typeof fetch = async (url) =>
      new Response('{"detail":"Tenant not found."}', { status: discovery(url) ? 200 : 404 });
    const lost = await runCheck({ baseUrl: 'http://host/scim', token: 't', profiles: ['rfc'], fetch: elsewhere });
    // (auth.required's request without a token gets the 404 first: it is not the token's answer.)
    const first = lost.steps.findIndex((step) => step.verdict === 'fail' && step.exchange?.response?.status === 404);
    expect(lost.steps[first]!.id).toBe('users.create');
    const rest = lost.steps.slice(first + 1);
    expect(rest.length).toBeGreaterThan(10);
    for (const step of rest) {
      expect(step.skippedReason).toMatch(/^not run: (POST|GET) \/Users answered 404 at step .*check --url$/);
    }
  });

  it('stops once /Users answers with a web page, not SCIM JSON (a web server at the URL)', async () => {
    // python3 -m http.server: 404 pages for GETs, 501 pages for the rest.
    const webServer: typeof fetch = async (_url, init) =>
      new Response('<html><head><title>Error response</title></head></html>', {
        status: init?.method === 'GET' ? 404 : 501,
        headers: { 'Content-Type': 'text/html' },
      });
    const report = await runCheck({ baseUrl: 'http://host/scim', token: 't', profiles: ['rfc'], fetch: webServer });
    const stoppedAt = report.steps.findIndex((step) => step.skippedReason?.startsWith('not run'));
    // The discovery steps and auth.required (without the token: any answer may come) ran; the first
    // request to /Users with the token stopped it.
    expect(report.steps[stoppedAt - 1]?.id).toBe('users.create');
    expect(report.steps[stoppedAt]?.skippedReason).toBe(
      'not run: POST /Users answered 501 with an HTML page ("Error response"), not SCIM JSON, at step ' +
        'users.create: the URL is not a SCIM base URL; check --url',
    );
  });

  it('goes on past a SCIM server whose JSON is cut short: each step fails on its own, none is called a wrong URL', async () => {
    const cutShort: typeof fetch = async (_url, init) =>
      new Response('{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u1","userN', {
        status: init?.method === 'POST' ? 201 : 200,
        headers: { 'Content-Type': 'application/scim+json', Location: 'http://host/scim/Users/u1' },
      });
    const report = await runCheck({ baseUrl: 'http://host/scim', token: 't', profiles: ['rfc'], fetch: cutShort });
    expect(report.steps.some((step) => step.skippedReason?.startsWith('not run'))).toBe(false);
    expect(report.steps.find((step) => step.id === 'users.create')?.verdict).toBe('fail');
    // Its id could not be read from the body: what needs it says so.
    expect(report.steps.find((step) => step.id === 'users.get')?.skippedReason).toMatch(/^needs \{\{userId\}\}/);
    expect(report.steps.filter((step) => step.verdict === 'fail').length).toBeGreaterThan(3);
  });

  it('stops cleaning up once the server has stopped answering, and lists what it did not try', async () => {
    const hang = (init: RequestInit | undefined) =>
      new Promise<Response>((_, reject) => init!.signal!.addEventListener('abort', () => reject(init!.signal!.reason)));
    const steps = PROFILES.rfc.steps.length;
    let calls = 0;
    // Creates answer with a new id; the server falls silent once the steps are done.
    const failing: typeof fetch = async (_url, init) => {
      if (++calls > steps) return hang(init);
      if (init?.method !== 'POST') return new Response('{}');
      return new Response(JSON.stringify({ id: `id-${calls}` }), { status: 201 });
    };
    const report = await runCheck({
      baseUrl: 'http://host/scim',
      token: 't',
      profiles: ['rfc'],
      fetch: failing,
      timeoutMs: 5,
    });
    // Two requests of the cleanup without an answer (a GET after a step's DELETE, here), and
    // nothing more sent.
    expect(calls).toBe(steps + 2);
    const { failures } = report.cleanup;
    expect(failures.length).toBeGreaterThan(1);
    for (const failure of failures) expect(failure.detail).toBe('not tried: the server has stopped answering');
    expect(report.cleanup.remaining).toHaveLength(failures.length);
  });

  it('deletes at cleanup a resource whose id the server handed out again after a step deleted it', async () => {
    // Numbered max+1 per type, so a group made after one was deleted gets its id; the second
    // group DELETE a step sends fails.
    const stores = { Users: new Map<string, unknown>(), Groups: new Map<string, unknown>() };
    let groupDeletes = 0;
    const json = (status: number, body?: unknown) =>
      new Response(body === undefined ? null : JSON.stringify(body), {
        status,
        headers: { 'Content-Type': 'application/scim+json' },
      });
    const maxPlusOne: typeof fetch = async (url, init) => {
      const [, type, id] = new URL(String(url)).pathname.replace('/scim', '').split('/') as [string, string, string?];
      const store = stores[type as keyof typeof stores];
      if (!store) return json(200, { schemas: [], patch: { supported: true } });
      const method = init?.method ?? 'GET';
      if (id === undefined) {
        if (method === 'POST') {
          const created = { ...(JSON.parse(String(init?.body)) as object), id: String(store.size + 1) };
          store.set(created.id, created);
          return json(201, created);
        }
        const all = [...store.values()];
        return json(200, { totalResults: all.length, startIndex: 1, itemsPerPage: all.length, Resources: all });
      }
      const found = store.get(id);
      if (!found) return json(404, { status: '404', detail: 'not found' });
      if (method === 'DELETE') {
        if (type === 'Groups' && ++groupDeletes === 2) return json(500, { status: '500', detail: 'busy' });
        store.delete(id);
        return json(204);
      }
      return json(200, found);
    };
    const report = await runCheck({
      baseUrl: 'http://host/scim',
      token: 't',
      profiles: ['rfc', 'okta'],
      fetch: maxPlusOne,
    });
    expect(groupDeletes).toBeGreaterThanOrEqual(3);
    expect(report.cleanup.failures).toEqual([]);
    expect(stores.Groups.size).toBe(0);
    expect(stores.Users.size).toBe(0);
  });

  it('stops an Entra or Okta run at a web page answered 200 to /Users (a single-page app at the URL)', async () => {
    const app: typeof fetch = async () =>
      new Response('<!doctype html><html><head><title>My App</title></head></html>', {
        status: 200,
        headers: { 'Content-Type': 'text/html' },
      });
    for (const profile of ['entra', 'okta'] as const) {
      const report = await runCheck({ baseUrl: 'http://host/app', token: 't', profiles: [profile], fetch: app });
      const stopped = report.steps.find((step) => step.skippedReason?.startsWith('not run'));
      expect(stopped?.skippedReason).toMatch(
        /^not run: GET \/Users answered 200 with an HTML page \("My App"\), not SCIM JSON/,
      );
      expect(report.steps.filter((step) => step.verdict === 'fail').length).toBeLessThanOrEqual(1);
    }
    // Nor is a page answered to a POST something the run created: it said one was left on the server.
    const rfc = await runCheck({ baseUrl: 'http://host/app', token: 't', profiles: ['rfc'], fetch: app });
    expect(rfc.cleanup).toMatchObject({ unnamed: 0, failures: [] });
    // One that names what it made (a Location) did make it, page or not: it is cleaned up.
    const named: typeof fetch = async (_url, init) =>
      new Response('<html><body>Created</body></html>', {
        status: init?.method === 'POST' ? 201 : 200,
        headers: {
          'Content-Type': 'text/html',
          ...(init?.method === 'POST' ? { Location: 'http://host/app/Users/u9' } : {}),
        },
      });
    const made = await runCheck({ baseUrl: 'http://host/app', token: 't', profiles: ['rfc'], fetch: named });
    expect(made.cleanup.deleted + made.cleanup.failures.length).toBeGreaterThan(0);
  });

  it('goes on when a filter that matches nothing is answered 404 (a server that does so), before any /Users worked', async () => {
    const server: typeof fetch = async (url, init) => {
      if (new URL(String(url)).searchParams.has('filter'))
        return new Response('{"detail":"no such user"}', { status: 404 });
      if (init?.method === 'POST') return new Response(JSON.stringify({ id: 'u1', userName: 'x' }), { status: 201 });
      return new Response('{}', { status: 200 });
    };
    const report = await runCheck({ baseUrl: 'http://host/scim', token: 't', profiles: ['entra'], fetch: server });
    expect(report.steps.find((step) => step.id === 'entra.user-query-zero')?.verdict).toBe('fail');
    expect(report.steps.filter((step) => step.skippedReason?.startsWith('not run'))).toEqual([]);
  });

  it('does not stop a SCIM server whose login redirect or filter refusal is text', async () => {
    // Without the token a login redirect; with it, a filter the server does not take, in plain text.
    const server: typeof fetch = async (url, init) => {
      if (!new Headers(init?.headers).has('Authorization')) {
        return new Response('Found. Redirecting to /login', { status: 302, headers: { Location: '/login' } });
      }
      if (new URL(String(url)).searchParams.has('filter')) {
        return new Response('Bad Request: unsupported filter', { status: 400 });
      }
      if (init?.method === 'POST') return new Response(JSON.stringify({ id: 'u1', userName: 'x' }), { status: 201 });
      return new Response('{}', { status: 200 });
    };
    for (const profile of ['rfc', 'okta'] as const) {
      const report = await runCheck({ baseUrl: 'http://host/scim', token: 't', profiles: [profile], fetch: server });
      expect(report.steps.filter((step) => step.skippedReason?.startsWith('not run'))).toEqual([]);
    }
  });

  it('stops at the first TLS failure, with how to trust a certificate', async () => {
    const selfSigned: typeof fetch = async () => {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }),
      });
    };
    const report = await runCheck({ baseUrl: 'https://host/scim', token: 't', profiles: ['rfc'], fetch: selfSigned });
    expect(report.steps.filter((step) => step.exchange !== undefined)).toHaveLength(1);
    expect(report.steps.at(-1)?.skippedReason).toMatch(
      /could not be reached at step .* \(DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate \(TLS failed: .*NODE_EXTRA_CA_CERTS/,
    );
  });

  it('goes on after a 404 to a filter once /Users has answered, and after a 403 on a discovery endpoint', async () => {
    let created = 0;
    // A server whose /Users works but that answers 404 to every filtered list, and forbids /Schemas.
    const partial: typeof fetch = async (url, init) => {
      const target = new URL(String(url));
      if (target.pathname.endsWith('/Schemas')) return new Response('{}', { status: 403 });
      if (init?.method === 'POST' && target.pathname.endsWith('/Users')) {
        return new Response(JSON.stringify({ id: `u${++created}`, userName: 'x' }), { status: 201 });
      }
      if (target.searchParams.has('filter')) return new Response('{"detail":"no filters here"}', { status: 404 });
      return new Response('{}', { status: 200 });
    };
    const report = await runCheck({ baseUrl: 'http://host/scim', token: 't', profiles: ['rfc'], fetch: partial });
    expect(report.steps.some((step) => step.skippedReason?.startsWith('not run'))).toBe(false);
    expect(report.steps.find((step) => step.id === 'filter.eq')?.verdict).toBe('fail');
  });

  it('skips what the ServiceProviderConfig says is unsupported without failing the run for it', async () => {
    const spc = {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
      patch: { supported: false },
      bulk: { supported: false },
      filter: { supported: false },
      changePassword: { supported: false },
      sort: { supported: false },
      etag: { supported: false },
      authenticationSchemes: [],
    };
    const fake: typeof fetch = async (url) =>
      String(url).endsWith('/ServiceProviderConfig')
        ? new Response(JSON.stringify(spc), { status: 200, headers: { 'Content-Type': 'application/scim+json' } })
        : new Response(null, { status: 500 });
    const report = await runCheck({ baseUrl: 'http://host/scim', token: 't', profiles: ['rfc'], fetch: fake });
    const patchStep = report.steps.find((s) => s.id === 'users.patch-replace')!;
    expect(patchStep.verdict).toBe('skipped');
    expect(patchStep.skippedReason).toMatch(/patch is not supported/);
    expect(report.steps.find((s) => s.id === 'filter.eq')?.verdict).toBe('skipped');
  });

  it('deletes what it created even when later steps fail', async () => {
    const calls: string[] = [];
    const fake: typeof fetch = async (url, init) => {
      calls.push(`${init?.method} ${new URL(String(url)).pathname}`);
      if (init?.method === 'POST' && String(url).endsWith('/Users')) {
        return new Response(JSON.stringify({ id: `u${calls.length}` }), { status: 201 });
      }
      return new Response(null, { status: 500 });
    };
    const report = await runCheck({ baseUrl: 'http://host/scim', token: 't', profiles: ['entra'], fetch: fake });
    expect(report.summary.ok).toBe(false);
    const created = report.steps.filter((s) => s.exchange?.response?.status === 201).length;
    expect(report.cleanup.remaining.length + report.cleanup.deleted).toBe(created);
    expect(calls.filter((c) => c.startsWith('DELETE /scim/Users/')).length).toBeGreaterThanOrEqual(created);
  });

  it('deletes what a server created under a numeric id or named only in Location, and says what it could not', async () => {
    const deleted: string[] = [];
    let made = 0;
    const fake: typeof fetch = async (url, init) => {
      const path = new URL(String(url)).pathname;
      if (init?.method === 'DELETE') deleted.push(path);
      if (init?.method === 'POST' && path.endsWith('/Users')) {
        made += 1;
        // In turn: a numeric id, an empty body with Location, neither.
        if (made % 3 === 1) return new Response(JSON.stringify({ id: 6000 + made }), { status: 201 });
        if (made % 3 === 2)
          return new Response(null, { status: 201, headers: { Location: `http://host/scim/Users/loc-${made}` } });
        return new Response(null, { status: 201 });
      }
      return new Response(null, { status: 500 });
    };
    const report = await runCheck({ baseUrl: 'http://host/scim', token: 't', profiles: ['entra'], fetch: fake });
    expect(made).toBeGreaterThan(0);
    const named = [...Array(made).keys()].map((i) => i + 1).filter((n) => n % 3 !== 0);
    expect([...new Set(deleted)].sort()).toEqual(
      named.map((n) => (n % 3 === 1 ? `/scim/Users/${6000 + n}` : `/scim/Users/loc-${n}`)).sort(),
    );
    expect(report.cleanup.unnamed).toBe(made - named.length);
  });

  it('tells a user and a group apart that a server numbers alike, and lists the one it could not delete', async () => {
    const next = { Users: 0, Groups: 0 };
    const live = new Set<string>();
    const fake: typeof fetch = async (url, init) => {
      const path = new URL(String(url)).pathname.replace('/scim', '');
      const [, kind, id] = path.split('/') as [string, 'Users' | 'Groups', string | undefined];
      if (init?.method === 'POST' && id === undefined && (kind === 'Users' || kind === 'Groups')) {
        next[kind] += 1;
        live.add(`${kind}/${next[kind]}`);
        return new Response(JSON.stringify({ id: next[kind] }), { status: 201 });
      }
      if (init?.method === 'DELETE' && kind === 'Groups') {
        live.delete(`${kind}/${id}`);
        return new Response(null, { status: 204 });
      }
      return new Response(null, { status: 500 });
    };
    const report = await runCheck({ baseUrl: 'http://host/scim', token: 't', profiles: ['rfc'], fetch: fake });
    // Every user is still there (their DELETE failed), and the report names each of them.
    const users = [...live].filter((key) => key.startsWith('Users/'));
    expect(users.length).toBeGreaterThan(0);
    expect(report.cleanup.remaining.map((r) => `${r.type}s/${r.id}`).sort()).toEqual(users.sort());
  });

  it('adds no advice to an answer with the wrong status, and keeps a token a server echoes out of the report', async () => {
    const token = 'SeCrEtToKeN123';
    const fake: typeof fetch = async (_url, init) =>
      new Response(JSON.stringify({ detail: `you sent ${new Headers(init?.headers).get('Authorization')}` }), {
        status: 500,
        headers: { 'x-echo': `Bearer ${token}`, 'content-type': 'application/scim+json' },
      });
    const report = await runCheck({ baseUrl: 'http://host/scim', token, profiles: ['rfc'], fetch: fake });
    expect(JSON.stringify(report)).not.toContain(token);
    for (const step of report.steps) {
      // A required step's recommended findings are its advice.
      if (step.level === 'required' && step.exchange?.response?.status === 500) {
        expect([step.id, step.findings.filter((finding) => finding.level === 'recommended')]).toEqual([step.id, []]);
      }
    }
  });

  it('does not send a request to a path an id of "." or ".." would make', async () => {
    const sent: string[] = [];
    const fake: typeof fetch = async (url, init) => {
      sent.push(`${init?.method} ${new URL(String(url)).pathname}`);
      if (init?.method === 'POST') return new Response(JSON.stringify({ id: '..' }), { status: 201 });
      return new Response(null, { status: 404 });
    };
    const report = await runCheck({ baseUrl: 'http://host/scim/v2', token: 't', profiles: ['rfc'], fetch: fake });
    expect(sent.filter((line) => /^(PUT|PATCH|DELETE) \/scim\/v2\/?$/.test(line))).toEqual([]);
    expect(report.steps.some((step) => step.skippedReason?.includes('an id no URL path can name'))).toBe(true);
  });
});
