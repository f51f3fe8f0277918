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
  await expect(page).toHaveURL(/\/buckets$/);
  await expect(keyId).not.toHaveText(before);
  await expect(keyId).toHaveText(/\S{16,}/);
  await expect(card.getByTestId('secret-key')).toHaveCount(0);
});
