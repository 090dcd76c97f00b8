import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServices } from '../../src-main/services/index';
import { openDurableStore } from '../../src-main/store/durable-store';
import { systemClock } from '../../src-main/clock';
import { runConcurrently, scimUserBody } from './bench-users';
import type { BenchRow } from './types';

const CONCURRENCY = 16;

/** Creates of the benchmark user through the services (issue #7), durable before each resolves. */
export async function benchServices(): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'scimdesk-bench-svc-'));
  const store = await openDurableStore(dir);
  const services = await createServices({ store, clock: systemClock, dataDir: dir, log: console });
  try {
    const tenant = await services.tenants.create({ name: 'Bench' });
    const ctx = { tenantId: tenant.id, baseUrl: 'http://127.0.0.1:8585/scim/v2' };
    await runConcurrently(500, CONCURRENCY, (i) =>
      services.identities.create('User', scimUserBody(1_000_000 + i), ctx),
    );

    const plain = 10_000;
    const plainMs = await runConcurrently(plain, CONCURRENCY, (i) =>
      services.identities.create('User', scimUserBody(i), ctx),
    );
    const withPassword = 64;
    const passwordMs = await runConcurrently(withPassword, CONCURRENCY, (i) =>
      services.identities.create('User', scimUserBody(2_000_000 + i, { password: `Pw-${i}-correct-horse` }), ctx),
    );
    // Issue #8: bearer-token authentication with 1,000 tokens (one SHA-256 and one map lookup).
    const secrets: string[] = [];
    for (let i = 0; i < 1000; i++) {
      secrets.push((await services.scimTokens.create({ tenant_id: tenant.id, name: `token ${i}` })).token);
    }
    const rounds = 100_000;
    const authStarted = performance.now();
    for (let i = 0; i < rounds; i++) {
      if (!services.scimTokens.authenticate(secrets[(i * 7919) % secrets.length] as string).ok)
        throw new Error('refused');
    }
    const authMicros = ((performance.now() - authStarted) * 1000) / rounds;

    return [
      {
        name: 'SCIM token authentication, 1,000 tokens',
        value: authMicros,
        unit: 'µs/auth',
        note: 'target < 1,000 µs',
      },
      {
        name: 'user creates through the services',
        value: (plain / plainMs) * 1000,
        unit: 'creates/s',
        note: `${CONCURRENCY} concurrent, fsync'd, target ≥ 2,000`,
      },
      {
        name: 'user creates with a password',
        value: (withPassword / passwordMs) * 1000,
        unit: 'creates/s',
        note: 'scrypt N=2^15 on the worker pool',
      },
    ];
  } finally {
    await services.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}
