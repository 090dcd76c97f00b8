import { describe, expect, it } from 'vitest';
import { generateDirectory, seedScim } from '../../../src-main/seed/index';

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

describe('references left out', () => {
  const options = { users: 40, groups: 3, seed: 'refs' } as const;
  const directory = generateDirectory(options);
  // User 1 manages 9 (in the same Bulk request of ten) and 10–16 (in the next); 10 and 11 fail as
  // well, so their own manager is left out of nothing.
  const refused = new Set([1, 10, 11].map((index) => directory.users[index]!.userName));
  const isRefused = (index: number) => refused.has(directory.users[index]!.userName);

  /**
   * A lenient server: it refuses the users above as duplicates, and makes everything else, leaving
   * out a reference to a failed operation rather than failing the one that makes it.
   */
  function lenientServer(bulk: boolean): typeof fetch {
    let made = 0;
    const create = (body: Record<string, unknown>) =>
      refused.has(String(body['userName'])) ? { status: 409 } : { status: 201, id: `r${++made}` };
    return async (url, init) => {
      const path = new URL(String(url)).pathname;
      if (path.endsWith('/ServiceProviderConfig')) {
        return Response.json({ bulk: { supported: bulk, maxOperations: 10, maxPayloadSize: 1_048_576 } });
      }
      if (init?.method === 'GET') return Response.json({ totalResults: 0, Resources: [] });
      const body = JSON.parse(String(init?.body)) as Record<string, unknown>;
      if (!path.endsWith('/Bulk')) {
        const outcome = create(body);
        return Response.json(outcome.id ? { id: outcome.id } : { detail: 'taken' }, { status: outcome.status });
      }
      const operations = (body['Operations'] as { bulkId: string; data: Record<string, unknown> }[]).map((op) => {
        const outcome = create(op.data);
        return {
          bulkId: op.bulkId,
          status: String(outcome.status),
          ...(outcome.id ? { location: `x/${outcome.id}` } : {}),
        };
      });
      return Response.json({ Operations: operations });
    };
  }

  it.each([
    ['post', false],
    ['bulk', true],
  ] as const)('counts only those left out of what was made (%s)', async (mode, bulk) => {
    const result = await seedScim({ baseUrl: 'http://host/scim', token: 't', ...options, fetch: lenientServer(bulk) });
    expect(result).toMatchObject({ mode, usersCreated: 37, groupsCreated: 3, failed: 3 });
    const made = directory.users.filter((user) => !isRefused(user.index));
    const managersLeftOut = made.filter((user) => user.manager !== undefined && isRefused(user.manager)).length;
    const membersLeftOut = directory.groups.flatMap((group) => group.members.filter(isRefused)).length;
    const members = directory.groups.flatMap((group) => group.members).length - membersLeftOut;
    expect(managersLeftOut).toBe(6); // users 9 and 12–16
    expect(result.droppedReferences).toBe(managersLeftOut + membersLeftOut);
    expect(result.memberships).toBe(members);
  });
});
