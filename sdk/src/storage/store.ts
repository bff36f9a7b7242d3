/**
 * Where traces are kept. The runtime appends every event it records, in chain order, before answering the call
 * that produced it. On start it reads only what the store knows of each session without reading its trace (its
 * {@link StoredSession}, a store's index entry), so that start-up does not grow with history; a session's trace is
 * read when the session is first used again, and for `trace`, `verify` and `replay`.
 *
 * Beside each trace a store keeps the session's signed checkpoints (signed notes that commit to a prefix of the
 * trace), in the order they were made: later checkpoints are checked against earlier ones, so one acknowledged is
 * never lost, reordered or filed under another session. What a note says is the core's to read; a store only keeps
 * the text, and refuses one that is no note at all (`checkNote`).
 *
 * @module
 */

import { CraError } from '../errors.ts';
import type { ChainHead, TraceEvent } from '../types.ts';

/** The longest signed note a store keeps, in UTF-8 bytes (the core reads no longer one: a checkpoint is a few hundred). */
export const MAX_NOTE_BYTES = 16 * 1024;

/**
 * Refuses what cannot be a signed note before a store keeps it: anything but a string, or a string longer than
 * {@link MAX_NOTE_BYTES} in UTF-8 (`invalid_request` at `/note`).
 */
export function checkNote(note: unknown): asserts note is string {
  if (typeof note !== 'string') {
    throw new CraError('invalid_request', `a checkpoint is the text of a signed note, not ${note === null ? 'null' : typeof note}`, { path: '/note' });
  }
  // A UTF-16 unit is at least one UTF-8 byte: only a short enough string needs encoding to be measured.
  if (note.length > MAX_NOTE_BYTES || new TextEncoder().encode(note).length > MAX_NOTE_BYTES) {
    throw new CraError('invalid_request', `a signed note is at most ${MAX_NOTE_BYTES} bytes`, { path: '/note' });
  }
}

/** A damaged stored trace. Damaged traces are never restored or appended to. */
export interface StoreIssue {
  /** The session whose trace is damaged; `null` for damage to the store's index, or a file read without a session. */
  session_id: string | null;
  /** What the damage is. */
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
    | 'unreadable'; // the trace, or what the store keeps beside it (its index, a head file), cannot be read
  /** The damage in words, for a person. */
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

/**
 * What a store knows of a session without reading its trace: the head it made durable (`length`, `head_hash`: the
 * trace must extend it) and what the events up to there recorded about the session (see `summary.ts`).
 */
export interface StoredSession {
  /** The session. */
  session_id: string;
  /** Events made durable. */
  length: number;
  /** The hash of the last of them (64 zeros for none). */
  head_hash: string;
  /** The agent, from the session's `session.started`. */
  agent_id?: string;
  /** The goal, from `session.started`. */
  goal?: string;
  /** The trace id, from `session.started`. */
  trace_id?: string;
  /** The parent session, from `session.started` (`null` for a root session). */
  parent_session_id?: string | null;
  /** The timestamp of `session.started`. */
  created_at?: string;
  /** `ended` once a `session.ended` is stored. */
  status?: 'active' | 'ended';
  /** The timestamp of `session.ended`. */
  ended_at?: string | null;
  /** The timestamp of the last stored event. */
  last_event_at?: string;
}

/** One trace read back from a store. */
export interface StoredTrace {
  /** The session. */
  session_id: string;
  /** Its events, in chain order. */
  events: TraceEvent[];
  /** The head made durable at the last sync, when the store records one: the chain must extend it. */
  synced_head?: ChainHead | null;
}

/** What {@link TraceStore.open} finds: every session from the index, and the damage seen without reading traces. */
export interface StoreOpenResult {
  /** Every session the store holds, from its index: no trace is read. */
  sessions: StoredSession[];
  /** Damage the store can see without reading traces (a trace that is gone, an unreadable index). */
  issues: StoreIssue[];
}

/**
 * Where a runtime keeps its traces: {@link MemoryStore} by default, `JsonlStore` (`cra-runtime/node`) on disk, or
 * any object with these methods. A store keeps events as given (the core checks their chain).
 */
export interface TraceStore {
  /** What the store holds, without reading traces. */
  open(): Promise<StoreOpenResult>;
  /**
   * Appends events of one session. `events[0].sequence` must equal the number of events already stored for it
   * (a store refuses a gap or an overlap); appends of one session complete in call order.
   */
  append(sessionId: string, events: readonly TraceEvent[]): Promise<void>;
  /** The stored events of a session, `[]` when there are none. Waits for the session's pending appends. */
  read(sessionId: string): Promise<TraceEvent[]>;
  /**
   * The stored trace as JSONL text (one event per line, each ended by a newline), `''` when there is none. Optional:
   * a store that keeps the text hands it over as it is, and the core reads it in one call (restore and verify).
   */
  readText?(sessionId: string): Promise<string>;
  /** Makes a session's trace durable; `release` says the session ended and its resources may go. */
  sync(sessionId: string, options?: { release?: boolean }): Promise<void>;
  /** Syncs everything and releases resources. */
  close(): Promise<void>;
  /**
   * Appends a signed checkpoint of a session (the note's text), after the events it covers are appended: it is
   * stored after every append of the session called before it, never durable before them, and acknowledged as the
   * store acknowledges an append. Refuses a note that is not a string or is longer than 16 KB
   * (`invalid_request` at `/note`). Optional, so that stores written before checkpoints keep working; the runtime
   * signs no checkpoint into a store without it.
   */
  appendCheckpoint?(sessionId: string, note: string): Promise<void>;
  /** The session's stored checkpoints, oldest first; `[]` when none. Waits for the session's pending appends. */
  readCheckpoints?(sessionId: string): Promise<string[]>;
}
