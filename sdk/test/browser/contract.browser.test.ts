/** The CraRuntime contract (`../contract.ts`, also run by Node and by the HTTP client) in Chromium. */
import wasmUrl from '../../src/runtime/cra_core.wasm?url';
import { createRuntime } from '../../src/index.ts';
import { runtimeContract } from '../contract.ts';
import { simpleAtlas, supportAtlas } from './helpers.ts';

runtimeContract('embedded in Chromium', () => createRuntime({ wasm: wasmUrl }), {
  simple: await simpleAtlas(),
  support: supportAtlas(),
});
