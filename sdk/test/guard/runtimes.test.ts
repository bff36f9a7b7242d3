/** The guard scenario in Deno (the `deno` binary of the dev dependencies) and in workerd (Miniflare), offline. */
import { describe, it } from 'vitest';
import { reportFromDeno, reportFromWorkerd } from '../../../test/support/scenarios.ts';
import { expectScenarioReport } from './expectations.ts';
import type { GuardReport } from './scenario.ts';

describe('guard scenario in other runtimes', () => {
  it('Deno', async () => {
    expectScenarioReport(await reportFromDeno<GuardReport>(new URL('deno.ts', import.meta.url)));
  }, 60_000);

  it('workerd', async () => {
    expectScenarioReport(await reportFromWorkerd<GuardReport>(new URL('worker.ts', import.meta.url)));
  }, 60_000);
});
