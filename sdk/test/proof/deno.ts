/** Deno's run of the Ed25519 scenario: prints the report as JSON. Driven by `runtimes.test.ts`. */
import { runProofScenario } from './scenario.ts';

declare const Deno: { version: { deno: string } };

const report = await runProofScenario();
console.log(JSON.stringify({ runtime: `deno ${Deno.version.deno}`, report }));
