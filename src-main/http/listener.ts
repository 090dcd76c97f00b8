import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type Koa from 'koa';
import { SCIM_CONTENT_TYPE, SCIM_URN } from '@shared/scim/urns';
import { areaOf } from './areas';

/**
 * Room for a request line and headers. Node's default (16 KiB) cut off filters the SCIM layer
 * accepts: 8,192 characters (DEFAULT_FILTER_LIMITS) can take three times that once percent-encoded.
 */
export const MAX_HEADER_BYTES = 64 * 1024;

export interface ListeningAddress {
  host: string;
  port: number;
  url: string;
}

/** Starting and stopping the listener, kept apart from the app so that tests can use app.callback(). */
export class HttpListener {
  private readonly server: Server;
  private closing = false;
  /** Responses not yet sent whole, with their connections: a shutdown closes each one after its response. */
  private readonly unsent = new Map<ServerResponse, Socket>();
  /**
   * Handlers still running. Koa goes on with a request whose connection was cut, so the services
   * must not close under it: `close` waits for these, not only for the connections.
   */
  private running = 0;
  private onHandlersDone: (() => void) | undefined;

  constructor(app: Koa) {
    const handle = app.callback();
    this.server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (req, res) => {
      this.unsent.set(res, req.socket);
      res.once('close', () => this.unsent.delete(res));
      if (this.closing) closeAfter(res, req.socket);
      this.running++;
      void handle(req, res).finally(() => {
        if (--this.running === 0) this.onHandlersDone?.();
      });
    });
    this.server.on('clientError', answerClientError);
    // Slow or idle clients must not hold the process open or pin memory.
    this.server.headersTimeout = 30_000;
    this.server.requestTimeout = 120_000;
    this.server.keepAliveTimeout = 5_000;
  }

  listen(host: string, port: number): Promise<ListeningAddress> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        const address = this.server.address() as AddressInfo;
        resolve({ host, port: address.port, url: `http://${urlHost(host)}:${address.port}` });
      });
    });
  }

  /**
   * Stops accepting, lets in-flight requests finish (up to graceMs), then closes what is left.
   * Node's `server.close()` closes only the connections idle at that moment: a kept-alive
   * connection in use would go on taking requests until the grace ran out and was cut mid-request.
   * So every response from now on says `Connection: close` and its connection ends after it.
   * Resolves once no handler runs any more (or a second grace has passed).
   */
  async close(graceMs = 10_000): Promise<void> {
    if (this.closing || !this.server.listening) return;
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const [res, socket] of this.unsent) closeAfter(res, socket);
    this.server.closeIdleConnections();
    const force = setTimeout(() => this.server.closeAllConnections(), graceMs);
    await closed;
    clearTimeout(force);
    await this.handlersDone(graceMs);
  }

  private handlersDone(graceMs: number): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => {
      // A handler stuck for good (a hung disk) must not hold the process: past the grace the
      // services close under it, and it fails rather than waits.
      const giveUp = setTimeout(resolve, graceMs);
      this.onHandlersDone = () => {
        clearTimeout(giveUp);
        resolve();
      };
    });
  }
}

/** Ends the connection once this response is sent: by its header if not yet written, else by hand. */
function closeAfter(res: ServerResponse, socket: Socket): void {
  if (!res.headersSent) {
    // Node then writes `Connection: close` and ends the connection after the response. (A header
    // set by hand would not do: Koa removes every header when it answers an error.)
    res.shouldKeepAlive = false;
    return;
  }
  res.once('finish', () => socket.end());
}

/**
 * Requests Node's HTTP parser refuses never reach the app. Node's own answers have no body; this
 * one explains a request line and headers over MAX_HEADER_BYTES (in the path's error format: a
 * long filter belongs in the body of POST .search) and otherwise answers as Node does.
 */
function answerClientError(error: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Socket): void {
  // As Node decides: an answer only while no response is half-written on this connection (an
  // earlier response on a kept-alive connection is complete and does not count).
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent: boolean } | null })._httpMessage;
  if (!socket.writable || inFlight?.headersSent) {
    socket.destroy(error);
    return;
  }
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    // Ended, not destroyed, and the rest of the request read and dropped: a client still sending
    // it would otherwise meet a reset before it reads the answer.
    socket.end(headerOverflowAnswer(error.rawPacket));
    socket.resume();
    socket.setTimeout(5_000, () => socket.destroy());
    return;
  }
  const status =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? '408 Request Timeout'
      : error.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW'
        ? '413 Payload Too Large'
        : '400 Bad Request';
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
  socket.destroy(error);
}

function headerOverflowAnswer(rawPacket: Buffer | undefined): string {
  const detail =
    `The request line and headers are over ${MAX_HEADER_BYTES / 1024} KiB. ` +
    'Send a long filter in the body of POST .search (RFC 7644 §3.4.3) instead of the URL.';
  // `rawPacket` is the chunk the overflow happened in, which holds the request line only when it
  // came in one piece. Without it, the request is taken for SCIM: long filters are what make URLs
  // this long, and the admin API and the console build none.
  const path = /^[A-Z]+ ([^ ?\r\n]*)/.exec(rawPacket?.toString('latin1', 0, 2048) ?? '')?.[1];
  const area = path === undefined ? 'scim' : areaOf(path);
  const [type, body] =
    area === 'scim'
      ? [`${SCIM_CONTENT_TYPE}; charset=utf-8`, JSON.stringify({ schemas: [SCIM_URN.error], status: '431', detail })]
      : area === 'admin'
        ? ['application/json; charset=utf-8', JSON.stringify({ detail, code: 'payload_too_large' })]
        : ['text/plain; charset=utf-8', detail];
  return (
    'HTTP/1.1 431 Request Header Fields Too Large\r\n' +
    `Content-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

export function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
