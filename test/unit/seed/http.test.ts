import { describe, expect, it } from 'vitest';
import { retryDelay, SeedAuthError, SeedHttp } from '../../../src-main/seed/http';
import { seedScim } from '../../../src-main/seed/loader';

function scripted(statuses: number[], headers: Record<string, string> = {}) {
  const calls: string[] = [];
  const fake: typeof fetch = async (url) => {
    calls.push(String(url));
    const status = statuses.shift() ?? 200;
    return new Response(JSON.stringify({ id: 'x', detail: 'nope' }), { status, headers });
  };
  return { fake, calls };
}

describe('SeedHttp', () => {
  it('hands back Location, keeps a token the server echoes out of what it reads, and waits with one listener', async () => {
    const token = 'SeCrEtToKeN123';
    const fake: typeof fetch = async () =>
      new Response(JSON.stringify({ detail: `bad token ${token}` }), {
        status: 201,
        headers: { Location: 'http://h/scim/Users/u-1' },
      });
    const http = new SeedHttp({ baseUrl: 'http://h/scim', token, fetch: fake });
    const answer = await http.send('POST', '/Users', { userName: 'a' });
    expect(answer).toMatchObject({ status: 201, location: 'http://h/scim/Users/u-1' });
    expect(JSON.stringify(answer)).not.toContain(token);

    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const stop = new AbortController();
      const busy = new SeedHttp({
        baseUrl: 'http://h/scim',
        token,
        fetch: async () => new Response(null, { status: 503, headers: { 'Retry-After': '30' } }),
        signal: stop.signal,
      });
      const waiting = Array.from({ length: 20 }, () => busy.send('POST', '/Users', {}));
      await new Promise((resolve) => setTimeout(resolve, 50));
      stop.abort();
      await Promise.all(waiting);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  });

  it('retries 429 and 503 with backoff, then returns the answer', async () => {
    const { fake, calls } = scripted([429, 503, 201]);
    const waits: number[] = [];
    const http = new SeedHttp({
      baseUrl: 'http://h/scim',
      token: 't',
      fetch: fake,
      sleep: async (ms) => void waits.push(ms),
    });
    const response = await http.send('POST', '/Users', { userName: 'a' });
    expect(response.status).toBe(201);
    expect(calls).toHaveLength(3);
    expect(waits).toEqual([500, 1000]);
    expect(http.retries).toBe(2);
  });

  it('honours Retry-After and gives up after maxRetries', async () => {
    const { fake } = scripted([429, 429, 429], { 'Retry-After': '3' });
    const waits: number[] = [];
    const http = new SeedHttp({
      baseUrl: 'http://h/scim',
      token: 't',
      fetch: fake,
      maxRetries: 2,
      sleep: async (ms) => void waits.push(ms),
    });
    expect((await http.send('GET', '/Users')).status).toBe(429);
    expect(waits).toEqual([3000, 3000]);
  });

  it('stops waiting to retry once the run is stopped, and says the request was not sent', async () => {
    const { fake, calls } = scripted([429, 429], { 'Retry-After': '30' });
    const stop = new AbortController();
    // The real timer: the stop, not a 30 s wait, has to end it.
    const http = new SeedHttp({ baseUrl: 'http://h/scim', token: 't', fetch: fake, signal: stop.signal });
    const sent = http.send('POST', '/Users', { userName: 'a' });
    setTimeout(() => stop.abort(), 20);
    const started = performance.now();
    expect(await sent).toMatchObject({ status: 429, stopped: true });
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(calls).toHaveLength(1);
    expect(http.retries).toBe(0);
  });

  it('seedScim counts what a busy server refused after the stop as not sent', async () => {
    const stop = new AbortController();
    let posts = 0;
    const fake: typeof fetch = async (url, init) => {
      if (init?.method === 'GET') return new Response(JSON.stringify({ bulk: { supported: false } }), { status: 200 });
      posts += 1;
      stop.abort();
      return new Response('{}', { status: 429, headers: { 'Retry-After': '30' } });
    };
    const result = await seedScim({
      baseUrl: 'http://h/scim',
      token: 't',
      users: 10,
      groups: 0,
      seed: 's',
      concurrency: 2,
      fetch: fake,
      signal: stop.signal,
    });
    expect(result).toMatchObject({ interrupted: true, usersCreated: 0, failed: 0, notSent: 10, retries: 0 });
    expect(posts).toBe(1);
  });

  describe('a connection that fails part way', () => {
    const refused = () =>
      new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED', message: 'connect refused' } });
    const closed = () =>
      new TypeError('fetch failed', { cause: { code: 'UND_ERR_SOCKET', message: 'other side closed' } });
    const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status });
    /** Ten users, one request at a time, against `fake`. */
    const seedTen = (fake: typeof fetch, options: { users?: number; concurrency?: number } = {}) =>
      seedScim({
        baseUrl: 'http://h/scim',
        token: 't',
        users: 10,
        groups: 0,
        seed: 's',
        concurrency: 1,
        fetch: fake,
        ...options,
      });
    /** A BulkResponse in which every operation of the request made its user. */
    const createdAll = (init: RequestInit | undefined) => {
      const operations = (JSON.parse(String(init?.body)) as { Operations: { bulkId: string }[] }).Operations;
      return json({
        Operations: operations.map((op) => ({ bulkId: op.bulkId, status: '201', response: { id: op.bulkId } })),
      });
    };
    /** A server that offers Bulk of four operations; `bulk` answers each Bulk request. */
    const bulkServer =
      (bulk: (init: RequestInit | undefined) => Response): typeof fetch =>
      async (url, init) => {
        if (String(url).endsWith('/ServiceProviderConfig'))
          return json({ bulk: { supported: true, maxOperations: 4 } });
        if (init?.method === 'GET') return json({ Resources: [] });
        return bulk(init);
      };

    it('stops the run and still counts what was made, what is unknown and what was not sent (POSTs)', async () => {
      let posts = 0;
      const fake: typeof fetch = async (url, init) => {
        if (init?.method === 'GET') return json({ bulk: { supported: false }, Resources: [] });
        if (++posts === 4) throw closed();
        if (posts > 4) throw refused();
        return json({ id: `u${posts}` }, 201);
      };
      const result = await seedTen(fake);
      expect(result).toMatchObject({ usersCreated: 3, unconfirmed: 1, notSent: 6, failed: 0 });
      expect(result.stoppedBy).toBe('POST http://h/scim/Users: UND_ERR_SOCKET: other side closed');
    });

    it('counts a Bulk request lost with its connection as unconfirmed, and only the requests sent', async () => {
      let bulks = 0;
      const result = await seedTen(
        bulkServer((init) => {
          if (++bulks > 1) throw closed();
          return createdAll(init);
        }),
      );
      expect(result).toMatchObject({ usersCreated: 4, unconfirmed: 4, notSent: 2, bulk: { requests: 2 } });
      expect(result.stoppedBy).toMatch(/UND_ERR_SOCKET/);
    });

    it('counts a resource whose answer was cut while it came in as unconfirmed, with the summary', async () => {
      let posts = 0;
      const fake: typeof fetch = async (url, init) => {
        if (init?.method === 'GET') return json({ bulk: { supported: false }, Resources: [] });
        if (++posts < 3) return json({ id: `u${posts}` }, 201);
        // The headers came, then the connection was reset in the middle of the body.
        const cut = new ReadableStream({ start: (controller) => controller.error(new TypeError('terminated')) });
        return new Response(cut, { status: 201 });
      };
      const result = await seedTen(fake);
      expect(result).toMatchObject({ usersCreated: 2, unconfirmed: 1, notSent: 7 });
      expect(result.stoppedBy).toBe('POST http://h/scim/Users: terminated');
    });

    it('counts only the Bulk requests that may have reached the server', async () => {
      let bulks = 0;
      const result = await seedTen(
        bulkServer((init) => {
          if (++bulks > 1) throw refused();
          return createdAll(init);
        }),
      );
      expect(result).toMatchObject({ usersCreated: 4, unconfirmed: 0, notSent: 6, bulk: { requests: 1 } });
    });

    it('sends nothing more once a connection failed, not even what waited for its manager meanwhile', async () => {
      let posts = 0;
      const fake: typeof fetch = async (url, init) => {
        if (init?.method === 'GET') return json({ bulk: { supported: false }, Resources: [] });
        posts += 1;
        // The head of the company (everyone's manager, through the chain) is lost with its connection.
        throw closed();
      };
      const result = await seedTen(fake, { users: 40, concurrency: 4 });
      expect(posts).toBe(1);
      expect(result).toMatchObject({ usersCreated: 0, unconfirmed: 1, notSent: 39 });
    });

    it('counts a Bulk request answered 401 as sent, its users as not made', async () => {
      const result = await seedTen(bulkServer(() => json({ detail: 'token revoked' }, 401)));
      expect(result).toMatchObject({ usersCreated: 0, unconfirmed: 0, notSent: 10, bulk: { requests: 1 } });
      expect(result.stoppedBy).toMatch(/refused with 401/);
    });

    it('counts a request whose connection was refused as not sent: it never reached a server', async () => {
      let posts = 0;
      const fake: typeof fetch = async (url, init) => {
        if (init?.method === 'GET') return json({ bulk: { supported: false }, Resources: [] });
        if (++posts > 2) throw refused();
        return json({ id: `u${posts}` }, 201);
      };
      const result = await seedTen(fake);
      expect(result).toMatchObject({ usersCreated: 2, unconfirmed: 0, notSent: 8 });
      expect(result.stoppedBy).toMatch(/ECONNREFUSED/);
    });
  });

  it.each([401, 403])('stops on %i', async (status) => {
    const { fake } = scripted([status]);
    const http = new SeedHttp({ baseUrl: 'http://h/scim', token: 't', fetch: fake });
    await expect(http.send('GET', '/Users')).rejects.toBeInstanceOf(SeedAuthError);
  });

  it('caps the backoff', () => {
    expect(retryDelay(null, 20)).toBe(30_000);
    expect(retryDelay('999', 0)).toBe(30_000);
  });
});
