import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readJsonl, tempDir } from '../../test/helpers.ts';
import { CraError } from '../errors.ts';
import type { TraceEvent } from '../types.ts';
import { BufferedCollector, type TraceSink } from './collector.ts';
import { jsonlSink } from './jsonl-sink.ts';
import { callbackSink, memorySink } from './sinks.ts';

const vectors = await readJsonl('vectors/reference-branch-simple-resolve.trace.jsonl');
const other = await readJsonl('vectors/reference-simple-resolve.trace.jsonl');

/** A sink whose writes wait until released, to show that record() never waits for it. */
function gatedSink() {
  const batches: TraceEvent[][] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const sink: TraceSink = {
    name: 'gated',
    async write(events) {
      await gate;
      batches.push([...events]);
    },
  };
  return { sink, batches, release };
}

describe('BufferedCollector', () => {
  const collectors: BufferedCollector[] = [];
  const make = (...args: ConstructorParameters<typeof BufferedCollector>) => {
    const c = new BufferedCollector(...args);
    collectors.push(c);
    return c;
  };
  afterEach(async () => {
    vi.useRealTimers();
    for (const c of collectors.splice(0)) await c.close().catch(() => undefined);
  });

  it('record() returns at once, even while a sink is stuck', async () => {
    const { sink, batches, release } = gatedSink();
    const c = make([sink], { bufferSize: 2, flushIntervalMs: 0 });
    const started = performance.now();
    for (let i = 0; i < 200; i++) c.record([vectors[i % vectors.length]!]);
    expect(performance.now() - started).toBeLessThan(50);
    expect(batches).toHaveLength(0);
    expect(c.pending).toBe(200);
    release();
    await c.flush();
    expect(batches.flat()).toHaveLength(200);
    expect(c.pending).toBe(0);
  });

  it('flushes by size, in record order, without waiting for the interval', async () => {
    const sink = memorySink();
    const c = make([sink], { bufferSize: 3, flushIntervalMs: 0 });
    c.record(vectors.slice(0, 2));
    await new Promise((r) => setTimeout(r, 5));
    expect(sink.events).toHaveLength(0);
    c.record(vectors.slice(2, 3));
    await vi.waitFor(() => expect(sink.events).toHaveLength(3));
    expect(sink.events.map((e) => e.sequence)).toEqual([0, 1, 2]);
  });

  it('flushes by interval', async () => {
    vi.useFakeTimers();
    const sink = memorySink();
    const c = make([sink], { bufferSize: 1000, flushIntervalMs: 250 });
    c.record(vectors);
    await vi.advanceTimersByTimeAsync(200);
    expect(sink.events).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(100);
    expect(sink.events).toHaveLength(vectors.length);
  });

  it('flush() and close() drain everything to every sink; nothing is lost on a clean shutdown', async () => {
    const a = memorySink('a');
    const seen: TraceEvent[] = [];
    const b = callbackSink(async (batch) => {
      await new Promise((r) => setTimeout(r, 1));
      seen.push(...batch);
    });
    const c = new BufferedCollector([a, b], { bufferSize: 5, flushIntervalMs: 10_000 });
    c.record(vectors);
    c.record(other);
    await c.close();
    expect(a.events).toEqual([...vectors, ...other]);
    expect(seen).toEqual([...vectors, ...other]);
    expect(a.session(other[0]!.session_id)).toEqual(other);
    expect(() => c.record(vectors)).toThrow(CraError);
  });

  it('a failing sink keeps its events, gets them again at the next flush, and the error is surfaced', async () => {
    let failing = true;
    const delivered: TraceEvent[] = [];
    const flaky: TraceSink = {
      name: 'flaky',
      write(batch) {
        if (failing) throw new Error('network down');
        delivered.push(...batch);
      },
    };
    const healthy = memorySink();
    const errors: CraError[] = [];
    const c = make([flaky, healthy], { bufferSize: 1000, flushIntervalMs: 0, onError: (e) => errors.push(e) });
    c.record(vectors.slice(0, 4));
    const err = await c.flush().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CraError);
    expect((err as CraError).code).toBe('sink_failure');
    expect((err as CraError).message).toMatch(/flaky: network down/);
    expect(errors).toHaveLength(1);
    expect(c.lastError?.code).toBe('sink_failure');
    expect(healthy.events).toHaveLength(4); // the healthy sink is not held back
    expect(c.pending).toBe(4);

    c.record(vectors.slice(4));
    failing = false;
    await c.flush();
    expect(delivered).toEqual(vectors); // old batch first, then the new events, no gap, no duplicate
    expect(healthy.events).toEqual(vectors);
    expect(c.pending).toBe(0);
    expect(c.lastError).toBeNull();
  });

  it('close() rejects while a sink still fails, and a later flush() delivers the backlog', async () => {
    let failing = true;
    const got: TraceEvent[] = [];
    const c = new BufferedCollector([{ write: (b) => (failing ? Promise.reject(new Error('nope')) : void got.push(...b)) }], {
      flushIntervalMs: 0,
    });
    c.record(vectors);
    await expect(c.close()).rejects.toMatchObject({ code: 'sink_failure' });
    failing = false;
    await c.flush();
    expect(got).toEqual(vectors);
  });

  it('rejects bad options with a path', () => {
    expect(() => new BufferedCollector([], { bufferSize: 0 })).toThrow(expect.objectContaining({ code: 'invalid_request', path: '/bufferSize' }));
    expect(() => new BufferedCollector([], { flushIntervalMs: -1 })).toThrow(expect.objectContaining({ path: '/flushIntervalMs' }));
    expect(() => new BufferedCollector([{} as TraceSink])).toThrow(expect.objectContaining({ path: '/sinks/0' }));
  });
});

describe('jsonlSink', () => {
  it('appends one file per session, one event per line', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const c = new BufferedCollector([jsonlSink({ dir })], { bufferSize: 3, flushIntervalMs: 0 });
      c.record(vectors.slice(0, 5));
      c.record(other);
      c.record(vectors.slice(5));
      await c.close();
      const text = await readFile(join(dir, `${vectors[0]!.session_id}.trace.jsonl`), 'utf8');
      expect(text.endsWith('\n')).toBe(true);
      expect(text.trimEnd().split('\n').map((l) => JSON.parse(l))).toEqual(vectors);
      const text2 = await readFile(join(dir, `${other[0]!.session_id}.trace.jsonl`), 'utf8');
      expect(text2.trimEnd().split('\n').map((l) => JSON.parse(l))).toEqual(other);
    } finally {
      await cleanup();
    }
  });

  it('writes every event to one file when given a file', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const file = join(dir, 'all', 'events.jsonl');
      const sink = jsonlSink({ file });
      await sink.write(vectors);
      await sink.write(other);
      const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
      expect(lines).toHaveLength(vectors.length + other.length);
    } finally {
      await cleanup();
    }
  });

  it('does not write an event twice when a batch is retried after a partial failure', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const sink = jsonlSink({ dir });
      // The second session's file cannot be created: its path is a folder.
      const { mkdir } = await import('node:fs/promises');
      await mkdir(join(dir, `${other[0]!.session_id}.trace.jsonl`));
      await expect(sink.write([...vectors, ...other])).rejects.toThrow();
      const { rm } = await import('node:fs/promises');
      await rm(join(dir, `${other[0]!.session_id}.trace.jsonl`), { recursive: true });
      await sink.write([...vectors, ...other]);
      const lines = (await readFile(join(dir, `${vectors[0]!.session_id}.trace.jsonl`), 'utf8')).trimEnd().split('\n');
      expect(lines).toHaveLength(vectors.length);
      const lines2 = (await readFile(join(dir, `${other[0]!.session_id}.trace.jsonl`), 'utf8')).trimEnd().split('\n');
      expect(lines2).toHaveLength(other.length);
    } finally {
      await cleanup();
    }
  });
});
