/**
 * Buffered trace collection: `record` queues events and returns at once; batches go to every sink when
 * `bufferSize` events wait or every `flushIntervalMs`. Events are already hashed when recorded, so batching never
 * changes the chain. A sink that fails keeps its batch and gets it again, with newer events, at the next flush:
 * nothing is dropped, and the failure is reported (`onError`, and the rejection of `flush()` / `close()`).
 *
 * @module
 */

import { CraError } from '../errors.ts';
import { kindOf, readOptions } from '../util.ts';
import type { TraceEvent } from '../types.ts';

/** A destination of trace events. Each sink receives every event once, in record order. */
export interface TraceSink {
  /** For error reports. */
  readonly name?: string;
  /** Takes one batch; a rejection means none of the batch was taken (it is offered again). */
  write(events: readonly TraceEvent[]): void | Promise<void>;
  /** Releases resources after the final flush. */
  close?(): void | Promise<void>;
}

/** How often a {@link BufferedCollector} flushes, and where background failures go. */
export interface CollectorOptions {
  /** Flush when this many events wait. Default 100. */
  bufferSize?: number;
  /** Flush this often while events wait; `0` flushes only by size and on demand. Default 1000. */
  flushIntervalMs?: number;
  /** Failures of background flushes (also of explicit ones). */
  onError?: (error: CraError) => void;
}

interface SinkState {
  sink: TraceSink;
  /** Events offered to this sink and not yet taken. */
  backlog: TraceEvent[];
}

/**
 * Copies trace events to sinks (log pipelines, files, a test's memory) without holding up the calls that record
 * them. The trace store remains the record the runtime restores from; a collector only forwards.
 */
export class BufferedCollector {
  private readonly sinks: SinkState[];
  private readonly bufferSize: number;
  private readonly onError: ((error: CraError) => void) | undefined;
  private buffer: TraceEvent[] = [];
  private timer: ReturnType<typeof setInterval> | null = null;
  private chain: Promise<void> = Promise.resolve();
  private scheduled = false;
  private closed = false;
  /** The error of the latest flush that failed, until a flush succeeds. */
  lastError: CraError | null = null;

  constructor(sinks: readonly TraceSink[], options?: CollectorOptions) {
    if (!Array.isArray(sinks)) throw new CraError('invalid_request', `sinks must be an array, not ${kindOf(sinks)}`, { path: '/sinks' });
    const o = readOptions(options, '');
    const bufferSize = o.bufferSize ?? 100;
    const interval = o.flushIntervalMs ?? 1000;
    if (!Number.isSafeInteger(bufferSize) || bufferSize < 1) {
      throw new CraError('invalid_request', 'bufferSize must be a positive integer', { path: '/bufferSize' });
    }
    if (typeof interval !== 'number' || !Number.isFinite(interval) || interval < 0) {
      throw new CraError('invalid_request', 'flushIntervalMs must be a non-negative number', { path: '/flushIntervalMs' });
    }
    if (o.onError !== undefined && typeof o.onError !== 'function') {
      throw new CraError('invalid_request', 'onError must be a function', { path: '/onError' });
    }
    for (const [i, s] of sinks.entries()) {
      if (typeof s !== 'object' || s === null || typeof s.write !== 'function') {
        throw new CraError('invalid_request', 'a sink needs a write(events) method', { path: `/sinks/${i}` });
      }
    }
    this.sinks = sinks.map((sink) => ({ sink, backlog: [] }));
    this.bufferSize = bufferSize;
    this.onError = o.onError;
    if (interval > 0 && this.sinks.length > 0) {
      this.timer = setInterval(() => {
        if (this.pending > 0) this.background();
      }, interval);
      (this.timer as { unref?: () => void }).unref?.();
    }
  }

  /** Events recorded and not yet taken by every sink. */
  get pending(): number {
    return this.buffer.length + Math.max(0, ...this.sinks.map((s) => s.backlog.length));
  }

  /** Queues events; never blocks and never waits for a sink. */
  record(events: readonly TraceEvent[]): void {
    if (this.closed) throw new CraError('closed', 'the collector is closed');
    if (!Array.isArray(events)) throw new CraError('invalid_request', `events must be an array, not ${kindOf(events)}`, { path: '' });
    if (this.sinks.length === 0 || events.length === 0) return;
    for (const e of events) this.buffer.push(e);
    if (this.buffer.length >= this.bufferSize && !this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => {
        this.scheduled = false;
        this.background();
      });
    }
  }

  /** Delivers everything recorded so far. Rejects with `sink_failure` when a sink failed (its events are kept). */
  flush(): Promise<void> {
    const run = this.chain.then(() => this.deliver());
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Flushes, stops the timer and closes the sinks. Later `record` calls throw; `flush` still retries backlogs. */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
    }
    await this.flush();
    const errors: Array<{ sink: string; error: unknown }> = [];
    for (const [i, s] of this.sinks.entries()) {
      try {
        await s.sink.close?.();
      } catch (error) {
        errors.push({ sink: s.sink.name ?? `sink ${i}`, error });
      }
    }
    if (errors.length > 0) throw sinkFailure(errors);
  }

  private background(): void {
    this.flush().catch(() => {
      // Reported through onError / lastError by deliver(); the events stay queued.
    });
  }

  private async deliver(): Promise<void> {
    const batch = this.buffer;
    this.buffer = [];
    const errors: Array<{ sink: string; error: unknown }> = [];
    await Promise.all(
      this.sinks.map(async (s, i) => {
        const events = s.backlog.length > 0 ? s.backlog.concat(batch) : batch;
        if (events.length === 0) return;
        try {
          await s.sink.write(events);
          s.backlog = [];
        } catch (error) {
          s.backlog = events;
          errors.push({ sink: s.sink.name ?? `sink ${i}`, error });
        }
      }),
    );
    if (errors.length > 0) {
      const err = sinkFailure(errors);
      this.lastError = err;
      try {
        this.onError?.(err);
      } catch {
        // A throwing error handler must not turn a reported failure into an unhandled one.
      }
      throw err;
    }
    this.lastError = null;
  }
}

function sinkFailure(errors: Array<{ sink: string; error: unknown }>): CraError {
  const list = errors.map((e) => `${e.sink}: ${e.error instanceof Error ? e.error.message : String(e.error)}`).join('; ');
  return new CraError('sink_failure', `trace sink failed (events kept for retry): ${list}`, {
    details: errors,
    cause: errors[0]?.error,
  });
}

/** A collector over `sinks`. */
export function createCollector(sinks: readonly TraceSink[], options?: CollectorOptions): BufferedCollector {
  return new BufferedCollector(sinks, options);
}
