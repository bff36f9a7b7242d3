/**
 * The shapes of proofs, checkpoints and receipts, as the core answers them (`wasm/ABI.md`): the TypeScript side
 * carries them and never builds one itself. Hashes are 64 lowercase hex digits; a checkpoint travels as the text of
 * its signed note ([Proofs](../../../docs/protocol.md#proofs)).
 *
 * @module
 */

import type { TraceEvent } from '../types.ts';

/** That event `index` is in the Merkle tree of a session's first `size` events (RFC 9162 §2.1.3). */
export interface InclusionProof {
  /** The proof's kind. */
  type: 'inclusion';
  /** The session whose log it is. */
  session_id: string;
  /** The event's position in the log: its `sequence`. */
  index: number;
  /** How many events the tree covers. */
  size: number;
  /** The event's `event_hash`: its leaf is `SHA-256(0x00 ‖ event_hash bytes)`. */
  event_hash: string;
  /** The tree's root. */
  root: string;
  /** The audit path, leaf to root. */
  proof: string[];
}

/** That the tree of a session's first `first` events is a prefix of the tree of its first `second` (RFC 9162 §2.1.4). */
export interface ConsistencyProof {
  /** The proof's kind. */
  type: 'consistency';
  /** The session whose log it is. */
  session_id: string;
  /** The older tree's size. */
  first: number;
  /** The newer tree's size. */
  second: number;
  /** The older tree's root. */
  first_root: string;
  /** The newer tree's root. */
  second_root: string;
  /** The consistency proof. */
  proof: string[];
}

/** Either proof. */
export type Proof = InclusionProof | ConsistencyProof;

/** Asks for an inclusion proof. */
export interface InclusionQuery {
  /** The event (its sequence). */
  index: number;
  /** The tree: the first `size` events (default: the whole log). */
  size?: number;
}

/** Asks for a consistency proof. */
export interface ConsistencyQuery {
  /** The older tree's size. */
  first: number;
  /** The newer tree's size (default: the whole log). */
  second?: number;
}

/** What to prove: that event `index` is in the log, or that its first `first` events are a prefix of its first `second`. */
export type ProveQuery = InclusionQuery | ConsistencyQuery;

/** A signed checkpoint as stored and served: its note and what it says. */
export interface Checkpoint {
  /** The signed note's text (the checkpoint, a blank line, its signature lines). */
  note: string;
  /** The session whose log it fixes. */
  session_id: string;
  /** How many events it covers. */
  size: number;
  /** The Merkle root of those events. */
  root: string;
  /** When it was made (RFC 3339, UTC). */
  time: string | null;
}

/** A checkpoint signed by one of the keys given. */
export interface CheckpointAccepted extends Omit<Checkpoint, 'note'> {
  /** Accepted. */
  valid: true;
  /** The log: `<key name>/<session id>`. */
  origin: string;
  /** The verifier key whose signature verified. */
  key: string;
}

/** A checkpoint refused. */
export interface CheckpointRefused {
  /** Refused. */
  valid: false;
  /** `malformed` (not a signed checkpoint), `unknown_key` (no signature by the keys given), `bad_signature`. */
  reason: 'malformed' | 'unknown_key' | 'bad_signature';
  /** The reason in words. */
  message: string;
}

/** What `verifyCheckpoint` answers. */
export type CheckpointVerdict = CheckpointAccepted | CheckpointRefused;

/** One event of a receipt, with the proof that it is in the checkpoint's tree. */
export interface ReceiptEntry {
  /** The event's position in the log (its `sequence`). */
  index: number;
  /** The event, as recorded. */
  event: TraceEvent;
  /** Its audit path in the checkpoint's tree. */
  proof: string[];
}

/** What one execution did, provable offline: its events, their inclusion proofs and a signed checkpoint covering them. */
export interface Receipt {
  /** The receipt format's version. */
  receipt_version: '1';
  /** The session. */
  session_id: string;
  /** The execution. */
  execution_id: string;
  /** The execution's events, in log order. */
  entries: ReceiptEntry[];
  /** The signed note of a checkpoint covering them. */
  checkpoint: string;
}

/** What `verifyProof` and `verifyReceipt` answer when they refuse. */
export interface ProofRefusal {
  /** Refused. */
  valid: false;
  /**
   * Why: `malformed`, `event_hash_mismatch`, `wrong_event`, `wrong_index`, `wrong_session`, `wrong_execution`,
   * `checkpoint_mismatch`, `proof_invalid`, `checkpoint_malformed`, `unknown_key` or `bad_signature`.
   */
  reason: string;
  /** The reason in words. */
  message: string;
  /** Where in what was checked, as a JSON pointer, when one part is to blame. */
  path?: string;
}

/** A proof that holds. */
export interface ProofAccepted {
  /** Accepted. */
  valid: true;
  /** The proof's kind. */
  type: Proof['type'];
  /** The (newer) tree's size. */
  size: number;
  /** The (newer) tree's root. */
  root: string;
  /** The verifier key of the checkpoint it was checked against, when one was given. */
  key?: string;
}

/** What `verifyProof` answers. */
export type ProofVerdict = ProofAccepted | ProofRefusal;

/** A receipt that holds. */
export interface ReceiptAccepted {
  /** Accepted. */
  valid: true;
  /** The session. */
  session_id: string;
  /** The execution. */
  execution_id: string;
  /** The checkpoint's tree size. */
  size: number;
  /** The checkpoint's root. */
  root: string;
  /** How many events the receipt proves. */
  events: number;
  /** The verifier key whose signature verified. */
  key: string;
}

/** What `verifyReceipt` answers. */
export type ReceiptVerdict = ReceiptAccepted | ProofRefusal;

/** A new key pair for signing checkpoints (`generateSigningKey`). */
export interface SigningKeyPair {
  /** The signer key (`PRIVATE+KEY+<name>+<key id>+<base64>`): keep it secret. */
  signer: string;
  /** The verifier key (`<name>+<key id>+<base64>`): publish it. */
  verifier: string;
  /** The key's name: the log name of its checkpoints. */
  name: string;
  /** The key id (8 hex digits). */
  key_id: string;
}
