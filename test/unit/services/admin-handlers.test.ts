import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HistoryVersion } from '@shared/resource-history';
import { createAdminHandlers, type AdminHandlerDeps } from '../../../src-main/services/admin-handlers';
import { systemClock } from '../../../src-main/clock';

const version = (n: number, requestId: string | null): HistoryVersion => ({
  version: n,
  time: '2026-12-04T00:00:00.000Z',
  kind: n === 1 ? 'create' : 'change',
  actor: 'token "okta"',
  request_id: requestId,
  request_seq: null,
  attributes: [],
  flags: [],
});

/** Handlers over a history of two versions and a request log whose `seqsOf` the test decides. */
function handlers(seqsOf: () => Promise<Record<string, number>>) {
  const items = [version(2, 'run.2'), version(1, 'run.1')];
  const services = {
    tenants: { get: () => ({ id: 't1' }) },
    history: {
      timeline: () => ({ items, total: 2, page: 1, per_page: 50 }),
      version: async (_t: string, _k: string, _id: string, n: number) => ({ ...items[2 - n]!, resource: {} }),
    },
    requestLog: { seqsOf },
    scimTokens: {},
  } as unknown as AdminHandlerDeps['services'];
  return createAdminHandlers({
    services,
    store: {} as AdminHandlerDeps['store'],
    server: () => ({ url: 'http://127.0.0.1:0', startedAt: 0, dataDir: '/tmp', version: '0' }),
    clock: systemClock,
  });
}

const query = { tenant_id: 't1', kind: 'User' as const, id: 'u1', page: 1, per_page: 50 };

describe('linking history versions to the request log', () => {
  afterEach(() => vi.useRealTimers());

  it('names the log entry of each version the log still holds', async () => {
    const timeline = await handlers(async () => ({ 'run.1': 7 })).getResourceHistory(query);
    expect(timeline.items.map((item) => [item.request_id, item.request_seq])).toEqual([
      ['run.2', null],
      ['run.1', 7],
    ]);
    const detail = await handlers(async () => ({ 'run.1': 7 })).getResourceVersion({ ...query, version: 1 });
    expect(detail).toMatchObject({ request_id: 'run.1', request_seq: 7 });
  });

  it('answers without links when the log fails or does not answer', async () => {
    const failed = await handlers(() => Promise.reject(new Error('worker gone'))).getResourceHistory(query);
    expect(failed.items.map((item) => item.request_seq)).toEqual([null, null]);

    vi.useFakeTimers();
    const pending = handlers(() => new Promise(() => {})).getResourceHistory(query);
    await vi.advanceTimersByTimeAsync(2_000);
    const timeline = await pending;
    expect(timeline.items.map((item) => [item.request_id, item.request_seq])).toEqual([
      ['run.2', null],
      ['run.1', null],
    ]);
  });
});
