import { createServer, type Server } from 'node:http';
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

  constructor(app: Koa) {
    this.server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, app.callback());
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

  /** Stops accepting, lets in-flight requests finish (up to graceMs), then closes what is left. */
  close(graceMs = 10_000): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      const force = setTimeout(() => this.server.closeAllConnections(), graceMs);
      force.unref();
      this.server.close(() => {
        clearTimeout(force);
        resolve();
      });
      this.server.closeIdleConnections();
    });
  }
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
