import { createPinia, setActivePinia } from 'pinia';
import { describe, expect, it, vi } from 'vitest';
import { createApp } from 'vue';
import type { AdminClient } from '@shared/contract';
import { AdminError } from '@shared/errors';
import { consoleEnvironmentKey, type ConsoleEnvironment } from '../../../src-renderer/api/environment';
import { endSession as endSessionOnServer } from '../../../src-renderer/api/session';
import { useSessionStore } from '../../../src-renderer/stores/session';
import { useTenantsStore } from '../../../src-renderer/stores/tenants';
import { fakeClient } from '../shared/fakes';

const tenant = {
  id: 't1',
  name: 'Acme',
  created_at: '2026-01-01T00:00:00.000Z',
  delete_mode: 'delete' as const,
  compat_profile: 'compatible' as const,
  compat_overrides: {},
  log_max_entries: 100000,
};
const TOKEN = 'aaa.bbb.ccc';

/** A fresh Pinia inside an app that provides a fake environment, as main.ts does for real. */
function withEnvironment(given: Omit<Partial<ConsoleEnvironment>, 'client'> & { client: Partial<AdminClient> }) {
  const environment = { ...given, client: fakeClient(given.client) };
  const app = createApp({});
  const pinia = createPinia();
  app.use(pinia);
  setActivePinia(pinia);
  app.provide(consoleEnvironmentKey, { mode: 'web', ...environment });
  return <T>(fn: () => T): T => app.runWithContext(fn);
}

describe('session store', () => {
  it('signs in with a one-time code through the exchange', async () => {
    const exchangeLoginCode = vi.fn(async () => ({ token: TOKEN, expires_at: '2026-01-01T12:00:00.000Z' }));
    const run = withEnvironment({ client: { listTenants: vi.fn() }, exchangeLoginCode });
    const session = run(() => useSessionStore());
    expect(session.needsSignIn).toBe(true);
    await session.signIn(' code123 ');
    expect(exchangeLoginCode).toHaveBeenCalledWith('code123');
    expect(session.status).toBe('signed-in');
    expect(session.token).toBe(TOKEN);
    expect(session.needsSignIn).toBe(false);
  });

  it('takes the code out of a pasted console URL', async () => {
    const exchangeLoginCode = vi.fn(async () => ({ token: TOKEN, expires_at: '2099-01-01T12:00:00.000Z' }));
    const session = withEnvironment({ client: { listTenants: vi.fn() }, exchangeLoginCode })(() => useSessionStore());
    await session.signIn('http://127.0.0.1:8585/#code=abc%2D123');
    expect(exchangeLoginCode).toHaveBeenCalledWith('abc-123');
    expect(session.status).toBe('signed-in');
  });

  it('takes the code out of the ways a console URL gets copied', async () => {
    for (const pasted of [
      // A terminal's triple-click selects the whole line serve printed.
      'console: http://127.0.0.1:8585/#code=abc-123',
      '127.0.0.1:8585/#code=abc-123',
      '#code=abc-123',
      'code=abc-123',
      'http://127.0.0.1:8585/#code=abc-123.',
      'http://[::1]:8585/?x=1#code=abc-123',
    ]) {
      const exchangeLoginCode = vi.fn(async () => ({ token: TOKEN, expires_at: '2099-01-01T12:00:00.000Z' }));
      const session = withEnvironment({ client: { listTenants: vi.fn() }, exchangeLoginCode })(() => useSessionStore());
      await session.signIn(pasted);
      expect(exchangeLoginCode).toHaveBeenCalledWith('abc-123');
    }
  });

  it('ends the session when its token expires, not at the next request', async () => {
    vi.useFakeTimers({ now: Date.parse('2026-01-01T12:00:00.000Z') });
    try {
      const exchangeLoginCode = vi.fn(async () => ({ token: TOKEN, expires_at: '2026-01-01T12:05:00.000Z' }));
      const run = withEnvironment({ client: { listTenants: vi.fn() }, exchangeLoginCode });
      const session = run(() => useSessionStore());
      await session.signIn('code123');
      vi.advanceTimersByTime(4 * 60_000);
      expect(session.status).toBe('signed-in');
      vi.advanceTimersByTime(60_000);
      expect(session.status).toBe('signed-out');
      // A login code is printed only as a server starts: the way back is an admin token.
      expect(session.error).toBe(
        'Your session has ended. Sign in again with an admin token (npx scimdesk admin-token prints one), ' +
          'or with the console URL a restarted server prints.',
      );
      // A pasted admin token ends at its own `exp`.
      const exp = Math.floor(Date.now() / 1000) + 60;
      const jwt = ['e30', btoa(JSON.stringify({ exp })).replace(/=+$/, ''), 'sig'].join('.');
      const listTenants = vi.fn(async () => ({ items: [], total: 0, page: 1, per_page: 1 }));
      const withToken = withEnvironment({ client: { listTenants } })(() => useSessionStore());
      await withToken.signIn(jwt);
      expect(withToken.status).toBe('signed-in');
      vi.advanceTimersByTime(61_000);
      expect(withToken.status).toBe('signed-out');
    } finally {
      vi.useRealTimers();
    }
  });

  it('explains a used or expired code', async () => {
    const exchangeLoginCode = vi.fn(async () => {
      throw new AdminError('unauthorized', 'This login code is unknown, already used or expired.');
    });
    const session = withEnvironment({ client: { listTenants: vi.fn() }, exchangeLoginCode })(() => useSessionStore());
    await session.signIn('stale');
    expect(session.status).toBe('signed-out');
    expect(session.error).toMatch(/already used or expired/);
  });

  it('signs in with an admin token after proving it works', async () => {
    const listTenants = vi.fn(async () => ({ items: [], total: 0, page: 1, per_page: 1 }));
    const session = withEnvironment({ client: { listTenants } })(() => useSessionStore());
    await session.signIn(TOKEN);
    expect(listTenants).toHaveBeenCalledOnce();
    expect(session.status).toBe('signed-in');
  });

  it.each([
    ['Bearer aaa.bbb.ccc'],
    ['  bearer   aaa.bbb.ccc  '],
    ['"aaa.bbb.ccc"'],
    ["'Bearer aaa.bbb.ccc'"],
    ['Bearer "aaa.bbb.ccc"'],
  ])('takes an admin token pasted as %j for the token it wraps', async (pasted) => {
    const listTenants = vi.fn(async () => ({ items: [], total: 0, page: 1, per_page: 1 }));
    const exchangeLoginCode = vi.fn();
    const session = withEnvironment({ client: { listTenants }, exchangeLoginCode })(() => useSessionStore());
    await session.signIn(pasted);
    expect(exchangeLoginCode).not.toHaveBeenCalled();
    expect(session.token).toBe(TOKEN);
    expect(session.status).toBe('signed-in');
  });

  it('passes on what the server says when it refuses a code for another reason than its being unknown', async () => {
    const exchangeLoginCode = vi.fn(async () => {
      throw new AdminError('validation_failed', 'body.code: something new');
    });
    const session = withEnvironment({ client: { listTenants: vi.fn() }, exchangeLoginCode })(() => useSessionStore());
    await session.signIn('abcdef');
    expect(session.error).toBe('Sign-in failed: body.code: something new');
    expect(session.secretRefused).toBe(true);
  });

  it('says in plain words that text shaped like neither a code nor a token is neither, sending nothing', async () => {
    const exchangeLoginCode = vi.fn();
    const listTenants = vi.fn();
    const session = withEnvironment({ client: { listTenants }, exchangeLoginCode })(() => useSessionStore());
    // A token cut after its second part, one cut mid-signature, over-long text, a sentence.
    for (const pasted of ['aaa.bbb', 'aaa.bbb.ccc.', 'x'.repeat(300), 'my password!']) {
      await session.signIn(pasted);
      expect(session.error).toMatch(/^That is neither a login code nor an admin token\./);
      expect(session.secretRefused).toBe(true);
    }
    expect(exchangeLoginCode).not.toHaveBeenCalled();
    expect(listTenants).not.toHaveBeenCalled();
  });

  it('keeps a 30-day admin token signed in for 30 days, past what one timer can wait', async () => {
    vi.useFakeTimers({ now: Date.parse('2026-01-01T12:00:00.000Z') });
    try {
      const day = 24 * 3600_000;
      const exp = Math.floor((Date.now() + 30 * day) / 1000);
      const jwt = ['e30', btoa(JSON.stringify({ exp })).replace(/=+$/, ''), 'sig'].join('.');
      const listTenants = vi.fn(async () => ({ items: [], total: 0, page: 1, per_page: 1 }));
      const session = withEnvironment({ client: { listTenants } })(() => useSessionStore());
      await session.signIn(jwt);
      vi.advanceTimersByTime(29.9 * day);
      expect(session.status).toBe('signed-in');
      vi.advanceTimersByTime(0.2 * day);
      expect(session.status).toBe('signed-out');
    } finally {
      vi.useRealTimers();
    }
  });

  it('takes a console URL that a terminal wrapped onto two lines, wherever the break falls', async () => {
    for (const pasted of [
      'http://127.0.0.1:8585/#code=abc\ndef123',
      'http://127.0.0.1:\n8585/#code=abcdef123',
      'http://127.0.0.1:8585/#code=\nabcdef123',
      // The browser's field turns the line break into a space.
      'http://127.0.0.1:8585/#code=abc def123',
    ]) {
      const exchangeLoginCode = vi.fn(async () => ({ token: TOKEN, expires_at: '2099-01-01T12:00:00.000Z' }));
      const session = withEnvironment({ client: { listTenants: vi.fn() }, exchangeLoginCode })(() => useSessionStore());
      await session.signIn(pasted);
      expect(exchangeLoginCode).toHaveBeenCalledWith('abcdef123');
      expect(session.status).toBe('signed-in');
    }
  });

  it('takes an admin token or code that a terminal wrapped onto two lines', async () => {
    const listTenants = vi.fn(async () => ({ items: [], total: 0, page: 1, per_page: 1 }));
    const session = withEnvironment({ client: { listTenants } })(() => useSessionStore());
    await session.signIn('aaa.bb\nb.ccc');
    expect(session.status).toBe('signed-in');
    expect(session.token).toBe(TOKEN);
  });

  it('tells a refused secret from a server that failed', async () => {
    const exchangeLoginCode = vi.fn(async () => {
      throw new AdminError('unavailable', 'The server could not be reached (Failed to fetch).');
    });
    const session = withEnvironment({ client: { listTenants: vi.fn() }, exchangeLoginCode })(() => useSessionStore());
    await session.signIn('code123');
    expect(session.error).toMatch(/could not be reached/);
    expect(session.secretRefused).toBe(false);
    await session.signIn(`scimdesk_${'x'.repeat(43)}`);
    expect(session.secretRefused).toBe(true);
  });

  it('keeps a working session when a console URL with a used code is opened in its tab', async () => {
    const exchangeLoginCode = vi
      .fn<(code: string) => Promise<{ token: string; expires_at: string }>>()
      .mockResolvedValueOnce({ token: TOKEN, expires_at: '2099-01-01T12:00:00.000Z' })
      .mockRejectedValueOnce(new AdminError('unauthorized', 'This login code is unknown, already used or expired.'));
    const endSession = vi.fn(async () => undefined);
    const session = withEnvironment({ client: { listTenants: vi.fn() }, exchangeLoginCode, endSession })(() =>
      useSessionStore(),
    );
    await session.signIn('code123');
    const signingIn = session.signIn('oldcode');
    // The console stays on the session it has while the code is tried.
    expect(session.status).toBe('signed-in');
    await signingIn;
    expect(session.status).toBe('signed-in');
    expect(session.token).toBe(TOKEN);
    expect(session.expiresAt).toBe('2099-01-01T12:00:00.000Z');
    expect(session.error).toMatch(/already used or expired/);
    expect(endSession).not.toHaveBeenCalled();
  });

  it('stays signed out when Sign out is clicked while a new code is exchanged, and ends that code’s session', async () => {
    let answer: (value: { token: string; expires_at: string }) => void = () => undefined;
    const exchangeLoginCode = vi
      .fn<(code: string) => Promise<{ token: string; expires_at: string }>>()
      .mockResolvedValueOnce({ token: TOKEN, expires_at: '2099-01-01T12:00:00.000Z' })
      .mockImplementationOnce(() => new Promise((resolve) => (answer = resolve)));
    const endSession = vi.fn(async () => undefined);
    const session = withEnvironment({ client: { listTenants: vi.fn() }, exchangeLoginCode, endSession })(() =>
      useSessionStore(),
    );
    await session.signIn('code123');
    const signingIn = session.signIn('code456');
    await session.signOut();
    answer({ token: 'ddd.eee.fff', expires_at: '2099-01-02T12:00:00.000Z' });
    await signingIn;
    expect(session.status).toBe('signed-out');
    expect(session.token).toBeUndefined();
    await vi.waitFor(() => expect(endSession.mock.calls).toEqual([[TOKEN], ['ddd.eee.fff']]));
  });

  it('does not end a session for a refusal of the token it replaced', async () => {
    const exchangeLoginCode = vi
      .fn<(code: string) => Promise<{ token: string; expires_at: string }>>()
      .mockResolvedValueOnce({ token: TOKEN, expires_at: '2099-01-01T12:00:00.000Z' })
      .mockResolvedValueOnce({ token: 'ddd.eee.fff', expires_at: '2099-01-02T12:00:00.000Z' });
    const session = withEnvironment({
      client: { listTenants: vi.fn() },
      exchangeLoginCode,
      endSession: vi.fn(async () => undefined),
    })(() => useSessionStore());
    await session.signIn('code123');
    await session.signIn('code456');
    session.sessionRejected(TOKEN);
    expect(session.status).toBe('signed-in');
    session.sessionRejected('ddd.eee.fff');
    expect(session.status).toBe('signed-out');
  });

  it('replaces a session with the one a new code opens, and ends the old one on the server', async () => {
    const exchangeLoginCode = vi
      .fn<(code: string) => Promise<{ token: string; expires_at: string }>>()
      .mockResolvedValueOnce({ token: TOKEN, expires_at: '2099-01-01T12:00:00.000Z' })
      .mockResolvedValueOnce({ token: 'ddd.eee.fff', expires_at: '2099-01-02T12:00:00.000Z' });
    const endSession = vi.fn(async () => undefined);
    const session = withEnvironment({ client: { listTenants: vi.fn() }, exchangeLoginCode, endSession })(() =>
      useSessionStore(),
    );
    await session.signIn('code123');
    await session.signIn('code456');
    expect(session.token).toBe('ddd.eee.fff');
    expect(session.status).toBe('signed-in');
    expect(endSession).toHaveBeenCalledExactlyOnceWith(TOKEN);
    expect(session.error).toBeUndefined();

    endSession.mockRejectedValueOnce(new AdminError('unavailable', 'the server could not be reached (reset)'));
    exchangeLoginCode.mockResolvedValueOnce({ token: 'ggg.hhh.iii', expires_at: '2099-01-03T12:00:00.000Z' });
    await session.signIn('code789');
    expect(session.token).toBe('ggg.hhh.iii');
    expect(session.error).toBe(
      'Signed in, but the previous session was not ended: the server could not be reached (reset); ' +
        'its admin token stays valid on the server until it expires.',
    );
  });

  it("replaces a pasted admin token with a code's session, and leaves that token working", async () => {
    const exchangeLoginCode = vi.fn(async () => ({ token: 'ddd.eee.fff', expires_at: '2099-01-02T12:00:00.000Z' }));
    const endSession = vi.fn(async () => undefined);
    const session = withEnvironment({ client: { listTenants: vi.fn() }, exchangeLoginCode, endSession })(() =>
      useSessionStore(),
    );
    await session.signIn(TOKEN);
    expect(session.status).toBe('signed-in');
    // The console URL `serve` printed, opened in the tab: the user's own token is not the console's to end.
    await session.signIn('code123');
    expect(session.token).toBe('ddd.eee.fff');
    expect(endSession).not.toHaveBeenCalled();
    expect(session.error).toBeUndefined();
    // The code's session is the console's: replaced in turn, it is ended.
    exchangeLoginCode.mockResolvedValueOnce({ token: 'ggg.hhh.iii', expires_at: '2099-01-03T12:00:00.000Z' });
    await session.signIn('code456');
    expect(endSession).toHaveBeenCalledExactlyOnceWith('ddd.eee.fff');
  });

  it('ends a session it got from a code when the page goes, and never a pasted token', async () => {
    const exchangeLoginCode = vi.fn(async () => ({ token: 'ddd.eee.fff', expires_at: '2099-01-02T12:00:00.000Z' }));
    const endSessionOnLeave = vi.fn();
    const session = withEnvironment({ client: { listTenants: vi.fn() }, exchangeLoginCode, endSessionOnLeave })(() =>
      useSessionStore(),
    );
    session.endOnLeave();
    expect(endSessionOnLeave).not.toHaveBeenCalled();
    await session.signIn(TOKEN);
    session.endOnLeave();
    expect(endSessionOnLeave).not.toHaveBeenCalled();
    await session.signOut();
    await session.signIn('code123');
    session.endOnLeave();
    expect(endSessionOnLeave).toHaveBeenCalledExactlyOnceWith('ddd.eee.fff');
  });

  it('forgets an admin token the server refuses', async () => {
    const listTenants = vi.fn(async () => {
      throw new AdminError('unauthorized', 'The admin token has expired.');
    });
    const session = withEnvironment({ client: { listTenants } })(() => useSessionStore());
    await session.signIn(TOKEN);
    expect(session.token).toBeUndefined();
    expect(session.error).toBe('The admin token has expired.');
  });

  it('says a pasted SCIM token is not for the console, without sending it anywhere', async () => {
    const exchangeLoginCode = vi.fn();
    const listTenants = vi.fn();
    const session = withEnvironment({ client: { listTenants }, exchangeLoginCode })(() => useSessionStore());
    await session.signIn(` scimdesk_${'x'.repeat(43)} `);
    expect(session.error).toMatch(/^That is a SCIM token, for an identity provider/);
    expect(session.status).toBe('signed-out');
    expect(exchangeLoginCode).not.toHaveBeenCalled();
    expect(listTenants).not.toHaveBeenCalled();
  });

  it('asks for something when nothing was entered', async () => {
    const session = withEnvironment({ client: { listTenants: vi.fn() } })(() => useSessionStore());
    await session.signIn('   ');
    expect(session.error).toMatch(/Enter a login code/);
  });

  it('signing out forgets the token at once and ends it on the server', async () => {
    const exchangeLoginCode = vi.fn(async () => ({ token: TOKEN, expires_at: '2099-01-01T12:00:00.000Z' }));
    const endSession = vi.fn(async () => undefined);
    const session = withEnvironment({ client: { listTenants: vi.fn() }, exchangeLoginCode, endSession })(() =>
      useSessionStore(),
    );
    await session.signIn('code123');
    const ending = session.signOut();
    expect(session.status).toBe('signed-out');
    expect(session.token).toBeUndefined();
    await ending;
    expect(endSession).toHaveBeenCalledWith(TOKEN);
    expect(session.error).toBeUndefined();
  });

  it('says so when the server could not be told, since the token then still works there', async () => {
    const exchangeLoginCode = vi.fn(async () => ({ token: TOKEN, expires_at: '2099-01-01T12:00:00.000Z' }));
    const endSession = vi.fn(async () => {
      throw new AdminError('unavailable', 'the server could not be reached (connection refused)');
    });
    const session = withEnvironment({ client: { listTenants: vi.fn() }, exchangeLoginCode, endSession })(() =>
      useSessionStore(),
    );
    await session.signIn('code123');
    await session.signOut();
    expect(session.status).toBe('signed-out');
    expect(session.error).toBe(
      'Signed out of this console, but the server could not be reached (connection refused): ' +
        'the admin token stays valid on the server until it expires.',
    );
  });

  it('does not say the token still works when the sign-out got no answer in time: it may have arrived', async () => {
    const exchangeLoginCode = vi.fn(async () => ({ token: TOKEN, expires_at: '2099-01-01T12:00:00.000Z' }));
    const timeout = Object.assign(new Error('timed out'), { name: 'TimeoutError' });
    const endSession = (token: string) => endSessionOnServer(token, () => Promise.reject(timeout));
    const session = withEnvironment({ client: { listTenants: vi.fn() }, exchangeLoginCode, endSession })(() =>
      useSessionStore(),
    );
    await session.signIn('code123');
    await session.signOut();
    expect(session.error).toBe(
      'Signed out of this console, but the server did not answer within 15 s (is it still running?): ' +
        'the admin token may still be valid on the server until it expires.',
    );
  });

  it('is always signed in on the desktop', async () => {
    const session = withEnvironment({ mode: 'desktop', client: { listTenants: vi.fn() } })(() => useSessionStore());
    expect(session.needsSignIn).toBe(false);
    await session.signOut();
    expect(session.status).toBe('signed-in');
  });
});

describe('tenants store', () => {
  it('loads a page of tenants', async () => {
    const listTenants = vi.fn(async () => ({ items: [tenant], total: 1, page: 1, per_page: 50 }));
    const tenants = withEnvironment({ client: { listTenants } })(() => useTenantsStore());
    const loading = tenants.load(1);
    expect(tenants.status).toBe('loading');
    await loading;
    expect(tenants.status).toBe('ready');
    expect(tenants.items).toEqual([tenant]);
    expect(tenants.total).toBe(1);
  });

  it('shows the error and ends the session when the token is refused', async () => {
    const listTenants = vi.fn(async () => {
      throw new AdminError('unauthorized', 'The admin token has expired.');
    });
    const run = withEnvironment({ client: { listTenants } });
    const session = run(() => useSessionStore());
    const tenants = run(() => useTenantsStore());
    session.status = 'signed-in';
    await tenants.load();
    expect(tenants.status).toBe('error');
    expect(tenants.error).toBe('The admin token has expired.');
    expect(session.status).toBe('signed-out');
    expect(session.error).toMatch(/session has ended/);
  });

  it('reads the list again for a session that replaces the one it was read with', async () => {
    const NEW_TOKEN = 'ddd.eee.fff';
    const other = { ...tenant, id: 't2', name: 'Globex' };
    // Each session sees the list the server gives its own token.
    const listTenants = vi.fn(async () => ({
      items: [session.token === NEW_TOKEN ? other : tenant],
      total: 1,
      page: 1,
      per_page: 50,
    }));
    const exchangeLoginCode = vi
      .fn<(code: string) => Promise<{ token: string; expires_at: string }>>()
      .mockResolvedValueOnce({ token: TOKEN, expires_at: '2099-01-01T12:00:00.000Z' })
      .mockResolvedValueOnce({ token: NEW_TOKEN, expires_at: '2099-01-02T12:00:00.000Z' });
    const run = withEnvironment({
      client: { listTenants },
      exchangeLoginCode,
      endSession: vi.fn(async () => undefined),
    });
    const session = run(() => useSessionStore());
    const tenants = run(() => useTenantsStore());
    await session.signIn('code123');
    await tenants.load(1);
    expect(tenants.items).toEqual([tenant]);
    // A new console URL opened in the signed-in tab: its code works and replaces the session.
    await session.signIn('code456');
    expect(session.token).toBe(NEW_TOKEN);
    await vi.waitFor(() => expect(tenants.items).toEqual([other]));
    expect(tenants.status).toBe('ready');
  });

  it('reads nothing with a pasted admin token while it is still being proven', async () => {
    const listTenants = vi.fn(async () => ({ items: [tenant], total: 1, page: 1, per_page: 1 }));
    const run = withEnvironment({ client: { listTenants } });
    const session = run(() => useSessionStore());
    const tenants = run(() => useTenantsStore());
    await session.signIn(TOKEN);
    expect(session.status).toBe('signed-in');
    // The proof was the only request: the list is read by the view the sign-in opens.
    expect(listTenants).toHaveBeenCalledOnce();
    expect(tenants.status).toBe('idle');
    expect(tenants.items).toEqual([]);
  });

  it('keeps nothing of a session once it is signed out, not even an answer still on its way', async () => {
    const page2 = { items: [tenant], total: 51, page: 2, per_page: 50 };
    let answerLate: (value: typeof page2) => void = () => undefined;
    const listTenants = vi
      .fn<AdminClient['listTenants']>()
      .mockResolvedValueOnce({ items: [], total: 0, page: 1, per_page: 1 })
      .mockResolvedValueOnce(page2)
      .mockReturnValueOnce(new Promise((resolve) => (answerLate = resolve)));
    const endSession = vi.fn(async () => undefined);
    const run = withEnvironment({ client: { listTenants }, endSession });
    const session = run(() => useSessionStore());
    const tenants = run(() => useTenantsStore());
    await session.signIn(TOKEN);
    await tenants.load(2);
    expect(tenants.items).toEqual([tenant]);
    const late = tenants.load(2);
    await session.signOut();
    expect({ items: tenants.items, total: tenants.total, page: tenants.page, status: tenants.status }).toEqual({
      items: [],
      total: 0,
      page: 1,
      status: 'idle',
    });
    answerLate(page2);
    await late;
    expect(tenants.items).toEqual([]);
    expect(tenants.status).toBe('idle');
  });
});
