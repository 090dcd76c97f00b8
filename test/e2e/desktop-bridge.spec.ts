/**
 * The renderer as the desktop app runs it, minus Electron itself (whose binary cannot be fetched
 * here): the page gets a `window.scimdesk` bridge, and each call goes to the real main-process IPC
 * handler (registerAdminIpc with the real services), with the page's URL as the sender frame.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { ADMIN_IPC_CHANNEL } from '@shared/contract-ops';
import { startScimdesk, type RunningScimdesk } from '../../src-main/app';
import { registerAdminIpc, type IpcMainLike } from '../../src-main/ipc/admin-ipc';

const RENDERER_DIR = fileURLToPath(new URL('../../out/renderer', import.meta.url));

let dataDir: string;
let app: RunningScimdesk;

test.beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'scimdesk-desktop-'));
  const tenants = [{ id: 'tn_d', name: 'Desk Tenant', created_at: '2026-05-01T00:00:00.000Z', delete_mode: 'delete' }];
  await writeFile(join(dataDir, 'db.json'), JSON.stringify({ version: 1, tenants }));
  app = await startScimdesk({ host: '127.0.0.1', port: 0, dataDir, rendererDir: RENDERER_DIR });
});

test.afterEach(async () => {
  await app.close();
  await rm(dataDir, { recursive: true, force: true });
});

test('the desktop renderer lists tenants over IPC without signing in', async ({ page }) => {
  const handlers = new Map<string, Parameters<IpcMainLike['handle']>[1]>();
  registerAdminIpc(
    { handle: (channel, listener) => handlers.set(channel, listener) },
    app.handlers,
    (url) => url.startsWith(`${app.address.url}/`),
    console,
    () => app.store.settled(),
  );
  const calls: string[] = [];
  await page.exposeFunction('__ipcInvoke', (frameUrl: string, op: string, input: unknown) => {
    calls.push(op);
    return handlers.get(ADMIN_IPC_CHANNEL)!({ senderFrame: { url: frameUrl } }, op, input);
  });
  await page.addInitScript(() => {
    // Runs in the page; typed loosely because this file is compiled without DOM types.
    const page = globalThis as unknown as {
      __ipcInvoke: (frameUrl: string, op: string, input: unknown) => Promise<unknown>;
      location: { href: string };
    };
    Object.defineProperty(page, 'scimdesk', {
      value: { invoke: (op: string, input: unknown) => page.__ipcInvoke(page.location.href, op, input) },
    });
  });

  await page.goto(app.address.url);
  await expect(page.locator('[data-app-ready="true"]')).toBeVisible();
  await expect(page.getByText('Desktop')).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Sign in' })).toHaveCount(0);
  await expect(page.getByRole('table').getByRole('row').nth(1)).toContainText('Desk Tenant');
  expect(calls).toEqual(['listTenants']);
});
