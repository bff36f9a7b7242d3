/**
 * The shapes of a sync ([Sync](../../../docs/protocol.md#sync)): a runtime that governs a session (a browser tab)
 * sends the events another runtime (a server) does not hold yet, with the signed checkpoints that cover them and
 * the key that signed them; the receiver answers what it holds afterwards.
 *
 * @module
 */

import type { TraceEvent } from '../types.ts';

/** What a sync sends. */
export interface SyncUpload {
  /** The session (when `events` is empty, the only place that names it). */
  session_id?: string;
  /**
   * Events of one session, from any sequence up to the receiver's length: those the receiver holds must be the same,
   * the rest continue its log. Empty when nothing is new.
   */
  events: TraceEvent[];
  /** Signed checkpoints of the session's log; the newest covers every event sent. Empty when nothing is new. */
  checkpoints: string[];
  /** The verifier key of the checkpoints: checked against the receiver's trusted keys, or pinned by the first sync. */
  key?: string;
}

/** What the receiver holds of a session: where the next sync starts. */
export interface SyncState {
  /** The session. */
  session_id: string;
  /** Events held (0 for a session it has never seen). */
  length: number;
  /** The hash of the last of them (64 zeros for none). */
  head_hash: string;
  /** The newest checkpoint held, `null` for none. */
  checkpoint: string | null;
}

/** What a sync answers. */
export interface SyncResult extends SyncState {
  /** Events appended by this sync. */
  appended: number;
  /** The Merkle root of the events held. */
  root: string;
}
