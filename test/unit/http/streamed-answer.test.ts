import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import Koa from 'koa';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../../src-main/clock';
import { captureRequests } from '../../../src-main/http/capture';
import { sendStreamed, type StreamedAnswer } from '../../../src-main/http/streamed-answer';
import type { RequestLog, RequestLogInput } from '../../../src-main/services/request-log/index';
import { ScimError } from '../../../src-main/scim/errors';

/**
 * A streamed answer's log entry through the real capture middleware on a real socket: what the
 * request log is told when an export ends whole, and when the server fails halfway through it.
 */
describe('the log entry of a streamed answer', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  });

  async function serve(
    produce: (answer: StreamedAnswer) => Iterable<string>,
    durable: () => Promise<void> = () => Promise.resolve(),
  ) {
    const recorded: RequestLogInput[] = [];
    const failures: unknown[] = [];
    const log: Pick<RequestLog, 'record'> = { record: (entry) => recorded.push(entry) };
    const app = new Koa();
    app.silent = true;
    app.use(captureRequests(log as RequestLog, systemClock));
    app.use((ctx) => {
      ctx.state.captureBodies = false;
      ctx.type = 'application/x-ndjson';
      sendStreamed(ctx, produce, (error) => failures.push(error), durable);
    });
    server = createServer(app.callback());
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/scim/v2/Users?format=ndjson`;
    return { url, recorded, failures };
  }

  it('is filed when the stream has ended, with the bytes sent and no error', async () => {
    const { url, recorded } = await serve(function* (answer) {
      for (const line of ['{"id":"a"}\n', '{"id":"é"}\n']) {
        answer.records += 1;
        yield line;
      }
    });
    const text = await (await fetch(url)).text();
    await vi.waitFor(() => expect(recorded).toHaveLength(1));
    expect(recorded[0]).toMatchObject({ status: 200, error: null, response: { bytes: Buffer.byteLength(text) } });
    expect(Buffer.byteLength(text)).toBe(23);
  });

  it('sends what it read only once the store says it is durable, a batch at a time', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let waits = 0;
    const line = `{"id":"${'x'.repeat(40_000)}"}\n`;
    const { url, recorded } = await serve(
      function* (answer) {
        for (let i = 0; i < 5; i++) {
          answer.records += 1;
          yield line;
        }
      },
      () => {
        waits += 1;
        return gate;
      },
    );
    let answered = false;
    const response = fetch(url).then(async (r) => {
      answered = true;
      return r.text();
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(answered).toBe(false);
    release();
    expect(await response).toBe(line.repeat(5));
    // Five lines of 40 KB: two batches of 64 KB or more, and what is left.
    expect(waits).toBe(3);
    await vi.waitFor(() => expect(recorded).toHaveLength(1));
    expect(recorded[0]).toMatchObject({ error: null, response: { bytes: line.length * 5 } });
  });

  it('also ends a batch after 50 ms of reading, however little it read', async () => {
    let waits = 0;
    const { url } = await serve(
      function* (answer) {
        for (let i = 0; i < 3; i++) {
          // A small line that took long to read (a group of 100,000 members, projected to its name).
          const until = performance.now() + 60;
          while (performance.now() < until);
          answer.records += 1;
          yield `{"id":"${i}"}\n`;
        }
      },
      () => {
        waits += 1;
        return Promise.resolve();
      },
    );
    expect(await (await fetch(url)).text()).toBe('{"id":"0"}\n{"id":"1"}\n{"id":"2"}\n');
    expect(waits).toBe(3);
  });

  it('names a store that fails at its last wait for durability as the server failing', async () => {
    const { url, recorded, failures } = await serve(
      function* (answer) {
        answer.records += 1;
        yield '{"id":"a"}\n';
      },
      () => Promise.reject(new Error('journal write failed')),
    );
    await expect(fetch(url).then((response) => response.text())).rejects.toThrow();
    await vi.waitFor(() => expect(recorded).toHaveLength(1));
    expect(recorded[0]!.error).toMatchObject({
      message: 'The server failed after sending 0 resources (0 bytes); the client got a cut answer.',
    });
    expect(failures).toEqual([expect.objectContaining({ message: 'journal write failed' })]);
  });

  it('names the failure that cut it, and tells the server log', async () => {
    const { url, recorded, failures } = await serve(function* (answer) {
      answer.records += 1;
      yield '{"id":"a"}\n';
      throw new TypeError('cannot read the next resource');
    });
    // The client gets a cut answer (or none), never a clean end.
    await expect(fetch(url).then((response) => response.text())).rejects.toThrow();
    await vi.waitFor(() => expect(recorded).toHaveLength(1));
    expect(recorded[0]!.error).toEqual({
      message: 'The server failed after sending 1 resource (11 bytes); the client got a cut answer.',
      cause: 'TypeError: cannot read the next resource',
    });
    expect(failures).toEqual([expect.any(TypeError)]);
  });

  it('tells no server failure when the connection is cut under the answer (a stop gave up on a client that stopped reading)', async () => {
    const line = `{"id":"${'x'.repeat(10_000)}"}\n`;
    const { url, recorded, failures } = await serve(function* (answer) {
      for (let i = 0; i < 100_000; i++) {
        answer.records += 1;
        yield line;
      }
    });
    const { port } = new URL(url);
    const client = connect(Number(port), '127.0.0.1');
    client.write(`GET ${new URL(url).pathname}?format=ndjson HTTP/1.1\r\nHost: x\r\n\r\n`);
    client.pause(); // reads nothing: the answer stalls on a full socket
    await new Promise((resolve) => setTimeout(resolve, 300));
    // What the listener does to a stalled connection at the end of a stop's grace.
    server!.closeAllConnections();
    await vi.waitFor(() => expect(recorded).toHaveLength(1));
    client.destroy();
    expect(failures).toEqual([]);
    expect(recorded[0]!.error?.message).toMatch(/^The client closed the connection after \d+ resources/);
  });

  it('says an answer stopped by design (its token revoked meanwhile) was stopped, not that the server failed', async () => {
    const { url, recorded } = await serve(function* (answer) {
      answer.records += 1;
      yield '{"id":"a"}\n';
      throw ScimError.unauthorized('The SCIM token was revoked while this request ran.');
    });
    await expect(fetch(url).then((response) => response.text())).rejects.toThrow();
    await vi.waitFor(() => expect(recorded).toHaveLength(1));
    expect(recorded[0]!.error).toEqual({
      message: 'The answer was stopped after 1 resource (11 bytes): The SCIM token was revoked while this request ran.',
    });
  });
});
