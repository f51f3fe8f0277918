import { demo, expect, expectIslandsHydrated, signIn, signedGet, test } from './helpers';

test('pausing a key stops it at the S3 endpoint until it is resumed', async ({ page, javaScriptEnabled }) => {
  test.setTimeout(60_000);
  await signIn(page);
  const name = `Pausable ${javaScriptEnabled ? 'hydrated' : 'plain'}`;
  const buckets = await (await page.request.post('/api/buckets')).json();
  const bucket = buckets.find((b: { name: string }) => b.name === 'demo-photos');
  const created = await page.request.post('/api/credentials/create', {
    data: { name, bucket_id: bucket.id, path: 'pause/', actions: ['s3:GetObject'] },
  });
  expect(created.status()).toBe(200);
  const keyId: string = (await created.json()).access_key_id;
  const secret: string = await (
    await page.request.post('/api/credentials/reveal', { data: { access_key_id: keyId, password: demo.password } })
  ).json();
  // Allowed, and the object is missing: 404.
  expect(await signedGet('/demo-photos/pause/missing.jpg', keyId, secret)).toBe(404);

  await page.goto(`/?q=${encodeURIComponent(name)}`);
  await page.getByRole('link', { name }).click();
  let drawer = page.getByRole('dialog', { name });
  await drawer.getByRole('button', { name: 'Pause' }).click();
  drawer = page.getByRole('dialog', { name });
  await expect(drawer.locator('.props .status')).toHaveText('Paused');
  await expect(drawer.getByTestId('scope-summary')).toContainText('it is paused');
  await expect(page.getByRole('row').filter({ hasText: name })).toContainText('Paused');
  // Refused within the key cache's half second.
  await expect.poll(() => signedGet('/demo-photos/pause/missing.jpg', keyId, secret), { timeout: 5_000 }).toBe(403);

  await drawer.getByRole('button', { name: 'Resume' }).click();
  drawer = page.getByRole('dialog', { name });
  await expect(drawer.locator('.props .status')).toHaveText('Active');
  await expect.poll(() => signedGet('/demo-photos/pause/missing.jpg', keyId, secret), { timeout: 5_000 }).toBe(404);

  // The list filters by it too.
  await page.goto('/?status=paused');
  await expect(page.getByRole('row').filter({ hasText: name })).toHaveCount(0);
});

test('a key made in the form to expire in 7 days says so in the list', async ({ page, javaScriptEnabled }) => {
  await signIn(page);
  const name = `Week key ${javaScriptEnabled ? 'hydrated' : 'plain'}`;
  await page.getByRole('link', { name: 'Create Credential' }).first().click();
  // Typing before the form's island runs would leave its state behind the fields.
  if (javaScriptEnabled) await expectIslandsHydrated(page, 'Create Credential');
  await page.getByLabel('Credential Name').fill(name);
  await page.getByLabel('Stook Bucket').selectOption({ label: 'demo-photos (eu-west-1)' });
  await page.getByRole('treeitem', { name: 's3:GetObject', exact: true }).getByRole('checkbox').check();
  // A day in the past is refused, and the form keeps what was entered.
  await page.getByLabel('Expires').selectOption('date');
  await page.getByLabel('Expiry day').fill('2001-01-01');
  await page.getByRole('button', { name: 'Submit' }).click();
  await expect(page.getByText(/a day after today/).first()).toBeVisible();
  await expect(page.getByLabel('Credential Name')).toHaveValue(name);
  if (!javaScriptEnabled) {
    // A plain post came back: the ticks are kept by the redirect, check again to be sure.
    await expect(page.getByRole('treeitem', { name: 's3:GetObject', exact: true }).getByRole('checkbox')).toBeChecked();
  }
  await page.getByLabel('Expires').selectOption('7');
  await page.getByRole('button', { name: 'Submit' }).click();
  await expect(page.getByRole('dialog', { name })).toBeVisible();
  await page.goto(`/?q=${encodeURIComponent(name)}`);
  await expect(page.getByRole('row').filter({ hasText: name }).getByTestId('expiring')).toHaveText('Expires in 7 days');
});

test('a key limited to networks shows them; my own address is offered', async ({ page, javaScriptEnabled }) => {
  await signIn(page);
  const name = `Office key ${javaScriptEnabled ? 'hydrated' : 'plain'}`;
  await page.getByRole('link', { name: 'Create Credential' }).first().click();
  // Typing before the form's island runs would leave its state behind the fields.
  if (javaScriptEnabled) await expectIslandsHydrated(page, 'Create Credential');
  await page.getByLabel('Credential Name').fill(name);
  await page.getByLabel('Stook Bucket').selectOption({ label: 'demo-photos (eu-west-1)' });
  await page.getByRole('treeitem', { name: 's3:GetObject', exact: true }).getByRole('checkbox').check();
  await expect(page.getByText('Your address now: 127.0.0.1.')).toBeVisible();
  const networks = page.getByLabel('Networks');
  await networks.fill('10.0.0.0/8, 300.0.0.1');
  if (javaScriptEnabled) {
    await expect(page.locator('#cred-networks-error')).toContainText('300.0.0.1');
    await networks.fill('10.0.0.0/8');
    await page.getByRole('button', { name: 'Add my address' }).click();
    await expect(networks).toHaveValue('10.0.0.0/8, 127.0.0.1/32');
  } else {
    await page.getByRole('button', { name: 'Submit' }).click();
    await expect(page.getByText(/not a network/).first()).toBeVisible();
    await expect(page.getByLabel('Networks')).toHaveValue('10.0.0.0/8, 300.0.0.1');
    await page.getByLabel('Networks').fill('10.0.0.0/8, 127.0.0.1/32');
    await page.getByRole('treeitem', { name: 's3:GetObject', exact: true }).getByRole('checkbox').check();
  }
  await page.getByRole('button', { name: 'Submit' }).click();
  const drawer = page.getByRole('dialog', { name });
  await expect(drawer.getByTestId('networks')).toHaveText('10.0.0.0/8, 127.0.0.1/32');
});
