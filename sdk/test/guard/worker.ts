/** The guard scenario inside workerd (the SDK's sources bundled for workers). Driven by `runtimes.test.ts`. */
import { createRuntime } from '../../src/index.ts';
import type { AtlasBundle } from '../../src/types.ts';
import atlas from '../parity/support-bundle.json';
import { runGuardScenario } from './scenario.ts';

export default {
  async fetch(): Promise<Response> {
    const runtime = await createRuntime();
    try {
      const report = await runGuardScenario(runtime, atlas as unknown as AtlasBundle);
      return Response.json(report, { headers: { 'x-runtime': navigator.userAgent } });
    } finally {
      await runtime.close();
    }
  },
};
