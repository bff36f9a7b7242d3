/** Deno's run of the ABI scenario: prints the report as JSON. Driven by `runtimes.test.ts`. */
import { OTHER_VERSION_CORE, UNVERSIONED_CORE } from '../portable.ts';
import { runAbiScenario } from './scenario.ts';

declare const Deno: { version: { deno: string } };

const report = await runAbiScenario({ otherVersion: OTHER_VERSION_CORE, unversioned: UNVERSIONED_CORE });
console.log(JSON.stringify({ runtime: `deno ${Deno.version.deno}`, report }));
