/** The Ed25519 scenario inside workerd. Driven by `runtimes.test.ts`. */
import { runProofScenario } from './scenario.ts';

export default {
  async fetch(): Promise<Response> {
    return Response.json(await runProofScenario(), { headers: { 'x-runtime': navigator.userAgent } });
  },
};
