/**
 * Time zones in the four runtimes. A `time_window.timezone` names an IANA zone that the host resolves through
 * `Intl.DateTimeFormat` (the core has no zone database), so which names load, and the offsets a window is evaluated
 * with, come from the runtime's own ICU data. This scenario runs unchanged in Node, Deno, workerd and Chromium and
 * reports, for each zone, whether an atlas naming it validates and the offsets the core is given on two dates.
 */
import { createRuntime } from '../../src/index.ts';
import type { AtlasManifest } from '../../src/types.ts';
import { tzOffsetMinutes } from '../../src/runtime/core.ts';

/** Zones every runtime must know, with their offsets (minutes east of UTC) on 2026-01-15 and 2026-07-15 at noon UTC. */
export const CANONICAL: Record<string, [number, number]> = {
  UTC: [0, 0],
  'Etc/UTC': [0, 0],
  'Europe/Paris': [60, 120],
  'America/New_York': [-300, -240],
  'Asia/Tokyo': [540, 540],
  'Asia/Kolkata': [330, 330],
  'Asia/Kathmandu': [345, 345],
  'America/St_Johns': [-210, -150],
  'Australia/Lord_Howe': [660, 630],
  'Pacific/Chatham': [825, 765],
  'America/Sao_Paulo': [-180, -180],
  'Europe/Kyiv': [120, 180],
  'America/Ciudad_Juarez': [-420, -360],
  'Pacific/Kanton': [780, 780],
  'Etc/GMT+5': [-300, -300],
};
/** Older names that the IANA database keeps as links to a canonical zone. */
export const LINKS: Record<string, string> = {
  'US/Eastern': 'America/New_York',
  'Asia/Calcutta': 'Asia/Kolkata',
  'Europe/Kiev': 'Europe/Kyiv',
  GMT: 'UTC',
};
/** Not zones. */
export const UNKNOWN = ['Mars/Olympus', 'Europe/Nowhere', 'UTC+25:00', 'Etc/GMT+15', ''];

const JAN = Date.parse('2026-01-15T12:00:00Z') / 1000;
const JUL = Date.parse('2026-07-15T12:00:00Z') / 1000;

export interface ZoneReport {
  [zone: string]: { loads: boolean; offsets: [number, number] };
}

export async function runZones(): Promise<ZoneReport> {
  const rt = await createRuntime();
  const report: ZoneReport = {};
  try {
    for (const zone of [...Object.keys(CANONICAL), ...Object.keys(LINKS), ...UNKNOWN]) {
      const manifest: AtlasManifest = {
        atlas_version: '1.0',
        atlas_id: 'com.example.zones',
        version: '1.0.0',
        name: 'Zones',
        description: '',
        actions: [{ action_id: 'office.open', name: 'Open', description: '' }],
        policies: [
          { policy_id: 'hours', type: 'allow', actions: ['office.open'], conditions: { time_window: { start: '09:00', end: '17:00', timezone: zone } } },
        ],
      };
      const v = await rt.validateAtlas(manifest);
      report[zone] = { loads: v.valid, offsets: [tzOffsetMinutes(zone, JAN), tzOffsetMinutes(zone, JUL)] };
    }
  } finally {
    await rt.close();
  }
  return report;
}
