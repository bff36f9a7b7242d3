/**
 * The scale bench at CI size: a folder of 500 sessions made by the runtime (5 left open), a cold start on it in a
 * child process, the restore-by-length timings and a 3-second churn. Figures are checked for presence and sense
 * (what start-up restores, what the directory holds, that ended sessions leave the core), never for speed.
 */

import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChurnResult, runChild, type StartupResult } from './scale-child.ts';
import { type ScaleData, scaleData } from './scale-data.ts';
import { perKnown, restoreByLength, thirds } from './scale.ts';

const N = 500;
const ACTIVE = 5;

describe('scale bench', () => {
  let root: string;
  let data: ScaleData;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'cra-scale-test-'));
    data = await scaleData(N, ACTIVE, root);
  }, 30_000);

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('generates one trace per session once, and reuses the folder while its marker matches', async () => {
    expect(data.generated_s).toBeGreaterThan(0);
    const traces = (await readdir(data.dir)).filter((f) => f.endsWith('.trace.jsonl'));
    expect(traces).toHaveLength(N);
    expect(await scaleData(N, ACTIVE, root)).toEqual({ ...data, generated_s: 0 });
  });

  it('starts on the folder in a fresh process with no session live, and restores the open ones when used', async () => {
    const r = await runChild<StartupResult>(['startup', data.dir, String(ACTIVE)]);
    expect(r.startup_ms).toBeGreaterThan(0);
    expect(r.stats).toMatchObject({ sessions: 0, known_sessions: N, restores: 0 });
    expect(r.stats.memory_bytes).toBeGreaterThan(0);
    expect(r.after.rss).toBeGreaterThan(0);
    expect(r.after.heap_used).toBeGreaterThan(r.before.heap_used);
    expect(r.live).toBe(ACTIVE);
    expect(r.live_after.sessions).toBe(ACTIVE);
    expect(r.live_after.heap_used).toBeGreaterThan(0);
    expect(r.live_after.core).toBeGreaterThanOrEqual(r.live_before.core);

    const emptyDir = await mkdtemp(join(tmpdir(), 'cra-scale-empty-'));
    const empty = await runChild<StartupResult>(['startup', emptyDir, '0']).finally(() => rm(emptyDir, { recursive: true, force: true }));
    expect(empty.stats).toMatchObject({ sessions: 0, known_sessions: 0 });
    expect(empty.live).toBe(0);
    // Every known session keeps some heap; a few KB each at most (the target is 1 KB at 100 000).
    const perSession = perKnown(r, empty, N);
    expect(perSession).toBeGreaterThan(0);
    expect(perSession).toBeLessThan(8 * 1024);
  }, 30_000);

  it('times restores of sessions of about the asked lengths', async () => {
    const { timings, parseMs } = await restoreByLength([10, 100], 3);
    expect(timings.map((t) => t.target)).toEqual([10, 100]);
    expect(Math.abs(timings[0]!.events - 10)).toBeLessThanOrEqual(2);
    expect(Math.abs(timings[1]!.events - 100)).toBeLessThanOrEqual(2);
    for (const t of timings) {
      expect(t.samples_ms).toHaveLength(3);
      for (const ms of t.samples_ms) expect(ms).toBeGreaterThan(0);
    }
    expect(parseMs).toHaveLength(3);
  }, 20_000);

  it('churns whole sessions and samples memory; ended sessions leave the core and stay known', async () => {
    const r = await runChild<ChurnResult>(['churn', '3', '500']);
    expect(r.churned).toBeGreaterThan(0);
    expect(r.samples.length).toBeGreaterThanOrEqual(3);
    for (const s of r.samples) {
      for (const v of [s.rss, s.heap_used, s.core]) expect(v).toBeGreaterThan(0);
      expect(s.sessions).toBe(0);
    }
    const last = r.samples[r.samples.length - 1]!;
    expect(last.churned).toBe(r.churned);
    expect(last.known_sessions).toBe(r.churned);
    for (const key of ['rss', 'heap_used', 'core'] as const) expect(thirds(r.samples, key).ratio).toBeGreaterThan(0);
  }, 20_000);
});
