/**
 * The Ed25519 scenario (`scenario.ts`, also run in Node, Deno and workerd) in Chromium, whose WebCrypto has Ed25519
 * from version 137 on, in secure contexts only (the suite's page is served from loopback, which is one).
 */
import { describe, expect, it } from 'vitest';
import { signerFromSeed, verifySignature } from '../../src/proof/ed25519.ts';
import { expectProofReport } from './expectations.ts';
import { INTEROP, runProofScenario } from './scenario.ts';
import { fromHex, toHex } from './vectors.ts';

describe('Ed25519 through WebCrypto (Chromium)', () => {
  it('is a secure context with WebCrypto', () => {
    expect(globalThis.isSecureContext).toBe(true);
    expect(typeof globalThis.crypto.subtle.importKey).toBe('function');
  });

  it('answers what Node answers', async () => {
    const report = await runProofScenario();
    expectProofReport(report);
    // The generated pair, checked again from its seed alone (Node checks it the same way for Deno and workerd).
    const message = new TextEncoder().encode(INTEROP.message);
    const signer = await signerFromSeed(fromHex(report.generated.seed));
    expect(toHex(signer.publicKey)).toBe(report.generated.publicKey);
    expect(toHex(await signer.sign(message))).toBe(report.generated.signature);
    expect(await verifySignature(signer.publicKey, fromHex(report.interop.signature), message)).toBe(false);
  });
});
