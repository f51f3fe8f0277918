import { demo, expect, expectAccessible, signIn, signInAs, stookCli, test } from './helpers';

test.describe('hydrated', () => {
  test.skip(({ javaScriptEnabled }) => !javaScriptEnabled, 'the action tree and the reveal need JavaScript');

  test('the seed story: create with the action tree, see it listed, reveal, copy, revoke', async ({ page, context }) => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await signIn(page);
    await expectAccessible(page, 'credentials list');

    await page.getByRole('link', { name: 'Create Credential' }).first().click();
    const form = page.getByRole('dialog', { name: 'Create Credential' });
    await expect(form).toBeVisible();
    const submit = form.getByRole('button', { name: 'Submit' });
    await expect(submit).toBeDisabled();
    // The dialog takes the focus and keeps it: Shift+Tab from its first control goes round
    // to its last (Cancel, as Submit is disabled), Tab from there back to the first.
    await expect(form.getByLabel('Credential Name')).toBeFocused();
    await page.keyboard.press('Shift+Tab');
    await expect(form.getByRole('link', { name: 'Close' })).toBeFocused();
    await page.keyboard.press('Shift+Tab');
    await expect(form.getByRole('link', { name: 'Cancel' })).toBeFocused();
    await page.keyboard.press('Tab');
    await expect(form.getByRole('link', { name: 'Close' })).toBeFocused();

    await form.getByLabel('Credential Name').fill('Backup tool');
    await form.getByLabel('Stook Bucket').selectOption({ label: 'demo-photos (eu-west-1)' });
    await form.getByLabel('Path (optional)').fill('/backups');
    await expect(form.locator('#cred-path-error')).toContainText('leading');

    // Collapse All hides every action; Expand All shows them again.
    await form.getByRole('button', { name: 'Collapse All' }).click();
    await expect(form.getByRole('treeitem', { name: 's3:GetObject', exact: true })).toBeHidden();
    await form.getByRole('button', { name: 'Expand All' }).click();
    await expect(form.getByRole('treeitem', { name: 's3:GetObject', exact: true })).toBeVisible();

    // The tree by keyboard: ← closes a category, → opens it, ↓ moves to its first action.
    const readBox = form.getByRole('treeitem', { name: 'Read', exact: true }).getByRole('checkbox').first();
    await readBox.focus();
    await page.keyboard.press('ArrowLeft');
    await expect(form.getByRole('treeitem', { name: 's3:GetObject', exact: true })).toBeHidden();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowDown');
    await expect(form.getByRole('treeitem', { name: 's3:GetObject', exact: true }).getByRole('checkbox')).toBeFocused();
    await page.keyboard.press('End');
    await expect(form.getByRole('treeitem', { name: 's3:PutBucketNotification', exact: true }).getByRole('checkbox')).toBeFocused();
    // ← from an action goes up to its category. One checkbox of the tree is in the Tab
    // order (roving tabindex): the one focused last, so Tab leaves the tree and comes back.
    await page.keyboard.press('ArrowLeft');
    const bucketBox = form.getByRole('treeitem', { name: 'Bucket Management', exact: true }).getByRole('checkbox').first();
    await expect(bucketBox).toBeFocused();
    await expect(form.getByRole('tree').locator('input[tabindex="0"]')).toHaveCount(1);
    await page.keyboard.press('Shift+Tab');
    await expect(form.getByRole('button', { name: 'Read & Write' })).toBeFocused();
    await page.keyboard.press('Tab');
    await expect(bucketBox).toBeFocused();

    // Filter Actions narrows the tree and never loses what was chosen.
    const filter = form.getByLabel('Filter Actions');
    await filter.fill('getobject');
    await expect(form.getByRole('treeitem', { name: 'Write', exact: true })).toBeHidden();
    await form.getByRole('treeitem', { name: 's3:GetObject', exact: true }).getByRole('checkbox').check();
    await filter.fill('putobject');
    await form.getByRole('treeitem', { name: 's3:PutObject', exact: true }).getByRole('checkbox').check();
    await filter.fill('zzz no such thing');
    await expect(form.getByText('No action matches “zzz no such thing”.')).toBeVisible();
    await filter.fill('');
    await expect(form.getByRole('treeitem', { name: 's3:GetObject', exact: true }).getByRole('checkbox')).toBeChecked();
    await expect(form.getByRole('treeitem', { name: 'Read', exact: true })).toHaveAttribute('aria-checked', 'mixed');
    await expect(form.getByRole('treeitem', { name: 'Bucket Management', exact: true })).toHaveAttribute('aria-checked', 'false');
    await form.getByRole('treeitem', { name: 'Write', exact: true }).getByRole('checkbox').first().check();
    await expect(form.getByRole('treeitem', { name: 'Write', exact: true })).toHaveAttribute('aria-checked', 'true');
    await form.getByRole('treeitem', { name: 'Write', exact: true }).getByRole('checkbox').first().uncheck();
    await form.getByRole('treeitem', { name: 's3:PutObject', exact: true }).getByRole('checkbox').check();
    await expectAccessible(page, 'create form');
    // The path last: with one, Bucket Management is out of reach (the tree above used it).
    await form.getByLabel('Path (optional)').fill('backups//2026');
    await expect(form.locator('#cred-path-hint')).toContainText('backups/2026/');

    await expect(submit).toBeEnabled();
    await submit.click();

    // The drawer of the new credential opens; the list shows it with its permission set.
    const drawer = page.getByRole('dialog', { name: 'Backup tool' });
    await expect(drawer).toBeVisible();
    await expect(drawer).toBeFocused();
    await expect(drawer).toContainText('backups/2026/');
    await expect(drawer).toContainText('Custom — 2 actions');
    await expect(drawer.getByTestId('secret-key')).toHaveCount(0);
    const row = page.getByRole('row').filter({ hasText: 'Backup tool' });
    await expect(row).toContainText('Custom — 2 actions');
    await expectAccessible(page, 'drawer');

    const keyId = (await drawer.getByTestId('access-key-id').textContent())!.trim();
    await drawer.getByRole('button', { name: 'Copy access key id' }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(keyId);

    await drawer.getByRole('button', { name: 'Show secret' }).click();
    await expect(drawer.getByLabel('Re-enter your login password')).toBeFocused();
    await drawer.getByLabel('Re-enter your login password').fill('not my password');
    await drawer.getByRole('button', { name: 'Show', exact: true }).click();
    await expect(drawer.getByRole('alert')).toHaveText('That is not your login password.');
    // The refused password is not left in the field.
    await expect(drawer.getByLabel('Re-enter your login password')).toHaveValue('');
    await drawer.getByLabel('Re-enter your login password').fill(demo.password);
    await drawer.getByRole('button', { name: 'Show', exact: true }).click();
    const secret = drawer.getByTestId('secret-key');
    await expect(secret).toHaveText(/^[A-Za-z0-9_-]{40}$/);
    await drawer.getByRole('button', { name: 'Copy secret key' }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(await secret.textContent());
    await drawer.getByRole('button', { name: 'Hide' }).click();
    await expect(secret).toHaveCount(0);

    await drawer.getByRole('link', { name: 'Revoke' }).click();
    // The question has the focus, so it is in view however long the drawer is.
    await expect(drawer.getByRole('alertdialog')).toBeFocused();
    await drawer.getByRole('button', { name: 'Revoke credential' }).click();
    await expect(drawer.locator('.status')).toHaveText('Revoked');
    await expect(drawer.getByRole('button', { name: 'Show secret' })).toHaveCount(0);
    await expect(drawer.getByTestId('no-reveal')).toContainText('no longer works');
    await expect(row).toContainText('Revoked');
    // Escape closes in place (no page load) and gives the keyboard back to the row.
    await page.evaluate(() => ((window as unknown as { stayedLoaded: boolean }).stayedLoaded = true));
    await page.keyboard.press('Escape');
    await expect(drawer).toHaveCount(0);
    await expect(page).toHaveURL(/\/$/);
    expect(await page.evaluate(() => (window as unknown as { stayedLoaded?: boolean }).stayedLoaded)).toBe(true);
    await expect(row.getByRole('link', { name: 'Backup tool' })).toBeFocused();
  });
});

test('no accessibility violation in any page state', async ({ page, javaScriptEnabled }) => {
  test.skip(!javaScriptEnabled, 'axe-core runs as a script in the page');
  test.setTimeout(120_000);
  await page.goto('/login');
  await expectAccessible(page, 'sign-in page');
  await signIn(page);
  await expectAccessible(page, 'list');
  await page.goto('/?new=1');
  await expectAccessible(page, 'create form');
  const form = page.getByRole('dialog', { name: 'Create Credential' });
  await form.getByLabel('Credential Name').fill('Website uploads');
  await form.getByLabel('Stook Bucket').selectOption({ label: 'demo-photos (eu-west-1)' });
  await form.getByLabel('All S3 Actions').check();
  await form.getByRole('button', { name: 'Submit' }).click();
  await expect(form.locator('.error-summary')).toBeVisible();
  await expectAccessible(page, 'create form with a refusal');
  await page.goto('/');
  await page.locator('table.data-table tbody tr a.row-link').first().click();
  await expect(page.getByRole('dialog')).toBeVisible();
  await expectAccessible(page, 'drawer');
  await page.goto('/buckets');
  if (javaScriptEnabled) {
    // Two reveal forms open at once must not share ids or names.
    for (const card of await page.locator('.bucket-card').all()) {
      await card.getByRole('button', { name: 'Show secret' }).click();
    }
    await expect(page.locator('.reveal-form')).toHaveCount(2);
  }
  await expectAccessible(page, 'buckets page');
});

test('Submit says what is missing; All S3 Actions shows in the tree', async ({ page, javaScriptEnabled }) => {
  test.skip(!javaScriptEnabled, 'the browser re-checks the form only with JavaScript');
  await signIn(page);
  await page.goto('/?new=1');
  const form = page.getByRole('dialog', { name: 'Create Credential' });
  const submit = form.getByRole('button', { name: 'Submit' });
  const missing = form.locator('#submit-missing');
  await expect(submit).toBeDisabled();
  await expect(missing).toHaveText('Give the credential a name.');
  await form.getByLabel('Credential Name').fill('Everything');
  await expect(missing).toHaveText('Choose a bucket.');
  await form.getByLabel('Stook Bucket').selectOption({ label: 'demo-photos (eu-west-1)' });
  await expect(missing).toHaveText('Choose at least one action.');
  await expect(submit).toHaveAccessibleDescription('Choose at least one action.');

  await form.getByLabel('All S3 Actions').check();
  await expect(missing).toBeEmpty();
  await expect(submit).toBeEnabled();
  // Every box ticked and disabled, and the counts agree with the legend.
  const management = form.getByRole('treeitem', { name: 'Bucket Management', exact: true });
  await expect(management.locator('.count')).toHaveText('23/23');
  await expect(management).toHaveAttribute('aria-checked', 'true');
  const boxes = form.locator('[role=tree] input[name="actions[]"]');
  const total = await boxes.count();
  await expect(form.locator('legend')).toContainText(`(${total} chosen)`);
  for (let i = 0; i < total; i++) {
    await expect(boxes.nth(i)).toBeChecked();
    await expect(boxes.nth(i)).toBeDisabled();
  }
  // A path takes the bucket-wide settings out of "all".
  await form.getByLabel('Path (optional)').fill('photos/');
  await expect(management.locator('.count')).toHaveText('0/23');
  await expect(form.locator('legend')).toContainText(`(${total - 23} chosen)`);
  // A preset replaces "all" with exactly its own actions.
  await form.getByRole('button', { name: 'Read Only' }).click();
  await expect(form.getByLabel('All S3 Actions')).not.toBeChecked();
  await expect(form.getByRole('treeitem', { name: 'Write', exact: true }).locator('.count')).toHaveText(/^0\//);
});

test('a refused Create keeps what was entered, says why at the top and by the field', async ({ page, javaScriptEnabled }) => {
  await signIn(page);
  await page.goto('/?new=1');
  const form = page.getByRole('dialog', { name: 'Create Credential' });
  await form.getByLabel('Credential Name').fill('Kept tool');
  await form.getByLabel('Stook Bucket').selectOption({ label: 'demo-photos (eu-west-1)' });
  await form.getByRole('checkbox', { name: /s3:GetObject\b/ }).first().check();
  await form.getByRole('checkbox', { name: /s3:PutObject\b/ }).first().check();
  // A bucket-wide action with a path: the browser cannot tell (the path comes after),
  // so the server refuses it. With JavaScript the form lets the action go instead, so
  // take a name that is already used to get a refusal there.
  if (javaScriptEnabled) {
    await form.getByLabel('Credential Name').fill('Website uploads');
  } else {
    await form.getByLabel('Path (optional)').fill('photos/');
    await form.getByRole('checkbox', { name: /s3:PutBucketPolicy/ }).check();
  }
  await form.getByRole('button', { name: 'Submit' }).click();
  const summary = form.locator('.error-summary');
  await expect(summary).toBeVisible();
  const field = javaScriptEnabled ? form.getByLabel('Credential Name') : form.getByLabel('All S3 Actions');
  await expect(field).toBeFocused();
  await expect(form.getByLabel('Stook Bucket')).toHaveValue(/\d+/);
  await expect(form.getByRole('checkbox', { name: /s3:GetObject\b/ }).first()).toBeChecked();
  await expect(form.getByRole('checkbox', { name: /s3:PutObject\b/ }).first()).toBeChecked();
  if (javaScriptEnabled) {
    await expect(summary).toContainText('already have a credential named');
    await expect(form.locator('#cred-name-error')).toContainText('already have a credential named');
    await expect(form.getByLabel('Credential Name')).toHaveValue('Website uploads');
    // Once the name changes, the duplicate-name message by the field goes.
    await form.getByLabel('Credential Name').fill('Website uploads, kept');
    await expect(form.locator('#cred-name-error')).not.toContainText('already have a credential named');
  } else {
    await expect(summary).toContainText('cannot have actions that change bucket-wide settings');
    await expect(form.locator('#cred-actions-error')).toContainText('bucket-wide settings');
    await expect(form.getByLabel('Credential Name')).toHaveValue('Kept tool');
    await expect(form.getByLabel('Path (optional)')).toHaveValue('photos/');
  }
});

test('the list sorts by name and filters by status', async ({ page }) => {
  await signIn(page);
  await page.getByLabel('Sort by').selectOption('name');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(/sort=name/);
  const names = await page.locator('table.data-table tbody tr .row-link').allTextContents();
  expect(names.length).toBeGreaterThan(1);
  expect(names).toEqual([...names].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())));
  await page.getByLabel('Status').selectOption('revoked');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(/status=revoked/);
  const statuses = await page.locator('table.data-table tbody tr .status').allTextContents();
  expect(statuses.every((s) => s === 'Revoked')).toBe(true);
});

test('a customer with no bucket learns what a bucket is and who makes one', async ({ page }, testInfo) => {
  const email = `no-bucket-${testInfo.project.name}@stook.test`;
  const password = 'no-bucket-password';
  stookCli(['user', 'add', '--email', email, '--password', password]);
  await signInAs(page, email, password);
  await page.getByRole('link', { name: 'Create Credential' }).first().click();
  const dialog = page.getByRole('dialog', { name: 'Create Credential' });
  await expect(dialog).toContainText('You have no bucket yet');
  await expect(dialog).toContainText('Buckets are created by your Stook administrator');
  await expect(dialog.getByLabel('Stook Bucket')).toHaveCount(0);
  await dialog.getByRole('link', { name: 'Close' }).last().click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
});

test('a key limited to a path cannot be given bucket-wide settings', async ({ page, javaScriptEnabled }) => {
  await signIn(page);
  await page.goto('/?new=1');
  const form = page.getByRole('dialog', { name: 'Create Credential' });
  const management = form.getByRole('treeitem', { name: 'Bucket Management', exact: true });
  const policy = form.getByRole('checkbox', { name: /s3:PutBucketPolicy/ });
  if (javaScriptEnabled) {
    await policy.check();
    await form.getByLabel('Path (optional)').fill('photos/');
    // Ticked before the path was typed, let go after: a folder key cannot hold it.
    await expect(policy).toBeDisabled();
    await expect(policy).not.toBeChecked();
    await expect(management).toContainText('Not available with a path');
    await form.getByLabel('Path (optional)').fill('');
    await expect(policy).toBeEnabled();
    return;
  }
  // Without JavaScript the server says no, naming the action.
  await form.getByLabel('Credential Name').fill('Public maker');
  await form.getByLabel('Stook Bucket').selectOption({ label: 'demo-photos (eu-west-1)' });
  await form.getByLabel('Path (optional)').fill('photos/');
  await policy.check();
  await form.getByRole('button', { name: 'Submit' }).click();
  await expect(page.locator('.error-summary')).toContainText('cannot have actions that change bucket-wide settings');
  await expect(page.locator('table.data-table')).not.toContainText('Public maker');
});

test('the list, search and a create without JavaScript', async ({ page, javaScriptEnabled }) => {
  test.skip(javaScriptEnabled, 'the plain-HTML path');
  await signIn(page);
  await page.getByRole('link', { name: 'Create Credential' }).first().click();
  await page.getByLabel('Credential Name').fill('Plain form key');
  await page.getByLabel('Stook Bucket').selectOption({ label: 'demo-backups (tr-ist-1)' });
  await page.getByRole('treeitem', { name: 's3:GetObject', exact: true }).getByRole('checkbox').check();
  await page.getByRole('treeitem', { name: 's3:ListBucket', exact: true }).getByRole('checkbox').check();
  await page.getByRole('button', { name: 'Submit' }).click();
  const drawer = page.getByRole('dialog', { name: 'Plain form key' });
  await expect(drawer).toContainText('Custom — 2 actions');

  await page.goto('/?q=plain');
  await expect(page.getByRole('row')).toHaveCount(2);
  await page.getByRole('link', { name: 'Plain form key' }).click();
  await page.getByRole('dialog').getByRole('link', { name: 'Revoke' }).click();
  await page.getByRole('button', { name: 'Revoke credential' }).click();
  await expect(page.getByRole('dialog').locator('.status')).toHaveText('Revoked');

  await page.goto('/?q=nothing-like-this');
  await expect(page.getByText('No credential matches')).toBeVisible();
});
