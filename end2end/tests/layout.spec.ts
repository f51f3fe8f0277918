import { expect, signIn, signInAs, test } from './helpers';

const admin = { email: 'admin@stook.test', password: 'admin-password-for-tests' };

/** The list's table is no wider than its box: nothing needs sideways scrolling. */
async function expectNoSidewaysScroll(page: import('@playwright/test').Page, what: string) {
  const sizes = await page.locator('.table-wrap').evaluate((wrap) => ({ scroll: wrap.scrollWidth, client: wrap.clientWidth }));
  expect(sizes.scroll, `${what}: the table fits its box`).toBeLessThanOrEqual(sizes.client);
}

test('at 1280 px every column of the list fits, for a customer and an admin', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await signIn(page);
  await expectNoSidewaysScroll(page, 'customer');
  for (const column of ['Name', 'Bucket', 'Permissions', 'Access key id', 'Created', 'Last used', 'Status']) {
    await expect(page.getByRole('columnheader', { name: column, exact: true })).toBeVisible();
  }
  await page.getByRole('button', { name: 'Sign out' }).click();
  await signInAs(page, admin.email, admin.password);
  await expectNoSidewaysScroll(page, 'admin');
  for (const column of ['Owner', 'Access key id', 'Last used', 'Status']) {
    await expect(page.getByRole('columnheader', { name: column, exact: true })).toBeVisible();
  }
});

test('narrower, Created and Last used fold into the row', async ({ page }) => {
  await page.setViewportSize({ width: 1024, height: 768 });
  await signIn(page);
  await expectNoSidewaysScroll(page, 'at 1024 px');
  await expect(page.getByRole('columnheader', { name: 'Created' })).toBeHidden();
  for (const column of ['Name', 'Bucket', 'Permissions', 'Status']) {
    await expect(page.getByRole('columnheader', { name: column, exact: true })).toBeVisible();
  }
  await expect(page.locator('table.data-table tbody tr').first().locator('.row-detail')).toContainText('Last used');
});

test('on a phone the list is cards, the header wraps, dialogs take the width', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page);
  // The page itself does not scroll sideways.
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  const card = page.locator('table.data-table tbody tr').first();
  for (const label of ['Bucket', 'Permissions', 'Status']) {
    await expect(card.locator(`td[data-label="${label}"]`)).toBeVisible();
  }
  // The brand and the email do not run together; Sign out stays on one line.
  const brand = await page.locator('.topbar .brand').boundingBox();
  const email = await page.getByTestId('signed-in-user').boundingBox();
  expect(brand!.x + brand!.width < email!.x || email!.y >= brand!.y + brand!.height).toBe(true);
  const signOut = await page.getByRole('button', { name: 'Sign out' }).boundingBox();
  expect(signOut!.height).toBeLessThan(48);

  await page.goto('/?new=1');
  const dialog = page.getByRole('dialog', { name: 'Create Credential' });
  const box = await dialog.boundingBox();
  const inner = await page.evaluate(() => document.documentElement.clientWidth);
  expect(Math.round(box!.width), 'the dialog spans the window (less a scroll bar)').toBe(inner);
  // Nothing in it is cut off at the side (it scrolls up and down only).
  for (const control of [dialog.getByRole('button', { name: 'Collapse All' }), dialog.locator('.description').first()]) {
    const edge = await control.boundingBox();
    expect(edge!.x).toBeGreaterThanOrEqual(0);
    expect(edge!.x + edge!.width).toBeLessThanOrEqual(inner);
  }
});

test('long unbroken names and paths wrap instead of widening the list or the drawer', async ({ page, javaScriptEnabled }) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await signIn(page);
  const name = (javaScriptEnabled ? 'H' : 'P') + 'x'.repeat(63);
  const buckets = await (await page.request.post('/api/buckets')).json();
  const bucket = buckets.find((b: { name: string }) => b.name === 'demo-photos');
  const created = await page.request.post('/api/credentials/create', {
    data: { name, bucket_id: bucket.id, path: `${'p'.repeat(120)}/`, actions: ['s3:GetObject'] },
  });
  expect(created.status()).toBe(200);
  await page.goto('/');
  await expectNoSidewaysScroll(page, 'a 64-character name');
  await page.getByRole('link', { name }).click();
  const drawer = page.locator('.drawer');
  const sizes = await drawer.evaluate((d) => ({ scroll: d.scrollWidth, client: d.clientWidth }));
  expect(sizes.scroll, 'the drawer fits its width').toBeLessThanOrEqual(sizes.client);
});
