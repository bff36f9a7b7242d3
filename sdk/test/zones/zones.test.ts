/**
 * Time zones in Node (here), Deno and workerd (Chromium: `zones.browser.test.ts`): the same names load, with the
 * same offsets, in every runtime (docs/protocol.md, "Where this runtime differs from the schemas", `time-zones`).
 */
import { describe, expect, it } from 'vitest';
import { reportFromDeno, reportFromWorkerd } from '../../../test/support/scenarios.ts';
import { expectZones } from './zones-expectations.ts';
import { runZones, type ZoneReport } from './zones.ts';

describe('time zones in every runtime', () => {
  let node: ZoneReport;

  it('Node', async () => {
    node = await runZones();
    expectZones(node);
  });

  it('Deno: the same zones load, with the same offsets', async () => {
    const report = await reportFromDeno<ZoneReport>(new URL('zones-deno.ts', import.meta.url));
    expectZones(report);
    expect(report).toEqual(node);
  }, 30_000);

  it('workerd: the same zones load, with the same offsets', async () => {
    const report = await reportFromWorkerd<ZoneReport>(new URL('zones-worker.ts', import.meta.url));
    expectZones(report);
    expect(report).toEqual(node);
  }, 30_000);
});
