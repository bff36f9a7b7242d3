/**
 * The default store: traces in memory. Handing the same store to a new runtime restores its sessions.
 *
 * @module
 */

import { CraError } from '../errors.ts';
import type { TraceEvent } from '../types.ts';
import type { StoreOpenResult, TraceStore } from './store.ts';

export class MemoryStore implements TraceStore {
  private readonly traces = new Map<string, TraceEvent[]>();

  async open(): Promise<StoreOpenResult> {
    return {
      traces: [...this.traces].map(([session_id, events]) => ({ session_id, events: events.slice() })),
      issues: [],
    };
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
  }

  async read(sessionId: string): Promise<TraceEvent[]> {
    return (this.traces.get(sessionId) ?? []).slice();
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
