import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['sdk/**/*.test.ts', 'server/**/*.test.ts', 'wasm/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'wasm/target/**', 'dist/**'],
    environment: 'node',
    testTimeout: 20_000,
  },
});
