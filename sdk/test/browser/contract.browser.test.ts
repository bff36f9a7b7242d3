/** The CraRuntime contract (`../contract.ts`, also run in Node by `sdk/src/runtime/contract.test.ts`) in Chromium. */
import wasmUrl from '../../src/runtime/cra_core.wasm?url';
import { createRuntime } from '../../src/index.ts';
import { runtimeContract } from '../contract.ts';
import { simpleAtlas, supportAtlas } from './helpers.ts';

runtimeContract('embedded in Chromium', () => createRuntime({ wasm: wasmUrl }), {
  simple: await simpleAtlas(),
  support: supportAtlas(),
});
