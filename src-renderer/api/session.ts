import { AdminError } from '@shared/errors';
import { ADMIN_BASE_PATH, SessionResponse } from '@shared/session';
import { noAnswer, whyNoAnswer, withinAnswerTime } from './answer-time';
import { errorFromBody } from './http-transport';

/** Trades the console's one-time login code for an admin token (kept in memory only). */
export async function exchangeLoginCode(code: string, doFetch: typeof fetch = fetch): Promise<SessionResponse> {
  let response: Response;
  let body: unknown;
  try {
    response = await doFetch(
      `${ADMIN_BASE_PATH}/session`,
      withinAnswerTime({
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ code }),
      }),
    );
    body = await response.json().catch((error: unknown) => {
      // A body that is not JSON is read as none; one that never came is no answer.
      if ((error as { name?: unknown }).name === 'TimeoutError') throw error;
      return undefined;
    });
  } catch (error) {
    throw new AdminError('unavailable', noAnswer(error));
  }
  if (response.status === 401) {
    throw new AdminError('unauthorized', 'This login code is unknown, already used or expired.');
  }
  if (!response.ok) {
    // The server's own reason (`body.code: Too big…` for a pasted token that is not a code) says more.
    const refused = errorFromBody(response.status, body);
    throw new AdminError(refused.code, refused.message, refused.issues);
  }
  const parsed = SessionResponse.safeParse(body);
  if (!parsed.success) throw new AdminError('internal', `The server answered ${response.status} to the login.`);
  return parsed.data;
}

/**
 * A sign-out the server did not confirm in time: it may still have arrived, and ended the token
 * (a paused server handled it when it went on), so the console cannot say the token still works.
 */
export class SignOutUnconfirmed extends AdminError {}

/**
 * Ends the admin token on the server (DELETE /session): a sign-out that only forgot it here would
 * leave a copied token working until it expires. A token the server already refuses is ended.
 */
export async function endSession(token: string, doFetch: typeof fetch = fetch): Promise<void> {
  let response: Response;
  try {
    response = await doFetch(
      `${ADMIN_BASE_PATH}/session`,
      withinAnswerTime({ method: 'DELETE', headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' } }),
    );
  } catch (error) {
    const timedOut = (error as { name?: unknown }).name === 'TimeoutError';
    throw new (timedOut ? SignOutUnconfirmed : AdminError)('unavailable', whyNoAnswer(error));
  }
  if (response.status === 204 || response.status === 401) return;
  throw new AdminError('internal', `the server answered ${response.status}`);
}

/**
 * Ends an admin token as the page goes away (closed, reloaded, navigated from): a `keepalive`
 * request the browser finishes after the page is gone. Nothing reads its answer.
 */
export function endSessionOnLeave(token: string, doFetch: typeof fetch = fetch): void {
  void doFetch(`${ADMIN_BASE_PATH}/session`, {
    method: 'DELETE',
    keepalive: true,
    headers: { Authorization: `Bearer ${token}` },
  }).catch(() => undefined);
}
