/**
 * Proofs round-trip in every runtime (Node, Deno, workerd, Chromium): each runs this same module with a fixed key,
 * clock and ids, makes checkpoints, proofs and a receipt of one session, verifies them itself (and refuses a tampered
 * receipt, a wrong key, a cut log), and verifies the receipt Node made (`node-receipt.json`). Everything it made is in
 * its report, which must be byte-identical to Node's: Ed25519 is deterministic and so is the runtime given its host.
 * Platform-neutral on purpose: no `node:` imports, the atlas and Node's receipt come in as data.
 */
import { createRuntime } from '../../src/index.ts';
import type { Checkpoint, Proof, Receipt } from '../../src/proof/types.ts';
import { verifyCheckpoint, verifyProof, verifyReceipt } from '../../src/proof/verify.ts';
import { proveTrace, traceTree } from '../../src/proof/tools.ts';
import type { AtlasBundle, TraceEvent } from '../../src/types.ts';
import { parityHost } from '../parity/scenario.ts';

/** The fixed key pair (the seed 00 01 … 1f of the Ed25519 interop test). */
export const ROUNDTRIP_KEY = {
  signer: 'PRIVATE+KEY+cra.test/roundtrip+e13674fd+AQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f',
  verifier: 'cra.test/roundtrip+e13674fd+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4',
};
/** Another key of the same name (seed 07 × 32): what every check must refuse. */
export const OTHER_VERIFIER = 'cra.test/roundtrip+ca94e37c+AepKbGPinFIKvvVQexMuxfmVR3auvr57kkIe6mkURtIs';

export interface RoundTripReport {
  trace: TraceEvent[];
  checkpoints: Checkpoint[];
  receipt: Receipt;
  inclusion: Proof;
  consistency: Proof;
  /** What this runtime answered checking what it made, what it must refuse, and Node's receipt. */
  verdicts: Record<string, { valid: boolean; reason?: string }>;
}

const verdict = (v: { valid: boolean; reason?: string }) => (v.valid ? { valid: true } : { valid: false, reason: v.reason! });

/** Runs the round trip; `nodeReceipt` is the receipt Node made (absent when Node makes it). */
export async function runRoundTrip(atlas: AtlasBundle, nodeReceipt?: Receipt): Promise<RoundTripReport> {
  const runtime = await createRuntime({ ...parityHost(), signing: { key: ROUNDTRIP_KEY.signer, every: 4 } });
  try {
    await runtime.loadAtlas(atlas);
    const session = await runtime.createSession({ agentId: 'support-bot', goal: 'Handle ticket T-10042', sessionId: '00000000-0000-7000-8000-000000000200' });
    await session.resolve({ requiredCapabilities: ['tickets.read'] });
    const lookup = await session.requestAction({ actionId: 'ticket.lookup', parameters: { ticket_id: 'T-10042' } });
    await session.complete(lookup, { result: { status: 'open' } });
    await session.end();
    const trace = await session.trace();
    const checkpoints = await session.checkpoints();
    const first = checkpoints[0]!;
    const last = checkpoints[checkpoints.length - 1]!;
    const receipt = await session.receipt(lookup);
    const inclusion = await session.prove({ index: 3 });
    const consistency = await session.prove({ first: first.size });
    const keys = ROUNDTRIP_KEY.verifier;
    const tampered = structuredClone(receipt);
    tampered.entries[0]!.event.payload.action_id = 'customer.delete';
    const cut = trace.slice(0, -1);
    const verdicts: RoundTripReport['verdicts'] = {
      checkpoint: verdict(await verifyCheckpoint(last.note, { keys })),
      checkpointOtherKey: verdict(await verifyCheckpoint(last.note, { keys: OTHER_VERIFIER })),
      receipt: verdict(await verifyReceipt(receipt, { keys })),
      receiptTampered: verdict(await verifyReceipt(tampered, { keys })),
      receiptOtherKey: verdict(await verifyReceipt(receipt, { keys: OTHER_VERIFIER })),
      inclusion: verdict(await verifyProof(inclusion, { event: trace[3]!, checkpoint: last.note, keys })),
      inclusionWrongEvent: verdict(await verifyProof(inclusion, { event: trace[4]!, checkpoint: last.note, keys })),
      consistency: verdict(await verifyProof(consistency, { checkpoint: last.note, firstCheckpoint: first.note, keys })),
      // A log cut by one event no longer has the checkpoint's root at its size (it has no such size at all).
      cutLog: await traceTree(cut, { size: last.size }).then(
        (t) => ({ valid: t.root === last.root }),
        (e: { code?: string }) => ({ valid: false, reason: e.code ?? 'error' }),
      ),
      // A proof made from the cut log's own tree does not end in the checkpoint.
      cutProof: verdict(await verifyProof(await proveTrace(cut, { index: 3 }), { checkpoint: last.note, keys })),
    };
    if (nodeReceipt) verdicts.nodeReceipt = verdict(await verifyReceipt(nodeReceipt, { keys }));
    return { trace, checkpoints, receipt, inclusion, consistency, verdicts };
  } finally {
    await runtime.close();
  }
}
