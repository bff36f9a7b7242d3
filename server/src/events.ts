/**
 * Live trace events for the SSE stream. The runtime appends every event it records to its trace store before it
 * answers; {@link observeStore} wraps that store so that each successful append is also published here, per
 * session, in chain order. Nothing is published for an append that failed (the runtime then records nothing).
 *
 * @module
 */

import type { TraceStore } from '../../sdk/src/storage/store.ts';
import type { TraceEvent } from '../../sdk/src/types.ts';

/** A listener of one session's appends: each batch as it was appended, in chain order. */
export type TraceListener = (events: readonly TraceEvent[]) => void;
/** A listener of every session's appends (counters: `/metrics`). */
export type TraceObserver = (sessionId: string, events: readonly TraceEvent[]) => void;

/**
 * The hub of live trace events, one per app: the store wrapped by {@link observeStore} publishes into it, and the
 * SSE stream and the metrics listen. Pass the same instance to `observeStore` and to `createApp({ events })`.
 */
export class TraceEvents {
  private readonly listeners = new Map<string, Set<TraceListener>>();
  private readonly closers = new Set<() => void>();
  private readonly observers = new Set<TraceObserver>();
  private closed = false;

  /**
   * Calls `observer` with every batch appended to any session, from now on; answers the unsubscribe. Observers are
   * not streams: closing the hub leaves them in place (events flushed while stopping are still counted).
   */
  observe(observer: TraceObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /** Calls `listener` with every batch of events appended to `sessionId` from now on. Answers the unsubscribe. */
  subscribe(sessionId: string, listener: TraceListener, onClose?: () => void): () => void {
    if (this.closed) {
      onClose?.();
      return () => undefined;
    }
    let set = this.listeners.get(sessionId);
    if (!set) this.listeners.set(sessionId, (set = new Set()));
    set.add(listener);
    if (onClose) this.closers.add(onClose);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(sessionId) === set) this.listeners.delete(sessionId);
      if (onClose) this.closers.delete(onClose);
    };
  }

  /**
   * Hands a batch appended to `sessionId` to the observers and to that session's listeners. A listener or observer
   * that throws is skipped; the others still get the batch. Called by {@link observeStore}'s store.
   */
  publish(sessionId: string, events: readonly TraceEvent[]): void {
    if (events.length > 0) {
      for (const observer of this.observers) {
        try {
          observer(sessionId, events);
        } catch {
          // An observer's failure is its own; the append happened and the streams still get it.
        }
      }
    }
    const set = this.listeners.get(sessionId);
    if (!set || events.length === 0) return;
    for (const listener of [...set]) {
      try {
        listener(events);
      } catch {
        // A listener's failure is its own (a closed stream); the others still get the events.
      }
    }
  }

  /** Number of live subscriptions (for tests and health). */
  get size(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }

  /** Ends every subscription (graceful shutdown): open streams finish. */
  close(): void {
    this.closed = true;
    this.listeners.clear();
    for (const close of [...this.closers]) {
      try {
        close();
      } catch {
        // ignore
      }
    }
    this.closers.clear();
  }
}

/** A store that publishes every successful append to `events`. */
export function observeStore(store: TraceStore, events: TraceEvents): TraceStore {
  return {
    open: () => store.open(),
    async append(sessionId, batch) {
      await store.append(sessionId, batch);
      events.publish(sessionId, batch);
    },
    read: (sessionId) => store.read(sessionId),
    sync: (sessionId, options) => store.sync(sessionId, options),
    close: () => store.close(),
    ...(store.readText ? { readText: (sessionId: string) => store.readText!(sessionId) } : {}),
    ...(store.appendCheckpoint ? { appendCheckpoint: (sessionId: string, note: string) => store.appendCheckpoint!(sessionId, note) } : {}),
    ...(store.readCheckpoints ? { readCheckpoints: (sessionId: string) => store.readCheckpoints!(sessionId) } : {}),
  };
}
