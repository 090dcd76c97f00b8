import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CommandIo } from '../../../src-main/cli/check';
import { createProgress } from '../../../src-main/cli/seed';

function io(stderrIsTty: boolean): CommandIo & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    out: (line) => lines.push(`out: ${line}`),
    err: (line) => lines.push(line),
    writeErr: (text) => lines.push(text),
    stdoutIsTty: false,
    stderrIsTty,
    env: {},
    flush: () => Promise.resolve(),
  };
}

const progress = (done: number) => ({ phase: 'users' as const, mode: 'bulk' as const, done, total: 300, failed: 0 });

describe('seed progress while the server takes its time', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] }));
  afterEach(() => vi.useRealTimers());

  it('says it is waiting, every few seconds, before any answer and between answers', () => {
    const out = io(false);
    const shown = createProgress(out, 5_000);
    vi.advanceTimersByTime(10_000);
    expect(out.lines).toEqual([
      'seed: no answer yet, waiting 5 s for the server',
      'seed: no answer yet, waiting 10 s for the server',
    ]);
    shown.update(progress(100));
    expect(out.lines.at(-1)).toBe('seed: 100/300 (users, bulk)');
    vi.advanceTimersByTime(4_000);
    shown.update(progress(200));
    // Within 5 s of the last line: not printed again yet.
    expect(out.lines).toHaveLength(3);
    vi.advanceTimersByTime(16_000);
    expect(out.lines.slice(3)).toEqual([
      // On the timer's beat, counted from the last answer (at 14 s).
      'seed: 200/300 (users, bulk, waiting 6 s for the server)',
      'seed: 200/300 (users, bulk, waiting 11 s for the server)',
      'seed: 200/300 (users, bulk, waiting 16 s for the server)',
    ]);
    shown.finish();
    vi.advanceTimersByTime(20_000);
    expect(out.lines).toHaveLength(6);
  });

  it('redraws the bar on a terminal with the time waited', () => {
    const out = io(true);
    const shown = createProgress(out, 5_000);
    shown.update(progress(150));
    vi.advanceTimersByTime(5_000);
    expect(out.lines.at(-1)).toContain('150/300 users (bulk, waiting 5 s for the server)');
    shown.finish();
    expect(out.lines.at(-1)).toBe('\n');
  });
});
