/** The guard scenario (`../guard/scenario.ts`, also run in Node, Deno and workerd) in Chromium. */
import { describe, it } from 'vitest';
import wasmUrl from '../../src/runtime/cra_core.wasm?url';
import { createRuntime } from '../../src/index.ts';
import { expectScenarioReport } from '../guard/expectations.ts';
import { runGuardScenario } from '../guard/scenario.ts';
import { supportAtlas } from './helpers.ts';

describe('guard (Chromium)', () => {
  it('runs the guard scenario', async () => {
    const runtime = await createRuntime({ wasm: wasmUrl });
    try {
      expectScenarioReport(await runGuardScenario(runtime, supportAtlas()));
    } finally {
      await runtime.close();
    }
  });
});
