/** The proofs round trip inside workerd. Driven by `roundtrip.test.ts`. */
import type { Receipt } from '../../src/proof/types.ts';
import type { AtlasBundle } from '../../src/types.ts';
import atlas from '../parity/support-bundle.json';
import nodeReceipt from './node-receipt.json';
import { runRoundTrip } from './roundtrip.ts';

export default {
  async fetch(): Promise<Response> {
    const report = await runRoundTrip(atlas as unknown as AtlasBundle, nodeReceipt as unknown as Receipt);
    return Response.json(report, { headers: { 'x-runtime': navigator.userAgent } });
  },
};
