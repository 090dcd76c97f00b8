import { afterEach, describe, expect, it } from 'vitest';
import {
  echoOfLastSignal,
  listenForInterrupt,
  ONE_STOP_WINDOW_MS,
  whatQuitsAfter,
} from '../../../src-main/cli/interrupt';

// Signals are emitted as events here, never sent: a real one with no listener would end the test run.
const before = new Map((['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((name) => [name, process.listeners(name)]));
afterEach(() => {
  for (const [name, listeners] of before) {
    for (const listener of process.listeners(name)) if (!listeners.includes(listener)) process.off(name, listener);
  }
});

describe('a stop asked for by a signal (check, seed)', () => {
  it('after a hang-up, keeps ignoring the terminal’s second one once the stop is done', () => {
    const said: string[] = [];
    const interrupt = listenForInterrupt((line) => said.push(line), 'stopping');
    process.emit('SIGHUP', 'SIGHUP');
    expect(interrupt.signal.aborted).toBe(true);
    expect(interrupt.exitCode()).toBe(129);
    expect(said).toEqual([`SIGHUP: stopping (${whatQuitsAfter('SIGHUP')} quits at once)`]);
    interrupt.dispose();
    // Still a listener: by Node's default a hang-up then killed the process, and exit 129 was lost.
    expect(process.listenerCount('SIGHUP')).toBe(before.get('SIGHUP')!.length + 1);
    process.emit('SIGHUP', 'SIGHUP');
    expect(said).toHaveLength(1);
  });

  it('leaves no listener behind after a stop by Ctrl-C or a run that was not stopped', () => {
    for (const signal of ['SIGINT', undefined] as const) {
      const interrupt = listenForInterrupt(() => undefined, 'stopping');
      if (signal) process.emit(signal, signal);
      interrupt.dispose();
      for (const [name, listeners] of before) expect(process.listenerCount(name)).toBe(listeners.length);
    }
  });

  it('takes a signal repeated at once (timeout, npx forwarding Ctrl-C) as one stop, a later one as the second', () => {
    let now = 1_000;
    const isEcho = echoOfLastSignal(() => now);
    expect(isEcho('SIGTERM')).toBe(false);
    now += 5;
    expect(isEcho('SIGTERM')).toBe(true);
    // Another signal at once is a second asking.
    expect(isEcho('SIGINT')).toBe(false);
    now += ONE_STOP_WINDOW_MS;
    expect(isEcho('SIGINT')).toBe(false);
    // A held-down Ctrl-C: the repeats within the window of the first are one stop; the next,
    // past it, is the second signal, however close it is to the repeat before it.
    now += 1_000;
    expect(isEcho('SIGINT')).toBe(false);
    const repeats = Array.from({ length: 9 }, () => {
      now += 30;
      return isEcho('SIGINT');
    });
    expect(repeats).toEqual([...Array.from({ length: 8 }, () => true), false]);
  });

  it('does not quit at once for a SIGTERM sent twice together, as GNU timeout sends it', () => {
    const said: string[] = [];
    const interrupt = listenForInterrupt((line) => said.push(line), 'stopping');
    const exit = process.exit;
    const exits: unknown[] = [];
    process.exit = ((code?: number) => void exits.push(code)) as typeof process.exit;
    try {
      process.emit('SIGTERM', 'SIGTERM');
      process.emit('SIGTERM', 'SIGTERM');
    } finally {
      process.exit = exit;
    }
    expect(exits).toEqual([]);
    expect(said).toHaveLength(1);
    interrupt.dispose();
  });
});
