import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { BenchRow } from './types';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DURATION_S = 5;
const CONNECTIONS = 16;

/** Starts a child process and resolves with the URL from its first `listening on` line. */
function startChild(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = /^listening on (http:\/\/\S+)$/.exec(line);
      if (match) resolve({ child, url: match[1]! });
    });
    child.once('exit', (code) => reject(new Error(`benchmark server exited with ${code}`)));
  });
}

async function requestsPerSecond(url: string): Promise<number> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${url}: ${result.non2xx} non-2xx answers and ${result.errors} errors during the benchmark`);
  }
  return result.requests.average;
}

async function stop(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
}

/**
 * Requests per second on GET /scim/v2/ServiceProviderConfig, beside a bare node:http server that
 * answers the same JSON in the same run, so the ratio says what Koa and our middleware cost.
 */
export async function benchHttpDiscovery(): Promise<BenchRow[]> {
  const dataDir = await mkdtemp(join(tmpdir(), 'scimdesk-bench-'));
  const scimdesk = await startChild(['out/main/cli.js', 'serve', '--port', '0', '--data', dataDir]);
  const bare = await startChild(['test/bench/bare-server.js']);
  try {
    const body = await (await fetch(`${scimdesk.url}/scim/v2/ServiceProviderConfig`)).text();
    await fetch(`${bare.url}/set`, { method: 'POST', body });
    // Warm both up so JIT compilation is not measured.
    await autocannon({ url: `${scimdesk.url}/scim/v2/ServiceProviderConfig`, connections: 4, amount: 2000 });
    await autocannon({ url: bare.url, connections: 4, amount: 2000 });
    const ours = await requestsPerSecond(`${scimdesk.url}/scim/v2/ServiceProviderConfig`);
    const baseline = await requestsPerSecond(bare.url);
    return [
      { name: 'GET /ServiceProviderConfig (scimdesk)', value: ours, unit: 'req/s', note: `${CONNECTIONS} connections` },
      { name: 'same JSON from bare node:http', value: baseline, unit: 'req/s', note: 'baseline, same run' },
      { name: 'scimdesk / bare node:http', value: ours / baseline, unit: 'ratio' },
    ];
  } finally {
    await stop(scimdesk.child);
    await stop(bare.child);
    await rm(dataDir, { recursive: true, force: true });
  }
}
