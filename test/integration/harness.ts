import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startScimdesk, type RunningScimdesk } from '../../src-main/app';
import type { ServerCapabilities } from '../../src-main/scim/service-provider-config';
import type { PasswordHasherOptions } from '../../src-main/services/password-hasher';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const RENDERER_DIR = join(ROOT, 'out', 'renderer');
export const CLI = join(ROOT, 'out', 'main', 'cli.js');
/** The request log's worker as built (global-setup.ts builds out/ first), so tests run it as users do. */
export const REQUEST_LOG_WORKER = pathToFileURL(join(ROOT, 'out', 'main', 'request-log-worker.js'));

export async function tempDataDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'scimdesk-it-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface TestServer {
  app: RunningScimdesk;
  url: string;
  dataDir: string;
  errors: unknown[][];
  /** Exchanges a fresh one-time code for an admin token, as the console does. */
  adminToken(): Promise<string>;
  /** Creates a tenant and a SCIM token for it through the admin API, as a user would. */
  tenantWithToken(name: string, admin?: string): Promise<{ tenantId: string; token: string; admin: string }>;
  stop(): Promise<void>;
}

/** The real server on port 0 with a temporary data folder (or the one given). */
export async function startTestServer(
  options: {
    dataDir?: string;
    requestLogWorker?: URL;
    hasher?: PasswordHasherOptions;
    capabilities?: ServerCapabilities;
  } = {},
): Promise<TestServer> {
  const temp = options.dataDir ? undefined : await tempDataDir();
  const dataDir = options.dataDir ?? temp!.dir;
  const errors: unknown[][] = [];
  const log = { error: (...args: unknown[]) => errors.push(args), warn: () => undefined, info: () => undefined };
  const app = await startScimdesk({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    rendererDir: RENDERER_DIR,
    log,
    requestLogWorker: options.requestLogWorker ?? REQUEST_LOG_WORKER,
    hasher: options.hasher,
    capabilities: options.capabilities,
  });
  const url = app.address.url;
  const server: TestServer = {
    app,
    url,
    dataDir,
    errors,
    async adminToken() {
      const code = new URL(app.consoleLoginUrl()).hash.replace('#code=', '');
      const response = await fetch(`${url}/api/v1/admin/session`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ code }),
      });
      const body = (await response.json()) as { token: string };
      return body.token;
    },
    async tenantWithToken(name, given) {
      const admin = given ?? (await server.adminToken());
      const post = async (path: string, body: unknown) =>
        (await (
          await fetch(`${url}/api/v1/admin${path}`, {
            method: 'POST',
            headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' },
            body: JSON.stringify(body),
          })
        ).json()) as Record<string, string>;
      const tenantId = String((await post('/tenants', { name })).id);
      const token = String((await post('/scim-tokens', { tenant_id: tenantId, name: `${name} token` })).token);
      return { tenantId, token, admin };
    },
    async stop() {
      await app.close();
      await temp?.remove();
    },
  };
  return server;
}

export interface CliRun {
  child: ChildProcessWithoutNullStreams;
  lines: string[];
  stderr: string[];
  /** Resolves with the first stdout line matching the pattern. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs the built CLI on plain Node, as `npx scimdesk` does. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const stderr: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    for (const waiter of waiters.filter((w) => w.pattern.test(line))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(line);
    }
  });
  createInterface({ input: child.stderr }).on('line', (line) => stderr.push(line));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    lines,
    stderr,
    exited,
    waitForLine(pattern, timeoutMs = 15_000) {
      const seen = lines.find((line) => pattern.test(line));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; stderr: ${stderr.join('\n')}`)),
          timeoutMs,
        );
        waiters.push({
          pattern,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
        void exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`the CLI exited before printing ${pattern}; stderr: ${stderr.join('\n')}`));
        });
      });
    },
  };
}

/** Runs the CLI to completion. */
export async function runCliToEnd(args: string[], env: NodeJS.ProcessEnv = {}) {
  const run = runCli(args, env);
  run.child.stdin.end();
  const { code } = await run.exited;
  // Let the line readers drain what the process wrote just before it exited.
  await new Promise((resolve) => setImmediate(resolve));
  return { code, stdout: run.lines, stderr: run.stderr };
}

export const seededTenants = [
  { id: 'tn_b', name: 'Beta Corp', created_at: '2026-02-01T00:00:00.000Z', delete_mode: 'deactivate' },
  { id: 'tn_a', name: 'Acme', created_at: '2026-01-01T00:00:00.000Z', delete_mode: 'delete' },
];

/** Whether a process is still running (signal 0 tests without sending). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
