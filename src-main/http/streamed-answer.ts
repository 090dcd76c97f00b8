import { finished, Readable } from 'node:stream';
import type { Context } from 'koa';
import type { RequestLogError } from '@shared/request-log';
import { counted } from '../counted';
import { describeFault } from './server-faults';

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
  produce: (answer: StreamedAnswer) => Iterable<string>,
  onFailure: (error: unknown) => void,
): void {
  const answer: StreamedAnswer = { bytes: 0, records: 0 };
  (ctx.state as StreamState).streamed = answer;
  function* measured(): Generator<string> {
    try {
      for (const chunk of produce(answer)) {
        answer.bytes += Buffer.byteLength(chunk, 'utf8');
        yield chunk;
      }
    } catch (error) {
      answer.failure = error;
      onFailure(error);
      throw error;
    }
  }
  ctx.body = Readable.from(measured());
}

/** How a streamed answer ended, for its log entry. */
export interface StreamOutcome {
  bytes: number;
  error: RequestLogError | null;
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
  finished(response, () => then({ bytes: answer.bytes, error: streamError(answer, response.writableFinished) }));
}

function streamError(answer: StreamedAnswer, sentWhole: boolean): RequestLogError | null {
  const sent = `${counted(answer.records, 'resource')} (${counted(answer.bytes, 'byte')})`;
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
