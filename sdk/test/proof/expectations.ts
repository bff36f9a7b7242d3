/** What every runtime's Ed25519 report must say (see `scenario.ts`). */
import { expect } from 'vitest';
import { INTEROP, type ProofReport } from './scenario.ts';
import { RFC8032_VECTORS } from './vectors.ts';

export function expectProofReport(report: ProofReport): void {
  // RFC 8032 §7.1: the seed gives the RFC's public key, the message the RFC's signature, which verifies.
  expect(report.vectors).toEqual(RFC8032_VECTORS.map((v) => ({ name: v.name, publicKey: v.publicKey, signature: v.signature, verifies: true })));
  // Deterministic: the fixed seed signs the fixed message to Node's bytes, and Node's signature verifies here.
  expect(report.interop).toEqual({ publicKey: INTEROP.publicKey, signature: INTEROP.signature, verifiesNode: true });
  expect(report.generated.seed).toMatch(/^[0-9a-f]{64}$/);
  expect(report.generated.publicKey).toMatch(/^[0-9a-f]{64}$/);
  expect(report.generated.seed).not.toBe(INTEROP.seed);
  expect(report.generated.verifies).toBe(true);
  // Every refusal is a plain `false`: no throw, in any runtime.
  expect(Object.keys(report.refusals).length).toBeGreaterThanOrEqual(17);
  for (const [name, answer] of Object.entries(report.refusals)) expect({ name, answer }).toEqual({ name, answer: false });
  expect(report.edges).toEqual({
    'identity key, canonical': true,
    'identity key as y = p + 1': false,
    'identity key with the sign bit (negative zero)': false,
    'y = p - 1, the largest canonical y': true,
    'y = p - 1 with the sign bit (negative zero)': false,
    'identity R as y = p + 1': false,
  });
  const refused = (got: string) => ({
    code: 'invalid_request',
    path: '/seed',
    message: `\`seed\` must be 32 bytes (an Ed25519 private key seed), got ${got}`,
  });
  expect(report.seedErrors).toEqual({
    '31 bytes': refused('31 bytes'),
    '33 bytes': refused('33 bytes'),
    '64 bytes (seed and public key)': refused('64 bytes'),
    'a string': refused('string'),
  });
}
