import { expect, signedInWithCode, test, waitForApp } from './fixtures';

/** What page.evaluate gets for `getComputedStyle` (this file is compiled without DOM types). */
type StyledView = {
  getComputedStyle: (el: unknown) => { color: string; backgroundColor: string; borderTopColor: string };
};

test.describe('headless console', () => {
  test('signs in with the one-time code and shows the empty tenants list', async ({ page, server }) => {
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    // Chromium reports an eval the CSP blocked as a DevTools issue, not a console message: the
    // page's own event is what sees it.
    await page.addInitScript(() => {
      type Violation = { violatedDirective: string; sourceFile: string; lineNumber: number };
      const page = globalThis as unknown as {
        cspViolations: string[];
        addEventListener: (type: string, listener: (event: Violation) => void) => void;
      };
      page.cspViolations = [];
      page.addEventListener('securitypolicyviolation', (event) =>
        page.cspViolations.push(`${event.violatedDirective} at ${event.sourceFile}:${event.lineNumber}`),
      );
    });

    await page.goto(server.consoleUrl);
    await waitForApp(page);
    await expect(page.getByRole('heading', { name: 'Tenants' })).toBeVisible();
    await expect(page.getByText('No tenants yet.', { exact: true })).toBeVisible();
    // And how to make one, which the console cannot do itself.
    await expect(
      page.getByText(/A tenant is made through the admin API: POST \/api\/v1\/admin\/tenants/),
    ).toBeVisible();
    // The one-time code is gone from the address bar once used.
    expect(page.url()).not.toContain('code=');
    // No CSP violations or script errors (zod runs jitless under the strict CSP).
    expect(problems).toEqual([]);
    expect(await page.evaluate(() => (globalThis as unknown as { cspViolations: string[] }).cspViolations)).toEqual([]);
  });

  test.describe('with a right-to-left tenant name', () => {
    test.use({
      seedStore: {
        version: 1,
        tenants: [{ id: 'tn_he', name: 'חברה בע"מ!', created_at: '2026-03-01T10:00:00.000Z', delete_mode: 'delete' }],
      },
    });

    test('shows it as its reader expects, the final "!" at its left end', async ({ page, server }) => {
      await page.goto(server.consoleUrl);
      await waitForApp(page);
      const cell = page.getByRole('cell', { name: 'חברה בע"מ!' });
      await expect(cell).toBeVisible();
      // Where the first letter and the "!" are drawn: in Hebrew the name starts at the right.
      const [first, bang] = await cell.evaluate((element) => {
        // This file is compiled without DOM types: the little of them used here.
        type Node = { firstChild: Node | null; textContent: string | null };
        type Range = { setStart(n: Node, i: number): void; setEnd(n: Node, i: number): void };
        const doc = (
          globalThis as unknown as { document: { createRange(): Range & { getBoundingClientRect(): { x: number } } } }
        ).document;
        let text = element as unknown as Node;
        while (text.firstChild) text = text.firstChild;
        const x = (index: number) => {
          const range = doc.createRange();
          range.setStart(text, index);
          range.setEnd(text, index + 1);
          return range.getBoundingClientRect().x;
        };
        return [x(0), x((text.textContent ?? '').length - 1)];
      });
      expect(bang).toBeLessThan(first);
    });
  });

  test.describe('with tenants in the store', () => {
    test.use({
      seedStore: {
        version: 1,
        tenants: [
          { id: 'tn_1', name: 'Contoso', created_at: '2026-03-01T10:00:00.000Z', delete_mode: 'delete' },
          {
            id: 'tn_2',
            name: 'Fabrikam',
            created_at: '2026-03-02T10:00:00.000Z',
            delete_mode: 'deactivate',
            compat_profile: 'entra',
            // The second is entra's own value: no flag set against it.
            compat_overrides: { requireIfMatch: true, opCaseInsensitive: true },
          },
          { id: 'tn_3', name: 'Fabrikam  East', created_at: '2026-03-03T10:00:00.000Z', delete_mode: 'delete' },
        ],
      },
    });

    test('lists them in a table', async ({ page, server }) => {
      await page.goto(server.consoleUrl);
      await waitForApp(page);
      const rows = page.getByRole('table').getByRole('row');
      await expect(rows).toHaveCount(4);
      await expect(rows.nth(1)).toContainText('Contoso');
      await expect(rows.nth(1)).toContainText('tn_1');
      await expect(rows.nth(2)).toContainText('Fabrikam');
      await expect(rows.nth(2)).toContainText('deactivate');
      // The profile an IdP's requests are read under, and the flags set against it.
      await expect(page.getByRole('columnheader', { name: 'Profile' })).toBeVisible();
      await expect(rows.nth(1)).toContainText('compatible');
      await expect(rows.nth(2)).toContainText('entra, with requireIfMatch on');
      await expect(rows.nth(2)).not.toContainText('opCaseInsensitive');
      // A time with its zone, as the log's and the API's times can be compared with it.
      await expect(rows.nth(1).locator('time')).toHaveAttribute('datetime', '2026-03-01T10:00:00.000Z');
      expect(await rows.nth(1).locator('time').innerText()).toMatch(/UTC|GMT|[+-]\d/);
    });

    test('shows a name with a run of spaces as stored, not as the name with one space', async ({ page, server }) => {
      await page.goto(server.consoleUrl);
      await waitForApp(page);
      // innerText is what is rendered: collapsed spaces would read "Fabrikam East".
      expect(await page.getByRole('cell', { name: /^Fabrikam\s+East$/ }).innerText()).toBe('Fabrikam  East');
    });

    test('names the scrollable table apart from the Tenants section around it', async ({ page, server }) => {
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.goto(server.consoleUrl);
      await waitForApp(page);
      await expect(page.getByRole('region', { name: 'Tenants', exact: true })).toHaveCount(1);
      const scroller = page.locator('.table-scroll');
      await expect(scroller.getByRole('table')).toBeVisible();
      // A tab stop, and said to scroll, only while there is something to scroll: on a phone, not
      // at full width.
      await expect(scroller).toHaveAccessibleName('Tenants table');
      await expect(scroller).not.toHaveAttribute('tabindex');
      await page.setViewportSize({ width: 320, height: 640 });
      await expect(scroller).toHaveAttribute('tabindex', '0');
      await expect(scroller).toHaveAccessibleName('Tenants table, scrollable');
      await page.setViewportSize({ width: 1280, height: 800 });
      await expect(scroller).not.toHaveAttribute('tabindex');
    });

    test('puts the focus on the heading when the table it was in stops scrolling', async ({ page, server }) => {
      await page.setViewportSize({ width: 320, height: 640 });
      await page.goto(server.consoleUrl);
      await waitForApp(page);
      const scroller = page.getByRole('region', { name: 'Tenants table, scrollable' });
      await scroller.focus();
      await expect(scroller).toBeFocused();
      // As a zoom back to 100% does: the region is no tab stop any more, and was left on <body>.
      await page.setViewportSize({ width: 1280, height: 800 });
      await expect(page.locator('.table-scroll')).not.toHaveAttribute('tabindex');
      await expect(page.getByRole('heading', { name: 'Tenants' })).toBeFocused();
    });
  });

  test.describe('with a tenant whose name is long', () => {
    test.use({
      seedStore: {
        version: 1,
        tenants: [
          {
            id: 'tn_long',
            name: Array.from({ length: 16 }, (_, i) => `Division${i}`).join(' '),
            created_at: '2026-03-01T10:00:00.000Z',
            delete_mode: 'delete',
          },
        ],
      },
    });

    test('wraps the name, keeping its id and creation time each on one line', async ({ page, server }) => {
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.goto(server.consoleUrl);
      await waitForApp(page);
      const row = page.getByRole('table').getByRole('row').nth(1);
      const lines = (cell: ReturnType<typeof row.locator>) =>
        cell.evaluate((element) => {
          type Box = { getClientRects(): { length: number } };
          // One rectangle per line the inline text is drawn on.
          return (element as unknown as { firstElementChild: Box }).firstElementChild.getClientRects().length;
        });
      expect(await lines(row.getByRole('cell').nth(0))).toBeGreaterThan(1);
      expect(await lines(row.getByRole('cell').nth(1))).toBe(1);
      expect(await lines(row.getByRole('cell').nth(2))).toBe(1);
    });
  });

  test('closing the page ends the session it got from its code on the server', async ({ page, server }) => {
    const token = await signedInWithCode(page, server.consoleUrl);
    const tenants = () =>
      fetch(`${server.url}/api/v1/admin/tenants`, { headers: { Authorization: `Bearer ${token}` } }).then(
        (answer) => answer.status,
      );
    expect(await tenants()).toBe(200);
    await page.close({ runBeforeUnload: true });
    await expect.poll(tenants, { timeout: 5_000 }).toBe(401);
  });

  test('signing out ends the admin token on the server, not only in the tab', async ({ page, server }) => {
    const token = await signedInWithCode(page, server.consoleUrl);

    const ended = page.waitForResponse(
      (r) => r.url().endsWith('/api/v1/admin/session') && r.request().method() === 'DELETE',
    );
    await page.getByRole('button', { name: 'Sign out' }).click();
    expect((await ended).status()).toBe(204);
    await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
    // A copy of the token (from the network panel, say) no longer opens anything.
    const reused = await fetch(`${server.url}/api/v1/admin/tenants`, { headers: { Authorization: `Bearer ${token}` } });
    expect(reused.status).toBe(401);
  });

  test('refuses a code used twice and explains what to do', async ({ page, server }) => {
    await page.goto(server.consoleUrl);
    await waitForApp(page);
    await expect(page.getByText('No tenants yet.', { exact: true })).toBeVisible();

    const second = await page.context().newPage();
    await second.goto(server.consoleUrl);
    await waitForApp(second);
    await expect(second.getByRole('heading', { name: 'Sign in' })).toBeVisible();
    await expect(second.getByRole('alert')).toHaveText(/already used or expired/);
    // The refused code came with the URL: the empty field is not what is wrong.
    await expect(second.getByLabel('Login code or admin token')).not.toHaveAttribute('aria-invalid', 'true');
  });

  test('signs in when a console URL is opened in a tab already showing the console', async ({ page, server }) => {
    await page.goto(server.url);
    await waitForApp(page);
    await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
    // Only the hash changes, so the page is not loaded again.
    await page.goto(server.consoleUrl);
    await expect(page.getByText('No tenants yet.', { exact: true })).toBeVisible();
    expect(page.url()).not.toContain('code=');
  });

  test('keeps a working session when a console URL with a used code is opened in its tab', async ({ page, server }) => {
    await page.goto(server.consoleUrl);
    await waitForApp(page);
    await expect(page.getByText('No tenants yet.', { exact: true })).toBeVisible();
    // The same URL again: only the hash changes, and its code is spent.
    await page.goto(server.consoleUrl);
    await expect(page.getByRole('alert')).toHaveText(/already used or expired/);
    await expect(page.getByRole('heading', { name: 'Tenants' })).toBeVisible();
    // The session still works: a refresh is answered, not sent back to sign-in.
    const answered = page.waitForResponse((r) => r.url().includes('/api/v1/admin/tenants?'));
    await page.getByRole('button', { name: 'Refresh' }).click();
    expect((await answered).status()).toBe(200);
    await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
  });

  test('lets the message about a used code be dismissed, keeping the focus in the view', async ({ page, server }) => {
    await page.goto(server.consoleUrl);
    await waitForApp(page);
    await expect(page.getByText('No tenants yet.', { exact: true })).toBeVisible();
    await page.goto(server.consoleUrl);
    const alert = page.getByRole('alert');
    await expect(alert).toHaveText(/already used or expired/);
    const dismiss = page.getByRole('button', { name: 'Dismiss' });
    await expect(dismiss).toHaveAccessibleDescription(/already used or expired/);
    await dismiss.focus();
    await page.keyboard.press('Enter');
    await expect(alert).toHaveCount(0);
    // The button goes with the message; the focus goes to the view's heading, not to <body>.
    await expect(page.getByRole('heading', { name: 'Tenants' })).toBeFocused();
    await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
  });

  test('reads the tenant list again when a new console URL replaces the session', async ({ page, server }) => {
    await page.goto(server.consoleUrl);
    await waitForApp(page);
    await expect(page.getByText('No tenants yet.', { exact: true })).toBeVisible();
    const token = await server.adminToken();
    const created = await fetch(`${server.url}/api/v1/admin/tenants`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'Contoso' }),
    });
    expect(created.status).toBe(201);
    // The server issues one code per start: the second code's exchange is answered with a session of
    // its own, a real admin token.
    const replacement = await server.adminToken();
    await page.route('**/api/v1/admin/session', (route) =>
      route.request().method() === 'POST'
        ? route.fulfill({
            contentType: 'application/json',
            body: JSON.stringify({ token: replacement, expires_at: new Date(Date.now() + 3_600_000).toISOString() }),
          })
        : route.continue(),
    );
    const listed = page.waitForRequest(
      (r) => r.url().includes('/api/v1/admin/tenants?') && r.headers()['authorization'] === `Bearer ${replacement}`,
      { timeout: 5_000 },
    );
    await page.goto(`${server.url}/#code=second`);
    await listed;
    await expect(page.getByRole('cell', { name: 'Contoso' })).toBeVisible();
    await expect(page.getByText('No tenants yet.', { exact: true })).toHaveCount(0);
  });

  for (const [what, wrap] of [
    ['with the Bearer of a header', (token: string) => `Bearer ${token}`],
    ['in quotes', (token: string) => `"${token}"`],
  ] as const) {
    test(`signs in with an admin token pasted ${what}`, async ({ page, server }) => {
      await page.goto(server.url);
      await waitForApp(page);
      await page.getByLabel('Login code or admin token').fill(wrap(await server.adminToken()));
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect(page.getByText('No tenants yet.', { exact: true })).toBeVisible();
    });
  }

  test('says in plain words that a damaged secret is neither a code nor a token', async ({ page, server }) => {
    await page.goto(server.url);
    await waitForApp(page);
    const field = page.getByLabel('Login code or admin token');
    const token = await server.adminToken();
    // Cut after its second part, as a short selection copies it; and over-long text.
    for (const damaged of [token.slice(0, token.lastIndexOf('.')), 'x'.repeat(300)]) {
      await field.fill(damaged);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect(page.getByRole('alert')).toHaveText(/^That is neither a login code nor an admin token\./);
      await expect(field).toHaveAttribute('aria-invalid', 'true');
    }
    // A token a terminal wrapped onto two lines (pasted into the field, the break becomes a space).
    await field.fill(`${token.slice(0, 20)} ${token.slice(20)}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByText('No tenants yet.', { exact: true })).toBeVisible();
  });

  test('tells a second wrong entry with the same fault again, for a screen reader to hear', async ({
    page,
    server,
  }) => {
    await page.goto(server.url);
    await waitForApp(page);
    // Each change of the alert's text is what a screen reader announces.
    await page.evaluate(() => {
      type Observer = { observe(target: unknown, options: Record<string, boolean>): void };
      const scope = globalThis as unknown as {
        alertChanges: number;
        document: { querySelector(selector: string): unknown };
        MutationObserver: new (callback: () => void) => Observer;
      };
      scope.alertChanges = 0;
      new scope.MutationObserver(() => scope.alertChanges++).observe(scope.document.querySelector('#login-error'), {
        childList: true,
        characterData: true,
        subtree: true,
      });
    });
    const field = page.getByLabel('Login code or admin token');
    const changes = () => page.evaluate(() => (globalThis as unknown as { alertChanges: number }).alertChanges);
    await field.fill('bad value!');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert')).toHaveText(/^That is neither a login code nor an admin token\./);
    const afterFirst = await changes();
    await field.fill('bad value again!');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(changes).toBeGreaterThan(afterFirst);
    await expect(page.getByRole('alert')).toHaveText(/^That is neither a login code nor an admin token\./);
  });

  test('says the tenants list is empty in its status, which a screen reader follows', async ({ page, server }) => {
    await page.goto(server.consoleUrl);
    await waitForApp(page);
    await expect(page.getByRole('status').filter({ hasText: 'No tenants yet: the list is empty.' })).toHaveCount(1);
  });

  test('says so when the server stops answering, and lets the user try again', async ({ page, server }) => {
    await page.goto(server.consoleUrl);
    await waitForApp(page);
    await expect(page.getByText('No tenants yet.', { exact: true })).toBeVisible();
    // A server that took the connection and stopped: the list's request is never answered.
    await page.route('**/api/v1/admin/tenants?*', () => undefined);
    await page.getByRole('button', { name: 'Refresh' }).click();
    await expect(page.getByRole('alert')).toContainText('did not answer within 15 s', { timeout: 25_000 });
    await page.unroute('**/api/v1/admin/tenants?*');
    await page.getByRole('button', { name: 'Refresh' }).click();
    await expect(page.getByText('No tenants yet.', { exact: true })).toBeVisible();
  });

  test('signs in with a token from `scimdesk admin-token`', async ({ page, server }) => {
    await page.goto(server.url);
    await waitForApp(page);
    await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
    await page.getByLabel('Login code or admin token').fill(await server.adminToken());
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByText('No tenants yet.', { exact: true })).toBeVisible();
  });

  test('says so when the pasted secret is wrong, and signs out on request', async ({ page, server }) => {
    await page.goto(server.url);
    await waitForApp(page);
    const field = page.getByLabel('Login code or admin token');
    await field.fill('aaa.bbb.ccc');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert')).toHaveText(/not valid/);
    await expect(field).toHaveAttribute('aria-invalid', 'true');

    await page.getByLabel('Login code or admin token').fill(await server.adminToken());
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('heading', { name: 'Tenants' })).toBeVisible();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
    await expect(field).not.toHaveAttribute('aria-invalid', 'true');
  });

  test('marks the field invalid only for what was typed, not for a sign-out the server missed', async ({
    page,
    server,
  }) => {
    await page.goto(server.consoleUrl);
    await waitForApp(page);
    await expect(page.getByText('No tenants yet.', { exact: true })).toBeVisible();
    await page.route('**/api/v1/admin/session', (route) =>
      route.request().method() === 'DELETE' ? route.fulfill({ status: 503 }) : route.continue(),
    );
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page.getByRole('alert')).toHaveText(/^Signed out of this console, but/);
    await expect(page.getByLabel('Login code or admin token')).not.toHaveAttribute('aria-invalid', 'true');
  });

  test.describe('with one tenant', () => {
    test.use({
      seedStore: {
        version: 1,
        tenants: [{ id: 'tn_1', name: 'Contoso', created_at: '2026-03-01T10:00:00.000Z', delete_mode: 'delete' }],
      },
    });

    test('puts the focus on the heading when the table it was in goes away', async ({ page, server }) => {
      // Narrow, so that the table scrolls and its region takes the focus.
      await page.setViewportSize({ width: 320, height: 640 });
      await page.goto(server.consoleUrl);
      await waitForApp(page);
      const scroller = page.getByRole('region', { name: 'Tenants table, scrollable' });
      await scroller.focus();
      const gone = await fetch(`${server.url}/api/v1/admin/tenants/tn_1`, {
        method: 'DELETE',
        headers: { Authorization: `Bearer ${await server.adminToken()}` },
      });
      expect(gone.status).toBe(204);
      // A click that leaves the focus where it was, as a click on a button does in Safari.
      await page.getByRole('button', { name: 'Refresh' }).dispatchEvent('click');
      await expect(page.getByText('No tenants yet.', { exact: true })).toBeVisible();
      await expect(scroller).toHaveCount(0);
      await expect(page.getByRole('heading', { name: 'Tenants' })).toBeFocused();
    });
  });

  test.describe('with several full pages of tenants', () => {
    test.use({
      seedStore: {
        version: 1,
        tenants: Array.from({ length: 120 }, (_, i) => ({
          id: `tn_${String(i).padStart(3, '0')}`,
          name: `Tenant ${i}`,
          created_at: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
          delete_mode: 'delete',
        })),
      },
    });

    test('shows the top of the page a mouse turned to, and marks rows a failed load left as old', async ({
      page,
      server,
    }) => {
      await page.setViewportSize({ width: 1000, height: 600 });
      await page.goto(server.consoleUrl);
      await waitForApp(page);
      const next = page.getByRole('button', { name: 'Next' });
      await next.scrollIntoViewIfNeeded();
      await next.click();
      // Page 2 is as long as page 1: the window stayed at its end.
      await expect(page.getByText('Page 2 of 3', { exact: true })).toBeVisible();
      await expect(page.getByRole('heading', { name: 'Tenants' })).toBeInViewport();
      await expect(next).not.toBeInViewport();
      await expect(next).toBeFocused();

      await page.route('**/api/v1/admin/tenants?*', (route) => route.abort('connectionrefused'));
      await page.getByRole('button', { name: 'Refresh' }).click();
      await expect(page.getByRole('alert')).toContainText(
        /Could not load tenants: The server could not be reached .*\.\s+The list below is as it was last loaded\./,
      );
      await expect(page.getByRole('table').getByRole('row')).toHaveCount(51);
    });
  });

  test.describe('with more tenants than a page', () => {
    test.use({
      seedStore: {
        version: 1,
        tenants: Array.from({ length: 51 }, (_, i) => ({
          id: `tn_${String(i).padStart(3, '0')}`,
          name: `Tenant ${i} with-a-rather-long-name-that-must-wrap-on-a-phone`,
          created_at: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
          delete_mode: 'delete',
        })),
      },
    });

    test('keeps the keyboard focus on a control it presses, and lands on the last page when one went', async ({
      page,
      server,
    }) => {
      await page.goto(server.consoleUrl);
      await waitForApp(page);
      // A new view puts the focus on its heading, and names itself in the window title.
      await expect(page.getByRole('heading', { name: 'Tenants' })).toBeFocused();
      await expect(page).toHaveTitle('Tenants — scimdesk');
      const refresh = page.getByRole('button', { name: 'Refresh' });
      await refresh.focus();
      await page.keyboard.press('Enter');
      await expect(page.getByText('Page 1 of 2', { exact: true })).toBeVisible();
      await expect(refresh).toBeFocused();
      const next = page.getByRole('button', { name: 'Next' });
      await next.focus();
      await page.keyboard.press('Enter');
      await expect(page.getByText('Page 2 of 2', { exact: true })).toBeVisible();
      // At the last page Next can do nothing, but it keeps the focus.
      await expect(next).toHaveAttribute('aria-disabled', 'true');
      await expect(next).toBeFocused();

      // The 51st tenant goes; Refresh on page 2 shows page 1, not an empty "Page 2 of 1".
      const token = await server.adminToken();
      const gone = await fetch(`${server.url}/api/v1/admin/tenants/tn_050`, {
        method: 'DELETE',
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(gone.status).toBe(204);
      await refresh.click();
      await expect(page.getByRole('table').getByRole('row')).toHaveCount(51);
      await expect(page.getByRole('navigation', { name: 'Tenant pages' })).toBeHidden();
    });

    test('puts the focus on the heading when the pager it was in goes away', async ({ page, server }) => {
      await page.goto(server.consoleUrl);
      await waitForApp(page);
      await page.getByRole('button', { name: 'Next' }).click();
      await expect(page.getByText('Page 2 of 2', { exact: true })).toBeVisible();
      const gone = await fetch(`${server.url}/api/v1/admin/tenants/tn_050`, {
        method: 'DELETE',
        headers: { Authorization: `Bearer ${await server.adminToken()}` },
      });
      expect(gone.status).toBe(204);
      // Previous loads page 1, now the only one: the pager, and the button with the focus, go.
      await page.getByRole('button', { name: 'Previous' }).focus();
      await page.keyboard.press('Enter');
      await expect(page.getByRole('navigation', { name: 'Tenant pages' })).toBeHidden();
      await expect(page.getByRole('heading', { name: 'Tenants' })).toBeFocused();
    });

    test('fits a 320 px wide screen without scrolling the page sideways', async ({ page, server }) => {
      await page.setViewportSize({ width: 320, height: 640 });
      await page.goto(server.consoleUrl);
      await waitForApp(page);
      await expect(page.getByRole('table')).toBeVisible();
      // Runs in the page; typed loosely because this file is compiled without DOM types.
      const overflow = await page.evaluate(() => {
        const view = globalThis as unknown as {
          document: { documentElement: { scrollWidth: number } };
          innerWidth: number;
        };
        return view.document.documentElement.scrollWidth - view.innerWidth;
      });
      expect(overflow).toBeLessThanOrEqual(0);
    });
  });

  test('gives buttons and fields enough contrast in the light and the dark theme', async ({ page, server }) => {
    const ratio = (a: string, b: string) =>
      page.evaluate(
        ([fg, bg]) => {
          const luminance = (css: string) => {
            const [r, g, b] = (css.match(/\d+(\.\d+)?/g) ?? [])
              .slice(0, 3)
              .map(Number)
              .map((v) => {
                const c = v / 255;
                return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
              });
            return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
          };
          const [hi, lo] = [luminance(fg!), luminance(bg!)].sort((x, y) => y - x);
          return (hi! + 0.05) / (lo! + 0.05);
        },
        [a, b],
      );
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      await page.goto(server.url);
      await waitForApp(page);
      const button = page.getByRole('button', { name: 'Sign in' });
      const [text, fill] = await button.evaluate((el) => {
        const style = (globalThis as unknown as StyledView).getComputedStyle(el);
        return [style.color, style.backgroundColor];
      });
      expect(await ratio(text!, fill!), `${colorScheme} button text`).toBeGreaterThanOrEqual(4.5);
      const field = page.getByLabel('Login code or admin token');
      const [edge, inside] = await field.evaluate((el) => {
        const style = (globalThis as unknown as StyledView).getComputedStyle(el);
        return [style.borderTopColor, style.backgroundColor];
      });
      expect(await ratio(edge!, inside!), `${colorScheme} field edge`).toBeGreaterThanOrEqual(3);
      // The code is the console URL's, not the admin-token command's.
      await expect(page.getByText(/one-time code signs you in/)).toBeVisible();
      await expect(page.getByText(/one-time code or an admin token from/)).toHaveCount(0);
      // The sign-in view puts the focus in its field.
      await expect(field).toBeFocused();
      await expect(page).toHaveTitle('Sign in — scimdesk');
    }
  });
});
