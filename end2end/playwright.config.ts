import { defineConfig } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Each run gets a fresh data directory: a new database, master key, admin and demo data.
// The config is read again in every worker; they inherit this variable from the main
// process, so all of them name the directory the server was started on.
const dataDir = process.env.STOOK_E2E_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'stook-e2e-'));
const port = Number(process.env.STOOK_E2E_PORT ?? 3100);
export const baseURL = `http://127.0.0.1:${port}`;
const s3Port = Number(process.env.STOOK_E2E_S3_PORT ?? 9100);
// The S3 endpoint of the server under test, for tests that use a key made in the panel.
process.env.STOOK_E2E_S3_URL = `http://127.0.0.1:${s3Port}`;
// The binary and data directory of the server under test, for tests that use the CLI.
const stookBin = process.env.STOOK_E2E_BIN ?? '../target/release/stook';
process.env.STOOK_E2E_BIN = stookBin;
process.env.STOOK_E2E_DATA_DIR = dataDir;

const launchOptions = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
};

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  retries: 0,
  workers: 1,
  reporter: [['list']],
  use: { baseURL, launchOptions, trace: 'retain-on-failure' },
  // Every page test runs twice: hydrated, and with JavaScript off (plain forms).
  projects: [
    { name: 'hydrated', use: { browserName: 'chromium', javaScriptEnabled: true } },
    { name: 'no-javascript', use: { browserName: 'chromium', javaScriptEnabled: false } },
  ],
  // The release build that ./scripts/run.sh serves (scripts/build.sh):
  // a debug build skips wasm-opt and once hid a bundle that never loaded.
  webServer: {
    command: `${stookBin} serve`,
    url: `${baseURL}/login`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    env: {
      STOOK_DATA_DIR: dataDir,
      STOOK_LISTEN: `127.0.0.1:${port}`,
      STOOK_S3_LISTEN: `127.0.0.1:${s3Port}`,
      STOOK_SITE_ROOT: '../target/site',
      STOOK_SECURE_COOKIES: 'false',
      STOOK_ADMIN_EMAIL: 'admin@stook.test',
      STOOK_ADMIN_PASSWORD: 'admin-password-for-tests',
      STOOK_DEMO: 'true',
      STOOK_DEMO_PASSWORD: 'demo-password-for-tests',
      RUST_LOG: 'warn',
    },
  },
});
