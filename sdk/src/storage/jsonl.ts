/**
 * Traces as JSONL files on disk (Node): one `<session_id>.trace.jsonl` per session, append-only, one event per
 * line. How an append becomes durable is the store's `durability`:
 *
 * - `'interval'` (the default): an append is acknowledged once written (in the page cache); files are fsynced when
 *   a session ends, on close, and every `fsyncIntervalMs` while they have unsynced writes. A crash of the machine
 *   (not of the process) can lose the last second of acknowledged events.
 * - `'fsync'`: an append is acknowledged only once its events are written and fdatasynced (and a new file's folder
 *   synced). Group commit keeps that affordable: the appends to one file that arrive while its write and fsync are
 *   under way (or in the same tick) share the next write and the next fsync, so a busy session pays one fsync per
 *   round, not one per append. A failed write or fsync rejects every append of its group and cuts the file back to
 *   what was acknowledged.
 *
 * In both, after each sync the durable head (`length`, `head_hash`) and what the events recorded about the session
 * are appended to the folder's session index (`sessions.index.jsonl`, see `jsonl-index.ts`), so that what a trace
 * file cannot reveal about itself is never silent: a file cut at a line boundary is refused when the runtime restores
 * it (the core checks that the chain extends that head), and a file that is gone is a `missing` issue.
 *
 * Opening reads the index and lists the folder, and reads no trace: start-up does not grow with history. A trace is
 * read (`jsonl-parse.ts`) when its session is used again, or verified, replayed or exported; a torn last line (a
 * write cut short), a malformed line or events of another session is then a {@link StoreIssue}, and such a trace is
 * never restored or appended to. {@link JsonlStore.check} reads every trace at once (a full check of the folder);
 * {@link JsonlStore.repair} cuts a torn tail explicitly. Only the traces found without an index line (a process
 * stopped before their first sync) are read on open, to be indexed.
 *
 * A session's signed checkpoints are kept beside its trace, in `<session_id>.checkpoints.jsonl` (one note per line,
 * see `jsonl-checkpoints.ts`), under the same `durability`, on the session's ordered chain: a checkpoint is written
 * after every append of its session called before it, and only once those events are fdatasynced, so that no crash
 * keeps a checkpoint while losing events it covers. Opening reads no checkpoint file; a full check does.
 *
 * The index replaces the `<session_id>.head.json` files of earlier versions rather than sitting beside them: one
 * fsynced append per sync round instead of a tmp file, a rename and a folder fsync per session, and one place that
 * names every session — a head file deleted together with its trace left no sign that either had existed. A folder
 * of an earlier version (no index) gets one built on open from its traces, keeping the heads of its head files,
 * which are then removed.
 *
 * One class past 400 lines by choice: every file operation of a session runs on one ordered chain with its fsync
 * and index steps beside it, and splitting those apart would hide the order that makes the store durable. What one
 * file's state is, and how reading the file updates it, is in `jsonl-file.ts`.
 *
 * @module
 */

import { mkdir, open, readdir, readFile, stat, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { CraError } from '../errors.ts';
import type { ChainHead, TraceEvent } from '../types.ts';
import { CHECKPOINT_FILE, damagedCheckpoints, encodeNote, notesState, type NotesState, parseCheckpoints } from './jsonl-checkpoints.ts';
import { type IndexEntry, SessionIndex, syncFolder, writeFully } from './jsonl-index.ts';
import {
  applyScan,
  corrupt,
  describe,
  type FileState,
  fileState,
  follow,
  legacyHead,
  missingFile,
  type PendingAppend,
  readWhole,
  type Scanned,
  storageFailure,
} from './jsonl-file.ts';
import { parseTrace } from './jsonl-parse.ts';
import { checkNote, type StoredSession, type StoreIssue, type StoreOpenResult, type StoredTrace, type TraceStore } from './store.ts';
import { GENESIS_HASH, summarize } from './summary.ts';

export { parseTrace };

/**
 * When an append is acknowledged: `'fsync'` once its events are written and fdatasynced (group commit); `'interval'`
 * once written, synced within `fsyncIntervalMs` (see the module's header).
 *
 * @inline
 */
export type JsonlDurability = 'fsync' | 'interval';

/** How a {@link JsonlStore} keeps its folder: only `dir` is required. */
export interface JsonlStoreOptions {
  /** Folder of the trace files; created when missing. */
  dir: string;
  /**
   * When an append is acknowledged: `'fsync'` once its events are written and fdatasynced (appends that arrive
   * together share one fsync); `'interval'` once written, with files synced every `fsyncIntervalMs`, when a session
   * ends and on close. Default `'interval'`.
   */
  durability?: JsonlDurability;
  /**
   * Sync files with unsynced writes this often (`'interval'`), and record synced heads in the session index this
   * often (both modes); `0`: only on session end and close. Default 1000.
   */
  fsyncIntervalMs?: number;
  /** Keep at most this many files open; the least recently written one is synced and closed. Default 64. */
  maxOpenFiles?: number;
  /** Rewrite the session index with one line per session once it holds this many lines more than two per session. Default 1000. */
  indexSlack?: number;
}

const TRACE_FILE = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.trace\.jsonl$/;
const HEAD_FILE = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.head\.json$/;

/**
 * Traces as JSONL files in one folder, with a session index beside them (see the module's header). Failures to
 * read or write are `storage_failure`; a damaged trace is a {@link StoreIssue}, never restored or appended to.
 */
export class JsonlStore implements TraceStore {
  /** The folder of the trace files. */
  readonly dir: string;
  /** When an append is acknowledged (see {@link JsonlStoreOptions.durability}). */
  readonly durability: JsonlDurability;
  private readonly fsyncIntervalMs: number;
  private readonly maxOpenFiles: number;
  private readonly files = new Map<string, FileState>();
  /** Files with an open handle, least recently used first. */
  private readonly lru = new Set<FileState>();
  private readonly indexSlack: number;
  private timer: ReturnType<typeof setInterval> | null = null;
  private ready: Promise<void> | null = null;
  /** The session index, loaded once (with what its reading found). */
  private indexing: Promise<{ index: SessionIndex; issues: StoreIssue[] }> | null = null;
  /** The last error of a background (interval) sync. */
  lastError: unknown = null;

  constructor(options: JsonlStoreOptions) {
    if (!options || typeof options.dir !== 'string' || options.dir.length === 0) {
      throw new CraError('invalid_request', 'a JSONL store needs a folder', { path: '/dir' });
    }
    this.dir = options.dir;
    this.durability = options.durability ?? 'interval';
    if (this.durability !== 'fsync' && this.durability !== 'interval') {
      throw new CraError('invalid_request', `durability must be 'fsync' or 'interval', not ${JSON.stringify(options.durability)}`, { path: '/durability' });
    }
    this.fsyncIntervalMs = options.fsyncIntervalMs ?? 1000;
    this.maxOpenFiles = Math.max(1, options.maxOpenFiles ?? 64);
    this.indexSlack = Math.max(0, options.indexSlack ?? 1000);
    if (!Number.isFinite(this.fsyncIntervalMs) || this.fsyncIntervalMs < 0) {
      throw new CraError('invalid_request', 'fsyncIntervalMs must be a non-negative number', { path: '/fsyncIntervalMs' });
    }
  }

  /** The file of a session's trace. */
  pathOf(sessionId: string): string {
    return join(this.dir, `${sessionId}.trace.jsonl`);
  }

  /** The file of a session's signed checkpoints, beside its trace. */
  checkpointsPathOf(sessionId: string): string {
    return join(this.dir, `${sessionId}.checkpoints.jsonl`);
  }

  /**
   * Reads the index and lists the folder; reads no trace, except those found without an index line (a process
   * stopped before their first sync), which are read to be indexed at the next sync. A trace that is gone is found
   * when its session is read, as any other damage.
   */
  async open(): Promise<StoreOpenResult> {
    await this.init();
    // The folder is listed while the index is read and parsed: the listing runs off the main thread.
    const listing = this.names(false);
    listing.catch(() => undefined);
    const { index, issues: indexIssues } = await this.indexed();
    const names = await listing;
    if (!index.existed) {
      names.sort();
      const checked = await this.checkAll(names, true);
      return { sessions: checked.traces.map((t) => summarize(t.session_id, t.events)), issues: checked.issues };
    }
    const sessions: StoredSession[] = [];
    const issues: StoreIssue[] = [...indexIssues];
    for (const name of names) {
      // `<uuid>.trace.jsonl`: the id is its first 36 characters; the pattern is checked only for unindexed names.
      if (index.entries.has(name.slice(0, 36)) || !TRACE_FILE.test(name)) continue;
      const st = this.state(name.slice(0, 36));
      const issue = await this.enqueue(st, () => this.load(st));
      if (issue) issues.push(issue);
      else sessions.push({ ...st.summary });
    }
    await this.completeEarlierEntries(index);
    // The entries themselves, not copies: neither the index nor the runtime changes an entry in place. A trace
    // the index names but the folder lacks is found when it is read (`missing`), as any other damage.
    for (const entry of index.entries.values()) sessions.push(entry);
    this.startTimer();
    return { sessions, issues };
  }

  /**
   * An index written by an earlier version holds the head, agent, status and last time of each session but not the
   * identity that listing shows (goal, creation time, trace id, parent): those are read once from the first line of
   * each such trace, and the index is rewritten with them.
   */
  private async completeEarlierEntries(index: SessionIndex): Promise<void> {
    const earlier = [...index.entries.values()].filter((e) => e.created_at === undefined && e.length > 0);
    if (earlier.length === 0) return;
    for (const entry of earlier) {
      const text = await readWhole(this.pathOf(entry.session_id)).catch(() => '');
      const first = parseTrace(text.slice(0, text.indexOf('\n') + 1), entry.session_id).events[0];
      if (!first) continue; // a damaged trace answers for itself when read
      const identity = summarize(entry.session_id, [first]);
      Object.assign(entry, {
        agent_id: identity.agent_id,
        goal: identity.goal,
        trace_id: identity.trace_id,
        parent_session_id: identity.parent_session_id,
        created_at: identity.created_at,
        ended_at: entry.status === 'ended' ? entry.last_event_at ?? null : null,
      });
    }
    try {
      await index.replace([...index.entries.values()]);
    } catch (err) {
      throw storageFailure(`cannot write ${index.path}`, err);
    }
  }

  /**
   * Reads every trace of the folder against the index (a full check, or the start of a folder without an index):
   * each intact trace with its synced head, and the damage found, as issues; and every checkpoint file, whose damage
   * (a line that is not one note, a file that cannot be read) is an issue of its session too.
   */
  async check(): Promise<{
    /** Every intact trace, with its synced head. */
    traces: StoredTrace[];
    /** The damage found, the index's included. */
    issues: StoreIssue[];
  }> {
    await this.init();
    const { index } = await this.indexed();
    const names = await this.names();
    const checked = await this.checkAll(names, !index.existed);
    for (const name of names) {
      const id = CHECKPOINT_FILE.exec(name)?.[1];
      if (!id) continue;
      const st = this.state(id);
      const issue = await this.enqueue(st, async () => {
        const path = this.checkpointsPathOf(id);
        let text: string | null;
        try {
          text = await readNotes(path);
        } catch (err) {
          return { session_id: id, kind: 'unreadable', message: describe(err), location: path } satisfies StoreIssue;
        }
        return text === null ? null : parseCheckpoints(text, id, path).issue;
      });
      if (issue) checked.issues.push(issue);
    }
    return checked;
  }

  // Async so that a bad id rejects instead of throwing; the job is still queued synchronously, in call order.
  async append(sessionId: string, events: readonly TraceEvent[]): Promise<void> {
    if (events.length === 0) return;
    const st = this.state(sessionId);
    if (this.durability === 'fsync') return this.appendDurably(st, events);
    return this.enqueue(st, async () => {
      try {
        await this.writable(st);
        const first = events[0]!.sequence;
        if (first !== st.length) throw outOfSequence(st, first, st.length);
        const data = encode(events);
        await this.write(st, await this.handle(st), data);
        this.appended(st, data.length, events);
        st.dirty = true;
      } catch (err) {
        st.appendFailures++;
        throw err;
      }
    });
  }

  /**
   * Joins the group of appends waiting for this file's next write and fsync, or opens one (queued like any job:
   * behind the write and fsync under way). A group stays open until its job starts or another job is queued after it,
   * so that an append never overtakes a read or a sync called before it.
   */
  private appendDurably(st: FileState, events: readonly TraceEvent[]): Promise<void> {
    return new Promise<void>((done, fail) => {
      const pending: PendingAppend = {
        events,
        done,
        fail: (err) => {
          st.appendFailures++;
          fail(err);
        },
      };
      if (st.batch) {
        st.batch.push(pending);
        return;
      }
      const batch = [pending];
      this.enqueue(st, () => this.commit(st, batch)).catch((err: unknown) => {
        for (const p of batch) p.fail(err); // settled already unless `commit` itself broke
      });
      st.batch = batch;
    });
  }

  /** Writes a group of appends at once, fdatasyncs the file once, then acknowledges them in order. */
  private async commit(st: FileState, batch: PendingAppend[]): Promise<void> {
    if (st.batch === batch) st.batch = null; // later appends wait for the next round
    try {
      await this.writable(st);
    } catch (err) {
      for (const p of batch) p.fail(err);
      return;
    }
    // Each append must continue the ones accepted before it; one that does not is refused alone, as on its own.
    const accepted: PendingAppend[] = [];
    const events: TraceEvent[] = [];
    let length = st.length;
    for (const p of batch) {
      const first = p.events[0]!.sequence;
      if (first !== length) {
        p.fail(outOfSequence(st, first, length));
        continue;
      }
      accepted.push(p);
      for (const e of p.events) events.push(e);
      length += p.events.length;
    }
    if (accepted.length === 0) return;
    const data = encode(events);
    try {
      const fh = await this.handle(st);
      await this.write(st, fh, data);
      try {
        await fh.datasync();
      } catch (err) {
        // Nothing of the group was acknowledged: cut it off, so that the file holds what was and the chain goes on.
        this.rollBack(st, await fh.truncate(st.size).then(() => null, (e: unknown) => e));
        throw storageFailure(`cannot sync ${st.path}`, err);
      }
      if (st.created) {
        await syncFolder(this.dir); // a new file's name is durable too before its first event is acknowledged
        st.created = false;
      }
    } catch (err) {
      for (const p of accepted) p.fail(err);
      return;
    }
    this.appended(st, data.length, events);
    st.dirty = false; // the whole file is synced, including what was read beyond the indexed head
    for (const p of accepted) p.done();
  }

  /** Refuses to append to a file that is gone, damaged or failed; reads it first when only the index knew it. */
  private async writable(st: FileState): Promise<void> {
    await this.init();
    const missing = await this.gone(st);
    if (!missing && !st.scanned && st.exists) {
      const issue = await this.load(st);
      if (issue) st.damaged = issue;
    }
    if (st.damaged) throw corrupt(st.damaged);
    if (st.failed) throw st.failed;
  }

  /** Writes `data` at the end of the file; a failed write is cut back to the last complete line. */
  private async write(st: FileState, fh: FileHandle, data: Buffer): Promise<void> {
    try {
      await writeFully(fh, data);
    } catch (err) {
      // Roll the file back to its last complete line so that the next append continues a valid chain.
      this.rollBack(st, await fh.truncate(st.size).then(() => null, (e: unknown) => e));
      throw storageFailure(`cannot write to ${st.path}`, err);
    }
  }

  /** After a cut back to the acknowledged size: a cut that failed leaves a file that takes no more events. */
  private rollBack(st: FileState, truncateError: unknown): void {
    if (truncateError !== null) {
      st.failed = storageFailure(`cannot roll back a failed write to ${st.path}; the file takes no more events`, truncateError);
    }
  }

  /** The file's state after `events` (`bytes` of lines) were written. */
  private appended(st: FileState, bytes: number, events: readonly TraceEvent[]): void {
    st.size += bytes;
    st.length += events.length;
    st.headHash = events[events.length - 1]!.event_hash;
    st.summary = summarize(st.id, events, st.summary);
    st.scanned = true;
  }

  async read(sessionId: string): Promise<TraceEvent[]> {
    const st = this.state(sessionId);
    return this.enqueue(st, async () => {
      if (!(await this.readable(st))) return [];
      const { parsed } = await this.scan(st, false);
      if (parsed.issue) throw corrupt(parsed.issue);
      return parsed.events;
    });
  }

  /**
   * The trace as the file holds it, for the core to read in one call: only its last line and the lines beyond the
   * indexed head are parsed here (to continue appending), the core reads and verifies the rest. A torn last line
   * is refused here, as `read` refuses it.
   */
  async readText(sessionId: string): Promise<string> {
    const st = this.state(sessionId);
    return this.enqueue(st, async () => {
      if (!(await this.readable(st))) return '';
      const text = await readWhole(st.path);
      const issue = follow(st, text);
      if (issue) throw corrupt(issue);
      return text;
    });
  }

  /**
   * Appends a signed checkpoint to the session's checkpoint file, behind every append of the session called before
   * it. Those events are made durable first (the trace is fdatasynced if it has unsynced writes); the note is then
   * acknowledged as an append is under the store's `durability`. Refused when an append of the session called before
   * it failed (the events it covers may not be stored), when the trace is damaged, or when the checkpoint file is.
   */
  async appendCheckpoint(sessionId: string, note: string): Promise<void> {
    checkNote(note);
    const st = this.state(sessionId);
    const failures = st.appendFailures;
    return this.enqueue(st, async () => {
      await this.init();
      if (st.appendFailures !== failures) {
        throw new CraError('storage_failure', `refusing a checkpoint of session ${st.id}: an append of its events called before it failed`);
      }
      if (st.damaged) throw corrupt(st.damaged);
      const notes = await this.notesOf(st);
      if (notes.failed) throw notes.failed;
      // The events first: a checkpoint that reached the disk before them would outlive them in a crash.
      await this.syncTrace(st);
      if (st.created) {
        await syncFolder(this.dir);
        st.created = false;
      }
      const data = encodeNote(note);
      let fh: FileHandle;
      try {
        fh = await open(notes.path, 'a');
      } catch (err) {
        throw storageFailure(`cannot open ${notes.path}`, err);
      }
      try {
        if (!notes.exists) notes.created = true;
        notes.exists = true;
        try {
          await writeFully(fh, data);
          if (this.durability === 'fsync') await fh.datasync();
        } catch (err) {
          // Nothing of it was acknowledged: cut it off, so that the file holds what was.
          const cut = await fh.truncate(notes.size).then(() => null, (e: unknown) => e);
          if (cut !== null) notes.failed = storageFailure(`cannot roll back a failed write to ${notes.path}; the file takes no more checkpoints`, cut);
          throw storageFailure(`cannot write to ${notes.path}`, err);
        }
      } finally {
        await fh.close().catch(() => undefined);
      }
      notes.size += data.length;
      if (this.durability === 'interval') notes.dirty = true;
      else if (notes.created) {
        await syncFolder(this.dir);
        notes.created = false;
      }
    });
  }

  /** The session's checkpoints, oldest first (a torn last line, never acknowledged, left out); `[]` when none. */
  async readCheckpoints(sessionId: string): Promise<string[]> {
    const known = this.files.has(sessionId);
    const st = this.state(sessionId);
    const notes = await this.enqueue(st, async () => {
      await this.init();
      const path = this.checkpointsPathOf(st.id);
      const text = await readNotes(path);
      if (text === null) return [];
      const parsed = parseCheckpoints(text, st.id, path);
      if (parsed.issue) throw damagedCheckpoints(parsed.issue);
      return parsed.notes;
    });
    // Serving checkpoints keeps no state of sessions that are not otherwise in use.
    if (!known) this.forget(st);
    return notes;
  }

  /**
   * The session's checkpoint file, read once before its first append here: a torn last line (a write cut short,
   * never acknowledged) is cut off so that the next note starts a line of its own; a damaged file takes no more.
   */
  private async notesOf(st: FileState): Promise<NotesState> {
    const notes = (st.notes ??= notesState(this.checkpointsPathOf(st.id)));
    if (notes.read) return notes;
    const text = await readNotes(notes.path);
    notes.exists = text !== null;
    const parsed = parseCheckpoints(text ?? '', st.id, notes.path);
    if (parsed.issue) throw damagedCheckpoints(parsed.issue);
    if (parsed.torn) {
      try {
        await truncate(notes.path, parsed.size);
      } catch (err) {
        throw storageFailure(`cannot cut the torn last line of ${notes.path}`, err);
      }
      notes.dirty = true; // the cut is made durable with the file's next sync
    }
    notes.size = parsed.size;
    notes.read = true;
    return notes;
  }

  /** Drops the state of a session that holds nothing: no job, handle, unsynced write or damage. */
  private forget(st: FileState): void {
    if (st.jobs > 0 || st.handle || st.dirty || st.notes?.dirty || st.damaged || st.failed || st.length > st.syncedLength) return;
    if (this.files.get(st.id) === st) this.files.delete(st.id);
  }

  async sync(sessionId: string, options: { release?: boolean } = {}): Promise<void> {
    const st = this.files.get(sessionId);
    if (!st) return;
    await this.enqueue(st, async () => {
      await this.syncState(st);
      if (options.release) await this.release(st);
    });
    // An ended session's state goes with its file handle: the index holds what is needed to read it again.
    if (options.release && st.jobs === 0 && !st.damaged && !st.failed && !st.dirty && !st.notes?.dirty && this.files.get(sessionId) === st) this.files.delete(sessionId);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const errors: unknown[] = [];
    await Promise.all(
      [...this.files.values()].map((st) =>
        this.enqueue(st, async () => {
          try {
            await this.syncState(st);
          } finally {
            await this.release(st);
          }
        }).catch((err) => errors.push(err)),
      ),
    );
    this.files.clear();
    this.lru.clear();
    this.ready = null;
    const indexing = this.indexing;
    this.indexing = null;
    await indexing?.then(({ index }) => index.close()).catch((err) => errors.push(err));
    if (errors.length > 0) throw errors[0];
  }

  /**
   * Cuts a torn last line off a session's file (after a crash mid-write), keeping every complete event. Refuses
   * when the damage is anything else or when the cut would go below the synced head. Returns the number of
   * events kept. Call it before opening a runtime on the folder.
   */
  async repair(sessionId: string): Promise<{
    /** The events kept. */
    events: number;
    /** The bytes cut off (the torn line); 0 when there was nothing to cut. */
    removedBytes: number;
  }> {
    const st = this.state(sessionId);
    return this.enqueue(st, async () => {
      await this.init();
      await this.indexed();
      const scanned = await this.scan(st);
      const issue = scanned.parsed.issue;
      if (!issue) {
        if (scanned.issue) throw corrupt(scanned.issue);
        return { events: scanned.parsed.events.length, removedBytes: 0 };
      }
      if (issue.kind !== 'torn_line') throw corrupt(issue);
      if (scanned.synced && scanned.synced.length > scanned.parsed.events.length) {
        throw corrupt({ ...issue, kind: 'truncated', message: `${issue.message}; the cut would drop synced events` });
      }
      const total = (await stat(st.path)).size;
      const fh = await open(st.path, 'r+');
      try {
        await fh.truncate(scanned.parsed.size);
        await fh.sync();
      } finally {
        await fh.close();
      }
      st.damaged = null;
      st.exists = true;
      st.size = scanned.parsed.size;
      st.length = scanned.parsed.events.length;
      st.headHash = scanned.parsed.events.at(-1)?.event_hash ?? GENESIS_HASH;
      st.summary = summarize(st.id, scanned.parsed.events);
      st.scanned = true;
      return { events: st.length, removedBytes: total - scanned.parsed.size };
    });
  }

  // -------------------------------------------------------------------------------------------------------------

  private init(): Promise<void> {
    this.ready ??= mkdir(this.dir, { recursive: true }).then(
      () => undefined,
      (err) => {
        this.ready = null;
        throw storageFailure(`cannot create ${this.dir}`, err);
      },
    );
    return this.ready;
  }

  /** The session index, loaded on first use. */
  private indexed(): Promise<{ index: SessionIndex; issues: StoreIssue[] }> {
    this.indexing ??= (async () => {
      await this.init();
      const index = new SessionIndex(this.dir, this.indexSlack);
      try {
        const issues = await index.load();
        this.entries = index.entries;
        return { index, issues };
      } catch (err) {
        this.indexing = null;
        throw storageFailure(`cannot read ${index.path}`, err);
      }
    })();
    return this.indexing;
  }

  /**
   * Builds the index of a folder of an earlier version from its traces and their head files (whose heads it keeps:
   * a trace already cut below its head stays refused), then removes the head files it replaces.
   */
  private async adopt(index: SessionIndex, entries: Map<string, IndexEntry>, names: readonly string[]): Promise<void> {
    try {
      await index.replace(entries.values());
    } catch (err) {
      throw storageFailure(`cannot write ${index.path}`, err);
    }
    for (const name of names) {
      if (HEAD_FILE.test(name)) await unlink(join(this.dir, name)).catch(() => undefined);
    }
  }

  private state(id: string): FileState {
    let st = this.files.get(id);
    if (!st) {
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) {
        throw new CraError('invalid_request', `not a session id: ${JSON.stringify(id)}`, { path: '/session_id' });
      }
      // A session the index names: its file exists (open() reports those that do not), and is read before use.
      st = fileState(id, this.pathOf(id), this.indexing === null ? undefined : this.entries?.get(id));
      this.files.set(id, st);
    }
    return st;
  }

  private enqueue<T>(st: FileState, job: () => Promise<T>): Promise<T> {
    st.batch = null; // a job after the group: appends called from now on run after it
    st.jobs++;
    const run = st.tail.then(job).finally(() => {
      st.jobs--;
    });
    st.tail = run.catch(() => undefined);
    return run;
  }

  /** The index's entries, once loaded (see `indexed`). */
  private entries: Map<string, IndexEntry> | null = null;

  /** The folder's file names (sorted when `sorted`: an order of issues that does not depend on the file system). */
  private async names(sorted = true): Promise<string[]> {
    try {
      const names = await readdir(this.dir);
      return sorted ? names.sort() : names;
    } catch (err) {
      throw storageFailure(`cannot list ${this.dir}`, err);
    }
  }

  private startTimer(): void {
    if (this.fsyncIntervalMs > 0 && !this.timer) {
      this.timer = setInterval(() => this.syncDirty(), this.fsyncIntervalMs);
      (this.timer as { unref?: () => void }).unref?.();
    }
  }

  /** Whether a session's file can be read: false when there is none; refused when it is gone or damaged. */
  private async readable(st: FileState): Promise<boolean> {
    await this.init();
    const missing = await this.gone(st);
    if (missing) throw corrupt(missing);
    if (st.damaged) throw corrupt(st.damaged);
    return st.exists || exists(st.path);
  }

  /** The `missing` issue of a session the index names whose file is gone (checked once, on its first read). */
  private async gone(st: FileState): Promise<StoreIssue | null> {
    if (st.damaged || st.scanned || !st.exists || (await exists(st.path))) return null;
    const entry = this.entries?.get(st.id);
    return entry ? missingFile(st, entry) : null;
  }

  /** Reads a session's whole file into its state (a trace found without an index line, or before an append). */
  private async load(st: FileState): Promise<StoreIssue | null> {
    return applyScan(st, await this.scan(st));
  }

  /**
   * Reads every trace file: the start of a folder without an index (`adopting`: an earlier version's, whose head
   * files it adopts, or one whose index was deleted) or a full check.
   */
  private async checkAll(names: readonly string[], adopting: boolean): Promise<{ traces: StoredTrace[]; issues: StoreIssue[] }> {
    const { index, issues: indexIssues } = await this.indexed();
    const traces: StoredTrace[] = [];
    const issues: StoreIssue[] = [...indexIssues];
    const legacy = adopting ? new Map<string, IndexEntry>() : null;
    const found = new Set<string>();
    for (const name of names) {
      const id = TRACE_FILE.exec(name)?.[1];
      if (!id) continue;
      found.add(id);
      const st = this.state(id);
      await this.enqueue(st, async () => {
        const scanned = await this.scan(st);
        const events = scanned.parsed.events;
        if (legacy || !st.scanned) applyScan(st, scanned);
        if (legacy) {
          const synced = scanned.synced ?? { length: 0, head_hash: GENESIS_HASH };
          legacy.set(id, { ...summarize(id, events.slice(0, synced.length)), length: synced.length, head_hash: synced.head_hash });
        }
        if (scanned.issue) issues.push(scanned.issue);
        else traces.push({ session_id: id, events, synced_head: scanned.synced });
      });
    }
    if (legacy && found.size > 0 && !names.some((name) => HEAD_FILE.test(name))) {
      // The index is written when a folder is first opened, before any trace: traces without it and without the
      // head files of an earlier version mean it was deleted. It is rebuilt from the traces, which cannot show a
      // cut end, so say so.
      issues.push({
        session_id: null,
        kind: 'index_missing',
        message: `no session index beside ${found.size} trace file(s) (deleted, or the traces were copied in): rebuilt from them; a trace cut at its end cannot be detected this time`,
        location: index.path,
      });
    }
    if (legacy) {
      // A head file whose trace is gone: the session existed, and is reported missing below.
      for (const name of names) {
        const id = HEAD_FILE.exec(name)?.[1];
        if (!id || found.has(id)) continue;
        const head = await legacyHead(this.dir, id);
        if ('head' in head && head.head) legacy.set(id, { ...summarize(id, []), length: head.head.length, head_hash: head.head.head_hash });
      }
      await this.adopt(index, legacy, names);
    }
    for (const entry of index.entries.values()) {
      if (!found.has(entry.session_id)) issues.push(missingFile(this.state(entry.session_id), entry));
    }
    this.startTimer();
    return { traces, issues };
  }

  /**
   * Reads and parses a session's file, with its synced head (from the index, or from the head file of a folder of
   * an earlier version); `issue` covers both.
   */
  private async scan(st: FileState, withHead = true): Promise<Scanned> {
    let text: string;
    try {
      text = await readFile(st.path, 'utf8');
    } catch (err) {
      const issue: StoreIssue = { session_id: st.id, kind: 'unreadable', message: `cannot read: ${describe(err)}`, location: st.path };
      return { parsed: { events: [], size: 0, issue }, synced: null, issue };
    }
    const parsed = parseTrace(text, st.id, st.path);
    if (!withHead) return { parsed, synced: null, issue: parsed.issue };
    const { index } = await this.indexed();
    let synced: ChainHead | null = null;
    if (index.existed) {
      const entry = index.entries.get(st.id);
      if (entry) synced = { length: entry.length, head_hash: entry.head_hash };
    } else {
      const legacy = await legacyHead(this.dir, st.id);
      if ('issue' in legacy) return { parsed, synced: null, issue: parsed.issue ?? legacy.issue };
      synced = legacy.head;
    }
    if (!parsed.issue && parsed.events.length === 0 && synced && synced.length > 0) {
      // An emptied file is no trace for the core to judge (a session's trace starts with session.started).
      const issue: StoreIssue = {
        session_id: st.id,
        kind: 'truncated',
        message: `the trace file is empty but ${synced.length} event(s) were synced`,
        location: st.path,
        intact_events: 0,
        synced_events: synced.length,
      };
      return { parsed, synced, issue };
    }
    // Whether the chain still extends the synced head is the core's to say (`session.restore` with `synced_head`).
    return { parsed, synced, issue: parsed.issue };
  }

  private async handle(st: FileState): Promise<FileHandle> {
    if (st.handle) {
      this.lru.delete(st);
      this.lru.add(st);
      return st.handle;
    }
    try {
      // 'ax' for a new session: never append a genesis event to a file that already holds another trace.
      st.handle = await open(st.path, st.exists ? 'a' : 'ax');
    } catch (err) {
      if ((err as { code?: string }).code === 'EEXIST') {
        throw new CraError('storage_failure', `a trace file for session ${st.id} already exists: ${st.path}`, { cause: err });
      }
      throw storageFailure(`cannot open ${st.path}`, err);
    }
    if (!st.exists) st.created = true;
    st.exists = true;
    this.lru.add(st);
    this.evict(st);
    return st.handle;
  }

  private evict(current: FileState): void {
    if (this.lru.size <= this.maxOpenFiles) return;
    for (const st of this.lru) {
      if (st === current) continue;
      this.lru.delete(st);
      void this.enqueue(st, async () => {
        await this.syncState(st);
        await this.release(st);
      }).catch((err) => {
        this.lastError = err;
      });
      if (this.lru.size <= this.maxOpenFiles) return;
    }
  }

  private async release(st: FileState): Promise<void> {
    this.lru.delete(st);
    const fh = st.handle;
    st.handle = null;
    if (fh) await fh.close();
  }

  private async syncState(st: FileState): Promise<void> {
    await this.syncTrace(st);
    await this.syncNotes(st);
    if (st.length <= st.syncedLength || st.damaged) return;
    // The index only ever names durable events: its line is appended after the data (and a new file's name) is
    // synced. It never moves back: a file found shorter than its indexed head keeps the head that proves the cut.
    try {
      if (st.created) await syncFolder(this.dir);
      const { index } = await this.indexed();
      await index.record({ ...st.summary, session_id: st.id, length: st.length, head_hash: st.headHash });
    } catch (err) {
      throw storageFailure(`cannot record the synced head of ${st.path} in the session index`, err);
    }
    st.created = false;
    st.syncedLength = st.length;
  }

  /** The trace's part of a sync: the file's unsynced writes fdatasynced. */
  private async syncTrace(st: FileState): Promise<void> {
    if (!st.dirty) return;
    // A file read on open beyond its indexed head has no handle: it is opened to be synced.
    let fh: FileHandle;
    try {
      fh = st.handle ?? (await open(st.path, 'r+'));
    } catch (err) {
      throw storageFailure(`cannot open ${st.path}`, err);
    }
    try {
      await fh.datasync();
    } catch (err) {
      throw storageFailure(`cannot sync ${st.path}`, err);
    } finally {
      if (fh !== st.handle) await fh.close();
    }
    st.dirty = false;
  }

  /** Fdatasyncs a session's checkpoint file written since its last sync (and the folder, for a new one). */
  private async syncNotes(st: FileState): Promise<void> {
    const notes = st.notes;
    if (!notes?.dirty) return;
    let fh: FileHandle;
    try {
      fh = await open(notes.path, 'r+');
    } catch (err) {
      throw storageFailure(`cannot open ${notes.path}`, err);
    }
    try {
      await fh.datasync();
    } catch (err) {
      throw storageFailure(`cannot sync ${notes.path}`, err);
    } finally {
      await fh.close();
    }
    if (notes.created) await syncFolder(this.dir);
    notes.created = false;
    notes.dirty = false;
  }

  private syncDirty(): void {
    for (const st of this.files.values()) {
      if (!st.dirty && st.length <= st.syncedLength && !st.notes?.dirty) continue;
      if (st.damaged && !st.notes?.dirty) continue; // never recorded again: its indexed head is the evidence
      void this.enqueue(st, () => this.syncState(st)).catch((err) => {
        this.lastError = err;
      });
    }
  }
}

/** The events as JSONL lines, ready to write. */
function encode(events: readonly TraceEvent[]): Buffer {
  let text = '';
  for (const e of events) text += `${JSON.stringify(e)}\n`;
  return Buffer.from(text, 'utf8');
}

function outOfSequence(st: FileState, first: number, stored: number): CraError {
  return new CraError('storage_failure', `refusing to append sequence ${first} to session ${st.id}, which has ${stored} stored events`);
}

/** A JSONL store in `dir` (see {@link JsonlStoreOptions}). */
export function jsonlStore(options: JsonlStoreOptions): JsonlStore {
  return new JsonlStore(options);
}

/** A checkpoint file's text; `null` when there is none. */
async function readNotes(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return null;
    throw storageFailure(`cannot read ${path}`, err);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

