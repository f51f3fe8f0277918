import { mkdirSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { signIn } from '../tests/helpers';

const out = '../target/screenshots';
const sizes = [
  { name: '1280', width: 1280, height: 800 },
  { name: '390', width: 390, height: 844 },
];

for (const size of sizes) {
  for (const scheme of ['light', 'dark'] as const) {
    test(`the list, the form and the drawer at ${size.name} px, ${scheme}`, async ({ page }) => {
      mkdirSync(out, { recursive: true });
      await page.setViewportSize({ width: size.width, height: size.height });
      await page.emulateMedia({ colorScheme: scheme });
      const shot = (what: string) => page.screenshot({ path: `${out}/${what}-${size.name}-${scheme}.png`, fullPage: true });
      await signIn(page);
      await shot('list');
      await page.goto('/?new=1');
      await expect(page.getByRole('dialog', { name: 'Create Credential' })).toHaveAttribute('data-hydrated', 'true');
      await shot('form');
      await page.goto('/');
      const href = await page.locator('table.data-table tbody tr a.row-link').first().getAttribute('href');
      await page.goto(href!);
      await expect(page.getByRole('dialog')).toBeVisible();
      await shot('drawer');
      await page.goto('/buckets');
      await shot('buckets');
    });
  }
}
