/** The load suite at CI size: a fixed seed, 5 seconds of 8 clients (`npm run load` runs it long). */
import { expect, it } from 'vitest';
import { reproduce } from '../common/summary.ts';
import { runLoad } from './run.ts';

const SEED = 20_240_601;

it(`load: 5 s, 8 clients, seed ${SEED}`, async () => {
  const { summary, failures } = await runLoad({ seed: SEED, sizes: { seconds: 5, clients: 8 } });
  expect(failures.total, reproduce(summary, failures.byClass(), '--seconds 5 --clients 8')).toBe(0);
}, 90_000);
