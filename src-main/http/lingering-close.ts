import type { Socket } from 'node:net';

/**
 * A lingering close, as nginx does: the answer is sent, the connection's sending side ended, and
 * what the client still sends is read and dropped for a moment before the connection goes. Closed
 * at once, a connection whose client was still sending a large body (a 4 MB Bulk with an unknown
 * method, a broken Transfer-Encoding, a refused token) was reset, and the client never read the
 * answer.
 */
const LINGER_MS = 5_000;

/** Sends `answer` on a connection no parser reads any more, and closes it lingering. */
export function endLingering(socket: Socket, answer: string): void {
  socket.end(answer);
  socket.resume();
  socket.setTimeout(LINGER_MS, () => socket.destroy());
}

/**
 * Makes the close Node does after a `Connection: close` answer a lingering one. Node ends such a
 * connection with `destroySoon`, which destroys it as soon as the answer is written; the request's
 * unread body is already being read and dropped (Node dumps it, or the caller resumed it).
 */
export function lingerWhenClosed(socket: Socket): void {
  socket.destroySoon = () => endLingering(socket, '');
}
