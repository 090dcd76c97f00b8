import { connect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import Koa from 'koa';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpListener, type ListeningAddress } from '../../src-main/http/listener';

/** A latch a test opens by hand. */
function latch() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

/** A server with `/fast` and `/slow` (which answers once the test opens `release`). */
async function start() {
  const release = latch();
  const slowStarted = latch();
  const handled: string[] = [];
  const app = new Koa();
  app.use(async (ctx) => {
    if (ctx.path === '/slow') {
      slowStarted.open();
      await release.opened;
    }
    ctx.body = `done ${ctx.path}`;
    handled.push(ctx.path);
  });
  const listener = new HttpListener(app);
  const address = await listener.listen('127.0.0.1', 0);
  return { listener, address, release, slowStarted, handled };
}

/** A raw connection, so that the test sees exactly what travels on one kept-alive socket. */
class Connection {
  readonly socket: Socket;
  private text = '';
  readonly ended: Promise<void>;

  constructor(address: ListeningAddress) {
    this.socket = connect(address.port, address.host);
    this.socket.setEncoding('utf8');
    this.socket.on('data', (chunk: string) => (this.text += chunk));
    this.socket.on('error', () => {});
    this.ended = new Promise((resolve) => this.socket.once('close', () => resolve()));
  }

  send(path: string): void {
    this.socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
  }

  /** Waits for the next whole response and returns it (head and body). */
  async response(): Promise<string> {
    for (;;) {
      const end = this.text.indexOf('\r\n\r\n');
      if (end >= 0) {
        const length = Number(/content-length: (\d+)/i.exec(this.text.slice(0, end))?.[1] ?? 0);
        if (this.text.length >= end + 4 + length) {
          const whole = this.text.slice(0, end + 4 + length);
          this.text = this.text.slice(whole.length);
          return whole;
        }
      }
      await new Promise((resolve) => this.socket.once('data', resolve));
    }
  }
}

const refused = (address: ListeningAddress) =>
  new Promise<string>((resolve) => {
    const socket = connect(address.port, address.host);
    socket.once('connect', () => {
      socket.destroy();
      resolve('accepted');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });

describe('stopping the HTTP listener', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  /** A listener that is released and closed after the test, whatever the test left it doing. */
  async function started() {
    const server = await start();
    cleanups.push(
      () => server.release.open(),
      () => server.listener.close(),
    );
    return server;
  }

  it('answers the request in flight with Connection: close, closes idle connections and takes no new ones', async () => {
    const server = await started();
    const busy = new Connection(server.address);
    const idle = new Connection(server.address);
    busy.send('/fast');
    idle.send('/fast');
    expect(await busy.response()).toMatch(/Connection: keep-alive/i);
    // Kept longer than a tunnel keeps its own (cloudflared 90 s), which must close first; and
    // closed at a stop all the same, below.
    expect(await idle.response()).toMatch(/Connection: keep-alive\r\nKeep-Alive: timeout=120\r\n/i);
    busy.send('/slow');
    await server.slowStarted.opened;

    let stopped = false;
    const stopping = server.listener.close().then(() => (stopped = true));
    await idle.ended;
    expect(await refused(server.address)).toBe('ECONNREFUSED');
    expect(stopped).toBe(false);

    server.release.open();
    const last = await busy.response();
    expect(last).toMatch(/^HTTP\/1\.1 200/);
    expect(last).toMatch(/Connection: close/i);
    expect(last).toMatch(/done \/slow$/);
    await busy.ended;
    await stopping;
    expect(server.handled).toEqual(['/fast', '/fast', '/slow']);
  });

  it('answers every request pipelined on a connection before ending it', async () => {
    const server = await started();
    const client = new Connection(server.address);
    client.send('/slow');
    await server.slowStarted.opened;
    client.send('/first');
    client.send('/second');
    // Wait until the server has parsed both pipelined requests (they queue behind /slow).
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stopping = server.listener.close();
    expect(server.listener.close()).toBe(stopping);
    server.release.open();
    const answers = [await client.response(), await client.response(), await client.response()];
    expect(answers.map((answer) => /done (\/\w+)$/.exec(answer)?.[1])).toEqual(['/slow', '/first', '/second']);
    // The two pipelined answers were written (as kept-alive) before the shutdown; the connection
    // ends after the last of them all the same.
    await client.ended;
    await stopping;
  });

  it('does not run a request sent after the stop began on a connection that was answering one', async () => {
    const server = await started();
    const client = new Connection(server.address);
    client.send('/slow');
    await server.slowStarted.opened;
    const stopping = server.listener.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Each such request used to become the connection's last, and a client pipelining one whenever
    // one was answered kept the server from stopping.
    client.send('/late');
    await new Promise((resolve) => setTimeout(resolve, 100));
    server.release.open();
    expect(await client.response()).toMatch(/^HTTP\/1\.1 200[\s\S]*Connection: close[\s\S]*done \/slow$/i);
    await client.ended;
    await stopping;
    expect(server.handled).toEqual(['/slow']);
  });

  it('keeps the deadlines for a head and a body to arrive while it stops, however they trickle', async () => {
    const app = new Koa();
    app.use(async (ctx) => {
      let bytes = 0;
      for await (const chunk of ctx.req) bytes += (chunk as Buffer).length;
      ctx.body = `got ${bytes}`;
    });
    const listener = new HttpListener(app, { deadlines: { headersMs: 600, requestMs: 1_200 } });
    const address = await listener.listen('127.0.0.1', 0);
    cleanups.push(() => listener.close());
    const upload = new Connection(address);
    upload.socket.write(`POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n`);
    const head = new Connection(address);
    head.socket.write('GET /fast HTTP/1.1\r\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const began = Date.now();
    // Every 100 ms a byte on each, against a 400 ms stall limit: both always move.
    const trickle = setInterval(() => {
      if (!upload.socket.destroyed) upload.socket.write('x');
      if (!head.socket.destroyed) head.socket.write('X');
    }, 100);
    try {
      const stopping = listener.close({ stallMs: 400 });
      expect(await head.response()).toMatch(/^HTTP\/1\.1 408 [\s\S]*did not arrive in time/);
      expect(await upload.response()).toMatch(/^HTTP\/1\.1 408 [\s\S]*did not arrive in time/);
      await Promise.all([head.ended, upload.ended]);
      expect(await stopping).toEqual({ cut: 0 });
      expect(Date.now() - began).toBeLessThan(3_000);
    } finally {
      clearInterval(trickle);
    }
  });

  it('runs a request pipelined behind another only once that one is done', async () => {
    const server = await started();
    const client = new Connection(server.address);
    client.send('/slow');
    await server.slowStarted.opened;
    client.send('/after');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.handled).toEqual([]);
    server.release.open();
    expect(await client.response()).toMatch(/done \/slow$/);
    expect(await client.response()).toMatch(/done \/after$/);
    expect(server.handled).toEqual(['/slow', '/after']);
  });

  it('answers a CONNECT after the answer ahead of it, and lets go of its connection', async () => {
    const server = await started();
    const client = new Connection(server.address);
    client.send('/slow');
    await server.slowStarted.opened;
    client.socket.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 100));
    server.release.open();
    expect(await client.response()).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*done \/slow$/);
    expect(await client.response()).toMatch(/^HTTP\/1\.1 501 Not Implemented/);
    // The client keeps its side open: a shutdown does not count that connection as a request it
    // had to give up on.
    expect((await server.listener.close()).cut).toBe(0);
  });

  it('waits for a handler whose connection was cut when nothing moved, so nothing closes under it', async () => {
    const server = await start();
    cleanups.push(() => server.release.open());
    const client = new Connection(server.address);
    client.send('/slow');
    await server.slowStarted.opened;

    let stopped = false;
    const stopping = server.listener.close({ stallMs: 300 }).then((outcome) => {
      stopped = true;
      return outcome;
    });
    // Nothing moves for 300 ms: the connection is cut, but the handler is still at work.
    await client.ended;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(stopped).toBe(false);
    server.release.open();
    expect(await stopping).toEqual({ cut: 1 });
    expect(server.handled).toEqual(['/slow']);
  });

  it('counts a stuck handler whose client went away among what it gave up on', async () => {
    const server = await start();
    cleanups.push(() => server.release.open());
    const client = new Connection(server.address);
    client.send('/slow');
    await server.slowStarted.opened;
    client.socket.destroy();
    await client.ended;
    const stopping = server.listener.close({ stallMs: 200 });
    // Well past the stall limit (the shutdown looks every 100 ms), so a busy machine cannot race it.
    await new Promise((resolve) => setTimeout(resolve, 700));
    server.release.open();
    expect(await stopping).toEqual({ cut: 1 });
  });

  it('answers queued requests that take far longer than the stall limit while they keep finishing', async () => {
    // Five requests that finish one by one, 150 ms apart: 750 ms in all against a 400 ms limit.
    const app = new Koa();
    let turn = Promise.resolve();
    const started = latch();
    let arrived = 0;
    app.use(async (ctx) => {
      if (++arrived === 5) started.open();
      const mine = turn.then(() => new Promise<void>((resolve) => setTimeout(resolve, 150)));
      turn = mine;
      await mine;
      ctx.body = `done ${ctx.path}`;
    });
    const listener = new HttpListener(app);
    const address = await listener.listen('127.0.0.1', 0);
    cleanups.push(() => listener.close());
    const clients = [1, 2, 3, 4, 5].map((n) => {
      const client = new Connection(address);
      client.send(`/r${n}`);
      return client;
    });
    await started.opened;
    const progress: number[] = [];
    const stopping = listener.close({ stallMs: 400, progressEveryMs: 200, onProgress: (n) => progress.push(n) });
    const answers = await Promise.all(clients.map((client) => client.response()));
    expect(answers.map((answer) => /done (\/\w+)$/.exec(answer)?.[1])).toEqual(['/r1', '/r2', '/r3', '/r4', '/r5']);
    expect(await stopping).toEqual({ cut: 0 });
    // Told along the way how many were left, fewer each time.
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((n, i) => n >= 1 && n <= 5 && (i === 0 || n <= progress[i - 1]!))).toBe(true);
  });

  it('takes a long request for moving while the activity it reports grows', async () => {
    let work = 0;
    const app = new Koa();
    const started = latch();
    app.use(async (ctx) => {
      started.open();
      // One request doing 8 units of work, 100 ms each (as a Bulk request commits user by user).
      for (let unit = 0; unit < 8; unit++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        work++;
      }
      ctx.body = 'done';
    });
    const listener = new HttpListener(app, { activity: () => work });
    const address = await listener.listen('127.0.0.1', 0);
    cleanups.push(() => listener.close());
    const client = new Connection(address);
    client.send('/bulk');
    await started.opened;
    const stopping = listener.close({ stallMs: 400 });
    expect(await client.response()).toMatch(/^HTTP\/1\.1 200[\s\S]*done$/);
    expect(await stopping).toEqual({ cut: 0 });
  });
  it('takes a body still arriving, and an answer still being sent, for moving', async () => {
    const app = new Koa();
    app.use(async (ctx) => {
      if (ctx.path === '/upload') {
        let bytes = 0;
        for await (const chunk of ctx.req) bytes += (chunk as Buffer).length;
        ctx.body = `got ${bytes}`;
        return;
      }
      // An export: the handler returns at once, and its stream goes on for a second.
      let sent = 0;
      ctx.body = new Readable({
        read() {
          setTimeout(() => this.push(++sent > 10 ? null : `part ${sent}\n`), 100);
        },
      });
    });
    const listener = new HttpListener(app);
    const address = await listener.listen('127.0.0.1', 0);
    cleanups.push(() => listener.close());
    const upload = new Connection(address);
    upload.socket.write(`POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\n`);
    const exported = new Connection(address);
    exported.send('/export');
    let text = '';
    exported.socket.on('data', (chunk: string) => (text += chunk));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const progress: number[] = [];
    const stopping = listener.close({ stallMs: 400, progressEveryMs: 300, onProgress: (n) => progress.push(n) });
    // One byte every 100 ms: a second in all, against a 400 ms limit.
    for (let i = 0; i < 10; i++) {
      upload.socket.write('x');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await upload.response()).toMatch(/got 10$/);
    await exported.ended;
    expect(text).toContain('part 10');
    expect(await stopping).toEqual({ cut: 0 });
    expect(progress[0]).toBe(2);
  });

  it('closes at once a connection that has sent no request, and finishes one whose head is coming in', async () => {
    const server = await started();
    const silent = new Connection(server.address);
    const partial = new Connection(server.address);
    partial.socket.write('GET /fast HTTP/1.1\r\nHo');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const began = Date.now();
    const stopping = server.listener.close({ stallMs: 5_000 });
    await silent.ended;
    expect(Date.now() - began).toBeLessThan(2_000);
    partial.socket.write('st: localhost\r\n\r\n');
    const answer = await partial.response();
    expect(answer).toMatch(/^HTTP\/1\.1 200[\s\S]*Connection: close[\s\S]*done \/fast$/i);
    expect(await stopping).toEqual({ cut: 0 });
  });

  it('answers the requests ahead of one it refuses first, and tells the refusal under its own request line', async () => {
    const release = latch();
    const app = new Koa();
    app.use(async (ctx) => {
      if (ctx.path === '/slow') await release.opened;
      if (ctx.path === '/upload') for await (const chunk of ctx.req) void chunk;
      ctx.body = `done ${ctx.path}`;
    });
    app.silent = true; // the upload whose chunk the parser refused ends aborted
    const told: string[] = [];
    const listener = new HttpListener(app, {
      onRefused: ({ method, target, status }) => told.push(`${method} ${target} ${status}`),
    });
    const address = await listener.listen('127.0.0.1', 0);
    cleanups.push(
      () => release.open(),
      () => listener.close(),
    );
    const exchange = async (text: string) => {
      const client = new Connection(address);
      let all = '';
      client.socket.on('data', (chunk: string) => (all += chunk));
      client.socket.write(text);
      await new Promise((resolve) => setTimeout(resolve, 50));
      return { client, all: async () => (await client.ended, all) };
    };
    const slow = 'GET /slow HTTP/1.1\r\nHost: l\r\n\r\n';
    // A bad header on a pipelined request: its 400 comes after the answer ahead of it.
    const badHeader = await exchange(`${slow}GET /next HTTP/1.1\r\nHost: l\r\nX-Bad: a\x01b\r\n\r\n`);
    // A method the parser does not know: there is no request line to tell it under.
    const unknownMethod = await exchange(`${slow}BREW /pot HTTP/1.1\r\nHost: l\r\n\r\n`);
    // The parser fails in the body of the newest request: the answer ahead of it still goes first.
    const badChunk = await exchange(
      `${slow}POST /upload HTTP/1.1\r\nHost: l\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n`,
    );
    release.open();
    for (const [pipelined, refusal] of [
      [badHeader, '400 Bad Request'],
      [unknownMethod, '501 Not Implemented'],
      [badChunk, '400 Bad Request'],
    ] as const) {
      const all = await pipelined.all();
      expect(all).toMatch(new RegExp(`^HTTP/1\\.1 200 OK[\\s\\S]*done /slowHTTP/1\\.1 ${refusal}`));
    }
    expect(told).toEqual(['GET /next 400']);
  });
});
