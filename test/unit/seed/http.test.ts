import { describe, expect, it } from 'vitest';
import { retryDelay, SeedAuthError, SeedHttp } from '../../../src-main/seed/http';

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
