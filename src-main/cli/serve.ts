import { startScimdesk } from '../app';
import { isLoopback } from '../http/listener';
import type { ServeOptions } from './options';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

/**
 * `scimdesk serve`: start, print the two ready lines, and stop cleanly on SIGTERM/SIGINT.
 * Resolves with the exit code once the server has shut down.
 */
export async function serve(options: ServeOptions, rendererDir: string, io: CliIo): Promise<number> {
  if (!isLoopback(options.host)) {
    io.err(`warning: listening on ${options.host} exposes the SCIM and admin APIs beyond this machine`);
  }
  // Diagnostics go to stderr: stdout carries only the two ready lines that scripts read.
  const log = { info: console.error, warn: console.warn, error: console.error };
  const running = await startScimdesk({ ...options, rendererDir, log });
  io.out(`listening on ${running.address.url}`);
  io.out(`console: ${running.consoleLoginUrl()}`);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        io.err(`received ${signal} again; exiting without waiting`);
        resolve(1);
        return;
      }
      stopping = true;
      io.err(`received ${signal}; finishing in-flight requests`);
      running.close().then(
        () => resolve(0),
        (error: unknown) => {
          io.err(`scimdesk: shutdown failed: ${(error as Error).message}`);
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
