import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../../src-main/clock';
import { seedScim } from '../../src-main/seed/index';
import { createServices } from '../../src-main/services/index';
import { openDurableStore } from '../../src-main/store/durable-store';
import type { BenchRow } from './types';

/**
 * Issue #10's figure: `scimdesk seed`'s engine loading 100,000 users (and 100 groups) into a real
 * `scimdesk serve` over HTTP, with the loader's defaults (Bulk, 16 requests in flight). Target: under 60 s.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const USERS = 100_000;
const GROUPS = 100;

async function tenantToken(dir: string): Promise<string> {
  const store = await openDurableStore(dir);
  const services = await createServices({ store, clock: systemClock, dataDir: dir, log: console });
  try {
    const tenant = await services.tenants.create({ name: 'Seed bench' });
    return (await services.scimTokens.create({ tenant_id: tenant.id, name: 'bench' })).token;
  } finally {
    await services.close();
    await store.close();
  }
}

function serve(dir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['out/main/cli.js', 'serve', '--port', '0', '--data', dir], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = /^listening on (http:\/\/\S+)$/.exec(line);
      if (match) resolve({ child, url: match[1]! });
    });
    child.once('exit', (code) => reject(new Error(`benchmark server exited with ${code}`)));
  });
}

export async function benchSeed(): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'scimdesk-bench-seed-'));
  const token = await tenantToken(dir);
  const server = await serve(dir);
  try {
    const result = await seedScim({
      baseUrl: `${server.url}/scim/v2`,
      token,
      users: USERS,
      groups: GROUPS,
      seed: 'bench',
    });
    if (result.failed > 0 || result.usersCreated !== USERS) {
      throw new Error(`seed bench: ${result.failed} failures (${JSON.stringify(result.failures.slice(0, 3))})`);
    }
    const via = result.bulk ? `Bulk, ${result.bulk.requests} requests` : `${result.requests} POSTs`;
    return [
      { name: 'seed 100,000 users + 100 groups', value: result.seconds, unit: 's', note: `${via}; target < 60 s` },
      { name: 'seed throughput', value: USERS / result.seconds, unit: 'users/s' },
    ];
  } finally {
    server.child.kill('SIGTERM');
    await new Promise((resolve) => server.child.once('exit', resolve));
    await rm(dir, { recursive: true, force: true });
  }
}
