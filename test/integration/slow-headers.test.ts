/**
 * Headers still arriving after 30 s are answered 408 then (README), not when Node next looks: its
 * default look every 30 s answered such a request anywhere from 30 to 60 s in. No mock of the
 * server's timers here, so this test takes most of a minute.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './harness';

describe('a request whose headers never finish', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it('is answered 408 about 30 s after it began', { timeout: 70_000 }, async () => {
    // Begun a while after the server started: Node looks at its connections every so often from
    // the start, and a request that began just after a look waited for the next one.
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    const { hostname, port } = new URL(server.url);
    const started = performance.now();
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(Number(port), hostname);
      let received = '';
      socket.on('data', (chunk) => (received += chunk.toString('utf8')));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(received));
      socket.write('GET /scim/v2/Users HTTP/1.1\r\nHost: x\r\n'); // and nothing more
      setTimeout(() => socket.destroy(), 45_000);
    });
    const seconds = (performance.now() - started) / 1000;
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(seconds).toBeGreaterThanOrEqual(29);
    expect(seconds).toBeLessThan(33);
  });
});
