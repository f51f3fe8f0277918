import AxeBuilder from '@axe-core/playwright';
import { execFileSync } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { expect, test as base, type Page } from '@playwright/test';

/** The demo customer that playwright.config.ts has the server load. */
export const demo = { email: 'demo@stook.local', password: 'demo-password-for-tests' };

/**
 * Playwright's `test`, failing any hydrated test whose pages log an error or a warning,
 * throw, or ask for something missing (404): a bundle that does not load, or an island
 * whose code is not in it, shows up here first. An HTTP error the page expects (a wrong
 * password's 400) logs only "Failed to load resource", which is left to the test.
 */
export const test = base.extend<{ pageProblems: string[] }>({
  pageProblems: [
    async ({ page, javaScriptEnabled }, use) => {
      const problems: string[] = [];
      // Without JavaScript the browser warns, rightly, that the preloaded wasm went unused.
      page.on('console', (m) => {
        if (!javaScriptEnabled) return;
        if ((m.type() === 'error' || m.type() === 'warning') && !m.text().startsWith('Failed to load resource')) {
          problems.push(`console ${m.type()}: ${m.text()}`);
        }
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('response', (r) => {
        if (r.status() === 404) problems.push(`404 ${r.url()}`);
      });
      await use(problems);
      expect(problems, 'the pages logged errors, threw, or missed a file').toEqual([]);
    },
    { auto: true },
  ],
});
export { expect };

export async function signIn(page: Page) {
  await page.goto('/login');
  await page.getByLabel('Email').fill(demo.email);
  await page.getByLabel('Password').fill(demo.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('signed-in-user')).toHaveText(demo.email);
}

/**
 * Every island on the page has run in the browser (each sets `data-hydrated`). Pages
 * made only of links and plain forms have none: pass `expected = 0` for them.
 */
export async function expectIslandsHydrated(page: Page, what: string, expected?: number) {
  const islands = page.locator('leptos-island');
  const count = await islands.count();
  if (expected === undefined) {
    expect(count, `${what}: the page has islands`).toBeGreaterThan(0);
  } else {
    expect(count, `${what}: islands on the page`).toBe(expected);
  }
  for (let i = 0; i < count; i++) {
    await expect(
      islands.nth(i).locator('[data-hydrated="true"]').first(),
      `${what}: island ${i + 1} of ${count} hydrated`,
    ).toBeAttached();
  }
}

/** No axe-core violation at all, whatever its impact (axe runs as a script in the page). */
export async function expectAccessible(page: Page, what: string) {
  const results = await new AxeBuilder({ page }).analyze();
  expect(
    results.violations.map((v) => `${v.id} (${v.impact}): ${v.help} (${v.nodes.map((n) => n.target).join(', ')})`),
    what,
  ).toEqual([]);
}

/** Runs the operator CLI on the server's own data directory; returns its stdout. */
export function stookCli(args: string[]): string {
  return execFileSync(process.env.STOOK_E2E_BIN!, args, {
    env: { ...process.env, STOOK_DATA_DIR: process.env.STOOK_E2E_DATA_DIR!, RUST_LOG: 'error' },
    encoding: 'utf8',
  });
}

/** Signs in as someone other than the demo customer. */
export async function signInAs(page: Page, email: string, password: string) {
  await page.goto('/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('signed-in-user')).toHaveText(email);
}

const s3Url = process.env.STOOK_E2E_S3_URL!;

/** A GET signed with AWS Signature Version 4 in the Authorization header. */
export async function signedGet(path: string, accessKeyId: string, secret: string): Promise<number> {
  const now = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = now.slice(0, 8);
  const host = new URL(s3Url).host;
  const scope = `${day}/us-east-1/s3/aws4_request`;
  const emptyHash = createHash('sha256').update('').digest('hex');
  const canonical = ['GET', path, '', `host:${host}`, `x-amz-content-sha256:${emptyHash}`, `x-amz-date:${now}`, '',
    'host;x-amz-content-sha256;x-amz-date', emptyHash].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', now, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  const mac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
  const signingKey = mac(mac(mac(mac(`AWS4${secret}`, day), 'us-east-1'), 's3'), 'aws4_request');
  const signature = createHmac('sha256', signingKey).update(toSign).digest('hex');
  const response = await fetch(`${s3Url}${path}`, {
    headers: {
      'x-amz-date': now,
      'x-amz-content-sha256': emptyHash,
      authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/${scope}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=${signature}`,
    },
  });
  return response.status;
}
