/** Deno's run of the time-zone scenario: prints `{runtime, report}`. Driven by `zones.test.ts`. */
import { runZones } from './zones.ts';

declare const Deno: { version: { deno: string } };
console.log(JSON.stringify({ runtime: `deno ${Deno.version.deno}`, report: await runZones() }));
