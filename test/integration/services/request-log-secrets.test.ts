import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapSnapshot } from 'node:v8';
import { afterEach, describe, expect, it } from 'vitest';
import { createRequestLog, type RequestLog } from '../../../src-main/services/request-log';
import { createResourceHistory } from '../../../src-main/services/resource-history';

/**
 * No secret survives, on disk or in memory. The secrets exist only as Buffers in this test (a
 * Buffer's bytes are not a JS string, so they are not in the heap snapshot's string table); the JS
 * strings built from them live only inside `recordSecrets` and are garbage once it returns. The
 * heap snapshot (which collects garbage first) must then not contain any of them: whatever the
 * log kept, in its index, write buffer or anywhere else, is redacted.
 */

const made: string[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

const quiet = { error: () => undefined, warn: () => undefined, info: () => undefined };
const clock = { now: () => Date.parse('2024-05-01T10:00:00.000Z') };

/** 24 random lowercase hex characters, as bytes, never as a string. */
function secretBytes(): Buffer {
  const hex = Buffer.from('0123456789abcdef');
  return Buffer.from(randomBytes(24).map((byte) => hex[byte % 16]!));
}

const NAMES = [
  'bearer',
  'basic',
  'cookie',
  'apiKey',
  'queryToken',
  'password',
  'patchPassword',
  'textPassword',
  'adminToken',
  'historyPassword',
] as const;
type SecretName = (typeof NAMES)[number];

function recordSecrets(
  log: RequestLog,
  secrets: Record<SecretName, Buffer>,
  n: number,
  history: ReturnType<typeof createResourceHistory> extends Promise<infer H> ? H : never,
): void {
  const s = (name: SecretName) => secrets[name].toString('latin1');
  log.record({
    method: 'POST',
    path: '/scim/v2/Users',
    query: `access_token=${s('queryToken')}&attributes=userName`,
    tenant_id: 't1',
    token: { id: 'tok', name: 'Okta' },
    source: 'idp',
    status: 400,
    duration_ms: 1,
    request: {
      headers: {
        authorization: `Bearer ${s('bearer')}`,
        'proxy-authorization': `Basic ${s('basic')}`,
        cookie: `sid=${s('cookie')}`,
        'x-api-key': s('apiKey'),
      },
      body: { userName: `u${n}`, password: s('password') },
    },
    // An error that echoes the password back: the second pass must catch it.
    response: { headers: {}, body: { detail: `password ${s('password')} is too weak`, status: '400' } },
    error: { message: `rejected ${s('password')}` },
    flags: [],
    started_at: clock.now() + n,
  });
  log.record({
    method: 'PATCH',
    path: '/scim/v2/Users/u1',
    tenant_id: 't1',
    token: null,
    source: 'console',
    status: 400,
    duration_ms: 1,
    request: { headers: {}, body: `{"Operations":[{"op":"replace","path":"password","value":"${s('textPassword')}"` },
    response: { headers: {}, body: null },
    started_at: clock.now() + n,
  });
  log.record({
    method: 'PATCH',
    path: '/scim/v2/Users/u2',
    tenant_id: 't1',
    token: null,
    source: 'idp',
    status: 200,
    duration_ms: 1,
    request: { headers: {}, body: { Operations: [{ op: 'Replace', path: 'PASSWORD', value: s('patchPassword') }] } },
    response: { headers: {}, body: {} },
    started_at: clock.now() + n,
  });
  log.record({
    method: 'POST',
    path: '/api/v1/admin/scim-tokens',
    tenant_id: null,
    token: null,
    source: 'admin',
    status: 201,
    duration_ms: 1,
    request: { headers: {}, body: { tenant_id: 't1', name: 'Okta' } },
    response: { headers: {}, body: { id: 'k', token: s('adminToken'), token_prefix: 'scimdesk_ab' } },
    started_at: clock.now() + n,
  });
  const before = { id: `h${n}`, userName: `h${n}`, password: s('historyPassword') };
  history.recordCreate('t1', 'User', before, { time: clock.now() });
  history.recordChange(
    't1',
    'User',
    `h${n}`,
    before,
    { ...before, password: `${s('historyPassword')}2`, active: false },
    { time: clock.now() },
  );
}

async function filesText(dir: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) parts.push(await readFile(join(entry.parentPath, entry.name)));
  }
  return Buffer.concat(parts);
}

/** Which of the secrets occur in a fresh heap snapshot (searched as bytes, chunk by chunk). */
async function secretsInHeap(secrets: Buffer[]): Promise<number[]> {
  // V8 keeps the subject of the last regular-expression match (RegExp.lastMatch, a legacy
  // global): run one so that it is not the last header the redactor looked at.
  /x/.exec('x');
  const found = new Set<number>();
  const overlap = Math.max(...secrets.map((secret) => secret.length));
  let tail = Buffer.alloc(0);
  for await (const chunk of getHeapSnapshot()) {
    const data = Buffer.concat([tail, chunk as Buffer]);
    secrets.forEach((secret, i) => {
      if (data.indexOf(secret) >= 0) found.add(i);
    });
    tail = data.subarray(Math.max(0, data.length - overlap));
  }
  return [...found];
}

describe('no secret survives', () => {
  it('in the log files, the history files, or the heap', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'scimdesk-secrets-'));
    made.push(dataDir);
    const secrets = Object.fromEntries(NAMES.map((name) => [name, secretBytes()])) as Record<SecretName, Buffer>;
    const log = await createRequestLog({ dataDir, clock, log: quiet });
    const history = await createResourceHistory({ dataDir, log: quiet });
    for (let n = 0; n < 20; n++) recordSecrets(log, secrets, n, history);
    await log.flush();
    await history.flush();
    for (let n = 20; n < 40; n++) recordSecrets(log, secrets, n, history); // these stay in the write buffers

    // Everything the log answers is redacted...
    const listed = await log.list({ page: 1, per_page: 200 });
    expect(listed.total).toBe(160);
    const details = await Promise.all(listed.items.map((item) => log.get(item.id)));
    const answered = Buffer.from(JSON.stringify([listed, details]));
    // ...the redaction markers are where the secrets were...
    expect(details[0]?.response.body).toEqual({ id: 'k', token: '[redacted]', token_prefix: 'scimdesk_ab' });
    expect(details.at(-1)?.request.headers).toMatchObject({
      authorization: 'Bearer [redacted]',
      cookie: 'sid=[redacted]',
    });

    // ...and no secret is in memory (buffered entries included)...
    const values = NAMES.map((name) => secrets[name]);
    const inHeap = await secretsInHeap(values);
    expect(inHeap.map((i) => NAMES[i])).toEqual([]);

    // ...nor in the answers, nor on disk once everything is written.
    await log.close();
    await history.close();
    const onDisk = await filesText(dataDir);
    for (const [i, secret] of values.entries()) {
      expect({ name: NAMES[i], onDisk: onDisk.indexOf(secret) >= 0, answered: answered.indexOf(secret) >= 0 }).toEqual({
        name: NAMES[i],
        onDisk: false,
        answered: false,
      });
    }
  });
});
