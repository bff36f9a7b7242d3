/**
 * Isomorphic sinks: memory and callback. (The JSONL file sink is Node-only and lives in the `node` entry.)
 *
 * @module
 */

import { CraError } from '../errors.ts';
import type { TraceEvent } from '../types.ts';
import { kindOf } from '../util.ts';
import type { TraceSink } from './collector.ts';

/** The batch a sink is handed, refused when it is not a list (a sink may be called directly). */
export function batchOf(events: readonly TraceEvent[]): readonly TraceEvent[] {
  if (!Array.isArray(events)) throw new CraError('invalid_request', `a batch must be an array of events, not ${kindOf(events)}`, { path: '' });
  return events;
}

/** A sink that keeps every event in `events`. */
export interface MemorySink extends TraceSink {
  /** Every event taken, in the order taken. */
  readonly events: TraceEvent[];
  /** The events of one session, in order. */
  session(sessionId: string): TraceEvent[];
}

/** A sink that keeps events in memory: for tests and for reading a trace back in the same process. */
export function memorySink(name = 'memory'): MemorySink {
  const events: TraceEvent[] = [];
  return {
    name,
    events,
    write(batch) {
      for (const e of batchOf(batch)) events.push(e);
    },
    session(sessionId) {
      return events.filter((e) => e.session_id === sessionId);
    },
  };
}

/** A sink that hands each batch to `fn` (which may be async; a rejection keeps the batch for retry). */
export function callbackSink(fn: (events: readonly TraceEvent[]) => void | Promise<void>, name = 'callback'): TraceSink {
  if (typeof fn !== 'function') throw new CraError('invalid_request', 'callbackSink needs a function', { path: '' });
  return { name, write: (batch) => fn(batchOf(batch)) };
}
