/** What every runtime's {@link runZones} report must say (`expect` comes from the runner: vitest in Node or Chromium). */
import { expect } from 'vitest';
import { CANONICAL, LINKS, UNKNOWN, type ZoneReport } from './zones.ts';

export function expectZones(report: ZoneReport): void {
  for (const [zone, offsets] of Object.entries(CANONICAL)) expect(report[zone], zone).toEqual({ loads: true, offsets });
  for (const [link, target] of Object.entries(LINKS)) expect(report[link], link).toEqual({ loads: true, offsets: CANONICAL[target] });
  for (const zone of UNKNOWN) expect(report[zone]?.loads, JSON.stringify(zone)).toBe(false);
}
