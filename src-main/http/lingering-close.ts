import type { Socket } from 'node:net';

/**
 * A lingering close, as nginx does: the answer is sent, the connection's sending side ended, and
 * what the client still sends is read and dropped for a moment before the connection goes. Closed
 * at once, a connection whose client was still sending a large body (a 4 MB Bulk with an unknown
 * method, a broken Transfer-Encoding, a refused token) was reset, and the client never read the
 * answer.
 */
const LINGER_MS = 5_000;

/** Connections that end after the answer under way: no later request on them is run. */
const closing = new WeakSet<Socket>();
/** Connections whose answer is sent and whose close lingers. */
const lingering = new WeakSet<Socket>();

/**
 * Whether a request read on this connection now must not be run: its connection ends after an
 * answer already decided. The request would be run, its answer never sent, and a client that sent
 * it again (as it must, RFC 9112 §9.6) would have made the user twice.
 */
export function closesAfterAnswer(socket: Socket): boolean {
  return closing.has(socket);
}

/** Whether the connection is only being drained before it goes: no request of it is in flight. */
export function isLingering(socket: Socket): boolean {
  return lingering.has(socket);
}

/** Sends `answer` on a connection no request will follow on, and closes it lingering. */
export function endLingering(socket: Socket, answer: string): void {
  closing.add(socket);
  if (lingering.has(socket)) return;
  lingering.add(socket);
  socket.end(answer);
  socket.resume();
  // A deadline, not an idle timer: a client trickling a byte at a time held an idle timer open
  // for good, and a shutdown waited on it.
  const deadline = setTimeout(() => socket.destroy(), LINGER_MS);
  deadline.unref();
  socket.once('close', () => clearTimeout(deadline));
}

/**
 * Makes the close Node does after a `Connection: close` answer a lingering one. Node ends such a
 * connection with `destroySoon`, which destroys it as soon as the answer is written; the request's
 * unread body is already being read and dropped (Node dumps it, or the caller resumed it).
 */
export function lingerWhenClosed(socket: Socket): void {
  closing.add(socket);
  socket.destroySoon = () => endLingering(socket, '');
}
