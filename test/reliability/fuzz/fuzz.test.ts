/** The fuzz suite at CI size: a fixed seed, a few hundred cases per surface (`npm run fuzz` runs it long). */
import { describe, expect, it } from 'vitest';
import { reproduce } from '../common/summary.ts';
import { runFuzz } from './run.ts';

const SEED = 20_240_601;
const CASES = 400;

describe('fuzz (CI size)', () => {
  for (const surface of ['abi', 'sdk', 'http'] as const) {
    it(`${surface}: ${CASES} cases, seed ${SEED}`, async () => {
      const { summary, failures } = await runFuzz({ seed: SEED, sizes: { cases: CASES }, flags: new Set([surface]) });
      expect(failures.total, reproduce(summary, failures.byClass(), `--cases ${CASES} --${surface}`)).toBe(0);
    }, 120_000);
  }
});
