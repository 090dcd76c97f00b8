/**
 * An answer shows only what is on disk, refusals included: a 409 decided by a create still being
 * written, or a 404 by a delete, must not reach the client before that write is durable (a crash
 * would lose the write the answer reported). The journal's disk writes are held back by a gate
 * put on its file handle, so "still being written" lasts as long as the test wants.
 */
import type { FileHandle } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, tempDataDir, type TestServer } from './harness';

/**
 * Holds the journal's writes until `open()`; then lets the first `failAfter` of them through and
 * fails the rest as a full disk does. Left at Infinity, the journal is itself again once open.
 */
function holdJournal(server: TestServer, failAfter = Infinity): { open: () => void } {
  const journal = (server.app.store as unknown as { parts: { journal: { handle: FileHandle } } }).parts.journal;
  const real = journal.handle;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let writes = 0;
  journal.handle = new Proxy(real, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (property === 'write' && typeof value === 'function') {
        return async (...args: unknown[]) => {
          await gate;
          if (++writes > failAfter) {
            throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
          }
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
  return {
    open: () => {
      release();
      if (failAfter === Infinity) journal.handle = real;
    },
  };
}

/** Whether a promise has settled within `ms`. */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setTimeout(resolve, ms));
  return done;
}

describe('answers wait for the writes they depend on', () => {
  let server: TestServer;
  let token: string;
  beforeAll(async () => {
    server = await startTestServer();
    ({ token } = await server.tenantWithToken('Durable answers'));
  });
  afterAll(() => server.stop());

  const scim = (method: string, path: string, body?: unknown, signal?: AbortSignal) =>
    fetch(`${server.url}/scim/v2${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });

  it('sends a 409 only once the create it collided with is on disk', async () => {
    const gate = holdJournal(server);
    const first = scim('POST', '/Users', { userName: 'twice@example.com' });
    await new Promise((resolve) => setTimeout(resolve, 50)); // the first is in memory, not on disk
    const second = scim('POST', '/Users', { userName: 'twice@example.com' });
    try {
      expect(await settledWithin(second, 300)).toBe(false);
    } finally {
      gate.open();
    }
    expect((await first).status).toBe(201);
    expect((await second).status).toBe(409);
  });

  it('logs what a client that left while its 409 waited would have been told', async () => {
    const gate = holdJournal(server);
    const first = scim('POST', '/Users', { userName: 'left@example.com' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const leaving = new AbortController();
    const second = scim('POST', '/Users', { userName: 'left@example.com' }, leaving.signal).catch(() => 'left');
    try {
      await new Promise((resolve) => setTimeout(resolve, 200));
      leaving.abort();
      expect(await second).toBe('left');
    } finally {
      gate.open();
    }
    expect((await first).status).toBe(201);
    const admin = await server.adminToken();
    const entry = async () => {
      const list = await fetch(`${server.url}/api/v1/admin/request-logs?status=499&per_page=1`, {
        headers: { Authorization: `Bearer ${admin}` },
      });
      return ((await list.json()) as { items: { id: string }[] }).items[0];
    };
    await expect.poll(entry, { timeout: 5_000 }).toBeDefined();
    const detail = await fetch(`${server.url}/api/v1/admin/request-logs/${(await entry())!.id}`, {
      headers: { Authorization: `Bearer ${admin}` },
    });
    expect(((await detail.json()) as { error: { message: string } }).error.message).toBe(
      'The client closed the connection before the answer (409: userName "left@example.com" is already taken in this tenant.) was sent.',
    );
  });

  it('sends a 404 only once the delete that made it one is on disk', async () => {
    const created = (await (await scim('POST', '/Users', { userName: 'gone@example.com' })).json()) as { id: string };
    const gate = holdJournal(server);
    const deleted = scim('DELETE', `/Users/${created.id}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const read = scim('GET', `/Users/${created.id}`);
    try {
      expect(await settledWithin(read, 300)).toBe(false);
    } finally {
      gate.open();
    }
    expect((await deleted).status).toBe(204);
    expect((await read).status).toBe(404);
  });
});

describe('a full disk under answers', () => {
  const post = (server: TestServer, token: string, path: string, body: unknown) =>
    fetch(`${server.url}/scim/v2${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' },
      body: JSON.stringify(body),
    });

  /**
   * A create that reaches the disk, then a user's create the disk refuses (full) while the first is
   * answered; then the server closed and started again on its folder. The answers, and what the
   * next start finds.
   */
  async function createBeforeTheDiskFills(
    server: TestServer,
    dataDir: string,
    token: string,
    path: string,
    body: unknown,
  ) {
    // The first write waits at the gate; the second queues behind it, and the disk fills before it.
    const disk = holdJournal(server, 1);
    const first = post(server, token, path, body);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = post(server, token, '/Users', { userName: 'lost@example.com' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    disk.open();
    const [kept, lost] = await Promise.all([first, second]);
    const answers = { kept, keptBody: (await kept.json()) as Record<string, unknown>, lost };
    await server.app.close().catch(() => undefined);
    const again = await startTestServer({ dataDir });
    const [tenant] = again.app.store.listTenants();
    const found = again.app.store.tenant(tenant!.id)!;
    const users = [...found.list('users')].map((user) => user.userName);
    const groups = [...found.list('groups')].map((group) => group.displayName);
    await again.stop();
    return { ...answers, users, groups };
  }

  it('answers a create on disk as done, and the one the disk refused as failed', async () => {
    const data = await tempDataDir();
    const server = await startTestServer({ dataDir: data.dir });
    const { token } = await server.tenantWithToken('Full disk');
    try {
      const run = await createBeforeTheDiskFills(server, data.dir, token, '/Users', {
        userName: 'on-disk@example.com',
      });
      expect(run.kept.status).toBe(201);
      expect(run.keptBody).toMatchObject({ userName: 'on-disk@example.com' });
      expect(run.lost.status).toBe(500);
      // What the answers said is what the next start finds.
      expect(run.users).toEqual(['on-disk@example.com']);
    } finally {
      await data.remove();
    }
  });

  it('answers a create of a large group on disk as done, streamed, when the disk fills behind it', async () => {
    const data = await tempDataDir();
    const server = await startTestServer({ dataDir: data.dir });
    const { token } = await server.tenantWithToken('Full disk, large group');
    const members: { value: string }[] = [];
    for (let batch = 0; batch < 4; batch++) {
      const Operations = Array.from({ length: 500 }, (_, i) => ({
        method: 'POST',
        path: '/Users',
        bulkId: `u${i}`,
        data: { userName: `member-${batch}-${i}@example.com` },
      }));
      const bulk = { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations };
      const made = (await (await post(server, token, '/Bulk', bulk)).json()) as { Operations: { location: string }[] };
      members.push(...made.Operations.map(({ location }) => ({ value: location.split('/').pop()! })));
    }
    try {
      const run = await createBeforeTheDiskFills(server, data.dir, token, '/Groups', {
        displayName: 'On disk',
        members,
      });
      // Its members in slices (2,000 or more), with no length known before: streamed.
      expect(run.kept.status).toBe(201);
      expect(run.kept.headers.get('transfer-encoding')).toBe('chunked');
      expect(run.keptBody).toMatchObject({ displayName: 'On disk', members: expect.any(Array) });
      expect(run.lost.status).toBe(500);
      expect(run.groups).toEqual(['On disk']);
    } finally {
      await data.remove();
    }
  });

  it('answers a Bulk whose operation was refused by a create the disk then lost as failed, not 200', async () => {
    const data = await tempDataDir();
    const server = await startTestServer({ dataDir: data.dir });
    const { token } = await server.tenantWithToken('Full disk Bulk');
    const disk = holdJournal(server, 0);
    try {
      const create = post(server, token, '/Users', { userName: 'never@example.com' });
      await new Promise((resolve) => setTimeout(resolve, 50));
      // Its one operation is refused 409 by the create above, which is still only in memory.
      const bulk = post(server, token, '/Bulk', {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
        Operations: [{ method: 'POST', path: '/Users', bulkId: 'b1', data: { userName: 'never@example.com' } }],
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      disk.open();
      const [created, bulked] = await Promise.all([create, bulk]);
      expect(created.status).toBe(500);
      expect(bulked.status).toBe(500);
      await server.app.close().catch(() => undefined);
    } finally {
      await data.remove();
    }
  });
});
