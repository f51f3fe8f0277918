import { demo, expect, signIn, signedGet, test } from './helpers';

test('a key made in the panel works on the S3 endpoint, and its use shows in the drawer', async ({ page, javaScriptEnabled }) => {
  test.skip(!javaScriptEnabled, 'the same story with JavaScript off adds nothing here');
  test.setTimeout(60_000);
  await signIn(page);
  const buckets = await (await page.request.post('/api/buckets')).json();
  const bucket = buckets.find((b: { name: string }) => b.name === 'demo-photos');
  const created = await page.request.post('/api/credentials/create', {
    data: { name: 'Gallery reader', bucket_id: bucket.id, path: 'gallery/', actions: ['s3:GetObject'] },
  });
  expect(created.status()).toBe(200);
  const keyId: string = (await created.json()).access_key_id;
  const revealed = await page.request.post('/api/credentials/reveal', {
    data: { access_key_id: keyId, password: demo.password },
  });
  const secret: string = await revealed.json();

  // Allowed: the object is missing, so S3 says 404. Outside the folder: 403.
  expect(await signedGet('/demo-photos/gallery/missing.jpg', keyId, secret)).toBe(404);
  expect(await signedGet('/demo-photos/private/plans.txt', keyId, secret)).toBe(403);
  expect(await signedGet('/demo-photos/gallery/missing.jpg', keyId, 'x'.repeat(40))).toBe(403);

  // Usage is written in batches every few seconds; the drawer shows it once written.
  await expect(async () => {
    await page.goto(`/?q=${encodeURIComponent('Gallery reader')}`);
    await page.getByRole('link', { name: 'Gallery reader' }).click();
    const drawer = page.getByRole('dialog', { name: 'Gallery reader' });
    await expect(drawer.getByTestId('denied-requests')).toHaveText('1', { timeout: 1_000 });
    await expect(drawer.getByTestId('last-used')).not.toHaveText('Never', { timeout: 1_000 });
  }).toPass({ timeout: 20_000 });

  // The drawer's activity: what the endpoint saw, per action, with the denial's reason.
  const drawer = page.getByRole('dialog', { name: 'Gallery reader' });
  const activity = drawer.getByTestId('activity');
  await expect(activity.getByTestId('activity-last-use')).toContainText('GetObject from 127.0.0.1');
  await expect(activity.getByTestId('activity-by-action').getByRole('row').filter({ hasText: 's3:GetObject' })).toContainText(
    '2 (1 denied)',
  );
  await expect(activity.getByTestId('activity-denials')).toContainText(
    'GetObject private/plans.txt from 127.0.0.1: this key is limited to “gallery/”; “private/plans.txt” is outside it',
  );
  await expect(activity.getByTestId('activity-sources')).toContainText('127.0.0.1');
});
