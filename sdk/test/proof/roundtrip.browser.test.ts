/**
 * The proofs round trip (`roundtrip.ts`) in Chromium: the same checkpoints, proofs and receipt as Node's, byte for
 * byte (Node's receipt is `node-receipt.json`), and Node's receipt accepted.
 */
import { describe, expect, it } from 'vitest';
import type { Receipt } from '../../src/proof/types.ts';
import type { AtlasBundle } from '../../src/types.ts';
import atlas from '../parity/support-bundle.json';
import nodeReceipt from './node-receipt.json';
import { expectRoundTrip } from './roundtrip-expectations.ts';
import { runRoundTrip } from './roundtrip.ts';

describe('proofs round trip (Chromium)', () => {
  it("makes Node's receipt byte for byte, verifies it, refuses the forgeries", async () => {
    const report = await runRoundTrip(atlas as unknown as AtlasBundle, nodeReceipt as unknown as Receipt);
    expectRoundTrip(report, true);
    expect(report.receipt).toEqual(nodeReceipt);
  });
});
