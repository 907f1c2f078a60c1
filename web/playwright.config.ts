// Browser journeys against a running stack whose gateway serves the built console (/) and H5
// (/m/). `tests/e2e/test_browser.py` starts the stack and sets the variables; by hand:
//   CRM_WEB_BASE_URL=http://127.0.0.1:8000 CRM_ADMIN_PASSWORD=… npm run test:browser
// Debian's Chromium, not Playwright's download (which cannot work here).
import { defineConfig, devices } from '@playwright/test'
import { fileURLToPath } from 'node:url'

const artifacts = process.env.CRM_WEB_ARTIFACTS || fileURLToPath(new URL('./test-results', import.meta.url))

export default defineConfig({
  testDir: './e2e',
  outputDir: artifacts,
  // One journey, run in order; the machine is small and shared with the stack.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 15 * 60_000,
  expect: { timeout: 20_000 },
  reporter: [['list']],
  use: {
    baseURL: process.env.CRM_WEB_BASE_URL || 'http://127.0.0.1:8000',
    testIdAttribute: 'data-test',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    actionTimeout: 20_000,
    navigationTimeout: 60_000,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    ...devices['Desktop Chrome'],
    viewport: { width: 1366, height: 768 },
    launchOptions: {
      executablePath: process.env.PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-dev-shm-usage'],
    },
  },
})
