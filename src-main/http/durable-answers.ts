import type { Context, Middleware } from 'koa';
import type { DurableStore } from '../store/durable-store';
import { areaOf } from './areas';

interface DurableAnswerState {
  /** The request's answer was decided by its own write, which the store made durable. */
  decidedByOwnWrite?: true;
}

/**
 * Marks the answer of a SCIM create, replace, patch or delete that succeeded. Each ran in one
 * store transaction that resolved only once durable, and batches are durable in order, so all it
 * read is on disk too (a transaction that changed nothing waited for what it read, in
 * `DurableStore.write`). Not a Bulk, nor an admin write: their answers may be decided outside such
 * a transaction (a Bulk operation's 409 by a create still in memory, a revoke of a token already
 * revoked in memory).
 */
export function noteAnswerDecidedByOwnWrite(ctx: Context): void {
  (ctx.state as DurableAnswerState).decidedByOwnWrite = true;
}

export function isAnswerDecidedByOwnWrite(ctx: Context): boolean {
  return (ctx.state as DurableAnswerState).decidedByOwnWrite === true;
}

/**
 * Answers show only what is on disk. A read sees the store's memory, which runs ahead of the disk
 * by the writes waiting for the next group commit: a GET could show a version that a crash then
 * loses (the next write numbering it again, with other content), and a 409 or 412 could be decided
 * by such a write. So each SCIM and admin answer waits until everything written before it is
 * durable. Writes have waited already; a read waits at most for the flush under way.
 */
export function answeringWhatIsDurable(store: Pick<DurableStore, 'settled'>): Middleware {
  return async (ctx, next) => {
    if (areaOf(ctx.path) === 'console') return next();
    try {
      await next();
    } catch (error) {
      // A refusal waits too: a 409 decided by a create still being written, or a 404 by a delete,
      // was sent at once, and a crash then lost the write it had reported. A store that fails
      // meanwhile is what the client is told instead (settled throws it).
      await store.settled();
      throw error;
    }
    try {
      await store.settled();
    } catch (failure) {
      // A later batch failed (a full disk), not this request's: a 500 for a create on disk made
      // the IdP's retry a 409. Any other answer may show what the failure lost.
      if ((ctx.state as DurableAnswerState).decidedByOwnWrite !== true) throw failure;
    }
  };
}

/**
 * What a streamed answer waits for before each batch it sends (see sendStreamed): the same as
 * answeringWhatIsDurable. An answer decided by its own write is sent whatever a later batch's
 * failure: a group of 2,000 members created on disk got no answer at all once the disk filled
 * behind it (found in review), and the IdP's retry met a 409.
 */
export function durableBeforeSending(ctx: Context, store: Pick<DurableStore, 'settled'>): () => Promise<void> {
  return async () => {
    try {
      await store.settled();
    } catch (failure) {
      if (!isAnswerDecidedByOwnWrite(ctx)) throw failure;
    }
  };
}
