/**
 * Ctrl-C (or SIGTERM, or SIGHUP) for commands that talk to a server on the user's behalf (`check`,
 * `seed`): the first one asks the command to stop at a safe point — the requests under way are
 * answered, so nothing is created without the command knowing — and the second one quits at once.
 * A closed terminal or a dropped ssh session (SIGHUP) stops it the same way: by Node's default it
 * died at once, and a check left its users on the server. A closing terminal sends its hang-up
 * twice (the shell forwards one, the kernel sends another), so a repeated SIGHUP is not the second
 * signal that quits.
 */
export interface Interrupt {
  readonly signal: AbortSignal;
  /** 128 + the signal's number, as a shell reports a command a signal stopped (130 for Ctrl-C). */
  exitCode(): number;
  dispose(): void;
}

/**
 * What to send to quit at once after `signal` began a stop. A hang-up repeated is ignored (a closing
 * terminal sends two): Ctrl-C or SIGTERM is what quits then.
 */
export function whatQuitsAfter(signal: NodeJS.Signals): string {
  return signal === 'SIGINT' ? 'Ctrl-C again' : signal === 'SIGHUP' ? 'Ctrl-C or SIGTERM' : `${signal} again`;
}

/**
 * How close together two of one signal are one stop, not a second asking to quit: GNU `timeout`
 * sends SIGTERM to the command and then to its process group, and `npx` forwards the Ctrl-C the
 * terminal already sent to the whole group. Both arrive within milliseconds; a person pressing
 * Ctrl-C twice takes longer. Taken as a second signal, they cut the stop short (a check left its
 * users on the server; a server quit without finishing its requests or releasing its lock).
 */
export const ONE_STOP_WINDOW_MS = 250;

/**
 * Tells a signal that repeats, within ONE_STOP_WINDOW_MS, the last one that was not itself such a
 * repeat. Measured from that one, not from the latest: from the latest, a held-down Ctrl-C (a key
 * repeat every 30 ms) never quit. A monotonic clock: a wall clock stepped back read as no time.
 */
export function echoOfLastSignal(now: () => number = () => performance.now()): (signal: NodeJS.Signals) => boolean {
  let last: { signal: NodeJS.Signals; at: number } | undefined;
  return (signal) => {
    const at = now();
    if (last !== undefined && last.signal === signal && at - last.at < ONE_STOP_WINDOW_MS) return true;
    last = { signal, at };
    return false;
  };
}

export function listenForInterrupt(say: (line: string) => void, stopping: string): Interrupt {
  const controller = new AbortController();
  const isEcho = echoOfLastSignal();
  const onSignal = (signal: NodeJS.Signals) => {
    if (isEcho(signal)) return;
    if (signal === 'SIGHUP' && controller.signal.aborted) return;
    if (controller.signal.aborted) process.exit(exitCodeFor(signal));
    controller.abort(signal);
    say(`${signal}: ${stopping} (${whatQuitsAfter(signal)} quits at once)`);
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  return {
    signal: controller.signal,
    exitCode: () => exitCodeFor(controller.signal.reason as NodeJS.Signals),
    dispose() {
      // The closing terminal's second hang-up can come after the stop is done, while the process
      // ends: by Node's default it died of it then, and its exit status (129) was lost. Added
      // before the handler goes: without a listener for a moment, the default is back.
      if (controller.signal.reason === 'SIGHUP') process.on('SIGHUP', ignore);
      for (const signal of SIGNALS) process.off(signal, onSignal);
    },
  };
}

function ignore(): void {}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const SIGNAL_NUMBERS: Readonly<Record<(typeof SIGNALS)[number], number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

function exitCodeFor(signal: NodeJS.Signals): number {
  return 128 + (SIGNAL_NUMBERS[signal as (typeof SIGNALS)[number]] ?? 15);
}
