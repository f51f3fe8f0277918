import { defineConfig } from '@playwright/test';
import base from './playwright.config';

// Screenshots for review (./scripts/screenshots.sh): the same release server as the
// browser tests, hydrated only.
export default defineConfig({
  ...base,
  testDir: './screenshots',
  projects: [{ name: 'hydrated', use: { browserName: 'chromium', javaScriptEnabled: true } }],
});
