/**
 * `npm run test:browser`: everything that needs Chromium (`/usr/bin/chromium`, or `CRA_CHROMIUM`).
 *
 * - project `chromium`: SDK suites inside a real headless Chromium (vitest browser mode, @vitest/browser-playwright
 *   driving the system browser through playwright-core): the `*.browser.test.ts` files under `sdk/`, plus the Node
 *   suites that need nothing from Node, run unchanged (their `…/test/helpers.ts` import is aliased to the browser
 *   stand-in `sdk/test/browser/helpers.ts`, which bundles the fixtures through Vite).
 * - project `e2e`: `examples/browser/*.browser.test.ts`, Node-side tests that build the browser example, serve it on
 *   loopback and drive Chromium through it with playwright-core.
 *
 * The root `npm test` (vitest.config.ts) excludes `*.browser.test.ts`. No browser is downloaded, ever: a missing
 * Chromium fails the run (CI installs it with apt).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';
import { CHROMIUM, CHROMIUM_ARGS } from './examples/browser/chromium.ts';

if (!existsSync(CHROMIUM)) {
  throw new Error(
    `npm run test:browser needs Chromium at ${CHROMIUM} and found none. Install it with \`apt-get install -y chromium\` ` +
      '(Debian; CI does this in .ci/run), or point CRA_CHROMIUM at a Chromium binary. Never `npx playwright install`.',
  );
}

/** Node suites that run unchanged in Chromium: they use fixtures and portable helpers only. */
const PORTABLE_NODE_SUITES = [
  'sdk/src/errors.test.ts',
  'sdk/src/host.test.ts',
  'sdk/src/runtime/params.test.ts',
  'sdk/src/runtime/tools.test.ts',
  'sdk/src/runtime/failclosed.test.ts',
  'sdk/src/storage/memory.test.ts',
];

export default defineConfig({
  test: {
    projects: [
      {
        resolve: {
          alias: [{ find: /^(?:\.\.\/)+test\/helpers\.ts$/, replacement: fileURLToPath(new URL('./sdk/test/browser/helpers.ts', import.meta.url)) }],
        },
        optimizeDeps: { include: ['@cfworker/json-schema'] },
        test: {
          name: 'chromium',
          include: ['sdk/**/*.browser.test.ts', ...PORTABLE_NODE_SUITES],
          testTimeout: 30_000,
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({ launchOptions: { executablePath: CHROMIUM, args: CHROMIUM_ARGS } }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['examples/browser/**/*.browser.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
