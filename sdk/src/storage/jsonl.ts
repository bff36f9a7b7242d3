/**
 * Traces as JSONL files on disk (Node): one `<session_id>.trace.jsonl` per session, append-only, one event per
 * line. Files are fsynced when a session ends, on close, and every `fsyncIntervalMs` while they have unsynced
 * writes. After each sync the durable head (`length`, `head_hash`) is written beside the trace as
 * `<session_id>.head.json` and handed on with the trace, so that a file later cut at a line boundary — which its own
 * chain cannot reveal — is refused when the runtime restores it (the core checks that the chain extends that head).
 *
 * On open every file is parsed (`jsonl-parse.ts`): a torn last line (a write cut short), a malformed line or events
 * of another session is reported as a {@link StoreIssue}; such a trace is never restored or appended to.
 * {@link JsonlStore.repair} cuts a torn tail explicitly.
 *
 * One class past 400 lines by choice: every file operation of a session runs on one ordered chain with its fsync
 * and head-file steps beside it, and splitting those apart would hide the order that makes the store durable.
 *
 * @module
 */

import { constants as fsConstants } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { CraError } from '../errors.ts';
import type { ChainHead, TraceEvent } from '../types.ts';
import { type Parsed, parseTrace } from './jsonl-parse.ts';

export { parseTrace };
import type { StoreIssue, StoreOpenResult, StoredTrace, TraceStore } from './store.ts';

export interface JsonlStoreOptions {
  /** Folder of the trace files; created when missing. */
  dir: string;
  /** Sync files with unsynced writes this often; `0` syncs only on session end and close. Default 1000. */
  fsyncIntervalMs?: number;
  /** Keep at most this many files open; the least recently written one is synced and closed. Default 64. */
  maxOpenFiles?: number;
}

const TRACE_FILE = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.trace\.jsonl$/;
const GENESIS = '0'.repeat(64);

interface FileState {
  id: string;
  path: string;
  handle: FileHandle | null;
  /** The file exists on disk. */
  exists: boolean;
  /** Bytes of intact, complete lines. */
  size: number;
  length: number;
  headHash: string;
  /** Written since the last fsync. */
  dirty: boolean;
  /** Created since the folder was last fsynced. */
  created: boolean;
  syncedLength: number;
  damaged: StoreIssue | null;
  /** A write that could not be rolled back: nothing more is written to this file. */
  failed: CraError | null;
  /** Every file operation of one session runs in order on this chain. */
  tail: Promise<unknown>;
}


export class JsonlStore implements TraceStore {
  readonly dir: string;
  private readonly fsyncIntervalMs: number;
  private readonly maxOpenFiles: number;
  private readonly files = new Map<string, FileState>();
  /** Files with an open handle, least recently used first. */
  private readonly lru = new Set<FileState>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private ready: Promise<void> | null = null;
  /** The last error of a background (interval) sync. */
  lastError: unknown = null;

  constructor(options: JsonlStoreOptions) {
    if (!options || typeof options.dir !== 'string' || options.dir.length === 0) {
      throw new CraError('invalid_request', 'a JSONL store needs a folder', { path: '/dir' });
    }
    this.dir = options.dir;
    this.fsyncIntervalMs = options.fsyncIntervalMs ?? 1000;
    this.maxOpenFiles = Math.max(1, options.maxOpenFiles ?? 64);
    if (!Number.isFinite(this.fsyncIntervalMs) || this.fsyncIntervalMs < 0) {
      throw new CraError('invalid_request', 'fsyncIntervalMs must be a non-negative number', { path: '/fsyncIntervalMs' });
    }
  }

  /** The file of a session's trace. */
  pathOf(sessionId: string): string {
    return join(this.dir, `${sessionId}.trace.jsonl`);
  }

  async open(): Promise<StoreOpenResult> {
    await this.init();
    const traces: StoredTrace[] = [];
    const issues: StoreIssue[] = [];
    let names: string[];
    try {
      names = (await readdir(this.dir)).sort();
    } catch (err) {
      throw storageFailure(`cannot list ${this.dir}`, err);
    }
    for (const name of names) {
      const m = TRACE_FILE.exec(name);
      if (!m) continue;
      const id = m[1]!;
      const st = this.state(id);
      await this.enqueue(st, async () => {
        const scanned = await this.scan(st);
        st.exists = true;
        st.size = scanned.parsed.size;
        st.length = scanned.parsed.events.length;
        st.headHash = scanned.parsed.events.at(-1)?.event_hash ?? GENESIS;
        st.syncedLength = scanned.synced?.length ?? 0;
        st.damaged = scanned.issue;
        if (scanned.issue) issues.push(scanned.issue);
        else traces.push({ session_id: id, events: scanned.parsed.events, synced_head: scanned.synced });
      });
    }
    if (this.fsyncIntervalMs > 0 && !this.timer) {
      this.timer = setInterval(() => this.syncDirty(), this.fsyncIntervalMs);
      (this.timer as { unref?: () => void }).unref?.();
    }
    return { traces, issues };
  }

  // Async so that a bad id rejects instead of throwing; the job is still queued synchronously, in call order.
  async append(sessionId: string, events: readonly TraceEvent[]): Promise<void> {
    if (events.length === 0) return;
    const st = this.state(sessionId);
    return this.enqueue(st, async () => {
      await this.init();
      if (st.damaged) throw corrupt(st.damaged);
      if (st.failed) throw st.failed;
      const first = events[0]!.sequence;
      if (first !== st.length) {
        throw new CraError(
          'storage_failure',
          `refusing to append sequence ${first} to session ${sessionId}, which has ${st.length} stored events`,
        );
      }
      const data = Buffer.from(events.map((e) => `${JSON.stringify(e)}\n`).join(''), 'utf8');
      const fh = await this.handle(st);
      try {
        let off = 0;
        while (off < data.length) {
          const { bytesWritten } = await fh.write(data, off, data.length - off, null);
          if (bytesWritten <= 0) throw new Error('the write made no progress');
          off += bytesWritten;
        }
      } catch (err) {
        // Roll the file back to its last complete line so that the next append continues a valid chain.
        try {
          await fh.truncate(st.size);
        } catch (err2) {
          st.failed = storageFailure(`cannot roll back a failed write to ${st.path}; the file takes no more events`, err2);
        }
        throw storageFailure(`cannot write to ${st.path}`, err);
      }
      st.size += data.length;
      st.length += events.length;
      st.headHash = events[events.length - 1]!.event_hash;
      st.dirty = true;
    });
  }

  async read(sessionId: string): Promise<TraceEvent[]> {
    const st = this.state(sessionId);
    return this.enqueue(st, async () => {
      await this.init();
      if (st.damaged) throw corrupt(st.damaged);
      if (!st.exists && !(await exists(st.path))) return [];
      const { parsed } = await this.scan(st, false);
      if (parsed.issue) throw corrupt(parsed.issue);
      return parsed.events;
    });
  }

  async sync(sessionId: string, options: { release?: boolean } = {}): Promise<void> {
    const st = this.files.get(sessionId);
    if (!st) return;
    return this.enqueue(st, async () => {
      await this.syncState(st);
      if (options.release) await this.release(st);
    });
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
    if (errors.length > 0) throw errors[0];
  }

  /**
   * Cuts a torn last line off a session's file (after a crash mid-write), keeping every complete event. Refuses
   * when the damage is anything else or when the cut would go below the synced head. Returns the number of
   * events kept. Call it before opening a runtime on the folder.
   */
  async repair(sessionId: string): Promise<{ events: number; removedBytes: number }> {
    const st = this.state(sessionId);
    return this.enqueue(st, async () => {
      await this.init();
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
      st.headHash = scanned.parsed.events.at(-1)?.event_hash ?? GENESIS;
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

  private state(id: string): FileState {
    let st = this.files.get(id);
    if (!st) {
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) {
        throw new CraError('invalid_request', `not a session id: ${JSON.stringify(id)}`, { path: '/session_id' });
      }
      st = {
        id,
        path: this.pathOf(id),
        handle: null,
        exists: false,
        size: 0,
        length: 0,
        headHash: GENESIS,
        dirty: false,
        created: false,
        syncedLength: 0,
        damaged: null,
        failed: null,
        tail: Promise.resolve(),
      };
      this.files.set(id, st);
    }
    return st;
  }

  private enqueue<T>(st: FileState, job: () => Promise<T>): Promise<T> {
    const run = st.tail.then(job);
    st.tail = run.catch(() => undefined);
    return run;
  }

  /** Reads and parses a session's file and its synced head; `issue` covers both. */
  private async scan(st: FileState, withHead = true): Promise<{ parsed: Parsed; synced: ChainHead | null; issue: StoreIssue | null }> {
    let text: string;
    try {
      text = await readFile(st.path, 'utf8');
    } catch (err) {
      const issue: StoreIssue = { session_id: st.id, kind: 'unreadable', message: `cannot read: ${describe(err)}`, location: st.path };
      return { parsed: { events: [], size: 0, issue }, synced: null, issue };
    }
    const parsed = parseTrace(text, st.id, st.path);
    if (!withHead) return { parsed, synced: null, issue: parsed.issue };
    let synced: ChainHead | null = null;
    const headPath = join(this.dir, `${st.id}.head.json`);
    try {
      const raw = JSON.parse(await readFile(headPath, 'utf8')) as Partial<ChainHead>;
      if (Number.isSafeInteger(raw.length) && typeof raw.head_hash === 'string') {
        synced = { length: raw.length as number, head_hash: raw.head_hash };
      } else {
        return { parsed, synced: null, issue: parsed.issue ?? { session_id: st.id, kind: 'unreadable', message: 'the synced head file is malformed', location: headPath } };
      }
    } catch (err) {
      if ((err as { code?: string }).code !== 'ENOENT') {
        return { parsed, synced: null, issue: parsed.issue ?? { session_id: st.id, kind: 'unreadable', message: `cannot read the synced head: ${describe(err)}`, location: headPath } };
      }
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
    if (st.handle && st.dirty) {
      try {
        await st.handle.datasync();
      } catch (err) {
        throw storageFailure(`cannot sync ${st.path}`, err);
      }
      st.dirty = false;
    }
    if (st.dirty || st.length <= st.syncedLength || st.damaged) return;
    // The head file only ever names durable events: it is written after the data is synced. It never moves back: a
    // file found shorter than its head (cut after a sync) keeps the head that proves the cut.
    const headPath = join(this.dir, `${st.id}.head.json`);
    const tmp = `${headPath}.tmp`;
    try {
      const fh = await open(tmp, 'w');
      try {
        await fh.writeFile(JSON.stringify({ length: st.length, head_hash: st.headHash }));
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, headPath);
      await this.syncDir();
    } catch (err) {
      throw storageFailure(`cannot record the synced head of ${st.path}`, err);
    }
    st.created = false;
    st.syncedLength = st.length;
  }

  private async syncDir(): Promise<void> {
    let dir: FileHandle | null = null;
    try {
      dir = await open(this.dir, fsConstants.O_RDONLY);
      await dir.sync();
    } catch {
      // Not every platform can fsync a folder; the file data itself is synced either way.
    } finally {
      await dir?.close();
    }
  }

  private syncDirty(): void {
    for (const st of this.files.values()) {
      if (!st.dirty && st.length <= st.syncedLength) continue;
      if (!st.handle && st.dirty) continue;
      void this.enqueue(st, () => this.syncState(st)).catch((err) => {
        this.lastError = err;
      });
    }
  }
}

/** A JSONL store in `dir` (see {@link JsonlStoreOptions}). */
export function jsonlStore(options: JsonlStoreOptions): JsonlStore {
  return new JsonlStore(options);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function corrupt(issue: StoreIssue): CraError {
  return new CraError('storage_corrupt', `stored trace ${issue.location ?? issue.session_id ?? ''} is damaged: ${issue.message}`, {
    details: [issue],
  });
}

function storageFailure(message: string, err: unknown): CraError {
  if (err instanceof CraError) return err;
  return new CraError('storage_failure', `${message}: ${describe(err)}`, { cause: err });
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
