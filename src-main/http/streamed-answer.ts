import { finished, Readable } from 'node:stream';
import type { Context } from 'koa';
import type { RequestLogError } from '@shared/request-log';
import { counted } from '../counted';
import { describeFault } from './server-faults';
import { ScimError } from '../scim/errors';

/**
 * What a streamed answer (an export) has handed to the response. Its size and its end are known
 * only after the middleware has returned and Koa has piped the stream, so the request log reads
 * them when the response closes (see `whenStreamEnds`); logged at once, an export of 100,000 users
 * showed as 0 bytes in a few milliseconds, and one cut short as a success.
 */
export interface StreamedAnswer {
  bytes: number;
  /** Resources among those bytes. */
  records: number;
  /** What stopped the stream, when the server did (the client then gets a cut answer). */
  failure?: unknown;
  /**
   * What the request log keeps of the answer, set by its producer: none for an export (its
   * resources are in the store); for a page or a large group answered alone, its first 64 KB or so
   * as values (a page's envelope and first resources, a group and its first slice), which
   * the log redacts by name and cuts as it does a large answer built whole (cut JSON text would be
   * redacted as free text, and lose whole stretches of it).
   */
  head?: unknown;
}

interface StreamState {
  streamed?: StreamedAnswer;
}

/**
 * Sets ctx's body to the text `produce` yields, counted for the request log. `produce` counts its
 * records on the answer it is given. A failure after the first byte cannot become an error answer
 * (the status went out): it cuts the stream, is told to `onFailure` for the server's log, and the
 * request log names it.
 */
export function sendStreamed(
  ctx: Context,
  produce: (read: StreamedAnswer) => Iterable<string>,
  onFailure: (error: unknown) => void,
  /**
   * Resolves once what was read so far is durable (the store's `settled`): each batch waits for it
   * before it is sent, as every other answer does (see create-app.ts). An export reads resources as
   * its client takes them, long after the request's own wait, so it could stream a change that a
   * crash then lost.
   */
  durable: () => Promise<void>,
): void {
  const answer: StreamedAnswer = { bytes: 0, records: 0 };
  (ctx.state as StreamState).streamed = answer;
  // `produce` counts a record as it yields it; the answer counts it once its batch is sent.
  const read: StreamedAnswer = { bytes: 0, records: 0 };
  let batch: string[] = [];
  let chars = 0;
  let batchStarted = performance.now();
  async function sendBatch(): Promise<string> {
    // A turn of the event loop between batches: reading and serializing runs on the loop every
    // tenant shares, and with a client that reads as fast as it is written (no backpressure) a
    // 100,000-user export let 32 creates through in 2.4 s.
    await new Promise((resolve) => setImmediate(resolve));
    await durable();
    const text = batch.join('');
    [batch, chars, batchStarted] = [[], 0, performance.now()];
    answer.bytes += Buffer.byteLength(text, 'utf8');
    answer.head = read.head;
    answer.records = read.records;
    return text;
  }
  async function* measured(): AsyncGenerator<string> {
    let readFailure: unknown;
    try {
      try {
        for (const chunk of produce(read)) {
          batch.push(chunk);
          chars += chunk.length;
          // Or by time: ten groups of 100,000 members projected to their names are a few hundred
          // bytes that took two seconds to read, all in one turn of the loop.
          if (chars >= STREAM_BATCH_CHARS || performance.now() - batchStarted >= STREAM_BATCH_MS)
            yield await sendBatch();
        }
      } catch (error) {
        // Thrown in at a yield when the connection closed under the answer: see closedUnder.
        if (closedUnder(error)) throw error;
        readFailure = error;
        answer.failure = error;
        onFailure(error);
      }
      // The rest, and after a failure what was read before it, as it would have gone unbatched.
      if (batch.length > 0) yield await sendBatch();
    } catch (error) {
      // The store failing at a wait for durability is the server's failure too, not a client's.
      if (readFailure === undefined && !closedUnder(error)) {
        answer.failure = error;
        onFailure(error);
      }
      throw error;
    }
    if (readFailure !== undefined) throw readFailure;
  }
  // One batch waits to be sent, not Readable.from's sixteen: a page's batch is a whole resource,
  // and sixteen groups of 50,000 members were 170 MB held for a client that reads slowly.
  ctx.body = Readable.from(measured(), { highWaterMark: 1 });
}

/**
 * The error a stream is destroyed with when the response it was piped to closed before its end:
 * its client left, or a stop cut a client that stopped reading. No failure of the server's (a
 * stack in the server log said the export "failed"); the log entry says how much was sent.
 */
function closedUnder(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ERR_STREAM_PREMATURE_CLOSE';
}

/** Text read before one wait for durability: one wait per ~64 KB, not one per resource. */
const STREAM_BATCH_CHARS = 64 * 1024;
/** And time spent reading it: the loop is let go at least this often. */
const STREAM_BATCH_MS = 50;

/** How a streamed answer ended, for its log entry. */
export interface StreamOutcome {
  bytes: number;
  error: RequestLogError | null;
  /** What the log keeps of the answer (StreamedAnswer.head). */
  head?: unknown;
}

/**
 * Calls `then` once ctx's streamed answer has ended (sent whole, cut by a failure, or left by its
 * client), or at once with undefined when the answer is not streamed.
 */
export function whenStreamEnds(ctx: Context, then: (outcome: StreamOutcome | undefined) => void): void {
  const answer = (ctx.state as StreamState).streamed;
  if (!answer || !(ctx.body instanceof Readable)) return then(undefined);
  const response = ctx.res;
  // `finished` calls back once, on the response's end or its premature close, whichever comes.
  finished(response, () =>
    then({
      bytes: answer.bytes,
      error: streamError(answer, response.writableFinished),
      ...(answer.head !== undefined ? { head: answer.head } : {}),
    }),
  );
}

/** A stop by design (the token revoked or signed out, the tenant deleted): no server failure. */
export function stoppedByDesign(error: unknown): error is ScimError {
  return error instanceof ScimError && error.status < 500;
}

function streamError(answer: StreamedAnswer, sentWhole: boolean): RequestLogError | null {
  const sent = `${counted(answer.records, 'resource')} (${counted(answer.bytes, 'byte')})`;
  if (stoppedByDesign(answer.failure)) {
    return { message: `The answer was stopped after ${sent}: ${answer.failure.message}` };
  }
  if (answer.failure !== undefined) {
    return {
      message: `The server failed after sending ${sent}; the client got a cut answer.`,
      cause: describeFault(answer.failure),
    };
  }
  if (!sentWhole) {
    // Written to the connection, not read: the socket's buffers hold some of it (up to megabytes),
    // so the client may have read less.
    return {
      message: `The client closed the connection after ${sent} had been written to it; the rest was not.`,
    };
  }
  return null;
}
