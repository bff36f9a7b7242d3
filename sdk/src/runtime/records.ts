/**
 * Host events (`session.record`) are queued and appended in one `trace.append` batch per session and tick: records
 * in flight together cost one crossing of the ABI and one store append. The runtime flushes the queue before any
 * other call, so the chain keeps the order of the calls.
 *
 * @module
 */

import { CraError } from '../errors.ts';
import type { JsonObject, TraceEvent } from '../types.ts';
import { type Chain, continueChain } from './answers.ts';
import type { Core } from './core.ts';
import type { Engine } from './engine.ts';
import type { SessionState } from './restore.ts';

export interface HostEvent {
  event_type: string;
  payload: JsonObject;
}

export interface PendingRecord {
  item: HostEvent;
  resolve: (events: TraceEvent[]) => void;
  reject: (err: unknown) => void;
}

/** The records waiting for the end of the tick, per session. */
export class RecordQueue {
  private readonly pending = new Map<string, PendingRecord[]>();

  /** @param onFirst called once per tick, when the first record is queued (it schedules the flush). */
  constructor(private readonly onFirst: () => void) {}

  get size(): number {
    return this.pending.size;
  }

  /** Queues `item`, which the caller has checked and detached (`recordBody`). */
  push(sessionId: string, item: HostEvent): Promise<TraceEvent[]> {
    return new Promise((resolve, reject) => {
      let batch = this.pending.get(sessionId);
      if (!batch) {
        batch = [];
        this.pending.set(sessionId, batch);
        if (this.pending.size === 1) this.onFirst();
      }
      batch.push({ item, resolve, reject });
    });
  }

  /** Everything queued, per session, emptying the queue. */
  take(): Array<[string, PendingRecord[]]> {
    const all = [...this.pending];
    this.pending.clear();
    return all;
  }
}

/**
 * Appends one session's records in one core call. A refused batch changed nothing: each record then gets its own
 * answer (its event or its error), in the same step and order. A `core_failure` is thrown.
 */
export function appendRecords(core: Core, chain: Chain, records: readonly PendingRecord[], now: number): Array<TraceEvent | CraError> {
  const one = (item: HostEvent): TraceEvent => {
    const r = core.call<{ events: TraceEvent[] }>('trace.append', { session_id: chain.id, ...item }, now);
    const events = continueChain(core, chain, r?.events, 'trace.append');
    if (events.length !== 1) throw core.reject('trace.append answered another number of events', 'trace.append');
    return events[0]!;
  };
  if (records.length === 1) return [one(records[0]!.item)];
  try {
    const r = core.call<{ events: TraceEvent[] }>('trace.append', { session_id: chain.id, events: records.map((x) => x.item) }, now);
    const results = continueChain(core, chain, r?.events, 'trace.append');
    if (results.length !== records.length) throw core.reject('trace.append answered another number of events', 'trace.append');
    return results;
  } catch (err) {
    if (!(err instanceof CraError) || err.code === 'core_failure') throw err;
    return records.map((x) => {
      try {
        return one(x.item);
      } catch (e) {
        if (!(e instanceof CraError) || e.code === 'core_failure') throw e;
        return e;
      }
    });
  }
}

/** Settles each record with its own answer, or all of them with `err`. */
function settle(records: readonly PendingRecord[], results: Promise<Array<TraceEvent | CraError>>): void {
  results.then(
    (out) => records.forEach((r, i) => (out[i] instanceof CraError ? r.reject(out[i]) : r.resolve([out[i] as TraceEvent]))),
    (err) => records.forEach((r) => r.reject(err)),
  );
}

/** Appends everything queued, one batch (one step of the engine) per session; each record gets its own answer. */
export function flushRecords(queue: RecordQueue, engine: Engine, state: (sessionId: string) => SessionState): void {
  for (const [sessionId, records] of queue.take()) {
    const results = engine.run((core, now) => {
      const st = state(sessionId);
      const out = appendRecords(core, st, records, now);
      const events = out.filter((x): x is TraceEvent => !(x instanceof CraError));
      return { value: out, commit: { state: st, events } };
    });
    settle(records, results);
  }
}
