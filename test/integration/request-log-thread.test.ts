import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startRequestLogThread, RequestLogUnavailableError } from '../../src-main/services/request-log';
import type { RequestLogEvent } from '../../src-shared/request-log';
import { collector, input, quietLog, seqsOf, useTempDirs } from '../unit/services/request-log/helpers';
import { startScimdesk } from '../../src-main/app';
import { REQUEST_LOG_WORKER, RENDERER_DIR, ROOT, startTestServer } from './harness';

const tempDir = useTempDirs();
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const CRASHING_WORKER = pathToFileURL(join(ROOT, 'test/fixtures/request-log/crashing-worker.js'));

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A log thread on the built worker, in a fresh folder, logging nothing. */
async function startThread() {
  return startRequestLogThread({ workerUrl: REQUEST_LOG_WORKER, dataDir: await tempDir(), log: quietLog() });
}

describe('request log on its worker thread', () => {
  it("rejects a call that failed on the worker with its one-line message, keeping the worker's stack aside", async () => {
    const log = await startThread();
    try {
      const error = (await log.list(undefined as never).catch((e: unknown) => e)) as Error;
      expect(error).toBeInstanceOf(Error);
      expect(error.message).not.toContain('\n');
      expect(error.message.length).toBeGreaterThan(0);
      expect(error.stack).toContain(error.message);
      expect(error.stack).toMatch(/\n\s+at /);
    } finally {
      await log.close();
    }
  });

  it('answers a query made right after recording with every entry, redacted', async () => {
    const log = await startThread();
    for (let n = 1; n <= 300; n++) log.record(input(n));
    const page = await log.list({ page: 1, per_page: 500 });
    expect(page.total).toBe(300);
    expect(page.items[0]).toMatchObject({ seq: 300, path: '/scim/v2/Users', tenant_id: 'tenant-a', status: 201 });
    const entry = await log.get('7');
    expect(entry?.request.body).toEqual({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'user7@contoso.example',
    });
    expect(JSON.stringify(entry)).not.toContain('scimdesk_secret_token_value');
    expect(await log.stats()).toMatchObject({ entries: 300, last_seq: 300, dropped: 0 });
    await log.close();
  });

  it('takes bodies as JSON text and keeps them as JSON', async () => {
    const log = await startThread();
    log.record(
      input(1, {
        request: { headers: {}, body: '{"userName":"a@b.example","password":"hunter2-long"}' },
        response: { headers: {}, body: '{"id":"x","userName":"a@b.example"}' },
      }),
    );
    const entry = await log.get('1');
    expect(entry?.request.body).toEqual({ userName: 'a@b.example', password: '[redacted]' });
    expect(entry?.response.body).toEqual({ id: 'x', userName: 'a@b.example' });
    await log.close();
  });

  it('keeps tenant caps and purges across the thread', async () => {
    const log = await startThread();
    log.setTenantLimits('tenant-a', { maxEntries: 5 });
    for (let n = 1; n <= 20; n++) log.record(input(n));
    for (let n = 21; n <= 23; n++) log.record(input(n, { tenant_id: 'tenant-b' }));
    expect((await log.list({ page: 1, per_page: 50, tenant_id: 'tenant-a' })).total).toBe(5);
    await log.purgeTenant('tenant-b');
    expect((await log.list({ page: 1, per_page: 50, tenant_id: 'tenant-b' })).total).toBe(0);
    await log.close();
  });

  it('replays a backlog in order and paces a listener that returns a promise', async () => {
    const log = await startThread();
    for (let n = 1; n <= 1000; n++) log.record(input(n));
    const events: RequestLogEvent[] = [];
    let busy = false;
    let overlapped = false;
    log.subscribe({ afterSeq: 200 }, async (event) => {
      if (busy) overlapped = true;
      busy = true;
      events.push(event);
      await new Promise((resolve) => setImmediate(resolve));
      busy = false;
    });
    for (let n = 1001; n <= 1100; n++) log.record(input(n));
    await until(() => events.length >= 900, '900 events');
    expect(seqsOf(events)).toEqual(range(201, 1100));
    expect(overlapped).toBe(false);
    await log.close();
  });

  it('stops delivering once unsubscribed', async () => {
    const log = await startThread();
    const live = collector();
    const stop = log.subscribe({}, live.listener);
    await log.flush(); // the subscription is in place before the entries
    for (let n = 1; n <= 3; n++) log.record(input(n));
    await live.until(3);
    stop();
    log.record(input(4));
    await log.flush();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seqsOf(live.events)).toEqual([1, 2, 3]);
    await log.close();
  });

  it('refuses to start on a folder it cannot use, with the reason, and leaves no worker behind', async () => {
    const file = join(await tempDir(), 'not-a-folder');
    await import('node:fs/promises').then((fs) => fs.writeFile(file, 'x'));
    const logger = quietLog();
    await expect(startRequestLogThread({ workerUrl: REQUEST_LOG_WORKER, dataDir: file, log: logger })).rejects.toThrow(
      /request log could not open/,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(logger.lines.filter((line) => /starting a new one|restart/.test(line))).toEqual([]);
  });

  it('after a worker dies: no event twice, purges made again, stats wait for the new worker, close settles', async () => {
    const log = await startRequestLogThread({ workerUrl: CRASHING_WORKER, dataDir: await tempDir(), log: quietLog() });
    const seen: number[] = [];
    log.subscribe({ afterSeq: 0 }, async (event) => {
      if (event.type === 'entry') seen.push(event.entry.seq);
      await new Promise((resolve) => setTimeout(resolve, 2)); // a slow stream
    });
    for (let n = 1; n <= 10; n++) log.record(input(n, { tenant_id: n <= 5 ? 'tenant-a' : 'tenant-b' }));
    await log.flush();
    log.record(input(11, { path: '/crash' }));
    // Sent right behind the entry that kills the worker: cut off, then made again on the next one.
    await log.purgeTenant('tenant-b');
    expect((await log.list({ page: 1, per_page: 50, tenant_id: 'tenant-b' })).total).toBe(0);
    expect((await log.list({ page: 1, per_page: 50, tenant_id: 'tenant-a' })).total).toBe(5);
    // Right after a death, stats wait for the next worker instead of failing.
    log.record(input(12, { path: '/crash' }));
    await expect(log.flush()).rejects.toThrow(/stopped/);
    await expect(log.stats()).resolves.toMatchObject({ entries: 5 });
    for (let n = 13; n <= 15; n++) log.record(input(n));
    await log.flush();
    await until(() => seen.length >= 8, 'the resumed feed');
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));

    log.record(input(16, { path: '/crash' }));
    // The close settles, and says the worker died with what it held (the stop is then not clean).
    const closed = log.close().then(
      () => 'closed',
      (error: Error) => `failed: ${error.message}`,
    );
    await expect(Promise.race([closed, new Promise((r) => setTimeout(() => r('stuck'), 3000))])).resolves.toMatch(
      /^failed: the request log worker stopped/,
    );
  });

  it('replaces a worker that dies, keeps logging and resumes live feeds; gives up after three', async () => {
    const logger = quietLog();
    const log = await startRequestLogThread({ workerUrl: CRASHING_WORKER, dataDir: await tempDir(), log: logger });
    const live = collector();
    log.subscribe({ afterSeq: 0 }, live.listener);
    for (let n = 1; n <= 5; n++) log.record(input(n));
    await log.flush();
    await live.until(5);

    log.record(input(6, { path: '/crash' }));
    await until(() => logger.lines.some((line) => line.includes('starting a new one')), 'a restart');
    await until(
      async () =>
        log.list({ page: 1, per_page: 1 }).then(
          () => true,
          () => false,
        ),
      'the new worker',
    );
    for (let n = 7; n <= 9; n++) log.record(input(n));
    await log.flush();
    await until(() => seqsOf(live.events).length >= 8, 'resumed events');
    // The crashing entry itself never reached the disk; the ones before and after it are there.
    expect(seqsOf(live.events).slice(0, 5)).toEqual([1, 2, 3, 4, 5]);
    expect((await log.list({ page: 1, per_page: 50 })).items.map((item) => item.path)).not.toContain('/crash');
    expect((await log.list({ page: 1, per_page: 50 })).total).toBe(8);

    for (let crash = 0; crash < 3; crash++) {
      await until(
        async () =>
          log.stats().then(
            () => true,
            () => false,
          ),
        'a running worker',
      );
      log.record(input(100 + crash, { path: '/crash' }));
      await log.flush().catch(() => undefined);
    }
    await until(() => logger.lines.some((line) => line.includes('not recording any more entries')), 'giving up');
    expect(() => log.record(input(200))).not.toThrow();
    await expect(log.list({ page: 1, per_page: 1 })).rejects.toBeInstanceOf(RequestLogUnavailableError);
    await log.close();
  });

  it('falls back to logging on the main thread when the worker cannot be loaded', async () => {
    const logger = quietLog();
    const app = await startScimdesk({
      host: '127.0.0.1',
      port: 0,
      dataDir: await tempDir(),
      rendererDir: RENDERER_DIR,
      log: logger,
      requestLogWorker: pathToFileURL(join(ROOT, 'test/fixtures/request-log/no-such-worker.js')),
    });
    try {
      // One line naming the cause, no stack trace.
      const warning = logger.lines.find((line) => line.includes('did not start'));
      expect(warning).toMatch(/did not start \(.*no-such-worker.*\); logging on the main thread instead$/);
      expect(warning).not.toMatch(/\n\s+at /);
      await fetch(`${app.address.url}/scim/v2/Users`);
      await until(
        async () => (await app.handlers.listRequestLogs({ page: 1, per_page: 10 })).total === 1,
        'the refused request in the log',
      );
    } finally {
      await app.close();
    }
  });

  it('keeps serving SCIM when the log is gone for good, and says so on the admin API', async () => {
    const server = await startTestServer({ requestLogWorker: CRASHING_WORKER });
    try {
      const admin = await server.adminToken();
      const logs = () =>
        fetch(`${server.url}/api/v1/admin/request-logs`, { headers: { Authorization: `Bearer ${admin}` } });
      expect((await logs()).status).toBe(200);
      // Four deaths: the first three are replaced (a query meanwhile waits for the new worker), the
      // fourth is final. Each /crash entry reaches the worker once, by the batch timer or ahead of a query.
      for (let crash = 0; crash < 4; crash++) {
        await until(async () => (await logs()).status === 200, 'a running worker');
        expect((await fetch(`${server.url}/scim/v2/crash`)).status).toBe(404);
      }
      await until(async () => (await logs()).status === 503, 'the log to give up');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await logs()).status).toBe(503);
      const answer = (await (await logs()).json()) as { code: string; detail: string };
      expect(answer.code).toBe('unavailable');
      expect(answer.detail).toMatch(/request log is unavailable/);
      const status = await fetch(`${server.url}/api/v1/admin/status`, {
        headers: { Authorization: `Bearer ${admin}` },
      });
      expect(status.status).toBe(503);
      // Provisioning itself is untouched.
      const { token } = await server.tenantWithToken('Still provisioning', admin);
      const created = await fetch(`${server.url}/scim/v2/Users`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' },
        body: JSON.stringify({ userName: 'after@example.com' }),
      });
      expect(created.status).toBe(201);
    } finally {
      await server.stop();
    }
  });
});
