import type { Page } from '@playwright/test';
import { expect, test } from './helpers';

const demo = { email: 'demo@stook.local', password: 'demo-password-for-tests' };
const admin = { email: 'admin@stook.test', password: 'admin-password-for-tests' };

async function signIn(page: Page, who: { email: string; password: string }) {
  await page.goto('/login');
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('the panel asks for a sign-in first', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
});

test('a customer signs in, sees the panel shell with their credentials, and signs out', async ({ page }) => {
  await signIn(page, demo);
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId('signed-in-user')).toHaveText(demo.email);
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByText('Stook Object Storage')).toBeVisible();
  await expect(nav.getByRole('link', { name: 'Credentials' })).toHaveAttribute('aria-current', 'page');
  await expect(page.getByRole('heading', { name: 'Stook Credentials' })).toBeVisible();
  const rows = page.locator('table.data-table tbody tr');
  await expect(rows.filter({ hasText: 'Website uploads' })).toContainText('Read & Write');
  await expect(rows.filter({ hasText: 'Nightly backup reader' })).toContainText('Read Only');

  await nav.getByRole('link', { name: 'Buckets' }).click();
  await expect(page.getByRole('heading', { name: 'Buckets' })).toBeVisible();
  await expect(page.locator('.bucket-card')).toHaveCount(2);
  await expect(page.getByRole('region', { name: 'demo-backups' })).toContainText('tr-ist-1');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
});

test('a wrong password is refused with the same message as an unknown email', async ({ page }) => {
  await signIn(page, { email: demo.email, password: 'not the password' });
  await expect(page.getByRole('alert')).toHaveText('Email or password is incorrect.');
  // The email stays in the form; only the password is typed again, and it has the focus.
  await expect(page.getByLabel('Email')).toHaveValue(demo.email);
  await expect(page.getByLabel('Password')).toHaveValue('');
  await expect(page.getByLabel('Password')).toBeFocused();
  await signIn(page, { email: 'nobody@stook.test', password: 'not the password' });
  await expect(page.getByRole('alert')).toHaveText('Email or password is incorrect.');
  await expect(page.getByLabel('Email')).toHaveValue('nobody@stook.test');
  await expect(page.getByTestId('signed-in-user')).toHaveCount(0);
  // After a good sign-in the form forgets the email.
  await page.getByLabel('Password').fill(demo.password);
  await page.getByLabel('Email').fill(demo.email);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('signed-in-user')).toHaveText(demo.email);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByLabel('Email')).toHaveValue('');
});

test('an admin sees every customer with the owner column', async ({ page }) => {
  await signIn(page, admin);
  await expect(page.getByTestId('signed-in-user')).toHaveText(admin.email);
  await expect(page.getByRole('columnheader', { name: 'Owner' })).toBeVisible();
  await expect(page.locator('table.data-table tbody tr').first()).toContainText(demo.email);
  // An admin manages a customer's key but never reads it: the drawer offers no reveal
  // and says why.
  await page.locator('table.data-table tbody tr').filter({ hasText: 'Active' }).first().getByRole('link').first().click();
  const drawer = page.getByRole('dialog');
  await expect(drawer.getByTestId('access-key-id')).toBeVisible();
  await expect(drawer.getByRole('button', { name: 'Show secret' })).toHaveCount(0);
  await expect(drawer.getByTestId('no-reveal')).toHaveText(
    `Only its owner, ${demo.email}, can reveal this secret: admins manage keys but never read them.`,
  );
});

test('pages carry a nonce-based content security policy', async ({ page }) => {
  const response = await page.goto('/login');
  const csp = response!.headers()['content-security-policy'];
  expect(csp).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9_-]{16,}'/);
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).not.toContain('unsafe-inline');
  expect(response!.headers()['x-content-type-options']).toBe('nosniff');
  expect(response!.headers()['referrer-policy']).toBe('same-origin');
});
