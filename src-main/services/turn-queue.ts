/**
 * Work a request need not wait for (history records, request-log entries on the event loop) runs
 * right after the turn of the event loop that queued it, in order. One `setImmediate` per turn,
 * not per item: under load a turn handles several requests, and each immediate is an allocation
 * and a callback of its own.
 */
export interface TurnQueue<T> {
  push(item: T): void;
  /** Handles what is queued now, at once (for a caller that must see it done). */
  drain(): void;
}

/**
 * `handle` should not throw (an item that fails is the handler's to report). If it does, the other
 * items are still handled, then the first error is thrown, as a callback of its own would have.
 */
export function turnQueue<T>(handle: (item: T) => void): TurnQueue<T> {
  let queued: T[] = [];
  const drain = () => {
    const items = queued;
    queued = [];
    let failure: { error: unknown } | undefined;
    for (const item of items) {
      try {
        handle(item);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
  };
  return {
    push(item) {
      if (queued.push(item) === 1) setImmediate(drain);
    },
    drain,
  };
}
