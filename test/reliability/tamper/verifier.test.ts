/**
 * The tamper suite's fast path must ask the same question as the public API: `PrefixVerifier` (the raw core with a
 * pre-encoded prefix) answers exactly what `verifyTrace` answers for the whole changed trace, and the worker
 * threads of `--every-byte` check every byte of a short trace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyTrace } from '../../../sdk/src/runtime/tools.ts';
import type { TraceEvent } from '../../../sdk/src/types.ts';
import { tempDir } from '../../../sdk/test/helpers.ts';
import { buildTrace, runTamper } from './run.ts';
import { PrefixVerifier } from './verifier.ts';

describe('PrefixVerifier', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let trace: TraceEvent[];
  let v: PrefixVerifier;
  beforeAll(async () => {
    tmp = await tempDir();
    trace = (await buildTrace(24, tmp.dir)).events.slice(0, 24);
    v = await PrefixVerifier.create(trace.map((e) => JSON.stringify(e)));
  });
  afterAll(() => tmp.cleanup());

  const changes: Array<[string, (e: TraceEvent) => unknown]> = [
    ['payload', (e) => ({ ...e, payload: { ...e.payload, x: 1 } })],
    ['sequence', (e) => ({ ...e, sequence: e.sequence + 1 })],
    ['previous hash', (e) => ({ ...e, previous_event_hash: 'f'.repeat(64) })],
    ['session id', (e) => ({ ...e, session_id: '00000000-0000-4000-8000-000000000000' })],
    ['event type', (e) => ({ ...e, event_type: 7 })],
  ];
  for (const [what, change] of changes) {
    it(`a changed ${what} at every index: the same answer as verifyTrace of the whole trace`, async () => {
      for (let i = 0; i < trace.length; i++) {
        const changed = change(trace[i]!) as TraceEvent;
        const fast = v.verify(i, [JSON.stringify(changed)]);
        expect(fast.valid).toBe(false);
        expect(fast).toEqual(await verifyTrace([...trace.slice(0, i), changed, ...trace.slice(i + 1)]));
      }
    });
  }

  it('the whole trace and every cut: the same answers as verifyTrace', async () => {
    expect(v.verify(trace.length, [])).toEqual(await verifyTrace(trace));
    const head = { length: trace.length, head_hash: trace.at(-1)!.event_hash };
    for (let keep = 1; keep <= trace.length; keep++) {
      expect(v.verifyCut(keep, head)).toEqual(await verifyTrace(trace.slice(0, keep), { expectedHead: head }));
    }
    expect(v.verifyCut(trace.length, head).valid).toBe(true);
  });

  it('parses what fromJsonl parses and refuses a torn line', () => {
    const line = JSON.stringify(trace[3]);
    expect(v.parse(`${line}\n`)).toEqual([trace[3]]);
    expect(v.parse(`${line.slice(0, -1)}\n`)).toBeNull();
  });
});

it('--every-byte on worker threads: every byte of a short trace, caught at its index', async () => {
  const { summary, failures } = await runTamper({ seed: 5, sizes: { events: 6, workers: 2 }, flags: new Set(['every-byte']) });
  expect(failures.list).toEqual([]);
  expect(String(summary.figures.byte_changes)).toMatch(/^(\d+) \(every byte\)/);
  expect(String(summary.figures.byte_time)).toMatch(/on 2 thread/);
  expect(summary.figures.detection_rate).toBe('100.0000%');
}, 60_000);
