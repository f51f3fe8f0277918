import { expect, type Page } from '@playwright/test';

/** The demo customer that playwright.config.ts has the server load. */
export const demo = { email: 'demo@stook.local', password: 'demo-password-for-tests' };

export async function signIn(page: Page) {
  await page.goto('/login');
  await page.getByLabel('Email').fill(demo.email);
  await page.getByLabel('Password').fill(demo.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('signed-in-user')).toHaveText(demo.email);
}
