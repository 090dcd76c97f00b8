import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startChild, stopChild } from './children';
import type { BenchRow } from './types';

const DURATION_S = 5;
const CONNECTIONS = 16;

async function requestsPerSecond(url: string): Promise<number> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${url}: ${result.non2xx} non-2xx answers and ${result.errors} errors during the benchmark`);
  }
  return result.requests.average;
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
    await stopChild(scimdesk.child);
    await stopChild(bare.child);
    await rm(dataDir, { recursive: true, force: true });
  }
}
