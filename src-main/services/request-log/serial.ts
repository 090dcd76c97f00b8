/**
 * Small scheduling helpers shared by the request log and the resource history.
 */

/** Runs async jobs one at a time, in order: flushes, evictions and rewrites never overlap. */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job, job);
    // The chain must survive a failed job; the caller still sees the failure through `result`.
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves when everything queued so far has run. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}

/**
 * Calls `flush` at most every `intervalMs` while there is work, or on the next turn of the event
 * loop when asked urgently (the buffer reached its batch size). Timers are unref'd: a pending log
 * write never keeps a process alive; `close()` flushes explicitly.
 */
export class FlushTimer {
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private stopped = false;

  constructor(
    private readonly intervalMs: number,
    private readonly flush: () => void,
  ) {}

  poke(urgent: boolean): void {
    if (this.stopped) return;
    if (urgent) {
      if (this.immediate) return;
      this.immediate = setImmediate(() => this.fire());
      this.immediate.unref();
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.fire(), this.intervalMs);
      this.timer.unref();
    }
  }

  private fire(): void {
    this.cancel();
    this.flush();
  }

  private cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  stop(): void {
    this.stopped = true;
    this.cancel();
  }
}
