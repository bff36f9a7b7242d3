import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['sdk/**/*.test.ts', 'docs/**/*.test.ts', 'server/**/*.test.ts', 'wasm/**/*.test.ts', 'test/**/*.test.ts', 'examples/edge/**/*.test.ts', 'examples/agents/**/*.test.ts'],
    // `*.browser.test.ts` need Chromium: they run with `npm run test:browser` (vitest.browser.config.ts).
    exclude: ['**/node_modules/**', 'wasm/target/**', 'dist/**', '**/*.browser.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
  },
});
