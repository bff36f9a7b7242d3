/**
 * Verification with a public key alone, offline, in any runtime: checkpoints, proofs and receipts. The core checks
 * everything but the signatures (formats, hashes, proofs, which signature lines the given keys made) and hands back
 * the signed body with each matching `{public_key, signature}`; WebCrypto checks those. A checkpoint is accepted when
 * one signature by one of `keys` verifies.
 *
 * @module
 */

import { CraError } from '../errors.ts';
import type { Core } from '../runtime/core.ts';
import { withCore, type ToolOptions } from '../runtime/tools.ts';
import type { TraceEvent } from '../types.ts';
import { checkJsonValue } from '../json-value.ts';
import { isObject } from '../util.ts';
import { fromBase64 } from './bytes.ts';
import { verifySignature } from './ed25519.ts';
import type { Checkpoint, CheckpointVerdict, Proof, ProofVerdict, Receipt, ReceiptVerdict } from './types.ts';

const encoder = new TextEncoder();

/** The verifier keys to accept: one key string or several. */
export type VerifierKeys = string | readonly string[];

/** A signed checkpoint: its note's text, or a {@link Checkpoint} as `checkpoints()` lists it. */
export type SignedCheckpoint = string | Pick<Checkpoint, 'note'>;

/** The note's text of a checkpoint given either way. */
function noteOf(checkpoint: SignedCheckpoint, path: string): string {
  if (typeof checkpoint === 'string') return checkpoint;
  if (isObject(checkpoint) && typeof checkpoint.note === 'string') return checkpoint.note;
  throw new CraError('invalid_request', 'a checkpoint is the text of its signed note, or {note} as checkpoints() lists it', { path });
}

/** What the core answers of a signed note (`checkpoint.open`). */
interface OpenedNote {
  origin: string;
  session_id: string | null;
  size: number;
  root: string;
  time: string | null;
  body: string;
  signatures: Array<{ key: string; public_key: string; signature: string }>;
  signature_lines: number;
}

function keyList(keys: VerifierKeys | undefined, path: string): string[] {
  if (keys === undefined) throw new CraError('invalid_request', '`keys` is required: the verifier key(s) to accept', { path });
  const list = typeof keys === 'string' ? [keys] : keys;
  if (!Array.isArray(list) || list.length === 0 || !list.every((k) => typeof k === 'string')) {
    throw new CraError('invalid_request', '`keys` must be a verifier key string or a non-empty array of them', { path });
  }
  return [...list];
}

/** The key whose signature over the note verifies, or why none does. */
async function signedBy(opened: OpenedNote): Promise<{ key: string } | { reason: 'unknown_key' | 'bad_signature'; message: string }> {
  if (opened.signatures.length === 0) {
    return { reason: 'unknown_key', message: `none of the ${opened.signature_lines} signature(s) of the checkpoint is by one of the given keys` };
  }
  const body = encoder.encode(opened.body);
  for (const s of opened.signatures) {
    if (await verifySignature(fromBase64(s.public_key), fromBase64(s.signature), body)) return { key: s.key };
  }
  return { reason: 'bad_signature', message: 'the checkpoint carries a signature line for the key, but the signature does not verify' };
}

/** Reads a note on `core`: `{malformed}` with the core's message when it does not read as a checkpoint. */
function open(core: Core, note: string, keys: string[], now: number): OpenedNote | { malformed: string } {
  try {
    return core.call<OpenedNote>('checkpoint.open', { note, keys }, now);
  } catch (err) {
    // A bad key is the caller's error (thrown, at `/keys/i`); a bad note is a verdict.
    if (err instanceof CraError && err.code === 'checkpoint_invalid') return { malformed: err.message };
    throw err;
  }
}

/** Checks a signed checkpoint with the given verifier key(s). */
export async function verifyCheckpoint(checkpoint: SignedCheckpoint, options: ToolOptions & { keys: VerifierKeys }): Promise<CheckpointVerdict> {
  const keys = keyList(options?.keys, '/keys');
  const note = noteOf(checkpoint, '/note');
  const opened = await withCore(options, (core, now) => open(core, note, keys, now));
  if ('malformed' in opened) return { valid: false, reason: 'malformed', message: opened.malformed };
  const by = await signedBy(opened);
  if ('reason' in by) return { valid: false, ...by };
  return { valid: true, origin: opened.origin, session_id: opened.session_id ?? '', size: opened.size, root: opened.root, time: opened.time, key: by.key };
}

/** What {@link verifyProof} checks a proof against, besides the proof itself. */
export interface VerifyProofOptions extends ToolOptions {
  /** For an inclusion proof: the event it is about (its contents must hash to the proof's `event_hash`). */
  event?: TraceEvent;
  /** A signed checkpoint the proof must end in (its tree size and root), checked with `keys`. */
  checkpoint?: SignedCheckpoint;
  /** For a consistency proof: the signed checkpoint of the older tree. */
  firstCheckpoint?: SignedCheckpoint;
  /** The verifier key(s) for the checkpoints. */
  keys?: VerifierKeys;
}

/**
 * Checks an inclusion or consistency proof ({@link CraRuntime.prove}): on its own (the hashes lead to its root),
 * and against `event` and signed checkpoints when given — what makes it a proof to someone who trusts only the key.
 */
export async function verifyProof(proof: Proof, options: VerifyProofOptions = {}): Promise<ProofVerdict> {
  if (!isObject(proof)) throw new CraError('invalid_request', 'the proof must be an object', { path: '/proof' });
  checkJsonValue({ proof, event: options.event ?? null });
  const notes = [options.checkpoint, options.firstCheckpoint].map((c, i) => (c === undefined ? undefined : noteOf(c, i === 0 ? '/checkpoint' : '/firstCheckpoint')));
  const keys = notes.some((n) => n !== undefined) ? keyList(options.keys, '/keys') : [];
  const trees: Array<{ size: number; root: string } | undefined> = [];
  let key: string | undefined;
  for (const [i, note] of notes.entries()) {
    if (note === undefined) {
      trees.push(undefined);
      continue;
    }
    const v = await verifyCheckpoint(note, { ...options, keys });
    if (!v.valid) {
      const reason = v.reason === 'malformed' ? 'checkpoint_malformed' : v.reason;
      return { valid: false, reason, message: v.message, path: i === 0 ? '/checkpoint' : '/first_checkpoint' };
    }
    if (v.session_id !== proof.session_id) {
      return { valid: false, reason: 'wrong_session', message: `the checkpoint is of session ${v.session_id}, the proof of ${String(proof.session_id)}`, path: '/checkpoint' };
    }
    key ??= v.key;
    trees.push({ size: v.size, root: v.root });
  }
  const input = { proof, ...(options.event ? { event: options.event } : {}), ...(trees[0] ? { checkpoint: trees[0] } : {}), ...(trees[1] ? { first_checkpoint: trees[1] } : {}) };
  const verdict = await withCore(options, (core, now) => core.call<ProofVerdict>('proof.verify', input, now));
  return verdict.valid && key ? { ...verdict, key } : verdict;
}

/**
 * Checks a receipt ({@link CraRuntime.receipt}) offline: every event hashes to itself and belongs to the execution,
 * every inclusion proof leads to the checkpoint's root, and one of `keys` signed the checkpoint.
 */
export async function verifyReceipt(receipt: Receipt, options: ToolOptions & { keys: VerifierKeys }): Promise<ReceiptVerdict> {
  const keys = keyList(options?.keys, '/keys');
  if (!isObject(receipt)) throw new CraError('invalid_request', 'the receipt must be an object', { path: '/receipt' });
  checkJsonValue({ receipt });
  const r = await withCore(options, (core, now) =>
    core.call<{ valid: true; session_id: string; execution_id: string; size: number; root: string; events: number; checkpoint: OpenedNote } | ReceiptVerdict>(
      'receipt.verify',
      { receipt, keys },
      now,
    ),
  );
  if (!r.valid) return { ...r, path: r.path?.replace(/^\/receipt/, '') };
  if (!('checkpoint' in r)) return r;
  const by = await signedBy(r.checkpoint);
  if ('reason' in by) return { valid: false, ...by, path: '/checkpoint' };
  return { valid: true, session_id: r.session_id, execution_id: r.execution_id, size: r.size, root: r.root, events: r.events, key: by.key };
}
