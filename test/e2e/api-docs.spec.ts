import { expect, test } from './fixtures';

test('the interactive API docs render offline under their CSP', async ({ page, server }) => {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  const outside: string[] = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(server.url) && !request.url().startsWith('data:')) outside.push(request.url());
  });

  await page.goto(`${server.url}/docs`);
  // The viewer parses the whole OpenAPI document before it shows a path: on a busy two-core CI
  // machine that took over the default 5 s once. A wait, not a speed target.
  await expect(page.getByText('/api/v1/admin/tenants', { exact: true }).first()).toBeVisible({ timeout: 30_000 });
  await expect(page.getByText('/scim/v2/Users', { exact: true }).first()).toBeVisible();
  expect(problems).toEqual([]);
  expect(outside).toEqual([]);
});
