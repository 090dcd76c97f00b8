/**
 * Runs `task(i)` for i in [0, count) with at most `limit` in flight, in index order of start.
 * After a task fails no new one starts, and the pool settles only once the tasks already running
 * have: a caller that catches the error never has work of the pool still changing its state.
 */
export async function runPool(count: number, limit: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < count && !failure) {
      try {
        await task(next++);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, count)) }, worker));
  if (failure) throw failure.error;
}
