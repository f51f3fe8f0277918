import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { demo, expect, expectIslandsHydrated, signIn, test } from './helpers';

/** Makes a credential through the API (as the signed-in demo customer); returns its key id. */
async function createKey(page: Page, name: string, path: string, actions: string[]): Promise<string> {
  const buckets = await (await page.request.post('/api/buckets')).json();
  const bucket = buckets.find((b: { name: string }) => b.name === 'demo-photos');
  const created = await page.request.post('/api/credentials/create', {
    data: { name, bucket_id: bucket.id, path, actions },
  });
  expect(created.status(), await created.text()).toBe(200);
  return (await created.json()).access_key_id;
}

async function openDrawer(page: Page, name: string, hydrated: boolean) {
  await page.goto(`/?q=${encodeURIComponent(name)}`);
  await page.getByRole('link', { name }).click();
  const drawer = page.getByRole('dialog', { name });
  await expect(drawer).toBeVisible();
  // Typing into the simulator before its island runs would not reach it.
  if (hydrated) await expectIslandsHydrated(page, 'the drawer');
  return drawer;
}

test.describe('hydrated', () => {
  test.skip(({ javaScriptEnabled }) => !javaScriptEnabled, 'the live simulator and the set-ups need JavaScript');

  test('the drawer says what a key can do, and the simulator answers as the API does', async ({ page }) => {
    await signIn(page);
    const keyId = await createKey(page, 'Simulated reader', 'photos/', ['s3:GetObject', 's3:ListBucket']);
    const drawer = await openDrawer(page, 'Simulated reader', true);
    await expect(drawer.getByTestId('scope-summary')).toHaveText(
      'Can list and download everything under “photos/” in bucket demo-photos (eu-west-1). Parent folders show as names only: at the bucket\'s root this key sees just “photos/”. Cannot upload, delete or change bucket settings.',
    );

    const answer = drawer.getByTestId('simulation');
    const operation = drawer.getByLabel('S3 operation or action');
    const name = drawer.getByLabel('Object key or prefix');
    await name.fill('photos/2024/beach.jpg');
    await expect(answer).toHaveText('Allowed GetObject on this object key needs s3:GetObject, which this key has.');
    await name.fill('docs/plans.txt');
    await expect(answer).toHaveText('Denied GetObject: this key is limited to “photos/”; “docs/plans.txt” is outside it.');
    await operation.selectOption('PutObject');
    await name.fill('photos/new.jpg');
    await expect(answer).toHaveText('Denied PutObject: this key does not allow s3:PutObject.');
    await operation.selectOption('s3:ListBucket');
    await name.fill('docs/');
    await expect(answer).toContainText('Denied ListObjects: this key may only list inside “photos/” or the folders above it');
    // The bucket's root may be listed, and the answer says it shows only the way down.
    await name.fill('');
    await expect(answer).toContainText('Allowed ListObjects on this prefix needs s3:ListBucket, which this key has. Parent folders show as names only');

    // The same questions through POST /api/credentials/simulate get the same answers.
    for (const [what, key, allowed] of [
      ['GetObject', 'photos/2024/beach.jpg', true],
      ['GetObject', 'docs/plans.txt', false],
      ['PutObject', 'photos/new.jpg', false],
      ['s3:ListBucket', 'photos/', true],
      ['s3:ListBucket', '', true],
      ['s3:ListBucket', 'docs/', false],
    ] as const) {
      const reply = await page.request.post('/api/credentials/simulate', {
        data: { access_key_id: keyId, operation: what, key },
      });
      expect(reply.status()).toBe(200);
      const simulation = await reply.json();
      expect(simulation.allowed, `${what} ${key}`).toBe(allowed);
      await operation.selectOption(what);
      await name.fill(key);
      await expect(answer).toContainText(allowed ? 'Allowed' : `Denied ${simulation.operation}: ${simulation.reason}`);
    }

    // The IAM policy names the same grant, limited to the folder.
    const policy = JSON.parse((await drawer.getByTestId('iam-policy').textContent())!);
    expect(policy.Statement.find((s: { Sid: string }) => s.Sid === 'Objects')).toEqual({
      Sid: 'Objects',
      Effect: 'Allow',
      Action: ['s3:GetObject'],
      Resource: 'arn:aws:s3:::demo-photos/photos/*',
    });
    const results = await new AxeBuilder({ page }).analyze();
    expect(results.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
  });

  test('after reveal the drawer hands over client set-ups; the Cyberduck bookmark holds no secret', async ({ page, context }) => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await signIn(page);
    const keyId = await createKey(page, 'Set-up helper', 'backups/', ['s3:GetObject', 's3:PutObject', 's3:ListBucket']);
    const drawer = await openDrawer(page, 'Set-up helper', true);

    const bookmark = drawer.getByTestId('cyberduck-bookmark');
    const download = page.waitForEvent('download');
    await bookmark.click();
    const file = await download;
    expect(file.suggestedFilename()).toBe('stook-set-up-helper.duck');
    const plist = (await (await file.createReadStream()).toArray()).join('');
    expect(plist).toContain(`<string>${keyId}</string>`);
    expect(plist).toContain('<string>/demo-photos/backups/</string>');

    await expect(drawer.getByTestId('client-setups')).toHaveCount(0);
    await drawer.getByRole('button', { name: 'Show secret' }).click();
    await drawer.getByLabel('Re-enter your login password').fill(demo.password);
    await drawer.getByRole('button', { name: 'Show', exact: true }).click();
    const secret = (await drawer.getByTestId('secret-key').textContent())!.trim();
    expect(plist).not.toContain(secret);

    const setups = drawer.getByTestId('client-setups');
    await setups.getByText('rclone', { exact: true }).click();
    await setups.getByRole('button', { name: 'Copy the rclone set-up' }).click();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toContain('[stook-set-up-helper]\ntype = s3\n');
    expect(copied).toContain(`access_key_id = ${keyId}\nsecret_access_key = ${secret}\n`);
    expect(copied).toContain('no_check_bucket = true');
    expect(copied).toContain('remote = stook-set-up-helper:demo-photos/backups/');
    await setups.getByText('AWS CLI', { exact: true }).click();
    await expect(setups).toContainText('signature_version = s3v4');
  });
});

test('without JavaScript the simulator answers through the address', async ({ page, javaScriptEnabled }) => {
  test.skip(javaScriptEnabled, 'the hydrated simulator is tested above');
  await signIn(page);
  await createKey(page, 'Plain simulated', 'photos/', ['s3:GetObject']);
  const drawer = await openDrawer(page, 'Plain simulated', false);
  await drawer.getByLabel('S3 operation or action').selectOption('DeleteObject');
  await drawer.getByLabel('Object key or prefix').fill('photos/a.jpg');
  await drawer.getByRole('button', { name: 'Check' }).click();
  const again = page.getByRole('dialog', { name: 'Plain simulated' });
  await expect(again.getByTestId('simulation')).toHaveText('Denied DeleteObject: this key does not allow s3:DeleteObject.');
  await expect(again.getByLabel('S3 operation or action')).toHaveValue('DeleteObject');
  await expect(again.getByLabel('Object key or prefix')).toHaveValue('photos/a.jpg');
});
