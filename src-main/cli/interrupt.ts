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

export function listenForInterrupt(say: (line: string) => void, stopping: string): Interrupt {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
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
