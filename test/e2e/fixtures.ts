import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { test as base, expect, type Page } from '@playwright/test';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ServerUnderTest {
  url: string;
  consoleUrl: string;
  dataDir: string;
  /** Mints an admin token with the real `scimdesk admin-token` command. */
  adminToken(): Promise<string>;
}

interface Options {
  /** A store document to put in the data folder before the server starts. */
  seedStore: object | undefined;
}

function cli(args: string[]) {
  return spawn(process.execPath, [join(ROOT, 'out/main/cli.js'), ...args], { cwd: ROOT });
}

export const test = base.extend<Options & { server: ServerUnderTest }>({
  seedStore: [undefined, { option: true }],
  // An uncaught error in the page fails its test, whatever the test looked at: a TypeError thrown
  // on every removal of the tenants table went unseen (console probe).
  page: async ({ page }, use) => {
    const uncaught: string[] = [];
    page.on('pageerror', (error) => uncaught.push(error.message));
    await use(page);
    expect(uncaught, 'uncaught errors in the page').toEqual([]);
  },
  // A fresh data folder and server per test (STYLE.md §14).
  server: async ({ seedStore }, use) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'scimdesk-e2e-'));
    if (seedStore) await writeFile(join(dataDir, 'db.json'), JSON.stringify(seedStore));
    const child = cli(['serve', '--port', '0', '--data', dataDir]);
    const lines: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('scimdesk serve printed no console line')), 15_000);
      createInterface({ input: child.stdout }).on('line', (line) => {
        lines.push(line);
        if (line.startsWith('console: ')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`scimdesk serve exited with ${code}`)));
    });
    const url = lines[0]!.replace('listening on ', '');
    const consoleUrl = lines[1]!.replace('console: ', '');
    await use({
      url,
      consoleUrl,
      dataDir,
      adminToken: () =>
        new Promise((resolve, reject) => {
          const minted = cli(['admin-token', '--data', dataDir]);
          let out = '';
          minted.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
          minted.once('exit', (code) =>
            code === 0 ? resolve(out.trim().split('\n').at(-1)!) : reject(new Error('admin-token failed')),
          );
        }),
    });
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    await rm(dataDir, { recursive: true, force: true });
  },
});

/** Waits for the app-ready marker that App.vue sets once the first sign-in attempt has settled. */
export async function waitForApp(page: Page): Promise<void> {
  await expect(page.locator('[data-app-ready="true"]')).toBeVisible();
}

/**
 * Opens the console URL, signs in with its code and waits for the tenants list: the admin token
 * the page got, as its requests carried it.
 */
export async function signedInWithCode(page: Page, consoleUrl: string): Promise<string> {
  let token: string | undefined;
  page.on('request', (request) => {
    token ??= /^Bearer (.+)$/.exec(request.headers()['authorization'] ?? '')?.[1];
  });
  await page.goto(consoleUrl);
  await waitForApp(page);
  await expect(page.getByRole('heading', { name: 'Tenants' })).toBeVisible();
  await expect.poll(() => token).toBeDefined();
  return token!;
}

export { expect };
