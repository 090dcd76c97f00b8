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
