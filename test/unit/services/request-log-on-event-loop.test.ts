import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { serviceHarness, type ServiceHarness } from './harness';

let h: ServiceHarness;
beforeEach(async () => {
  h = await serviceHarness();
});
afterEach(() => h.close());

const entry = (path: string) => ({
  method: 'GET',
  path,
  query: '',
  tenant_id: null,
  token: null,
  source: 'idp' as const,
  status: 200,
  duration_ms: 1,
  request: { headers: {} },
  response: { headers: {} },
  flags: [],
  error: null,
  started_at: h.clock.now(),
});

describe('request log on the event loop (no worker thread)', () => {
  it('records after the turn, yet a query made at once sees every entry recorded before it', async () => {
    const log = h.services.requestLog;
    log.record(entry('/scim/v2/Users'));
    log.record(entry('/scim/v2/Groups'));
    const page = await log.list({ page: 1, per_page: 10 });
    expect(page.items.map((item) => item.path)).toEqual(['/scim/v2/Groups', '/scim/v2/Users']);
  });

  it('keeps an entry recorded right before it closes', async () => {
    h.services.requestLog.record(entry('/scim/v2/Users/last'));
    await h.restart();
    const page = await h.services.requestLog.list({ page: 1, per_page: 10 });
    expect(page.items.map((item) => item.path)).toEqual(['/scim/v2/Users/last']);
  });
});
