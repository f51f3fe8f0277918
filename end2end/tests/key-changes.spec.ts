import type { Page } from '@playwright/test';
import { demo, expect, expectAccessible, signIn, signInAs, signedGet, test } from './helpers';

/// A key made through the API on demo-photos; returns its id and secret.
async function makeKey(page: Page, name: string, path: string, actions: string[]) {
  const buckets = await (await page.request.post('/api/buckets')).json();
  const bucket = buckets.find((b: { name: string }) => b.name === 'demo-photos');
  const created = await page.request.post('/api/credentials/create', {
    data: { name, bucket_id: bucket.id, path, actions },
  });
  expect(created.status()).toBe(200);
  const keyId: string = (await created.json()).access_key_id;
  const secret: string = await (
    await page.request.post('/api/credentials/reveal', { data: { access_key_id: keyId, password: demo.password } })
  ).json();
  return { keyId, secret };
}

test('an edit shows what it would break before it is saved', async ({ page, javaScriptEnabled }) => {
  test.setTimeout(60_000);
  await signIn(page);
  const name = `Editable ${javaScriptEnabled ? 'hydrated' : 'plain'}`;
  const { keyId, secret } = await makeKey(page, name, '', ['s3:GetObject', 's3:PutObject', 's3:ListBucket']);
  // A read under docs/ (allowed; the object is missing), written to the activity within seconds.
  expect(await signedGet('/demo-photos/docs/missing.txt', keyId, secret)).toBe(404);
  await expect
    .poll(
      async () => {
        const detail = await (await page.request.post('/api/credentials/detail', { data: { access_key_id: keyId } })).json();
        return detail.activity.by_action.length;
      },
      { timeout: 15_000 },
    )
    .toBeGreaterThan(0);

  await page.goto(`/?q=${encodeURIComponent(name)}`);
  await page.getByRole('link', { name }).click();
  await page.getByRole('dialog', { name }).getByRole('link', { name: 'Edit' }).click();
  const drawer = page.getByRole('dialog', { name });
  await drawer.getByLabel('Path').fill('photos/');
  await drawer.getByRole('checkbox', { name: 's3:PutObject', exact: true }).uncheck();
  if (javaScriptEnabled) await expectAccessible(page, 'the edit form');
  await drawer.getByRole('button', { name: 'Preview changes' }).click();

  const changes = page.getByTestId('edit-changes');
  await expect(changes.getByRole('row', { name: /Path/ })).toContainText('photos/');
  await expect(page.getByTestId('edit-lost')).toHaveText('s3:PutObject');
  await expect(page.getByTestId('edit-would-fail')).toContainText('1 s3:GetObject request under docs/ would fail');
  if (javaScriptEnabled) await expectAccessible(page, 'the edit preview');
  // Nothing is saved yet: the key still reads docs/.
  expect(await signedGet('/demo-photos/docs/missing.txt', keyId, secret)).toBe(404);

  await page.getByRole('button', { name: 'Save changes' }).click();
  const saved = page.getByRole('dialog', { name });
  await expect(saved.getByTestId('edit-saved')).toBeVisible();
  await expect(saved.locator('.props')).toContainText('photos/');
  await expect.poll(() => signedGet('/demo-photos/docs/missing.txt', keyId, secret), { timeout: 5_000 }).toBe(403);
  expect(await signedGet('/demo-photos/photos/missing.jpg', keyId, secret)).toBe(404);
});

test('rotating a key keeps the old pair working for the grace period', async ({ page, javaScriptEnabled }) => {
  test.setTimeout(60_000);
  await signIn(page);
  const name = `Rotating ${javaScriptEnabled ? 'hydrated' : 'plain'}`;
  const { keyId, secret } = await makeKey(page, name, 'rotate/', ['s3:GetObject']);
  await page.goto(`/?q=${encodeURIComponent(name)}`);
  await page.getByRole('link', { name, exact: true }).click();
  await page.getByRole('dialog', { name }).getByRole('link', { name: 'Rotate' }).click();
  const drawer = page.getByRole('dialog', { name });
  if (javaScriptEnabled) await expectAccessible(page, 'the rotate step');
  await drawer.getByLabel('In 1 hour').check();
  await drawer.getByRole('button', { name: 'Rotate key' }).click();

  // The new pair's drawer, linked to the old one.
  const rotated = page.getByRole('dialog', { name });
  await expect(rotated.getByTestId('replaces')).toContainText(keyId);
  const newId = (await rotated.getByTestId('access-key-id').textContent())!.trim();
  expect(newId).not.toBe(keyId);
  // The old pair still works, and the list shows both.
  expect(await signedGet('/demo-photos/rotate/missing.jpg', keyId, secret)).toBe(404);
  await page.goto(`/?q=${encodeURIComponent(name)}`);
  const links = page.getByTestId('rotation-link');
  await expect(links.filter({ hasText: 'Replaced by' })).toHaveText(`Replaced by ${newId}`);
  await expect(links.filter({ hasText: 'Replaces' })).toHaveText(`Replaces ${keyId}`);
  await expect(page.getByRole('row').filter({ hasText: 'Replaced by' })).toContainText('Retiring');
});

test('bulk revoke asks how many, then revokes them all', async ({ page, javaScriptEnabled }) => {
  test.setTimeout(60_000);
  await signIn(page);
  const prefix = `Bulk ${javaScriptEnabled ? 'hydrated' : 'plain'}`;
  const first = await makeKey(page, `${prefix} one`, 'bulk/', ['s3:GetObject']);
  await makeKey(page, `${prefix} two`, 'bulk/', ['s3:GetObject']);
  await makeKey(page, `${prefix} kept`, 'bulk/', ['s3:GetObject']);
  await page.goto(`/?q=${encodeURIComponent(prefix)}`);
  await page.getByRole('checkbox', { name: `Select ${prefix} one` }).check();
  await page.getByRole('checkbox', { name: `Select ${prefix} two` }).check();
  await page.getByRole('button', { name: 'Revoke selected' }).click();

  const confirm = page.getByRole('alertdialog', { name: 'Revoke 2 keys?' });
  await expect(confirm).toBeVisible();
  if (javaScriptEnabled) await expectAccessible(page, 'the bulk confirmation');
  await confirm.getByRole('button', { name: 'Revoke 2 keys' }).click();
  await expect(page.getByTestId('bulk-done')).toHaveText('2 keys revoked.');
  await page.goto(`/?q=${encodeURIComponent(prefix)}`);
  await expect(page.getByRole('row').filter({ hasText: `${prefix} one` })).toContainText('Revoked');
  await expect(page.getByRole('row').filter({ hasText: `${prefix} two` })).toContainText('Revoked');
  await expect(page.getByRole('row').filter({ hasText: `${prefix} kept` })).toContainText('Active');
  await expect.poll(() => signedGet('/demo-photos/bulk/missing.jpg', first.keyId, first.secret), { timeout: 5_000 }).toBe(403);
});

test('an admin limits how long customers keys may last, on the Settings page', async ({ page, javaScriptEnabled }) => {
  await signInAs(page, 'admin@stook.test', 'admin-password-for-tests');
  await page.getByRole('link', { name: 'Settings' }).click();
  const limit = page.getByLabel('Longest key lifetime for customers (days)');
  await expect(limit).toHaveValue('');
  if (javaScriptEnabled) await expectAccessible(page, 'the settings page');
  await limit.fill('30');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByTestId('settings-saved')).toBeVisible();
  await expect(page.getByLabel('Longest key lifetime for customers (days)')).toHaveValue('30');
  try {
    // A customer asking for a key that never expires is refused, naming the limit.
    const customer = await page.context().browser()!.newContext({ baseURL: new URL(page.url()).origin });
    const customerPage = await customer.newPage();
    await signIn(customerPage);
    const buckets = await (await customerPage.request.post('/api/buckets')).json();
    const refused = await customerPage.request.post('/api/credentials/create', {
      data: { name: `Forever ${javaScriptEnabled}`, bucket_id: buckets[0].id, actions: ['s3:GetObject'] },
    });
    expect(refused.status()).toBe(400);
    expect((await refused.json()).message).toContain('at most 30 days');
    await customer.close();
  } finally {
    await page.getByLabel('Longest key lifetime for customers (days)').fill('');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect(page.getByTestId('settings-saved')).toBeVisible();
  }
  await expect(page.getByLabel('Longest key lifetime for customers (days)')).toHaveValue('');
});

test('an edit or bulk change opened from a link says so and offers no save', async ({ page, javaScriptEnabled }) => {
  test.setTimeout(60_000);
  await signIn(page);
  const name = `Linked ${javaScriptEnabled ? 'hydrated' : 'plain'}`;
  const { keyId } = await makeKey(page, name, 'linked/', ['s3:GetObject']);

  // Someone else's link, one click from widening the key.
  await page.goto(
    `/?key=${keyId}&edit=preview&name=${encodeURIComponent(name)}&path=&edit_actions=on&actions[]=s3:DeleteObject&expires=keep`,
  );
  await expect(page.getByTestId('from-a-link')).toContainText('came from a link');
  await expect(page.getByRole('button', { name: 'Save changes' })).toHaveCount(0);
  // The form pre-filled by a link says so too.
  await page.goto(`/?key=${keyId}&edit=1&path=&networks=0.0.0.0/0`);
  await expect(page.getByTestId('from-a-link')).toContainText('came from a link');
  await page.goBack();
  // Opened in the form, the same values can be previewed and saved as one's own.
  await page.getByRole('link', { name: 'Open in the form' }).click();
  await page.getByRole('dialog', { name }).getByRole('button', { name: 'Preview changes' }).click();
  await expect(page.getByTestId('from-a-link')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Save changes' })).toBeVisible();

  await page.goto(`/?bulk=revoke&keys=${keyId}`);
  await expect(page.getByTestId('from-a-link')).toContainText('came from a link');
  await expect(page.getByRole('button', { name: /Revoke 1 key/ })).toHaveCount(0);
  // From the list's own form, the confirmation offers the change.
  await page.goto(`/?q=${encodeURIComponent(name)}`);
  await page.getByRole('checkbox', { name: new RegExp(name) }).check();
  await page.getByRole('button', { name: 'Revoke selected' }).click();
  await expect(page.getByTestId('from-a-link')).toHaveCount(0);
  await expect(page.getByRole('button', { name: /Revoke 1 key/ })).toBeVisible();
});
