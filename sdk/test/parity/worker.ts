/**
 * The parity scenario inside workerd: the SDK's sources, bundled for workers (the core imported as a `CompiledWasm`
 * module, as the package's `workerd` build does), with the scenario's deterministic host. Driven by
 * `workerd.test.ts`.
 */
import { createRuntime } from '../../src/index.ts';
import type { AtlasBundle } from '../../src/types.ts';
import { parityHost, runParityScenario } from './scenario.ts';
import atlas from './support-bundle.json';

export default {
  async fetch(): Promise<Response> {
    const runtime = await createRuntime(parityHost());
    try {
      const jsonl = await runParityScenario(runtime, atlas as unknown as AtlasBundle);
      return new Response(jsonl, { headers: { 'content-type': 'application/x-ndjson', 'x-runtime': navigator.userAgent } });
    } finally {
      await runtime.close();
    }
  },
};
