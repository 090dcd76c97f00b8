import { startScimdesk, type RunningScimdesk } from '../app';
import { isLoopback } from '../http/listener';
import type { ServeOptions } from './options';
import { echoOfLastSignal, whatQuitsAfter } from './interrupt';
import { NotWrittenOnCloseError } from '../store/errors';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

/**
 * `scimdesk serve`: start, print the two ready lines, and stop cleanly on SIGTERM, SIGINT or SIGHUP.
 * Resolves with the exit code once the server has shut down. The signal handlers are installed
 * before anything starts, so a signal during start-up also ends in a clean stop (exit 0) rather than
 * the default abrupt death, which would skip flushing the store and releasing its lock.
 */
export async function serve(
  options: ServeOptions & { version?: string; requestLogWorker?: URL },
  rendererDir: string,
  io: CliIo,
): Promise<number> {
  let stopRequested: ((signal: NodeJS.Signals) => void) | undefined;
  let pendingSignal: NodeJS.Signals | undefined;
  let signals = 0;
  let forceExit: ((code: number) => void) | undefined;
  const isEcho = echoOfLastSignal();
  const onSignal = (signal: NodeJS.Signals) => {
    if (isEcho(signal)) return;
    // A closed terminal sends its hangup twice (the shell forwards one to its jobs, the kernel
    // another as the shell exits): that is no user asking again, and must not cut the stop short.
    if (signal === 'SIGHUP' && signals > 0) return;
    signals += 1;
    if (signals > 1) {
      io.err(`received ${signal} again; exiting without waiting`);
      forceExit?.(1);
      if (!forceExit) process.exit(1);
      return;
    }
    if (stopRequested) stopRequested(signal);
    else {
      // Start-up opens the store and replays its journal: stopping halfway would be unclean.
      io.err(
        `received ${signal} while starting; stopping as soon as the server is up (${whatQuitsAfter(signal)} to exit at once)`,
      );
      pendingSignal = signal;
    }
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // A closed terminal or a dropped ssh session: a stop like any other. Node's default for SIGHUP
  // is to die at once, losing the request log's and the history's last entries and leaving the lock.
  process.on('SIGHUP', onSignal);

  if (FETCH_BAD_PORTS.has(options.port)) {
    io.err(
      `warning: browsers and fetch refuse port ${options.port} (a "bad port" of the Fetch standard): ` +
        'the console will not open and `scimdesk check`/`seed` cannot reach it; pick another port',
    );
  }
  // Diagnostics go to stderr: stdout carries only the two ready lines that scripts read.
  const log = { info: console.error, warn: console.warn, error: console.error };
  let fatal: Error | undefined;
  const running = await startScimdesk({
    ...options,
    rendererDir,
    log,
    onFatal: (error) => {
      fatal = error;
      io.err(`scimdesk: cannot write the data folder (${error.message}); stopping. Restart to recover.`);
      stopRequested?.('SIGTERM');
    },
  });
  // Stopped while starting: no ready lines, which a script waiting for them would take as a server
  // to use just as it goes, and no one-time code nobody can use.
  if (pendingSignal === undefined) announce(running, options, io);

  return new Promise<number>((resolve) => {
    forceExit = resolve;
    stopRequested = (signal) => {
      if (!fatal) io.err(`received ${signal}; finishing in-flight requests`);
      const stallSeconds = SHUTDOWN_STALL_MS / 1000;
      running
        .close({
          stallMs: SHUTDOWN_STALL_MS,
          onProgress: (inFlight) =>
            io.err(
              `still finishing ${plural(inFlight, 'request')} in flight (${whatQuitsAfter(signal)} to exit at once)`,
            ),
        })
        .then(
          ({ cut }) => {
            if (cut > 0) {
              io.err(
                `gave up on ${plural(cut, 'request')} after nothing moved for ${stallSeconds} s: ` +
                  'their connections were cut before their answers were sent whole',
              );
            }
            resolve(fatal || cut > 0 ? 1 : 0);
          },
          (error: unknown) => {
            // What a service could not write was told when it closed (services.close), in one line.
            if (!(error instanceof NotWrittenOnCloseError))
              io.err(`scimdesk: shutdown failed: ${(error as Error).message}`);
            resolve(1);
          },
        );
    };
    if (pendingSignal) stopRequested(pendingSignal);
  });
}

/** The ready lines on stdout (the two scripts read), and where the server is and keeps its data. */
function announce(running: RunningScimdesk, options: ServeOptions, io: CliIo): void {
  // Said once listening works: a host that cannot be listened on gets only its error.
  if (!isLoopback(options.host)) {
    io.err(`warning: listening on ${options.host} exposes the SCIM and admin APIs beyond this machine`);
  }
  io.out(`listening on ${running.address.url}`);
  const consoleUrl = running.consoleLoginUrl();
  io.out(`console: ${consoleUrl}`);
  // `admin-token` signs with this folder's key: a token from another folder (a quoted `~/x`, which
  // no shell expanded, is a folder named `~` here) is refused, and this says where to look.
  io.err(`data folder: ${options.dataDir}`);
  const { local, network } = running.address.reachable;
  if (network !== running.address.url) {
    // The same one-time code: on a system where 0.0.0.0 cannot be browsed to (Windows), this works.
    const here = `${local}${consoleUrl.slice(running.address.url.length)}`;
    io.err(
      network === local
        ? `reachable at ${local} on this machine (console: ${here}); no network address was found for other machines`
        : `reachable at ${local} on this machine (console: ${here}) and at ${network} from the network (the base URLs given to IdPs use it)`,
    );
  }
}

/**
 * How long a shutdown waits while nothing moves before it cuts what is left: long enough for one
 * slow fsync or a burst of password hashes to show progress, short enough for a hung disk.
 */
const SHUTDOWN_STALL_MS = 10_000;

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** https://fetch.spec.whatwg.org/#port-blocking: ports browsers and Node's fetch will not connect to. */
const FETCH_BAD_PORTS = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110,
  111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532,
  540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061,
  6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);
