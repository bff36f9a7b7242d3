/** What every runtime's proofs round trip must answer (`roundtrip.ts`): its own proofs hold, every forgery is refused. */
import { expect } from 'vitest';
import type { RoundTripReport } from './roundtrip.ts';

export function expectRoundTrip(report: RoundTripReport, withNodeReceipt: boolean): void {
  expect(report.verdicts).toEqual({
    checkpoint: { valid: true },
    checkpointOtherKey: { valid: false, reason: 'unknown_key' },
    receipt: { valid: true },
    receiptTampered: { valid: false, reason: 'event_hash_mismatch' },
    receiptOtherKey: { valid: false, reason: 'unknown_key' },
    inclusion: { valid: true },
    inclusionWrongEvent: { valid: false, reason: 'wrong_event' },
    consistency: { valid: true },
    cutLog: { valid: false, reason: 'invalid_request' },
    cutProof: { valid: false, reason: 'checkpoint_mismatch' },
    ...(withNodeReceipt ? { nodeReceipt: { valid: true } } : {}),
  });
  expect(report.checkpoints.map((c) => c.size).at(-1)).toBe(report.trace.length);
}
