import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRequestLog, type RequestLog } from '../../../../src-main/services/request-log';
import { clock, input, quietLog, useTempDirs } from './helpers';

const tempDir = useTempDirs();

/** One request the log takes: whose it is, whether it was refused for its credential, and whether the buffer is written after it. */
const recordArb = fc.record({
  tenant: fc.constantFrom(null, 'tenant-a', 'tenant-b'),
  refused: fc.boolean(),
  flush: fc.boolean(),
});

/** Before a record, sometimes: a tenant's own cap set or raised. */
const capChangeArb = fc.option(
  fc.record({ tenant: fc.constantFrom('tenant-a', 'tenant-b'), maxEntries: fc.integer({ min: 1, max: 6 }) }),
  { freq: 6 },
);

const keptOf = async (log: RequestLog) =>
  (await log.list({ page: 1, per_page: 100 })).items.map((item) => [item.seq, item.tenant_id, item.status]);

describe('request log caps across a restart', () => {
  it('keeps exactly the entries the run kept, whatever the mix of caps, tenants and refusals', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 8 }),
        fc.array(fc.tuple(capChangeArb, recordArb), { minLength: 1, maxLength: 30 }),
        async (maxEntries, steps) => {
          const dir = await tempDir();
          const limits = { maxEntries };
          const log = await createRequestLog({ dataDir: dir, clock, log: quietLog(), limits });
          let n = 0;
          for (const [capChange, record] of steps) {
            if (capChange) log.setTenantLimits(capChange.tenant, { maxEntries: capChange.maxEntries });
            const refused = { status: 401, token: null, response: { headers: {}, body: { status: '401' } } };
            log.record(input(++n, { tenant_id: record.tenant, ...(record.refused ? refused : {}) }));
            if (record.flush) await log.flush();
          }
          const kept = await keptOf(log);
          await log.close();
          const again = await createRequestLog({ dataDir: dir, clock, log: quietLog(), limits });
          try {
            expect(await keptOf(again)).toEqual(kept);
          } finally {
            await again.close();
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
