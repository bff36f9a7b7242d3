/** The chaos suite at CI size: a fixed seed, two kill rounds, then the corruption phase (`npm run chaos` runs it long). */
import { expect, it } from 'vitest';
import { reproduce } from '../common/summary.ts';
import { runChaos } from './run.ts';

const SEED = 20_240_601;

it(`chaos: 2 SIGKILL rounds and every kind of damage, seed ${SEED}`, async () => {
  const { summary, failures } = await runChaos({ seed: SEED, sizes: { rounds: 2 } });
  expect(failures.total, reproduce(summary, failures.byClass(), '--rounds 2')).toBe(0);
}, 150_000);
