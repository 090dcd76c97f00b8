import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { RequestLogInput } from '../../../../src-main/services/request-log';
import type { RequestLogEvent } from '../../../../src-shared/request-log';

/** A fresh data folder per test, removed afterwards. */
export function useTempDirs(): () => Promise<string> {
  const made: string[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scimdesk-log-'));
    made.push(dir);
    return dir;
  };
}

export const clock = { now: () => Date.parse('2024-05-01T10:00:00.000Z') };

export function quietLog() {
  const lines: string[] = [];
  const push = (...args: unknown[]) => void lines.push(args.map(String).join(' '));
  return { lines, error: push, warn: push, info: push };
}

/** A request shaped like an IdP's POST /Users; `n` makes it distinct. */
export function input(n: number, overrides: Partial<RequestLogInput> = {}): RequestLogInput {
  return {
    method: 'POST',
    path: '/scim/v2/Users',
    query: '',
    tenant_id: 'tenant-a',
    token: { id: 'tok-1', name: 'Entra provisioning' },
    source: 'idp',
    status: 201,
    duration_ms: 3.5,
    request: {
      headers: { 'content-type': 'application/scim+json', authorization: 'Bearer scimdesk_secret_token_value' },
      body: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `user${n}@contoso.example` },
    },
    response: {
      headers: { 'content-type': 'application/scim+json' },
      body: { id: `id-${n}`, userName: `user${n}@contoso.example` },
    },
    flags: [],
    started_at: Date.parse('2024-05-01T10:00:00.000Z') + n * 1000,
    ...overrides,
  };
}

/** Every byte under `dir`, as text. */
export async function readAll(dir: string): Promise<string> {
  const parts: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) parts.push(await readFile(join(entry.parentPath, entry.name), 'utf8'));
  }
  return parts.join('\n');
}

/** Collects events; `until(n)` resolves once n events arrived (bounded by vitest's timeout). */
export function collector() {
  const events: RequestLogEvent[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const listener = (event: RequestLogEvent) => {
    events.push(event);
    for (const waiter of waiters.splice(0)) {
      if (events.length >= waiter.count) waiter.resolve();
      else waiters.push(waiter);
    }
  };
  const until = (count: number) =>
    new Promise<void>((resolve) => (events.length >= count ? resolve() : waiters.push({ count, resolve })));
  return { events, listener, until };
}

export const seqsOf = (events: RequestLogEvent[]) =>
  events.map((event) =>
    event.type === 'entry'
      ? event.entry.seq
      : event.type === 'gap'
        ? `gap:${event.missed}@${event.seq}`
        : `tenant_deleted:${event.tenant_id}`,
  );
