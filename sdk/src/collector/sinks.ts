/**
 * Isomorphic sinks: memory and callback. (The JSONL file sink is Node-only and lives in the `node` entry.)
 *
 * @module
 */

import type { TraceEvent } from '../types.ts';
import type { TraceSink } from './collector.ts';

/** A sink that keeps every event in `events`. */
export interface MemorySink extends TraceSink {
  readonly events: TraceEvent[];
  /** The events of one session, in order. */
  session(sessionId: string): TraceEvent[];
}

export function memorySink(name = 'memory'): MemorySink {
  const events: TraceEvent[] = [];
  return {
    name,
    events,
    write(batch) {
      events.push(...batch);
    },
    session(sessionId) {
      return events.filter((e) => e.session_id === sessionId);
    },
  };
}

/** A sink that hands each batch to `fn` (which may be async; a rejection keeps the batch for retry). */
export function callbackSink(fn: (events: readonly TraceEvent[]) => void | Promise<void>, name = 'callback'): TraceSink {
  return { name, write: (batch) => fn(batch) };
}
