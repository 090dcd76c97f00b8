/**
 * Ctrl-C (or SIGTERM) for commands that talk to a server on the user's behalf (`check`, `seed`): the
 * first one asks the command to stop at a safe point — the requests under way are answered, so
 * nothing is created without the command knowing — and the second one quits at once.
 */
export interface Interrupt {
  readonly signal: AbortSignal;
  /** 128 + the signal's number, as a shell reports a command a signal stopped (130 for Ctrl-C). */
  exitCode(): number;
  dispose(): void;
}

export function listenForInterrupt(say: (line: string) => void, stopping: string): Interrupt {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(exitCodeFor(signal));
    controller.abort(signal);
    say(`${signal}: ${stopping} (${signal === 'SIGINT' ? 'Ctrl-C' : signal} again quits at once)`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    exitCode: () => exitCodeFor(controller.signal.reason as NodeJS.Signals),
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

function exitCodeFor(signal: NodeJS.Signals): number {
  return 128 + (signal === 'SIGINT' ? 2 : 15);
}
