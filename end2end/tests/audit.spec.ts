import AxeBuilder from '@axe-core/playwright';
import { demo, expect, signIn, test } from './helpers';

test('the audit log lists my events, filters them, and exports the same as CSV', async ({ page, javaScriptEnabled }) => {
  await signIn(page);
  await page.getByRole('link', { name: 'Audit log' }).click();
  await expect(page.getByRole('heading', { name: 'Audit log' })).toBeVisible();
  const table = page.getByTestId('audit-table');
  await expect(table).toContainText('Signed in');
  await expect(table).toContainText(demo.email);
  // Only my own events: the admin's sign-ins are not here.
  await expect(table).not.toContainText('admin@stook.test');

  await page.getByLabel('Action').selectOption({ label: 'Signed in' });
  const today = new Date().toISOString().slice(0, 10);
  await page.getByLabel('From (UTC day)').fill(today);
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/action=session\.login/);
  const rows = table.locator('tbody tr');
  await expect(rows.first()).toBeVisible();
  const count = await rows.count();
  for (let i = 0; i < count; i++) {
    await expect(rows.nth(i)).toContainText('Signed in');
  }

  const download = page.waitForEvent('download');
  await page.getByTestId('audit-export').click();
  const file = await download;
  const csv = (await (await file.createReadStream()).toArray()).join('');
  const lines = csv.trim().split('\n');
  expect(lines[0]).toBe('time_utc,actor,action,target,client_address,details');
  expect(lines.length - 1).toBe(count);
  for (const line of lines.slice(1)) {
    expect(line).toContain(`${demo.email},session.login,`);
  }

  await page.getByLabel('From (UTC day)').fill('2001-01-01');
  await page.getByLabel('To (UTC day)').fill('2001-01-02');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page.getByText('No event matches these filters.')).toBeVisible();
  if (javaScriptEnabled) {
    const results = await new AxeBuilder({ page }).analyze();
    expect(results.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
  }
});
