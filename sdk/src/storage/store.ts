/**
 * Where traces are kept. The runtime appends every event it records, in chain order, before answering the call
 * that produced it; on start (and after rebuilding a failed core) it reads traces back and restores sessions.
 *
 * @module
 */

import type { ChainHead, TraceEvent } from '../types.ts';

/** A damaged stored trace. Damaged traces are never restored or appended to. */
export interface StoreIssue {
  session_id: string | null;
  kind:
    | 'torn_line' // the last line was cut short (e.g. a crash mid-write)
    | 'malformed_line' // a line that is not one JSON event
    | 'invalid_chain' // the chain does not verify (and the damage is none of the kinds below)
    | 'truncated' // shorter than the head recorded at the last sync: its last events are gone
    | 'missing' // the store recorded a synced head for the session, but its trace is gone
    | 'missing_events' // events are missing inside the chain (its sequence jumps forward at `intact_events`)
    | 'duplicated_events' // an event is stored twice (event `intact_events` repeats the one before)
    | 'session_mismatch' // events of another session than the file's name
    | 'index_missing' // the store's own index is gone while traces remain: cut ends cannot be told this time
    | 'unreadable';
  message: string;
  /** File (or other location) of the trace. */
  location?: string;
  /** 1-based line number, for line-level issues. */
  line?: number;
  /** How many events before the damage are intact (= the index of the first damaged event). */
  intact_events?: number;
  /** How many events the store had made durable, for `missing` and `truncated`. */
  synced_events?: number;
}

/** One trace read back from a store. */
export interface StoredTrace {
  session_id: string;
  events: TraceEvent[];
  /** The head made durable at the last sync, when the store records one: the chain must extend it. */
  synced_head?: ChainHead | null;
}

export interface StoreOpenResult {
  traces: StoredTrace[];
  issues: StoreIssue[];
}

export interface TraceStore {
  /** Reads every stored trace. Damaged ones are reported in `issues`, not returned. */
  open(): Promise<StoreOpenResult>;
  /**
   * Appends events of one session. `events[0].sequence` must equal the number of events already stored for it
   * (a store refuses a gap or an overlap); appends of one session complete in call order.
   */
  append(sessionId: string, events: readonly TraceEvent[]): Promise<void>;
  /** The stored events of a session, `[]` when there are none. Waits for the session's pending appends. */
  read(sessionId: string): Promise<TraceEvent[]>;
  /** Makes a session's trace durable; `release` says the session ended and its resources may go. */
  sync(sessionId: string, options?: { release?: boolean }): Promise<void>;
  /** Syncs everything and releases resources. */
  close(): Promise<void>;
}
