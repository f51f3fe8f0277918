import { mkdirSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { expect, expectIslandsHydrated, signIn, test } from './helpers';

const admin = { email: 'admin@stook.test', password: 'admin-password-for-tests' };

// Every page, as a customer and as an admin, with the bundle the server serves: each
// island on it must hydrate. Also writes what the browser downloaded of the bundle
// (gzipped, as it would travel) for scripts/bench-panel.sh to print.
test('every island on every page hydrates', async ({ page, javaScriptEnabled }) => {
  test.skip(!javaScriptEnabled, 'hydration needs JavaScript');
  const bundle = new Map<string, { bytes: number; gzipped: number }>();
  page.on('response', async (r) => {
    const path = new URL(r.url()).pathname;
    if (!/^\/pkg\/.*\.(wasm|js)$/.test(path) || r.status() !== 200) return;
    const body = await r.body();
    bundle.set(path, { bytes: body.length, gzipped: gzipSync(body, { level: 9 }).length });
  });

  await page.goto('/login');
  await expectIslandsHydrated(page, 'sign-in page');

  await signIn(page);
  // Links and plain forms only: nothing to hydrate.
  await expectIslandsHydrated(page, 'credentials list', 0);
  const firstKey = await page.locator('table.data-table tbody tr a').first().getAttribute('href');
  expect(firstKey).toMatch(/key=/);

  await page.goto('/?new=1');
  await expect(page.getByRole('dialog', { name: 'Create Credential' })).toBeVisible();
  await expectIslandsHydrated(page, 'create form');
  // The tree's roving tabindex is set only by the island: one action in the Tab order.
  await expect(page.locator('[role=tree] input[type=checkbox][tabindex="0"]')).toHaveCount(1);

  await page.goto(firstKey!);
  await expect(page.locator('[role=dialog]')).toBeVisible();
  await expectIslandsHydrated(page, 'credential drawer');

  await page.goto('/buckets');
  await expectIslandsHydrated(page, 'buckets page');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.getByLabel('Email').fill(admin.email);
  await page.getByLabel('Password').fill(admin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('signed-in-user')).toHaveText(admin.email);
  await expectIslandsHydrated(page, 'admin list', 0);
  await page.goto(firstKey!);
  await expectIslandsHydrated(page, 'admin drawer');
  await page.goto('/buckets');
  await expectIslandsHydrated(page, 'admin buckets page');
  await page.goto('/settings');
  await expectIslandsHydrated(page, 'admin settings page');

  const files = [...bundle.entries()];
  expect(files.some(([path]) => path.endsWith('.wasm')), 'the wasm was downloaded').toBe(true);
  expect(files.some(([path]) => path.endsWith('.js')), 'the loader was downloaded').toBe(true);
  mkdirSync('../target', { recursive: true });
  writeFileSync('../target/e2e-bundle.json', JSON.stringify(Object.fromEntries(files), null, 2));
});
