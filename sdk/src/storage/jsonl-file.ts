/**
 * One trace file of a JSONL store, as the store tracks it: where its intact lines end, its head, what its events
 * recorded, whether it is durable, and how reading the file (all of it, or only past the indexed head) updates that
 * state. The store (`jsonl.ts`) runs every operation of one file in order; these functions only read and record.
 *
 * @module
 */

import { readFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { CraError } from '../errors.ts';
import type { ChainHead, TraceEvent } from '../types.ts';
import type { NotesState } from './jsonl-checkpoints.ts';
import type { IndexEntry } from './jsonl-index.ts';
import { type Parsed, parseTrace } from './jsonl-parse.ts';
import type { StoredSession, StoreIssue } from './store.ts';
import { GENESIS_HASH, summarize } from './summary.ts';

/** A whole file read, with the head the index (or an earlier version's head file) says was synced. */
export interface Scanned {
  parsed: Parsed;
  synced: ChainHead | null;
  issue: StoreIssue | null;
}

export interface FileState {
  id: string;
  path: string;
  handle: FileHandle | null;
  /** The file exists on disk. */
  exists: boolean;
  /** Bytes of intact, complete lines. */
  size: number;
  length: number;
  headHash: string;
  /** What the events in the file recorded about the session (the index line written at the next sync). */
  summary: StoredSession;
  /**
   * The file was read since the store opened: `size`, `length` and `headHash` are the file's. Until then they are
   * the index's, and the file is read before anything is appended to it.
   */
  scanned: boolean;
  /** Jobs queued on `tail` and not finished (a state with none may be dropped). */
  jobs: number;
  /** Written since the last fsync (or read on open beyond the indexed head: not known to be durable). */
  dirty: boolean;
  /** Created since the folder was last fsynced. */
  created: boolean;
  syncedLength: number;
  damaged: StoreIssue | null;
  /** A write that could not be rolled back: nothing more is written to this file. */
  failed: CraError | null;
  /** Every file operation of one session runs in order on this chain. */
  tail: Promise<unknown>;
  /**
   * Durable appends that will share the next write and fsync of this file (group commit): open while their job is
   * the last one queued on `tail` and has not started.
   */
  batch: PendingAppend[] | null;
  /** The session's checkpoint file, once a checkpoint is appended (see `jsonl-checkpoints.ts`). */
  notes: NotesState | null;
  /** Appends of events refused so far: a checkpoint queued behind one that fails is refused too. */
  appendFailures: number;
}

/** An append waiting for its group's write and fsync: settled once they are done (or failed). */
export interface PendingAppend {
  events: readonly TraceEvent[];
  done: () => void;
  fail: (err: unknown) => void;
}

/** The state of a session's file before it is read: from its index entry when the index names it. */
export function fileState(id: string, path: string, entry: IndexEntry | undefined): FileState {
  return {
    id,
    path,
    handle: null,
    exists: entry !== undefined,
    size: 0,
    length: entry?.length ?? 0,
    headHash: entry?.head_hash ?? GENESIS_HASH,
    summary: entry ? { ...entry } : summarize(id, []),
    scanned: entry === undefined,
    jobs: 0,
    dirty: false,
    created: false,
    syncedLength: entry?.length ?? 0,
    damaged: null,
    failed: null,
    tail: Promise.resolve(),
    batch: null,
    notes: null,
    appendFailures: 0,
  };
}

/** The issue of a session the index names whose trace file is gone (never a silent disappearance); marks it damaged. */
export function missingFile(st: FileState, entry: IndexEntry): StoreIssue {
  const issue: StoreIssue = {
    session_id: entry.session_id,
    kind: 'missing',
    message: `the trace file is missing; the session index recorded ${entry.length} synced event(s)`,
    location: st.path,
    intact_events: 0,
    synced_events: entry.length,
  };
  st.exists = false;
  st.syncedLength = entry.length;
  st.damaged = issue;
  return issue;
}

/** Takes a whole file's reading into its state (`scan`'s answer). */
export function applyScan(st: FileState, scanned: Scanned): StoreIssue | null {
  const events = scanned.parsed.events;
  st.exists = true;
  st.size = scanned.parsed.size;
  st.length = events.length;
  st.headHash = events.at(-1)?.event_hash ?? GENESIS_HASH;
  st.summary = summarize(st.id, events);
  st.syncedLength = scanned.synced?.length ?? 0;
  st.scanned = true;
  st.damaged = scanned.issue;
  // Events beyond the indexed head may not be durable (a process killed before its sync): the next sync
  // round fsyncs them and records them in the index.
  if (!scanned.issue && events.length > st.syncedLength) st.dirty = true;
  return scanned.issue;
}

/**
 * Brings an unread state up to the file's `text` without parsing what the index already vouches for: the lines
 * up to the indexed head are counted, the ones after it parsed. Answers a torn last line as an issue (the core
 * judges everything else when it reads the text).
 */
export function follow(st: FileState, text: string): StoreIssue | null {
  if (st.scanned) return text.length === 0 || text.endsWith('\n') ? null : torn(st, text);
  if (text.length > 0 && !text.endsWith('\n')) return torn(st, text);
  let at = 0;
  let lines = 0;
  for (; lines < st.syncedLength; lines++) {
    const nl = text.indexOf('\n', at);
    if (nl < 0) break;
    at = nl + 1;
  }
  // Shorter than its indexed head: the core refuses it (`synced_head`), and nothing is appended to it meanwhile.
  if (lines < st.syncedLength) return null;
  const rest = parseTrace(text.slice(at), st.id, st.path);
  if (rest.issue) return rest.issue;
  if (rest.events.length > 0) {
    st.summary = summarize(st.id, rest.events, st.summary);
    st.length = st.syncedLength + rest.events.length;
    st.headHash = rest.events.at(-1)!.event_hash;
    st.dirty = true;
  }
  st.size = Buffer.byteLength(text, 'utf8');
  st.scanned = true;
  return null;
}

/** The head file of a folder of an earlier version. */
export async function legacyHead(dir: string, id: string): Promise<{ head: ChainHead | null } | { issue: StoreIssue }> {
  const headPath = join(dir, `${id}.head.json`);
  try {
    const raw = JSON.parse(await readFile(headPath, 'utf8')) as Partial<ChainHead>;
    if (Number.isSafeInteger(raw.length) && typeof raw.head_hash === 'string') return { head: { length: raw.length as number, head_hash: raw.head_hash } };
    return { issue: { session_id: id, kind: 'unreadable', message: 'the synced head file is malformed', location: headPath } };
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return { head: null };
    return { issue: { session_id: id, kind: 'unreadable', message: `cannot read the synced head: ${describe(err)}`, location: headPath } };
  }
}

/** The issue of a file whose last line has no newline (a write cut short). */
function torn(st: FileState, text: string): StoreIssue {
  let lines = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++;
  return {
    session_id: st.id,
    kind: 'torn_line',
    message: `line ${lines + 1} is incomplete (no trailing newline)`,
    location: st.path,
    line: lines + 1,
    intact_events: lines,
  };
}

/** A whole trace file as text. */
export async function readWhole(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw storageFailure(`cannot read ${path}`, err);
  }
}

export function corrupt(issue: StoreIssue): CraError {
  return new CraError('storage_corrupt', `stored trace ${issue.location ?? issue.session_id ?? ''} is damaged: ${issue.message}`, {
    details: [issue],
  });
}

export function storageFailure(message: string, err: unknown): CraError {
  if (err instanceof CraError) return err;
  return new CraError('storage_failure', `${message}: ${describe(err)}`, { cause: err });
}

export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
