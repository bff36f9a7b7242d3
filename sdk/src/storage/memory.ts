/**
 * The default store: traces in memory. Handing the same store to a new runtime restores its sessions.
 *
 * It keeps every event of every session as a JavaScript object for as long as the store lives, ended sessions
 * included (about 24 KB for a session of 17 events): right for tests, scripts and short-lived agents, not for a
 * server that runs for months. Such a server keeps its traces on disk (`JsonlStore`), where the runtime holds only
 * a small summary per session and restores a session's trace when it is used.
 *
 * @module
 */

import { CraError } from '../errors.ts';
import type { TraceEvent } from '../types.ts';
import { checkNote, type StoredSession, type StoreOpenResult, type TraceStore } from './store.ts';
import { summarize } from './summary.ts';

/**
 * Traces and their signed checkpoints as JavaScript values, for the life of the store. Refuses an append that does
 * not follow the stored events (`storage_failure`); `sync` and `close` have nothing to do.
 */
export class MemoryStore implements TraceStore {
  private readonly traces = new Map<string, TraceEvent[]>();
  private readonly summaries = new Map<string, StoredSession>();
  private readonly checkpoints = new Map<string, string[]>();

  async open(): Promise<StoreOpenResult> {
    return { sessions: [...this.summaries.values()].map((s) => ({ ...s })), issues: [] };
  }

  async append(sessionId: string, events: readonly TraceEvent[]): Promise<void> {
    if (events.length === 0) return;
    const stored = this.traces.get(sessionId) ?? [];
    const first = events[0]!.sequence;
    if (first !== stored.length) {
      throw new CraError(
        'storage_failure',
        `refusing to append sequence ${first} to session ${sessionId}, which has ${stored.length} stored events`,
      );
    }
    if (!this.traces.has(sessionId)) this.traces.set(sessionId, stored);
    stored.push(...events);
    this.summaries.set(sessionId, summarize(sessionId, events, this.summaries.get(sessionId)));
  }

  async read(sessionId: string): Promise<TraceEvent[]> {
    return (this.traces.get(sessionId) ?? []).slice();
  }

  async appendCheckpoint(sessionId: string, note: string): Promise<void> {
    checkNote(note);
    const notes = this.checkpoints.get(sessionId);
    if (notes) notes.push(note);
    else this.checkpoints.set(sessionId, [note]);
  }

  async readCheckpoints(sessionId: string): Promise<string[]> {
    return (this.checkpoints.get(sessionId) ?? []).slice();
  }

  async sync(): Promise<void> {}

  async close(): Promise<void> {}

  /** Session ids with a stored trace. */
  sessions(): string[] {
    return [...this.traces.keys()];
  }
}

/** An in-memory store. */
export function memoryStore(): MemoryStore {
  return new MemoryStore();
}
