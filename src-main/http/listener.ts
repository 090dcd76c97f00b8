import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';

export interface ListeningAddress {
  host: string;
  port: number;
  url: string;
}

/** Starting and stopping the listener, kept apart from the app so that tests can use app.callback(). */
export class HttpListener {
  private readonly server: Server;

  constructor(app: Koa) {
    this.server = createServer(app.callback());
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

export function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
