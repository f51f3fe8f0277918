import { demo, expect, signIn, test } from './helpers';

test('a bucket master key: reveal behind the password, rotate behind a confirmation', async ({ page, javaScriptEnabled }) => {
  await signIn(page);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Buckets' }).click();
  const card = page.getByRole('region', { name: 'demo-photos' });
  const keyId = card.locator('code.key-id');
  const before = (await keyId.textContent())!.trim();
  expect(before).not.toBe('');

  if (javaScriptEnabled) {
    await card.getByRole('button', { name: 'Show secret' }).click();
    await card.getByLabel('Re-enter your login password').fill(demo.password);
    await card.getByRole('button', { name: 'Show', exact: true }).click();
    await expect(card.getByTestId('secret-key')).toHaveText(/^[A-Za-z0-9_-]{40}$/);
  } else {
    // Without JavaScript the secret stays masked: it is never in the page's HTML.
    await expect(card.getByText('••••••••', { exact: false })).toBeVisible();
    await expect(card.getByTestId('secret-key')).toHaveCount(0);
  }

  // Rotation asks first; Cancel leaves the pair as it was.
  await card.getByRole('link', { name: 'Rotate master key' }).click();
  await expect(card.getByRole('alertdialog')).toContainText('stops working at once');
  await card.getByRole('link', { name: 'Cancel' }).click();
  await expect(keyId).toHaveText(before);

  await card.getByRole('link', { name: 'Rotate master key' }).click();
  await card.getByRole('button', { name: 'Rotate master key' }).click();
  await expect(page).toHaveURL(/\/buckets\?rotated=\d+$/);
  await expect(keyId).not.toHaveText(before);
  await expect(keyId).toHaveText(/\S{16,}/);
  await expect(card.getByTestId('secret-key')).toHaveCount(0);
  // The card says what happened, names the new key id and offers its secret.
  const after = (await keyId.textContent())!.trim();
  await expect(card.getByTestId('rotated')).toContainText(`The new access key id is ${after}`);
  if (javaScriptEnabled) {
    await card.getByRole('button', { name: 'Show secret' }).click();
    // The password field takes the focus; the secret does once shown.
    const password = card.getByLabel('Re-enter your login password');
    await expect(password).toBeFocused();
    await password.fill(demo.password);
    await card.getByRole('button', { name: 'Show', exact: true }).click();
    await expect(card.getByTestId('secret-key')).toHaveText(/^[A-Za-z0-9_-]{40}$/);
    await expect(card.getByTestId('secret-key')).toBeFocused();
  }
});

test('each bucket counts its working keys and links to them', async ({ page }) => {
  await signIn(page);
  await page.goto('/buckets');
  const card = page.getByRole('region', { name: 'demo-backups' });
  const count = card.getByTestId('active-credentials');
  await expect(count).toHaveText(/^\d+ active keys?$/);
  const shown = Number((await count.textContent())!.match(/\d+/)![0]);
  await count.getByRole('link').click();
  await expect(page).toHaveURL(/status=active/);
  await expect(page.locator('table.data-table tbody tr')).toHaveCount(shown);
  await expect(page.getByLabel('Status')).toHaveValue('active');
});
