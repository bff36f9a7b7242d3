/**
 * Proofs: what a signed log costs and what its proofs cost, on the 9 006-event trace of the verify group.
 *
 * - Recording with signing on: a governed call (`ticket.lookup` requested and completed: 3 events) in a runtime that
 *   signs a checkpoint every 1000 events, against the same call in one that signs none (same run). The tree is kept
 *   beside every chain head either way (two SHA-256 per event at most); signing adds an Ed25519 signature and a
 *   stored note once per 1000 events. Target: ≤ 1.10× the unsigned call.
 * - The tree of a trace (`traceTree`), an inclusion proof (`proveTrace`), both read from the trace's JSONL, against
 *   node:crypto hashing the same leaves into a root in JS (the floor of any Merkle root written in JS).
 * - Checking: `verifyProof` against a signed checkpoint, `verifyReceipt`, and `verifyCheckpoint` alone (one
 *   WebCrypto Ed25519 verification and one core call) against node:crypto's Ed25519 verify of the same note body.
 */

import { createHash, createPublicKey, verify as edVerify } from 'node:crypto';
import { createRuntime } from '../src/runtime/runtime.ts';
import { generateSigningKey } from '../src/proof/signer.ts';
import { proveTrace, signTrace, traceTree } from '../src/proof/tools.ts';
import { verifyCheckpoint, verifyProof, verifyReceipt } from '../src/proof/verify.ts';
import { toJsonl } from '../src/runtime/tools.ts';
import { MemoryStore } from '../src/storage/memory.ts';
import { fmtRatio, measure, printRows, supportAtlas, target } from './harness.ts';
import { governedTrace, TRACE_EVENTS } from './verify.ts';

/** The Merkle root of leaf inputs in JS with node:crypto (RFC 6962: largest power of two below n splits). */
function jsRoot(leaves: Buffer[]): Buffer {
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return createHash('sha256').update(Buffer.of(1)).update(jsRoot(leaves.slice(0, k))).update(jsRoot(leaves.slice(k))).digest();
}

export async function run(module: WebAssembly.Module): Promise<void> {
  const key = await generateSigningKey('bench.cra/proofs');
  const atlas = await supportAtlas();
  const events = (await governedTrace(module, TRACE_EVENTS)).slice(0, TRACE_EVENTS);
  const jsonl = await toJsonl(events);
  const checkpoint = await signTrace(jsonl, key.signer, { wasm: module });
  const inclusion = await proveTrace(jsonl, { index: 4_500 }, { wasm: module });

  // Two runtimes, one signing every 1000 events: the same governed call in each.
  const runtimes = await Promise.all(
    [undefined, { key: key.signer, every: 1000 }].map(async (signing) => {
      // In memory for both (the receipt below reads the trace and its checkpoints back).
      const rt = await createRuntime({ wasm: module, atlases: [atlas], storage: new MemoryStore(), ...(signing ? { signing } : {}) });
      const session = await rt.createSession({ agentId: 'bench', goal: 'Answer ticket T-10042' });
      await session.resolve();
      return { rt, session };
    }),
  );
  // A receipt of one call, from the signing runtime's own session.
  const signed = runtimes[1]!.session;
  const call = await signed.requestAction({ actionId: 'ticket.lookup', parameters: { ticket_id: 'T-10042' } });
  await signed.complete(call, { result: { status: 'open' } });
  const receipt = await runtimes[1]!.rt.receipt(signed.id, call.execution_id);

  const leaves = events.map((e) => createHash('sha256').update(Buffer.of(0)).update(Buffer.from(e.event_hash, 'hex')).digest());
  if (jsRoot(leaves).toString('hex') !== checkpoint.root) throw new Error('proofs bench: the JS root is not the core root');
  const body = checkpoint.note.slice(0, checkpoint.note.indexOf('\n\n') + 1);
  const sig = Buffer.from(checkpoint.note.trim().split(' ').at(-1)!, 'base64').subarray(4);
  const raw = Buffer.from(key.verifier.split('+').slice(2).join('+'), 'base64').subarray(1);
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
  if (!edVerify(null, Buffer.from(body), publicKey, sig)) throw new Error('proofs bench: node:crypto does not verify the note');

  let sink = 0;
  const names = {
    unsigned: 'governed call, no signing',
    signing: 'governed call, signing every 1000 events',
    jsRoot: `node:crypto Merkle root of ${TRACE_EVENTS} leaves`,
    tree: `traceTree(${TRACE_EVENTS} events, JSONL)`,
    prove: `proveTrace(${TRACE_EVENTS} events, one index)`,
    nodeVerify: 'node:crypto Ed25519 verify of a note body',
    checkpoint: 'verifyCheckpoint (WebCrypto + core)',
    proof: 'verifyProof against a signed checkpoint',
    receipt: 'verifyReceipt (3 events)',
  };
  /** `BATCH` awaited calls per sample (the harness divides by `batch`). */
  const BATCH = 20;
  const governed = (i: number) => async () => {
    const s = runtimes[i]!.session;
    for (let k = 0; k < BATCH; k++) {
      const e = await s.requestAction({ actionId: 'ticket.lookup', parameters: { ticket_id: 'T-10042' } });
      sink += (await s.complete(e, { result: { status: 'open' } })).status.length;
    }
  };
  const times = (fn: () => unknown) => async () => {
    for (let k = 0; k < BATCH; k++) await fn();
  };
  const stats = await measure([
    { name: names.unsigned, batch: BATCH, async: true, fn: governed(0) },
    { name: names.signing, batch: BATCH, async: true, fn: governed(1) },
    { name: names.jsRoot, batch: 1, fn: () => (sink += jsRoot(leaves).length) },
    { name: names.tree, batch: 1, async: true, fn: async () => (sink += (await traceTree(jsonl, { wasm: module })).size) },
    { name: names.prove, batch: 1, async: true, fn: async () => (sink += (await proveTrace(jsonl, { index: 4_500 }, { wasm: module })).type.length) },
    { name: names.nodeVerify, batch: 1, fn: () => (sink += edVerify(null, Buffer.from(body), publicKey, sig) ? 1 : 0) },
    { name: names.checkpoint, batch: BATCH, async: true, fn: times(async () => (sink += (await verifyCheckpoint(checkpoint.note, { keys: key.verifier, wasm: module })).valid ? 1 : 0)) },
    { name: names.proof, batch: BATCH, async: true, fn: times(async () => (sink += (await verifyProof(inclusion, { checkpoint: checkpoint.note, keys: key.verifier, wasm: module })).valid ? 1 : 0)) },
    { name: names.receipt, batch: BATCH, async: true, fn: times(async () => (sink += (await verifyReceipt(receipt, { keys: key.verifier, wasm: module })).valid ? 1 : 0)) },
  ]);
  for (const { rt } of runtimes) await rt.close();
  if (sink === 0) throw new Error('proofs bench: nothing ran');

  const get = (n: string) => stats.get(n)!;
  const ratio = get(names.signing).median / get(names.unsigned).median;
  target({ group: 'proofs', name: 'governed call with signing every 1000 events, vs none', value: fmtRatio(ratio), target: '≤ 1.10×', pass: ratio <= 1.1 });
  printRows(
    'proofs: recording',
    [
      { name: names.unsigned, stats: get(names.unsigned), isBaseline: true },
      { name: names.signing, stats: get(names.signing), baseline: names.unsigned },
    ],
    ['per governed call (3 events); a checkpoint (Ed25519 signature + stored note) every 1000 events'],
  );
  printRows('proofs: tree and proofs', [
    { name: names.jsRoot, stats: get(names.jsRoot), isBaseline: true },
    { name: names.tree, stats: get(names.tree), baseline: names.jsRoot },
    { name: names.prove, stats: get(names.prove), baseline: names.jsRoot },
  ], ['ours reads the JSONL and verifies the chain first (a proof about a broken log proves nothing)']);
  printRows('proofs: verification', [
    { name: names.nodeVerify, stats: get(names.nodeVerify), isBaseline: true },
    { name: names.checkpoint, stats: get(names.checkpoint), baseline: names.nodeVerify },
    { name: names.proof, stats: get(names.proof), baseline: names.nodeVerify },
    { name: names.receipt, stats: get(names.receipt), baseline: names.nodeVerify },
  ]);
}
