/** The time-zone scenario inside workerd. Driven by `zones.test.ts`. */
import { runZones } from './zones.ts';

export default {
  async fetch(): Promise<Response> {
    return Response.json(await runZones(), { headers: { 'x-runtime': navigator.userAgent } });
  },
};
