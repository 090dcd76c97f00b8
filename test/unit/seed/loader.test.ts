import { describe, expect, it } from 'vitest';
import { seedScim } from '../../../src-main/seed/index';

describe('seed against a token that may write but not list', () => {
  it('goes on to create when GET /Users is forbidden, and stops on a 401', async () => {
    let made = 0;
    const writeOnly: typeof fetch = async (url, init) => {
      const path = new URL(String(url)).pathname;
      if (path.endsWith('/ServiceProviderConfig')) return Response.json({ bulk: { supported: false } });
      if (init?.method === 'GET') return Response.json({ detail: 'listing is not allowed' }, { status: 403 });
      return Response.json({ id: `r${++made}` }, { status: 201 });
    };
    const result = await seedScim({
      baseUrl: 'http://host/scim',
      token: 't',
      users: 3,
      groups: 1,
      seed: 's',
      fetch: writeOnly,
    });
    expect(result).toMatchObject({ mode: 'post', usersCreated: 3, groupsCreated: 1, failed: 0 });

    const refusing: typeof fetch = async () => Response.json({ detail: 'who are you' }, { status: 401 });
    await expect(
      seedScim({ baseUrl: 'http://host/scim', token: 't', users: 3, groups: 1, seed: 's', fetch: refusing }),
    ).rejects.toThrow(/GET \/scim\/Users was refused with 401/);
  });
});

describe('seed stopped before it loads', () => {
  it('cuts its first read at a stop, sends nothing, and asks nothing more', async () => {
    const asked: string[] = [];
    const stop = new AbortController();
    // A server that answers reads only after a long while: the stop, not the answer, ends the wait.
    const slow: typeof fetch = (url, init) => {
      asked.push(`${init?.method} ${new URL(String(url)).pathname}`);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => resolve(Response.json({ Resources: [] })), 60_000);
        init?.signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(init.signal!.reason);
        });
      });
    };
    const run = seedScim({
      baseUrl: 'http://host/scim',
      token: 't',
      users: 3,
      groups: 1,
      seed: 's',
      fetch: slow,
      signal: stop.signal,
    });
    setTimeout(() => stop.abort(), 20);
    const result = await run;
    expect(result).toMatchObject({ interrupted: true, usersCreated: 0, groupsCreated: 0, notSent: 4, failed: 0 });
    // `auto` had not yet asked whether the server takes Bulk: no way of loading is claimed.
    expect(result).not.toHaveProperty('mode');
    expect(asked).toEqual(['GET /scim/Users']);
  });
});
