import { randomBytes } from 'node:crypto';

/**
 * Ids for HTTP requests, named by both the request log and the resource history (which records a
 * change before the log has numbered its request: log seqs are given on the log's thread, after
 * the response). An id is a random prefix for this run of the server and a counter, so it costs a
 * string per request, no disk write, and stays unique across restarts (48 random bits per run).
 */
export function requestIdSource(): () => string {
  const run = randomBytes(6).toString('base64url');
  let count = 0;
  return () => `${run}.${(++count).toString(36)}`;
}
