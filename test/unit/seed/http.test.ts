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
