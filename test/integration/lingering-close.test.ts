/**
 * A refusal sent while the client is still sending its body: the connection is ended after the
 * answer, and what still arrives is read and dropped for a moment, so the client is never reset
 * (a reset can throw away the answer before the client reads it).
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './harness';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

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
