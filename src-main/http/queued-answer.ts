import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Whether `res` waits behind an earlier answer on its connection (a pipelined request): Node gives
 * it the socket only once the answers ahead of it are sent.
 */
export function queuedBehindAnother(res: ServerResponse): boolean {
  return res.socket === null && !res.writableFinished;
}

/**
 * Calls back once `res`, queued behind another answer, is sent whole (true) or its connection has
 * closed before that (false). Node tells a queued answer nothing when its client hangs up: a
 * listener on the response alone never ran, so each connection keeps one `close` listener for all
 * its queued answers, however many a client pipelined.
 */
export function whenQueuedAnswerEnds(res: ServerResponse, socket: Socket, then: (sent: boolean) => void): void {
  let told = false;
  const tell = (sent: boolean) => {
    if (told) return;
    told = true;
    waiting.get(socket)?.delete(tell);
    then(sent);
  };
  res.once('finish', () => tell(true));
  let queued = waiting.get(socket);
  if (!queued) {
    queued = new Set();
    waiting.set(socket, queued);
    const all = queued;
    socket.once('close', () => {
      waiting.delete(socket);
      for (const one of [...all]) one(false);
    });
  }
  queued.add(tell);
}

const waiting = new WeakMap<Socket, Set<(sent: boolean) => void>>();
