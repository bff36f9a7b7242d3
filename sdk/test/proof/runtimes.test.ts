/**
 * Ed25519 through WebCrypto in Node (here), Deno (the `deno` binary of the dev dependencies) and workerd (Miniflare),
 * and each runtime's signatures checked by Node: the fixed seed's are byte-identical to Node's, and a key pair the
 * runtime generated gives, in Node, the same public key from its seed and a signature that verifies.
 */
import { describe, expect, it } from 'vitest';
import { reportFromDeno, reportFromWorkerd } from '../../../test/support/scenarios.ts';
import { signerFromSeed, verifySignature } from '../../src/proof/ed25519.ts';
import { expectProofReport } from './expectations.ts';
import { INTEROP, type ProofReport, runProofScenario } from './scenario.ts';
import { fromHex, toHex } from './vectors.ts';

/** What Node makes of another runtime's report: its signatures verify here and its generated seed is its key's. */
async function expectNodeAgrees(report: ProofReport): Promise<void> {
  const message = new TextEncoder().encode(INTEROP.message);
  expect(await verifySignature(fromHex(report.interop.publicKey), fromHex(report.interop.signature), message)).toBe(true);
  const { seed, publicKey, signature } = report.generated;
  const signer = await signerFromSeed(fromHex(seed));
  expect(toHex(signer.publicKey)).toBe(publicKey);
  expect(await verifySignature(fromHex(publicKey), fromHex(signature), message)).toBe(true);
  expect(toHex(await signer.sign(message))).toBe(signature);
}

describe('Ed25519 through WebCrypto in every runtime', () => {
  it('Node', async () => {
    const report = await runProofScenario();
    expectProofReport(report);
    await expectNodeAgrees(report);
  });

  it('Deno', async () => {
    const report = await reportFromDeno<ProofReport>(new URL('deno.ts', import.meta.url));
    expectProofReport(report);
    await expectNodeAgrees(report);
  }, 20_000);

  it('workerd', async () => {
    const report = await reportFromWorkerd<ProofReport>(new URL('worker.ts', import.meta.url));
    expectProofReport(report);
    await expectNodeAgrees(report);
  }, 20_000);
});
