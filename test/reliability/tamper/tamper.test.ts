/** The tamper suite at CI size: a 1 000-event trace, a seeded sample of bytes and events (`npm run tamper -- --every-byte` runs it all). */
import { expect, it } from 'vitest';
import { reproduce } from '../common/summary.ts';
import { runTamper } from './run.ts';

const SEED = 20_240_601;

it(`tamper: 1 000-event trace, 300 bytes and 40 events, seed ${SEED}`, async () => {
  const { summary, failures } = await runTamper({ seed: SEED, sizes: { cases: 300, 'event-cases': 40 }, flags: new Set() });
  expect(failures.total, reproduce(summary, failures.byClass(), '--cases 300 --event-cases 40')).toBe(0);
}, 150_000);
