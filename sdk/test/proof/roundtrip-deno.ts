/** Deno's run of the proofs round trip: prints `{runtime, report}`. Driven by `roundtrip.test.ts`. */
import type { Receipt } from '../../src/proof/types.ts';
import type { AtlasBundle } from '../../src/types.ts';
import { runRoundTrip } from './roundtrip.ts';

declare const Deno: { version: { deno: string }; readTextFile(url: URL): Promise<string> };

const atlas = JSON.parse(await Deno.readTextFile(new URL('../parity/support-bundle.json', import.meta.url))) as AtlasBundle;
const nodeReceipt = JSON.parse(await Deno.readTextFile(new URL('./node-receipt.json', import.meta.url))) as Receipt;
console.log(JSON.stringify({ runtime: `deno ${Deno.version.deno}`, report: await runRoundTrip(atlas, nodeReceipt) }));
