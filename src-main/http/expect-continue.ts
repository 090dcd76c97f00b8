import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Requests whose client waits for `100 Continue` before sending its body (RFC 9110 §10.1.1), with
 * the response to send it on. The 100 goes out when the body is read, and never for a request
 * answered without reading it: Node then ends the connection after the answer, and the client,
 * told the final status first, does not send the body at all.
 */
const continuePending = new WeakMap<IncomingMessage, ServerResponse>();

export function awaitContinue(req: IncomingMessage, res: ServerResponse): void {
  continuePending.set(req, res);
}

/** Sends the 100 a request's client waits for, as its body is about to be read. */
export function continueWhenRead(req: IncomingMessage): void {
  const res = continuePending.get(req);
  if (res === undefined) return;
  continuePending.delete(req);
  if (!res.headersSent) res.writeContinue();
}

/** Whether the client still waits for a 100 before sending anything of its body. */
export function bodyWithheld(req: IncomingMessage): boolean {
  return continuePending.has(req);
}
