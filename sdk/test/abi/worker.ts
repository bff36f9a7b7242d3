/** The ABI scenario inside workerd, with the foreign cores bundled as modules. Driven by `runtimes.test.ts`. */
import otherVersion from './other-version.wasm';
import unversioned from './unversioned.wasm';
import { runAbiScenario } from './scenario.ts';

export default {
  async fetch(): Promise<Response> {
    return Response.json(await runAbiScenario({ otherVersion, unversioned }), { headers: { 'x-runtime': navigator.userAgent } });
  },
};
