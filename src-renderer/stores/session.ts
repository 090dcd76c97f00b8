import { defineStore } from 'pinia';
import { computed, nextTick, ref } from 'vue';
import { AdminError } from '@shared/errors';
import { SCIM_TOKEN_PREFIX } from '@shared/scim-token';
import { useConsoleEnvironment } from '../api/environment';
import { SignOutUnconfirmed } from '../api/session';

export type SessionStatus = 'signed-out' | 'signing-in' | 'signed-in';

/**
 * Who the console is. The desktop app is always signed in (IPC is the main process itself); the web
 * console holds an admin token in memory only, never in storage, so closing the tab ends the session.
 */
export const useSessionStore = defineStore('session', () => {
  const environment = useConsoleEnvironment();
  const token = ref<string>();
  const expiresAt = ref<string>();
  const status = ref<SessionStatus>(environment.mode === 'desktop' ? 'signed-in' : 'signed-out');
  const error = ref<string>();
  /** Whether `error` refuses the secret given (unknown, malformed), not the server or the session. */
  const secretRefused = ref(false);
  /**
   * Whether the token is one this console got for a login code, rather than one pasted: a pasted
   * token is the user's (their scripts may use it), and replacing the session must not end it.
   */
  let exchanged = false;

  const needsSignIn = computed(() => environment.mode === 'web' && status.value !== 'signed-in');
  /**
   * The token of the session signed in, where `token` is also one still being proven: what other
   * stores key their data to. It changes when the session does (signed in, replaced, forgotten).
   */
  const signedInToken = computed(() => (status.value === 'signed-in' ? token.value : undefined));

  /**
   * Counts sign-ins and forgettings: a sign-in whose answer comes after another sign-in began, or
   * after the session was forgotten (Sign out clicked meanwhile), must not sign the tab in.
   */
  let attempt = 0;

  /** Ends the session when its token expires, rather than at the next request that fails. */
  let expiryTimer: ReturnType<typeof setTimeout> | undefined;
  function endAt(at: string | undefined): void {
    clearTimeout(expiryTimer);
    const ms = at === undefined ? NaN : Date.parse(at) - Date.now();
    if (!Number.isFinite(ms)) return;
    // setTimeout holds at most 2^31-1 ms (~24.8 days), and an admin token may last 30: a longer wait
    // is taken in turns, or the console ended a valid session days early.
    if (ms > MAX_TIMER_MS) expiryTimer = setTimeout(() => endAt(at), MAX_TIMER_MS);
    else expiryTimer = setTimeout(() => sessionRejected(), Math.max(0, ms));
  }

  /**
   * Accepts a one-time login code, the whole console URL that carries one, or an admin token from
   * `scimdesk admin-token`, also as copied from a header or a script (`Bearer …`, in quotes).
   * A working session is kept until a new one works (a stale console URL opened in a signed-in tab).
   */
  /**
   * Refuses what was typed, here, without asking the server. The message is cleared first and set
   * in the next render, so that a second wrong entry with the same message is announced again (an
   * alert whose text does not change says nothing).
   */
  async function refuseSecret(message: string): Promise<void> {
    error.value = undefined;
    await nextTick();
    error.value = message;
    secretRefused.value = true;
  }

  async function signIn(secret: string): Promise<void> {
    const pasted = unwrapSecret(secret);
    // Neither a URL, a code nor a token has whitespace: a line break inside is a wrapped terminal
    // copy (which the browser's field turns into a space), so it goes before the URL is read.
    const unwrapped = pasted.replace(/\s+/g, '');
    const value = codeInConsoleUrl(unwrapped) ?? unwrapped;
    if (!value || value.startsWith(SCIM_TOKEN_PREFIX)) {
      // A SCIM token is not a JWT, so it would go to the code exchange and be called an unknown login code.
      await refuseSecret(value ? SCIM_TOKEN_PASTED : 'Enter a login code or an admin token.');
      return;
    }
    if (!isAdminToken(value) && !isLoginCodeShaped(value)) {
      // A token cut short, or any other text: the code exchange's own refusal would speak of its body.
      await refuseSecret(NEITHER_CODE_NOR_TOKEN);
      return;
    }
    const kept =
      status.value === 'signed-in' ? { token: token.value, expiresAt: expiresAt.value, exchanged } : undefined;
    if (kept && isAdminToken(value)) {
      // Proving a token means sending it as the console's own, which the working session's requests
      // would share meanwhile; a code is exchanged aside.
      error.value = 'Already signed in: sign out first to use another admin token.';
      return;
    }
    const mine = ++attempt;
    if (!kept) status.value = 'signing-in';
    error.value = undefined;
    try {
      if (isAdminToken(value)) {
        token.value = value;
        expiresAt.value = expiryOf(value);
        // Proves the token before the console shows anything that needs it.
        await environment.client.listTenants({ page: 1, per_page: 1 });
      } else {
        if (!environment.exchangeLoginCode) throw new AdminError('internal', 'Login codes are for the web console.');
        const session = await environment.exchangeLoginCode(value);
        if (mine !== attempt) {
          // Signed out, or another sign-in began, while this code was exchanged: its session is not wanted.
          void environment.endSession?.(session.token).catch(() => undefined);
          return;
        }
        token.value = session.token;
        expiresAt.value = session.expires_at;
      }
      if (mine !== attempt) return;
      status.value = 'signed-in';
      exchanged = !isAdminToken(value);
      endAt(expiresAt.value);
    } catch (failure) {
      if (mine !== attempt) return;
      // Still signed in (nothing forgot the kept session meanwhile): keep it, and say why the secret was not taken.
      if (kept) {
        token.value = kept.token;
        expiresAt.value = kept.expiresAt;
      } else forget();
      error.value = describeSignInFailure(failure);
      secretRefused.value = refusesSecret(failure);
      return;
    }
    secretRefused.value = false;
    // The replaced session is ended on the server too, as Sign out would, not left working until it
    // expires; not a pasted admin token, which the user's scripts may use (a probe's `curl` got 401
    // after the printed console URL was opened in the tab).
    if (kept?.token !== undefined && kept.token !== token.value && kept.exchanged) await endReplaced(kept.token);
  }

  async function endReplaced(ending: string): Promise<void> {
    try {
      await environment.endSession?.(ending);
    } catch (failure) {
      error.value =
        `Signed in, but the previous session was not ended: ${(failure as Error).message}; ` +
        'its admin token stays valid on the server until it expires.';
    }
  }

  /** The user's "Sign out": forgotten here at once, and ended on the server so no copy of it works. */
  async function signOut(): Promise<void> {
    const ending = token.value;
    forget();
    if (ending === undefined || !environment.endSession) return;
    try {
      await environment.endSession(ending);
    } catch (failure) {
      // Said on the sign-in page, unless someone has signed in again meanwhile.
      if (status.value !== 'signed-out') return;
      error.value =
        `Signed out of this console, but ${(failure as Error).message}: ` +
        (failure instanceof SignOutUnconfirmed
          ? 'the admin token may still be valid on the server until it expires.'
          : 'the admin token stays valid on the server until it expires.');
    }
  }

  /**
   * The page is going: a session this console got from a code is ended on the server, since no one
   * can use it after (the token is in this page's memory only). A pasted admin token is the user's.
   */
  function endOnLeave(): void {
    if (status.value !== 'signed-in' || !exchanged || token.value === undefined) return;
    environment.endSessionOnLeave?.(token.value);
  }

  /** The user's "Dismiss" on a message shown beside a working session. */
  function dismissError(): void {
    error.value = undefined;
    secretRefused.value = false;
  }

  function forget(reason?: string): void {
    if (environment.mode === 'desktop') return;
    attempt += 1;
    clearTimeout(expiryTimer);
    token.value = undefined;
    expiresAt.value = undefined;
    status.value = 'signed-out';
    error.value = reason;
    secretRefused.value = false;
  }

  /**
   * Called by other stores when the server refuses the token (expired, or the key changed), with the
   * token their request carried: a refusal of a session since replaced says nothing of this one.
   */
  function sessionRejected(refused?: string): void {
    // A request answered after a sign-out (its token ended on purpose) is no news to the user.
    if (status.value !== 'signed-in') return;
    if (refused !== undefined && refused !== token.value) return;
    forget(SESSION_ENDED);
  }

  return {
    token,
    expiresAt,
    status,
    error,
    secretRefused,
    needsSignIn,
    signedInToken,
    mode: environment.mode,
    signIn,
    signOut,
    endOnLeave,
    dismissError,
    sessionRejected,
  };
});

const MAX_TIMER_MS = 2 ** 31 - 1;

/** A login code is printed only as a server starts: a running one gives an admin token instead. */
const SESSION_ENDED =
  'Your session has ended. Sign in again with an admin token (npx scimdesk admin-token prints one), ' +
  'or with the console URL a restarted server prints.';

/**
 * The code in a pasted console URL (`http://127.0.0.1:8585/#code=…`), if that is what was pasted:
 * also as a terminal's triple-click selects it (`console: http://…`), without its scheme, as its
 * fragment alone (`#code=…`, `code=…`), or with the sentence's full stop after it.
 */
function codeInConsoleUrl(value: string): string | undefined {
  const code = /(?:^|[#&?])code=([\w%-]+)/.exec(value)?.[1];
  if (code === undefined) return undefined;
  try {
    return decodeURIComponent(code);
  } catch {
    return code;
  }
}

/**
 * When an admin token (a JWT) says it expires, read from its payload without checking it: only to
 * end the console's session on time; the server checks the token on every request.
 */
function expiryOf(token: string): string | undefined {
  try {
    const part = (token.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/');
    const payload = JSON.parse(atob(part.padEnd(Math.ceil(part.length / 4) * 4, '='))) as { exp?: unknown };
    return typeof payload.exp === 'number' ? new Date(payload.exp * 1000).toISOString() : undefined;
  } catch {
    return undefined;
  }
}

const SCIM_TOKEN_PASTED =
  'That is a SCIM token, for an identity provider; the console needs its login code or an admin token (scimdesk admin-token).';

/** What was pasted, without the `Bearer ` of a header or the quotes of a script around it. */
function unwrapSecret(pasted: string): string {
  const unquoted = (value: string) => /^(["'`])(.*)\1$/s.exec(value)?.[2]?.trim() ?? value;
  return unquoted(unquoted(pasted.trim()).replace(/^bearer\s+/i, ''));
}

function isAdminToken(value: string): boolean {
  return /^[\w-]+\.[\w-]+\.[\w-]+$/.test(value);
}

/** A login code is base64url text (24 characters today); the server takes at most 200. */
function isLoginCodeShaped(value: string): boolean {
  return /^[\w-]{1,200}$/.test(value);
}

const NEITHER_CODE_NOR_TOKEN =
  'That is neither a login code nor an admin token. A login code is what follows #code= in the console URL; ' +
  'an admin token is the last line scimdesk admin-token prints, three parts joined by dots. Check that it was copied whole.';

/** Failures that say the secret itself is wrong; an unreachable or failing server says nothing of it. */
function refusesSecret(failure: unknown): boolean {
  return (
    failure instanceof AdminError &&
    ['unauthorized', 'forbidden', 'validation_failed', 'bad_request'].includes(failure.code)
  );
}

function describeSignInFailure(failure: unknown): string {
  if (failure instanceof AdminError) {
    if (failure.code === 'unauthorized') return failure.message;
    if (failure.code === 'forbidden') return SCIM_TOKEN_PASTED;
    return `Sign-in failed: ${failure.message}`;
  }
  return `Sign-in failed: ${(failure as Error).message}`;
}
