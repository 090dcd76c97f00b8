import { expect, test, waitForApp } from './fixtures';

test.describe('headless console', () => {
  test('signs in with the one-time code and shows the empty tenants list', async ({ page, server }) => {
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));

    await page.goto(server.consoleUrl);
    await waitForApp(page);
    await expect(page.getByRole('heading', { name: 'Tenants' })).toBeVisible();
    await expect(page.getByText('No tenants yet.')).toBeVisible();
    // The one-time code is gone from the address bar once used.
    expect(page.url()).not.toContain('code=');
    // No CSP violations or script errors (zod runs jitless under the strict CSP).
    expect(problems).toEqual([]);
  });

  test.describe('with tenants in the store', () => {
    test.use({
      seedStore: {
        version: 1,
        tenants: [
          { id: 'tn_1', name: 'Contoso', created_at: '2026-03-01T10:00:00.000Z', delete_mode: 'delete' },
          { id: 'tn_2', name: 'Fabrikam', created_at: '2026-03-02T10:00:00.000Z', delete_mode: 'deactivate' },
        ],
      },
    });

    test('lists them in a table', async ({ page, server }) => {
      await page.goto(server.consoleUrl);
      await waitForApp(page);
      const rows = page.getByRole('table').getByRole('row');
      await expect(rows).toHaveCount(3);
      await expect(rows.nth(1)).toContainText('Contoso');
      await expect(rows.nth(1)).toContainText('tn_1');
      await expect(rows.nth(2)).toContainText('Fabrikam');
      await expect(rows.nth(2)).toContainText('deactivate');
    });
  });

  test('refuses a code used twice and explains what to do', async ({ page, server }) => {
    await page.goto(server.consoleUrl);
    await waitForApp(page);
    await expect(page.getByText('No tenants yet.')).toBeVisible();

    const second = await page.context().newPage();
    await second.goto(server.consoleUrl);
    await waitForApp(second);
    await expect(second.getByRole('heading', { name: 'Sign in' })).toBeVisible();
    await expect(second.getByRole('alert')).toHaveText(/already used or expired/);
  });

  test('signs in with a token from `scimdesk admin-token`', async ({ page, server }) => {
    await page.goto(server.url);
    await waitForApp(page);
    await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
    await page.getByLabel('Login code or admin token').fill(await server.adminToken());
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByText('No tenants yet.')).toBeVisible();
  });

  test('says so when the pasted secret is wrong, and signs out on request', async ({ page, server }) => {
    await page.goto(server.url);
    await waitForApp(page);
    await page.getByLabel('Login code or admin token').fill('aaa.bbb.ccc');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert')).toHaveText(/not valid/);

    await page.getByLabel('Login code or admin token').fill(await server.adminToken());
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('heading', { name: 'Tenants' })).toBeVisible();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  });
});
