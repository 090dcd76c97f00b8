import { describe, expect, it, vi } from 'vitest';
import { AdminError } from '@shared/errors';
import { createAdminClient } from '../../../src-renderer/api/client';
import { createHttpTransport } from '../../../src-renderer/api/http-transport';
import { respond } from './fake-fetch';

const page = { items: [], total: 0, page: 2, per_page: 10 };

describe('admin client over HTTP', () => {
  it('sends GET operations with a query string and the bearer token', async () => {
    const fetch = respond(200, page);
    const client = createAdminClient(createHttpTransport({ getToken: () => 'tok', fetch }));
    await expect(client.listTenants({ page: 2, per_page: 10 })).resolves.toEqual(page);
    const [url, init] = fetch.mock.calls[0]!;
    expect(url).toBe('/api/v1/admin/tenants?page=2&per_page=10');
    expect(init?.method).toBe('GET');
    expect((init?.headers as Record<string, string>).Authorization).toBe('Bearer tok');
    expect(init?.body).toBeUndefined();
  });

  it('sends no Authorization header without a token', async () => {
    const fetch = respond(200, page);
    await createAdminClient(createHttpTransport({ getToken: () => undefined, fetch })).listTenants({});
    expect((fetch.mock.calls[0]![1]?.headers as Record<string, string>).Authorization).toBeUndefined();
  });

  it('maps a 422 body to validation_failed with its issues', async () => {
    const issues = [{ loc: ['query', 'page'], msg: 'Too small', type: 'too_small' }];
    const client = createAdminClient(
      createHttpTransport({ getToken: () => 't', fetch: respond(422, { detail: issues }) }),
    );
    const error = await client.listTenants({ page: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AdminError);
    expect(error).toMatchObject({ code: 'validation_failed', issues, message: 'query.page: Too small' });
  });

  it.each([
    [401, { detail: 'expired', code: 'unauthorized' }, 'unauthorized', 'expired'],
    [403, { detail: 'scim token', code: 'forbidden' }, 'forbidden', 'scim token'],
    [404, undefined, 'not_found', 'The server answered 404.'],
    [500, { detail: 'boom' }, 'internal', 'boom'],
    [502, 'not json', 'internal', 'The server answered 502.'],
    [500, { detail: 'overloaded', code: 500 }, 'internal', 'overloaded'],
  ])('maps status %i to one typed error', async (status, body, code, message) => {
    const client = createAdminClient(createHttpTransport({ getToken: () => 't', fetch: respond(status, body) }));
    await expect(client.listTenants({})).rejects.toMatchObject({ code, message });
  });

  it.each([
    [{ detail: [{ loc: 'page', msg: 'bad' }] }, 'The server answered 422.'],
    [{ detail: [7] }, 'The server answered 422.'],
  ])('says what a 422 in no shape it knows was, not that the server was unreachable', async (body, message) => {
    const client = createAdminClient(createHttpTransport({ getToken: () => 't', fetch: respond(422, body) }));
    await expect(client.listTenants({})).rejects.toMatchObject({ code: 'validation_failed', message });
  });

  it('reports an unreachable server as unavailable', async () => {
    const fetch = vi.fn(async () => {
      throw new TypeError('Failed to fetch');
    });
    const client = createAdminClient(createHttpTransport({ getToken: () => 't', fetch }));
    await expect(client.listTenants({})).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('refuses an answer outside the contract', async () => {
    const client = createAdminClient(createHttpTransport({ getToken: () => 't', fetch: respond(200, { items: 3 }) }));
    await expect(client.listTenants({})).rejects.toMatchObject({ code: 'internal' });
  });
});
