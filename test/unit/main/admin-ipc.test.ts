import { describe, expect, it, vi } from 'vitest';
import { ADMIN_IPC_CHANNEL } from '@shared/contract-ops';
import type { AdminHandlers } from '@shared/contract';
import { AdminError } from '@shared/errors';
import { registerAdminIpc, type IpcMainLike } from '../../../src-main/ipc/admin-ipc';
import { StoreFailedError } from '../../../src-main/store/errors';
import { fakeHandlers } from '../shared/fakes';

const APP_URL = 'file:///app/out/renderer/index.html';

function wire(given: Partial<AdminHandlers>, settled: () => Promise<void> = async () => undefined) {
  const handlers = fakeHandlers(given);
  const registered = new Map<string, Parameters<IpcMainLike['handle']>[1]>();
  const log = { error: vi.fn(), warn: vi.fn(), info: vi.fn() };
  const ipc = registerAdminIpc(
    { handle: (channel, listener) => registered.set(channel, listener) },
    handlers,
    (url) => url === APP_URL,
    log,
    settled,
  );
  const listener = registered.get(ADMIN_IPC_CHANNEL);
  if (!listener) throw new Error('no handler registered on the admin channel');
  const call = (op: unknown, payload: unknown, url: string | null = APP_URL) =>
    listener({ senderFrame: url === null ? null : { url } }, op, payload);
  return { call, log, ipc, channels: [...registered.keys()] };
}

const oneTenant = {
  id: 't1',
  name: 'Acme',
  created_at: '2026-01-01T00:00:00.000Z',
  delete_mode: 'delete' as const,
  compat_profile: 'compatible' as const,
  compat_overrides: {},
  log_max_entries: 100000,
};

describe('admin IPC', () => {
  it('registers exactly one channel', () => {
    expect(wire({ listTenants: async () => ({ items: [], total: 0, page: 1, per_page: 50 }) }).channels).toEqual([
      ADMIN_IPC_CHANNEL,
    ]);
  });

  it('answers a valid call with data, after applying the contract defaults', async () => {
    const listTenants = vi.fn(async () => ({ items: [oneTenant], total: 1, page: 1, per_page: 50 }));
    const { call } = wire({ listTenants });
    await expect(call('listTenants', {})).resolves.toEqual({
      ok: true,
      data: { items: [oneTenant], total: 1, page: 1, per_page: 50 },
    });
    expect(listTenants).toHaveBeenCalledWith({ page: 1, per_page: 50 });
  });

  it('answers only once what the answer shows is durable', async () => {
    let durable = () => {};
    const settled = vi.fn(() => new Promise<void>((resolve) => (durable = resolve)));
    const { call } = wire(
      { listTenants: async () => ({ items: [oneTenant], total: 1, page: 1, per_page: 50 }) },
      settled,
    );
    let answered = false;
    const answer = call('listTenants', {}).then((result) => {
      answered = true;
      return result;
    });
    await vi.waitFor(() => expect(settled).toHaveBeenCalledTimes(1));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(answered).toBe(false);
    durable();
    await expect(answer).resolves.toMatchObject({ ok: true });
  });

  it('at a quit, finishes the calls under way before saying it is done, and refuses new ones', async () => {
    let finish = () => {};
    const listTenants = vi.fn(
      () =>
        new Promise<{ items: (typeof oneTenant)[]; total: number; page: number; per_page: number }>(
          (resolve) => (finish = () => resolve({ items: [oneTenant], total: 1, page: 1, per_page: 50 })),
        ),
    );
    const { call, ipc } = wire({ listTenants });
    const underWay = call('listTenants', {});
    await vi.waitFor(() => expect(listTenants).toHaveBeenCalled());
    let drained = false;
    const draining = ipc.drain().then(() => (drained = true));
    await expect(call('listTenants', {})).resolves.toEqual({
      ok: false,
      error: { code: 'unavailable', message: 'scimdesk is quitting.' },
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(drained).toBe(false);
    finish();
    await expect(underWay).resolves.toMatchObject({ ok: true });
    await draining;
    expect(drained).toBe(true);
    await expect(wire({}).ipc.drain()).resolves.toBeUndefined();
  });

  it('says the store is unavailable when it failed before the answer was durable', async () => {
    const failed = async () => {
      throw new StoreFailedError('journal write failed: EIO');
    };
    const { call, log } = wire({ listTenants: async () => ({ items: [], total: 0, page: 1, per_page: 50 }) }, failed);
    await expect(call('listTenants', {})).resolves.toMatchObject({
      ok: false,
      error: { code: 'unavailable', message: expect.stringContaining('Restart scimdesk') },
    });
    expect(log.error).not.toHaveBeenCalled();
  });

  it('refuses calls from any other frame, and from destroyed frames', async () => {
    const { call, log } = wire({ listTenants: async () => ({ items: [], total: 0, page: 1, per_page: 50 }) });
    await expect(call('listTenants', {}, 'https://evil.example/')).resolves.toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    await expect(call('listTenants', {}, null)).resolves.toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(log.warn).toHaveBeenCalledTimes(2);
  });

  it('refuses unknown operations', async () => {
    const { call } = wire({ listTenants: async () => ({ items: [], total: 0, page: 1, per_page: 50 }) });
    await expect(call('dropEverything', {})).resolves.toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('returns validation issues as data', async () => {
    const { call } = wire({ listTenants: async () => ({ items: [], total: 0, page: 1, per_page: 50 }) });
    const result = await call('listTenants', { per_page: 100000 });
    expect(result).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
    expect((result as { error: { issues: { loc: unknown[] }[] } }).error.issues[0]?.loc).toEqual(['per_page']);
  });

  it('passes AdminErrors through and hides unexpected ones', async () => {
    const failing = wire({
      listTenants: async () => {
        throw new AdminError('conflict', 'busy');
      },
    });
    await expect(failing.call('listTenants', {})).resolves.toEqual({
      ok: false,
      error: { code: 'conflict', message: 'busy' },
    });
    const crashing = wire({
      listTenants: async () => {
        throw new Error('secret internals');
      },
    });
    const result = await crashing.call('listTenants', {});
    expect(result).toMatchObject({ ok: false, error: { code: 'internal' } });
    expect(JSON.stringify(result)).not.toContain('secret internals');
    expect(crashing.log.error).toHaveBeenCalled();
  });

  it('treats a handler answer outside the contract as an internal error', async () => {
    const { call } = wire({
      listTenants: async () => ({ items: [{ id: 1 }], total: 1, page: 1, per_page: 50 }) as never,
    });
    await expect(call('listTenants', {})).resolves.toMatchObject({ ok: false, error: { code: 'internal' } });
  });
});
