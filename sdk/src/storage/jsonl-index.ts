/**
 * The durable index of a JSONL store: `sessions.index.jsonl`, one line per sync of a session, holding its durable
 * head (`session_id`, `length`, `head_hash`) and what its events recorded about it (a {@link StoredSession}). A
 * trace file cannot testify to its own absence or to lines cut off its end; the index, kept apart from the traces,
 * can. It only ever names durable events: a line is appended (and fsynced) after the trace data it names was
 * fsynced. It is also all a store reads on start: listing sessions and starting up never read a trace.
 *
 * Append-only, with group commit: the lines of syncs that arrive together are written with one write and made
 * durable with one fsync. A line carries the members that changed since the session's previous line (the identity
 * of `session.started` once, then head, status and times): read back, a session's lines are merged in order, later
 * members winning; a last line cut short (a crash mid-write) is ignored and cut before the next append. When the
 * file has grown well past one line per session it is rewritten with one merged line each (tmp file, fsync, rename,
 * folder fsync), so that a crash leaves either index whole.
 *
 * @module
 */

import { constants as fsConstants } from 'node:fs';
import { open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { StoredSession, StoreIssue } from './store.ts';

export const INDEX_FILE = 'sessions.index.jsonl';

/** What the index holds of a session at its last sync. */
export type IndexEntry = StoredSession;

interface Waiting {
  entry: IndexEntry;
  resolve: () => void;
  reject: (err: unknown) => void;
}

const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HASH = /^[0-9a-f]{64}$/;

export class SessionIndex {
  readonly path: string;
  /** The last entry of each session. */
  readonly entries = new Map<string, IndexEntry>();
  /** The file existed when loaded (a folder of an older version has none). */
  existed = false;
  private lines = 0;
  /** Bytes of complete lines: anything after them is a torn write, cut before the next append. */
  private size = 0;
  private tornTail = false;
  private handle: FileHandle | null = null;
  private waiting: Waiting[] = [];
  private flushing = false;
  private idle: Promise<void> = Promise.resolve();
  private settle: (() => void) | null = null;

  /** `slack`: how many lines past two per session the file may grow before it is compacted. */
  constructor(
    readonly dir: string,
    private readonly slack = 1000,
  ) {
    this.path = join(dir, INDEX_FILE);
  }

  /** Reads the index; lines that are complete but unreadable are reported (the torn last one is not: see above). */
  async load(): Promise<StoreIssue[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
      this.existed = true;
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return [];
      throw err;
    }
    const issues: StoreIssue[] = [];
    let start = 0;
    let line = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      line++;
      const raw = text.slice(start, nl);
      start = nl + 1;
      this.lines++;
      const entry = entryOf(raw);
      if (entry) {
        const before = this.entries.get(entry.session_id);
        this.entries.set(entry.session_id, before ? Object.assign(before, entry) : entry);
      }
      else issues.push({ session_id: null, kind: 'unreadable', message: `line ${line} of the session index is not an index entry`, location: this.path, line });
    }
    // Bytes of the complete lines, counted once (not per line: an index of a hundred thousand sessions is read on start).
    this.size = Buffer.byteLength(start === text.length ? text : text.slice(0, start), 'utf8');
    this.tornTail = start < text.length;
    if (this.needsCompaction()) await this.compact();
    return issues;
  }

  /** Makes `entry` the session's durable state; resolves once its line is fsynced. */
  record(entry: IndexEntry): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ entry, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        this.idle = new Promise<void>((r) => (this.settle = r));
        void this.flush();
      }
    });
  }

  /** Replaces the whole index with `entries` (building the index of a folder that has none). */
  async replace(entries: Iterable<IndexEntry>): Promise<void> {
    await this.idle;
    this.entries.clear();
    for (const e of entries) this.entries.set(e.session_id, e);
    await this.compact();
  }

  /** Waits for pending lines and closes the file. */
  async close(): Promise<void> {
    await this.idle;
    const fh = this.handle;
    this.handle = null;
    await fh?.close();
  }

  // -------------------------------------------------------------------------------------------------------------

  private async flush(): Promise<void> {
    // Lines that arrive while one batch is written go in the next: one write and one fsync per batch.
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0);
      const lines: string[] = [];
      const merged = new Map<string, IndexEntry>();
      for (const w of batch) {
        const before = merged.get(w.entry.session_id) ?? this.entries.get(w.entry.session_id);
        lines.push(`${JSON.stringify(delta(before, w.entry))}\n`);
        merged.set(w.entry.session_id, before ? { ...before, ...w.entry } : w.entry);
      }
      const data = Buffer.from(lines.join(''), 'utf8');
      try {
        await this.append(data);
      } catch (err) {
        for (const w of batch) w.reject(err);
        continue;
      }
      this.lines += batch.length;
      for (const [id, entry] of merged) this.entries.set(id, entry);
      if (this.needsCompaction()) {
        // The lines are durable either way; a failed compaction leaves the appended file as it is.
        await this.compact().catch(() => undefined);
      }
      for (const w of batch) w.resolve();
    }
    this.flushing = false;
    this.settle?.();
  }

  private async append(data: Buffer): Promise<void> {
    const fh = (this.handle ??= await open(this.path, 'a'));
    if (this.tornTail) {
      await fh.truncate(this.size);
      this.tornTail = false;
    }
    try {
      await writeFully(fh, data);
      await fh.datasync();
    } catch (err) {
      // What was written of the batch is cut before the next append (now, or after a restart: then a torn line).
      this.tornTail = true;
      await fh.truncate(this.size).then(
        () => (this.tornTail = false),
        () => undefined,
      );
      throw err;
    }
    this.size += data.length;
  }

  private needsCompaction(): boolean {
    return this.lines > 2 * this.entries.size + this.slack;
  }

  private async compact(): Promise<void> {
    const tmp = `${this.path}.tmp`;
    const text = [...this.entries.values()].map((e) => `${JSON.stringify(e)}\n`).join('');
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    const old = this.handle;
    this.handle = null;
    await old?.close();
    await rename(tmp, this.path);
    await syncFolder(this.dir);
    this.existed = true;
    this.lines = this.entries.size;
    this.size = Buffer.byteLength(text, 'utf8');
    this.tornTail = false;
  }
}

/** Writes all of `data` at the end of `fh` (a write may take only part of it). */
export async function writeFully(fh: FileHandle, data: Buffer): Promise<void> {
  let off = 0;
  while (off < data.length) {
    const { bytesWritten } = await fh.write(data, off, data.length - off, null);
    if (bytesWritten <= 0) throw new Error('the write made no progress');
    off += bytesWritten;
  }
}

/** Fsyncs a folder, so that files created or renamed in it stay; not every platform can. */
export async function syncFolder(dir: string): Promise<void> {
  let fh: FileHandle | null = null;
  try {
    fh = await open(dir, fsConstants.O_RDONLY);
    await fh.sync();
  } catch {
    // The file data itself is synced either way.
  } finally {
    await fh?.close();
  }
}

/** The line that makes `before` into `after`: the head always, other members when they changed. */
function delta(before: IndexEntry | undefined, after: IndexEntry): IndexEntry {
  if (!before) return after;
  const out: Record<string, unknown> = { session_id: after.session_id, length: after.length, head_hash: after.head_hash };
  for (const [k, v] of Object.entries(after)) {
    if (v !== undefined && (before as unknown as Record<string, unknown>)[k] !== v) out[k] = v;
  }
  return out as unknown as IndexEntry;
}

function entryOf(raw: string): IndexEntry | null {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const e = v as Partial<IndexEntry>;
  if (typeof e.session_id !== 'string' || !SESSION_ID.test(e.session_id)) return null;
  if (!Number.isSafeInteger(e.length) || (e.length as number) < 0) return null;
  if (typeof e.head_hash !== 'string' || !HASH.test(e.head_hash)) return null;
  return e as IndexEntry;
}
