import { afterEach, describe, expect, it } from 'vitest';
import { SCIM_URN } from '../../src-shared/scim/urns';
import { startTestServer, type TestServer } from './harness';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

describe('stopping the server while it works', () => {
  it('answers a Bulk request that outlasts the stall limit while it keeps committing users', async () => {
    // One hashing thread: each user's password takes a hash of ~90 ms, so 24 take seconds, far
    // past the 1 s the shutdown allows for nothing to move. Each commit is the sign they move.
    server = await startTestServer({ hasher: { workers: 1 } });
    const { token } = await server.tenantWithToken('Stopping');
    const users = 24;
    const answer = fetch(`${server.url}/scim/v2/Bulk`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' },
      body: JSON.stringify({
        schemas: [SCIM_URN.bulkRequest],
        Operations: Array.from({ length: users }, (_, n) => ({
          method: 'POST',
          path: '/Users',
          bulkId: `u${n}`,
          data: { schemas: [SCIM_URN.user], userName: `user${n}@example.com`, password: `Secret-${n}-pass` },
        })),
      }),
    });
    const before = server.app.store.stats().seq;
    while (server.app.store.stats().seq === before) await new Promise((resolve) => setTimeout(resolve, 10));

    const outcome = await server.app.close({ stallMs: 1_000 });
    const response = await answer;
    expect(response.status).toBe(200);
    const body = (await response.json()) as { Operations: { status: string }[] };
    expect(body.Operations.map((operation) => operation.status)).toEqual(Array(users).fill('201'));
    expect(outcome).toEqual({ cut: 0 });
  });
});
