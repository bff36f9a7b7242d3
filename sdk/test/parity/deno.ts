/**
 * Deno's run of the parity scenario, on the SDK's sources (the core read from the file beside the loader):
 * `deno run --allow-read sdk/test/parity/deno.ts` prints `{runtime, jsonl}`. Driven by `deno.test.ts`.
 */
import { createRuntime } from '../../src/index.ts';
import type { AtlasBundle } from '../../src/types.ts';
import { parityHost, runParityScenario } from './scenario.ts';

declare const Deno: { version: { deno: string }; readTextFile(url: URL): Promise<string> };

const atlas = JSON.parse(await Deno.readTextFile(new URL('./support-bundle.json', import.meta.url))) as AtlasBundle;
const runtime = await createRuntime(parityHost());
try {
  const jsonl = await runParityScenario(runtime, atlas);
  console.log(JSON.stringify({ runtime: `deno ${Deno.version.deno}`, jsonl }));
} finally {
  await runtime.close();
}
