/** Time zones in Chromium: the same names load, with the same offsets, as in Node, Deno and workerd (`zones.test.ts`). */
import { describe, it } from 'vitest';
import { expectZones } from './zones-expectations.ts';
import { runZones } from './zones.ts';

describe('time zones (Chromium)', () => {
  it('loads the canonical zones and their links with the expected offsets, and refuses names that are not zones', async () => {
    expectZones(await runZones());
  });
});
