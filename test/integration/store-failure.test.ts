/**
 * When the journal can no longer be written (a failed write or fsync: a full or failing disk), the
 * server refuses writes with an answer that says so, and tells its owner to stop. The failure is
 * injected by closing the journal's file underneath the store — the one way to make a real write
 * fail here without a special file system.
 */
import type { FileHandle } from 'node:fs/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openDurableStore, type DurableStore } from '../../src-main/store/durable-store';
import { StoreFailedError } from '../../src-main/store/errors';
import { startScimdesk, type ScimdeskOptions } from '../../src-main/app';
import { systemClock } from '../../src-main/clock';
import { createRequestLog } from '../../src-main/services/request-log/request-log';
import { RENDERER_DIR, tempDataDir } from './harness';

function breakJournal(store: DurableStore): Promise<void> {
  return (store as unknown as { parts: { journal: { handle: FileHandle } } }).parts.journal.handle.close();
}

let cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

/** A server on a temporary data folder, its log kept quiet: these tests break it on purpose. */
async function startOnTempData(options: Partial<ScimdeskOptions> = {}) {
  const data = await tempDataDir();
  cleanup.push(data.remove);
  const quiet = () => undefined;
  const app = await startScimdesk({
    host: '127.0.0.1',
    port: 0,
    dataDir: data.dir,
    rendererDir: RENDERER_DIR,
    log: { info: quiet, warn: quiet, error: quiet },
    ...options,
  });
  return { data, app };
}

describe('a journal that cannot be written', () => {
  it('fails the write, reports once, and refuses everything after', async () => {
    const data = await tempDataDir();
    cleanup.push(data.remove);
    const failures: Error[] = [];
    const store = await openDurableStore(data.dir, { onFailure: (error) => failures.push(error) });
    await store.putTenant({ id: 't', name: 'T', created_at: '2026-01-01T00:00:00.000Z', delete_mode: 'delete' });
    await breakJournal(store);
    await expect(
      store.putTenant({ id: 'u', name: 'U', created_at: '2026-01-01T00:00:00.000Z', delete_mode: 'delete' }),
    ).rejects.toBeInstanceOf(StoreFailedError);
    await expect(store.write('t', (tx) => tx.delete('users', 'x'))).rejects.toBeInstanceOf(StoreFailedError);
    expect(failures).toHaveLength(1);
    expect(() => store.listTenants()).toThrow(StoreFailedError);
  });

  it('answers SCIM and admin requests with a clear error and asks its owner to stop', async () => {
    const fatal: Error[] = [];
    const { data, app } = await startOnTempData({ onFatal: (error) => fatal.push(error) });
    cleanup.push(() => app.close().catch(() => undefined));
    const code = new URL(app.consoleLoginUrl()).hash.replace('#code=', '');
    const { token } = (await (
      await fetch(`${app.address.url}/api/v1/admin/session`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ code }),
      })
    ).json()) as { token: string };
    const post = (path: string, body: unknown) =>
      fetch(`${app.address.url}/api/v1/admin${path}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
    const tenant = (await (await post('/tenants', { name: 'Before' })).json()) as { id: string };

    await breakJournal(app.store);

    const refused = await post('/tenants', { name: 'After' });
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({
      code: 'unavailable',
      detail: expect.stringContaining('Restart scimdesk'),
    });
    const scim = await fetch(`${app.address.url}/api/v1/tenants/${tenant.id}/scim/v2/Users`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' },
      body: JSON.stringify({ userName: 'x@example.com' }),
    });
    expect(scim.status).toBe(500);
    expect(await scim.json()).toMatchObject({ status: '500', detail: expect.stringContaining('Restart scimdesk') });
    expect(fatal).toHaveLength(1);
    // Stopping still works: in-flight requests end, the logs flush, the lock is released.
    await expect(app.close()).resolves.toEqual({ cut: 0 });
    const again = await openDurableStore(data.dir);
    expect(again.listTenants().map((t) => t.name)).toEqual(['Before']);
    await again.close();
  });
  it("tells the request log's reader what failed, where the client is told only that the server did", async () => {
    const { app } = await startOnTempData();
    cleanup.push(() => app.close().catch(() => undefined));
    const tenant = await app.handlers.createTenant({ name: 'Faults' });
    const { token } = await app.handlers.createScimToken({ tenant_id: tenant.id, name: 'entra' });
    const scim = (path: string, body: unknown) =>
      fetch(`${app.address.url}/scim/v2${path}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' },
        body: JSON.stringify(body),
      });
    const entryOf = async (path: string) => {
      let id = '';
      await vi.waitFor(async () => {
        const page = await app.handlers.listRequestLogs({ path, page: 1, per_page: 1 });
        id = page.items[0]?.id ?? '';
        expect(id).not.toBe('');
      });
      return app.handlers.getRequestLog({ id });
    };

    // A bug inside one Bulk operation: its client gets a bare 500 for it, the log says what broke.
    const write = app.store.write.bind(app.store);
    let writes = 0;
    app.store.write = ((...args: Parameters<typeof write>) =>
      ++writes === 2 ? Promise.reject(new TypeError('members is not iterable')) : write(...args)) as typeof write;
    const bulk = await scim('/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'a', data: { userName: 'a@example.com' } },
        { method: 'POST', path: '/Groups', bulkId: 'b', data: { displayName: 'B' } },
      ],
    });
    expect(bulk.status).toBe(200);
    const answered = await bulk.text();
    expect(JSON.parse(answered)).toMatchObject({ Operations: [{ status: '201' }, { status: '500' }] });
    expect(answered).not.toContain('iterable');
    const batch = await entryOf('/scim/v2/Bulk');
    expect(batch.error).toMatchObject({
      message: expect.stringMatching(
        /^1 of 2 Bulk operations failed \(operation 2\); the first, operation 2 \(POST\), answered 500/,
      ),
      cause: 'operation 2 (POST /Groups): TypeError: members is not iterable',
    });
    app.store.write = write;
    // What the client sent wrong is its own error: nothing failed inside the server.
    expect((await scim('/Users', { userName: 42 })).status).toBe(400);
    expect((await entryOf('/scim/v2/Users')).error).toEqual({ message: expect.any(String), code: 'invalidValue' });

    // A disk that can no longer be written: the IdP is asked to restart, the log says why.
    await breakJournal(app.store);
    const created = await scim('/Users', { userName: 'lost@example.com' });
    expect(created.status).toBe(500);
    const told = await created.text();
    expect(told).toContain('Restart scimdesk');
    expect(told).not.toMatch(/journal|StoreFailedError/);
    const single = await entryOf('/scim/v2/Users');
    expect(single.status).toBe(500);
    expect(single.error).toMatchObject({
      message: expect.stringContaining('Restart scimdesk'),
      cause: expect.stringMatching(/^StoreFailedError: journal write failed: /),
    });
  });

  it('still flushes the request log and releases the lock when a SCIM token was in use', async () => {
    const errors: unknown[][] = [];
    const { data, app } = await startOnTempData({
      log: { info: () => undefined, warn: () => undefined, error: (...args: unknown[]) => errors.push(args) },
    });
    const tenant = await app.handlers.createTenant({ name: 'Busy' });
    const scimToken = await app.handlers.createScimToken({ tenant_id: tenant.id, name: 'okta' });
    // A request with the token: its last use waits to be written at close, which now fails.
    const listed = await fetch(`${app.address.url}/scim/v2/Users`, {
      headers: { Authorization: `Bearer ${scimToken.token}` },
    });
    expect(listed.status).toBe(200);

    await breakJournal(app.store);
    await expect(app.close()).rejects.toBeInstanceOf(StoreFailedError);
    // The failure the store reported in full is said in one line here, not as another stack trace.
    expect(errors).toContainEqual([expect.stringMatching(/^closing the SCIM tokens failed: .+/)]);
    expect(errors.flat().filter((arg) => arg instanceof Error)).toEqual([]);

    // The lock is released, and the log holds the request made before the failure.
    const again = await openDurableStore(data.dir);
    await again.close();
    const log = await createRequestLog({ dataDir: data.dir, clock: systemClock, log: console });
    const entries = await log.list({ page: 1, per_page: 50 });
    expect(entries.items.map((entry) => `${entry.method} ${entry.path}`)).toContain('GET /scim/v2/Users');
    await log.close();
  });
  it('answers a read only once what it shows is on disk', async () => {
    const { app } = await startOnTempData();
    cleanup.push(() => app.close());
    const tenant = await app.handlers.createTenant({ name: 'Durable reads' });
    const { token } = await app.handlers.createScimToken({ tenant_id: tenant.id, name: 'okta' });
    const scim = (method: string, path: string, body?: unknown) =>
      fetch(`${app.address.url}/scim/v2${path}`, {
        method,
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const { id } = (await (await scim('POST', '/Users', { userName: 'durable@example.com' })).json()) as { id: string };

    // Hold the journal's next write, as a slow disk would.
    const handle = (app.store as unknown as { parts: { journal: { handle: FileHandle } } }).parts.journal.handle;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const write = handle.write.bind(handle) as (...args: unknown[]) => Promise<unknown>;
    (handle as unknown as { write: (...args: unknown[]) => Promise<unknown> }).write = async (...args) => {
      await released;
      return write(...args);
    };

    const patched = scim('PATCH', `/Users/${id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'title', value: 'Not yet on disk' }],
    });
    const inMemory = () => app.store.tenant(tenant.id)?.get('users', id)?.title === 'Not yet on disk';
    for (let i = 0; i < 200 && !inMemory(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(inMemory()).toBe(true);
    let answered = false;
    const read = scim('GET', `/Users/${id}`).then(async (response) => {
      answered = true;
      return (await response.json()) as { title?: string; meta: { version: string } };
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(answered).toBe(false);

    release();
    expect((await patched).status).toBe(200);
    expect(await read).toMatchObject({ title: 'Not yet on disk', meta: { version: 'W/"2"' } });
  });
});
