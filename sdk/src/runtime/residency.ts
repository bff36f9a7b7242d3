/**
 * Which sessions are live in the core. A session the runtime knows (`directory.ts`) is restored into the core
 * from its stored trace when it is used — verified against the head the directory holds — and leaves the core
 * again: at once when it has ended, after `idleSeconds` without use, or least recently used first when more than
 * `maxLiveSessions` are live. Nothing is lost by leaving: a session's state (its resolutions, executions, budgets
 * and rate-limit counts) is the core's reading of its trace, and the next use restores exactly that.
 *
 * A session in use (an operation under way on it) is pinned and never leaves; only one restore of a session runs at
 * a time. Sessions leave inside the engine's order of steps (a `session.forget` is one synchronous core call), never
 * while the engine is rebuilding.
 *
 * @module
 */

import { CraError } from '../errors.ts';
import { isoFromMicros } from '../host.ts';
import { describeValue } from '../json-value.ts';
import type { StoreIssue, TraceStore } from '../storage/store.ts';
import type { Core } from './core.ts';
import type { Directory, KnownSession } from './directory.ts';
import type { Engine } from './engine.ts';
import { issueOf, restoreSession, type SessionState, type TraceInput } from './restore.ts';

export interface ResidencyOptions {
  /** Most sessions live in the core at once. */
  maxLiveSessions: number;
  /** A live session unused this long (host microseconds) leaves the core. */
  idleMicros: number;
}

export class Residency {
  /** Live sessions, least recently used first. */
  private readonly lru = new Map<string, SessionState>();
  /** Restores under way, with how many operations wait for each (they are pinned when the session is taken in). */
  private readonly restoring = new Map<string, { done: Promise<SessionState>; waiting: number }>();
  /** Sessions that left the core (for stats). */
  evictions = 0;
  restores = 0;

  constructor(
    private readonly engine: Engine,
    private readonly directory: Directory,
    private readonly store: TraceStore,
    private readonly options: ResidencyOptions,
    private readonly onIssue: (issue: StoreIssue) => void,
  ) {}

  /** A session created or restored in the core just now (inside the step that did it). */
  adopt(st: SessionState): void {
    this.engine.sessions.set(st.id, st);
    st.lastUsed = this.engine.lastReading();
    this.lru.set(st.id, st);
  }

  /**
   * The live state of a session, pinned until {@link release}: at once when it is live, else once restored.
   * Throws (synchronously) what a missing or damaged session answers.
   */
  acquire(sessionId: string): SessionState | Promise<SessionState> {
    if (this.engine.closed) throw new CraError('closed', 'the runtime is closed');
    const live = typeof sessionId === 'string' ? this.engine.sessions.get(sessionId) : undefined;
    if (live) {
      live.pins++;
      return live;
    }
    const k = this.known(sessionId);
    let restoring = this.restoring.get(sessionId);
    if (!restoring) {
      const entry = { done: null as unknown as Promise<SessionState>, waiting: 0 };
      entry.done = this.restore(sessionId, k, entry).finally(() => this.restoring.delete(sessionId));
      this.restoring.set(sessionId, entry);
      restoring = entry;
    }
    restoring.waiting++;
    return restoring.done;
  }

  /** Unpins a session; it leaves the core when it has ended, and others leave when idle or over the cap. */
  release(st: SessionState): void {
    st.pins--;
    st.lastUsed = this.engine.lastReading();
    if (this.engine.sessions.get(st.id) !== st) return;
    this.lru.delete(st.id);
    this.lru.set(st.id, st);
    if (st.pins === 0 && this.directory.get(st.id)?.stored.status === 'ended') this.evict(st);
    this.trim();
  }

  /** The directory's entry of a session, or what a missing or damaged one answers. */
  known(sessionId: string): KnownSession {
    const lost = typeof sessionId === 'string' ? this.engine.lost.get(sessionId) : undefined;
    if (lost) throw lost;
    const k = typeof sessionId === 'string' ? this.directory.get(sessionId) : undefined;
    if (!k) throw new CraError('session_not_found', `unknown session: ${describeValue(sessionId)}`, { path: '/session_id' });
    return k;
  }

  /** Sessions idle too long, then the least recently used beyond the cap, leave the core (pinned ones stay). */
  trim(): void {
    if (this.engine.broken || this.engine.closed) return;
    const idleBefore = this.engine.lastReading() - this.options.idleMicros;
    for (const st of this.lru.values()) {
      // A session a rebuild dropped (its creation never reached the store) is no longer live.
      if (this.engine.sessions.get(st.id) !== st) {
        this.lru.delete(st.id);
        continue;
      }
      const over = this.lru.size > this.options.maxLiveSessions;
      if (!over && st.lastUsed > idleBefore) break;
      if (st.pins === 0) this.evict(st);
    }
  }

  /** Every unpinned live session leaves the core (their state stays in their traces). */
  evictAll(): number {
    let n = 0;
    for (const st of [...this.lru.values()]) if (st.pins === 0 && this.evict(st)) n++;
    return n;
  }

  private evict(st: SessionState): boolean {
    if (st.pins > 0 || !this.engine.forget(st.id)) return false;
    this.lru.delete(st.id);
    this.evictions++;
    return true;
  }

  /**
   * Rate-limit windows of scope `agent` and `global` are shared by the sessions of an owner, and a session's
   * approvals count in them after it left the core (the core keeps them). A fresh core (on start, after a rebuild)
   * has none of them: the sessions active within the longest such window (`windowSeconds`, the core's
   * `shared_window_seconds`) are read into `core` and leave it again, so that their approvals count as before.
   * With no shared window in the loaded atlases, nothing is read.
   */
  async warm(core: Core | null, windowSeconds: number, now: number): Promise<number> {
    if (!(windowSeconds > 0)) return 0;
    const since = isoFromMicros(Math.max(0, now - windowSeconds * 1e6));
    let n = 0;
    for (const k of [...this.directory.values()]) {
      const id = k.stored.session_id;
      if ((k.stored.last_event_at ?? '') < since || this.engine.lost.has(id)) continue;
      if (core === null && this.engine.sessions.has(id)) continue;
      let trace: TraceInput;
      try {
        trace = await this.readTrace(id);
      } catch {
        continue; // a damaged trace answers for itself when its session is used
      }
      const charge = (into: Core, at: number) => {
        if (core === null && this.engine.sessions.has(id)) return;
        try {
          restoreSession(into, id, trace, this.directory.heads(k), k.owner, at);
        } catch (err) {
          if (err instanceof CraError && err.code === 'core_failure') throw err;
          return;
        }
        into.call('session.forget', { session_id: id }, at);
        n++;
      };
      if (core) charge(core, now);
      else await this.engine.read((c, at) => charge(c, at));
    }
    return n;
  }

  private readTrace(sessionId: string): Promise<TraceInput> {
    return this.store.readText
      ? this.store.readText(sessionId).then((jsonl) => ({ jsonl }))
      : this.store.read(sessionId).then((events) => ({ events }));
  }

  /**
   * Restores a session and pins it for every operation waiting on it, in the same step that takes it in: no other
   * operation's release can make it leave before those operations run.
   */
  private async restore(sessionId: string, k: KnownSession, waiters: { waiting: number }): Promise<SessionState> {
    let trace: TraceInput;
    try {
      trace = await this.readTrace(sessionId);
    } catch (err) {
      throw this.lose(sessionId, err instanceof CraError && err.code === 'storage_corrupt' ? err : null, err);
    }
    // A restore records nothing: it runs at the latest clock reading, so that the calls of a session give the same
    // trace whether or not it left the core in between.
    const st = await this.engine.read((core, now) => {
      const already = this.engine.sessions.get(sessionId);
      if (already) {
        already.pins += waiters.waiting;
        return already;
      }
      let restored: SessionState;
      try {
        restored = restoreSession(core, sessionId, trace, this.directory.heads(k), k.owner, now);
      } catch (err) {
        if (err instanceof CraError && err.code === 'core_failure') throw err;
        throw this.lose(sessionId, null, issueOf(sessionId, trace, err));
      }
      this.restores++;
      this.adopt(restored);
      restored.pins += waiters.waiting;
      return restored;
    });
    return st;
  }

  /** A read of a session's trace failed with `err`: when it is damage, the session answers it from now on. */
  damaged(sessionId: string, err: unknown): unknown {
    return err instanceof CraError && err.code === 'storage_corrupt' ? this.lose(sessionId, err, err) : err;
  }

  /** The core found a session's stored trace damaged (`issue`): the session answers it from now on. */
  damage(sessionId: string, issue: StoreIssue): CraError {
    return this.lose(sessionId, null, issue);
  }

  /** Marks a session damaged: it answers `storage_corrupt` from now on, and its issue is reported. */
  private lose(sessionId: string, corrupt: CraError | null, cause: unknown): CraError {
    const issue: StoreIssue | undefined = corrupt
      ? (corrupt.details as StoreIssue[] | undefined)?.[0]
      : isIssue(cause)
        ? cause
        : undefined;
    if (!issue) {
      // Not damage: a store that failed to read (the next use tries again).
      return cause instanceof CraError ? cause : new CraError('storage_failure', `cannot read the trace of ${sessionId}: ${String(cause)}`, { cause });
    }
    // One wording whoever found the damage (the store reading the file, or the core verifying the chain).
    const err = new CraError('storage_corrupt', `the stored trace of session ${sessionId} is damaged (${issue.kind}): ${issue.message}`, {
      details: [issue],
      ...(corrupt ? { cause: corrupt } : {}),
    });
    this.engine.lost.set(sessionId, err);
    this.onIssue(issue);
    return err;
  }
}

function isIssue(v: unknown): v is StoreIssue {
  return typeof v === 'object' && v !== null && typeof (v as StoreIssue).kind === 'string' && 'message' in v && !(v instanceof Error);
}
