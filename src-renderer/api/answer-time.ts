/**
 * How long the console waits for the server's answer, headers and body, before it says none came.
 * A server that took the connection and stopped (a paused process, a hung disk) left the console
 * on "Loading…" or "Signing in…" for good, every retry refused while it waited.
 */
export const ANSWER_TIMEOUT_MS = 15_000;

/** `init` with a signal that gives up after ANSWER_TIMEOUT_MS. */
export function withinAnswerTime(init: RequestInit): RequestInit {
  return { ...init, signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS) };
}

/** What to tell of a request that got no answer: it timed out, or never reached the server. */
export function noAnswer(error: unknown): string {
  return (error as { name?: unknown } | undefined)?.name === 'TimeoutError'
    ? `The server did not answer within ${ANSWER_TIMEOUT_MS / 1000} s: is it still running?`
    : `The server could not be reached (${(error as Error).message}).`;
}
