/**
 * A refusal sent while the client is still sending its body: the connection is ended after the
 * answer, and what still arrives is read and dropped for a moment, so the client is never reset
 * (a reset can throw away the answer before the client reads it).
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './harness';

let server: TestServer;
let tenant: { token: string };
beforeAll(async () => {
  server = await startTestServer();
  tenant = await server.tenantWithToken('Lingering');
});
afterAll(() => server.stop());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A raw connection that keeps its own side open, as a client still sending does. */
async function openTo(target: TestServer): Promise<{ socket: Socket; text: () => string; closed: Promise<void> }> {
  const url = new URL(target.url);
  const socket = connect({ port: Number(url.port), host: url.hostname, allowHalfOpen: true });
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  await new Promise((resolve) => socket.on('connect', resolve));
  return { socket, text: () => text, closed };
}

/** A client trickling a byte every second into `socket` until it closes. */
function trickle(socket: Socket): () => void {
  const timer = setInterval(() => socket.writable && socket.write('x'), 1_000);
  return () => clearInterval(timer);
}

async function usersNamed(userName: string): Promise<number> {
  const filter = encodeURIComponent(`userName eq "${userName}"`);
  const response = await fetch(`${server.url}/scim/v2/Users?filter=${filter}`, {
    headers: { Authorization: `Bearer ${tenant.token}` },
  });
  return ((await response.json()) as { totalResults: number }).totalResults;
}

function createUser(host: string, userName: string): string {
  const body = JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName });
  return (
    `POST /scim/v2/Users HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${tenant.token}\r\n` +
    `Content-Type: application/scim+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

const MORE = Buffer.alloc(2 * 1024 * 1024, 'x');

/**
 * Sends `head` and the first 64 KiB of a 3 MiB body, waits for the whole answer, then sends 2 MiB
 * more and ends. Resolves with the answer's status line and how the connection ended.
 */
function refusedWhileSending(head: (host: string) => string): Promise<{ status: string; error?: string }> {
  const url = new URL(server.url);
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    let text = '';
    let error: string | undefined;
    let more = false;
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code));
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(text)?.[1] ?? NaN);
      if (more || end < 0 || text.length < end + 4 + length) return;
      more = true;
      socket.write(MORE, () => socket.end());
    });
    socket.on('close', () => resolve({ status: text.split('\r\n')[0] ?? '', ...(error ? { error } : {}) }));
    socket.write(head(url.host));
    socket.write(Buffer.alloc(64 * 1024, 'x'));
  });
}

const LENGTH = 3 * 1024 * 1024;

describe('a refusal while the body still arrives', () => {
  it.each([
    ['an unknown method (the parser refuses it)', 'FOO /scim/v2/Bulk', '', 'HTTP/1.1 501 Not Implemented'],
    ['an expectation it cannot meet', 'POST /scim/v2/Bulk', 'Expect: foo\r\n', 'HTTP/1.1 417 Expectation Failed'],
    [
      'a refused token, past the body it keeps for the log',
      'POST /scim/v2/Bulk',
      'Authorization: Bearer nope\r\n',
      'HTTP/1.1 401 Unauthorized',
    ],
  ])('is answered, and the connection ends without a reset: %s', async (_label, line, extra, status) => {
    const answer = await refusedWhileSending(
      (host) =>
        `${line} HTTP/1.1\r\nHost: ${host}\r\n${extra}Content-Type: application/scim+json\r\nContent-Length: ${LENGTH}\r\n\r\n`,
    );
    expect(answer).toEqual({ status });
  });
});

describe('Expect: 100-continue (RFC 9110 §10.1.1)', () => {
  /** Sends `head`; once a 100 comes, `body`. Resolves with every status line, once the answer is whole. */
  async function expecting(head: string, body: string): Promise<{ statuses: string[]; ms: number }> {
    const connection = await openTo(server);
    const started = Date.now();
    let sent = false;
    connection.socket.write(head);
    for (;;) {
      const text = connection.text();
      if (!sent && text.includes('HTTP/1.1 100 Continue\r\n\r\n')) {
        sent = true;
        connection.socket.write(body);
      }
      const final = /HTTP\/1\.1 [2-5]\d\d[^]*?\r\n\r\n/.exec(text);
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(final?.[0] ?? '')?.[1] ?? NaN);
      if (final && text.length >= final.index + final[0].length + length) break;
      if (Date.now() - started > 10_000) break;
      await sleep(10);
    }
    const ms = Date.now() - started;
    connection.socket.destroy();
    return { statuses: connection.text().match(/HTTP\/1\.1 \d{3}/g) ?? [], ms };
  }

  const head = (host: string, auth: string, length: number) =>
    `POST /scim/v2/Users HTTP/1.1\r\nHost: ${host}\r\n${auth}Content-Type: application/scim+json\r\n` +
    `Expect: 100-continue\r\nContent-Length: ${length}\r\n\r\n`;

  it('asks for the body when it reads it, and runs the request', async () => {
    const body = JSON.stringify({ userName: 'continued@example.com' });
    const host = new URL(server.url).host;
    const answer = await expecting(head(host, `Authorization: Bearer ${tenant.token}\r\n`, body.length), body);
    expect(answer.statuses).toEqual(['HTTP/1.1 100', 'HTTP/1.1 201']);
    expect(await usersNamed('continued@example.com')).toBe(1);
  });

  it.each([
    ['announced over its limit', `Authorization: Bearer ${'TOKEN'}\r\n`, 2 * 1024 * 1024, 'HTTP/1.1 413'],
    ['sent without a credential', '', 100, 'HTTP/1.1 401'],
  ])('refuses a body %s without asking for it, and at once', async (_label, auth, length, status) => {
    const host = new URL(server.url).host;
    // Left to Node, a 100 went out first and the client sent the whole refused body.
    const answer = await expecting(head(host, auth.replace('TOKEN', tenant.token), length), 'x'.repeat(length));
    expect(answer.statuses).toEqual([status]);
    // Not the 2 s a refused body's head is waited for: none comes.
    expect(answer.ms).toBeLessThan(1_500);
  });
});

describe('a lingering close', () => {
  it('ends by its deadline however the client trickles, which no idle timer would', async () => {
    const connection = await openTo(server);
    connection.socket.write(
      `FOO /scim/v2/Bulk HTTP/1.1\r\nHost: ${new URL(server.url).host}\r\nContent-Length: 1000000\r\n\r\nxx`,
    );
    const stop = trickle(connection.socket);
    const started = Date.now();
    await connection.closed;
    stop();
    expect(connection.text()).toMatch(/^HTTP\/1\.1 501 /);
    expect(Date.now() - started).toBeLessThan(8_000);
  }, 15_000);

  it.each([
    [
      'an unmet expectation (417)',
      (host: string) => `POST /scim/v2/Users HTTP/1.1\r\nHost: ${host}\r\nExpect: foo\r\nContent-Length: 2\r\n\r\n{}`,
    ],
    [
      'a body over its limit (413)',
      (host: string) =>
        `POST /scim/v2/Users HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${tenant.token}\r\n` +
        `Content-Type: application/scim+json\r\nContent-Length: ${1024 * 1024 + 10}\r\n\r\n${'x'.repeat(1024 * 1024 + 10)}`,
    ],
  ])(
    'does not run a request sent after %s, whose answer could never be sent',
    async (label, refused) => {
      const connection = await openTo(server);
      const host = new URL(server.url).host;
      const userName = `after-${label.includes('417') ? '417' : '413'}@example.com`;
      connection.socket.write(refused(host));
      await sleep(300);
      connection.socket.write(createUser(host, userName));
      await sleep(1_000);
      connection.socket.end();
      await connection.closed;
      expect(connection.text().match(/HTTP\/1\.1 \d{3}/g)).toHaveLength(1);
      expect(await usersNamed(userName)).toBe(0);
    },
    15_000,
  );

  it.each([
    ['without Host', (host: string) => `GET /scim/v2/Users HTTP/1.1\r\nX-Host: ${host}\r\n\r\n`],
    [
      'with an unmet expectation',
      (host: string) => `GET /scim/v2/Users HTTP/1.1\r\nHost: ${host}\r\nExpect: foo\r\n\r\n`,
    ],
  ])(
    'answers, in turn, the requests pipelined ahead of one refused %s, then ends',
    async (label, refused) => {
      const connection = await openTo(server);
      const host = new URL(server.url).host;
      const names = [1, 2].map((n) => `ahead-${n}-${label.length}@example.com`);
      connection.socket.write(names.map((name) => createUser(host, name)).join('') + refused(host));
      await Promise.race([connection.closed, sleep(8_000)]);
      connection.socket.destroy();
      expect(connection.text().match(/HTTP\/1\.1 \d{3}/g)).toEqual([
        'HTTP/1.1 201',
        'HTTP/1.1 201',
        label.includes('Host') ? 'HTTP/1.1 400' : 'HTTP/1.1 417',
      ]);
      for (const name of names) expect(await usersNamed(name)).toBe(1);
    },
    15_000,
  );

  it('does not hold a shutdown, trickled into or not', async () => {
    const own = await startTestServer();
    const connection = await openTo(own);
    connection.socket.write(
      `FOO /scim/v2/Bulk HTTP/1.1\r\nHost: ${new URL(own.url).host}\r\nContent-Length: 1000000\r\n\r\nxx`,
    );
    const stop = trickle(connection.socket);
    await sleep(300);
    const started = Date.now();
    const outcome = await own.app.close({ stallMs: 10_000 });
    stop();
    expect(outcome).toEqual({ cut: 0 });
    expect(Date.now() - started).toBeLessThan(2_000);
    await own.stop();
  }, 20_000);
});
