/** The ABI version check (`../abi/scenario.ts`, also run in Node, Deno and workerd) in Chromium. */
import { describe, it } from 'vitest';
import wasmUrl from '../../src/runtime/cra_core.wasm?url';
import { expectAbiReport } from '../abi/expectations.ts';
import { runAbiScenario } from '../abi/scenario.ts';
import { OTHER_VERSION_CORE, UNVERSIONED_CORE } from '../portable.ts';

describe('ABI version (Chromium)', () => {
  it('accepts the shipped core and refuses one of another version', async () => {
    expectAbiReport(await runAbiScenario({ shipped: wasmUrl, otherVersion: OTHER_VERSION_CORE, unversioned: UNVERSIONED_CORE }));
  });
});
