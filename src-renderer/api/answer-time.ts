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

/** Why a request got no answer, as a clause another sentence can hold: it timed out, or never got there. */
export function whyNoAnswer(error: unknown): string {
  return (error as { name?: unknown } | undefined)?.name === 'TimeoutError'
    ? `the server did not answer within ${ANSWER_TIMEOUT_MS / 1000} s (is it still running?)`
    : `the server could not be reached (${(error as Error).message})`;
}

/** whyNoAnswer as a sentence of its own. */
export function noAnswer(error: unknown): string {
  const why = whyNoAnswer(error);
  return `${why.charAt(0).toUpperCase()}${why.slice(1)}.`;
}
