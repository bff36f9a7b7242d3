/**
 * Deno's run of the guard scenario, on the SDK's sources: `deno run --allow-read sdk/test/guard/deno.ts` prints the
 * report as JSON. Driven by `runtimes.test.ts`.
 */
import { createRuntime } from '../../src/index.ts';
import type { AtlasBundle } from '../../src/types.ts';
import { runGuardScenario } from './scenario.ts';

declare const Deno: { version: { deno: string }; readTextFile(url: URL): Promise<string> };

const atlas = JSON.parse(await Deno.readTextFile(new URL('../parity/support-bundle.json', import.meta.url))) as AtlasBundle;
const runtime = await createRuntime();
try {
  console.log(JSON.stringify({ runtime: `deno ${Deno.version.deno}`, report: await runGuardScenario(runtime, atlas) }));
} finally {
  await runtime.close();
}
