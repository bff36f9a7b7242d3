/**
 * The proofs round trip (`roundtrip.ts`) in Node (here), Deno and workerd (Chromium: `roundtrip.browser.test.ts`):
 * each runtime's checkpoints, proofs and receipt are byte-identical to Node's, verify in Node, and each runtime
 * accepts the receipt Node made (`node-receipt.json`, which Node's run must reproduce exactly).
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { reportFromDeno, reportFromWorkerd } from '../../../test/support/scenarios.ts';
import type { Receipt } from '../../src/proof/types.ts';
import { verifyProof, verifyReceipt } from '../../src/proof/verify.ts';
import type { AtlasBundle } from '../../src/types.ts';
import { expectRoundTrip } from './roundtrip-expectations.ts';
import { ROUNDTRIP_KEY, type RoundTripReport, runRoundTrip } from './roundtrip.ts';

const atlas = JSON.parse(await readFile(new URL('../parity/support-bundle.json', import.meta.url), 'utf8')) as AtlasBundle;
const nodeReceipt = JSON.parse(await readFile(new URL('./node-receipt.json', import.meta.url), 'utf8')) as Receipt;

/** Node checks what another runtime made, and that it is what Node makes. */
async function expectNodeAgrees(report: RoundTripReport, node: RoundTripReport): Promise<void> {
  expect(JSON.stringify(report.trace)).toBe(JSON.stringify(node.trace));
  expect(report.checkpoints).toEqual(node.checkpoints);
  expect(report.receipt).toEqual(node.receipt);
  expect(report.inclusion).toEqual(node.inclusion);
  expect(report.consistency).toEqual(node.consistency);
  const keys = ROUNDTRIP_KEY.verifier;
  expect(await verifyReceipt(report.receipt, { keys })).toMatchObject({ valid: true });
  const last = report.checkpoints.at(-1)!.note;
  expect(await verifyProof(report.inclusion, { event: report.trace[3]!, checkpoint: last, keys })).toMatchObject({ valid: true });
}

describe('proofs round trip in every runtime', () => {
  let node: RoundTripReport;

  it('Node: reproduces the committed receipt, verifies its own, refuses the forgeries', async () => {
    node = await runRoundTrip(atlas, nodeReceipt);
    expectRoundTrip(node, true);
    expect(node.receipt).toEqual(nodeReceipt);
  });

  it('Deno', async () => {
    const report = await reportFromDeno<RoundTripReport>(new URL('roundtrip-deno.ts', import.meta.url));
    expectRoundTrip(report, true);
    await expectNodeAgrees(report, node);
  }, 30_000);

  it('workerd', async () => {
    const report = await reportFromWorkerd<RoundTripReport>(new URL('roundtrip-worker.ts', import.meta.url));
    expectRoundTrip(report, true);
    await expectNodeAgrees(report, node);
  }, 30_000);
});
