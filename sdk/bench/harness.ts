/**
 * Shared bench plumbing: run options, a tinybench wrapper that times batches of calls, targets, and the table
 * printer. Every number is per call (a batch's time divided by its size) and every status is informational.
 * `summary` collects the targets of a run: the end-of-run table and `RESULTS.md` (`--write-results`) print it.
 */

import { Bench } from 'tinybench';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Core } from '../src/runtime/core.ts';
import { loadAtlasDir } from '../src/node.ts';
import type { TraceStore } from '../src/storage/store.ts';
import type { AtlasBundle } from '../src/types.ts';

export const QUICK = process.argv.includes('--quick');
export const WASM_PATH = fileURLToPath(new URL('../src/runtime/cra_core.wasm', import.meta.url));
export const SUPPORT_ATLAS = fileURLToPath(new URL('../../examples/atlases/support', import.meta.url));

/** Per-task budgets: tinybench keeps sampling until both the time (ms) and the sample count are reached. */
const TIME = QUICK ? 150 : 1000;
const WARMUP = QUICK ? 50 : 300;
const MIN_SAMPLES = QUICK ? 16 : 64;

/** Per-call statistics in nanoseconds. */
export interface Stats {
  median: number;
  p75: number;
  p99: number;
  samples: number;
}

export type Target = { kind: 'max-ns'; ns: number; label: string } | { kind: 'min-ops'; ops: number; label: string };

export const atMost = (ns: number, label: string): Target => ({ kind: 'max-ns', ns, label });
export const atLeast = (ops: number, label: string): Target => ({ kind: 'min-ops', ops, label });

export interface Row {
  name: string;
  stats: Stats;
  target?: Target;
  /** Name of the row (in the same table) this one is compared with. */
  baseline?: string;
  /** Marks a same-run reference row. */
  isBaseline?: boolean;
}

/** A task: `fn` runs `batch` calls per sample; sync or async. */
export interface Task {
  name: string;
  batch: number;
  fn: () => unknown;
  async?: boolean;
}

/** Runs tasks one after another with tinybench and answers per-call statistics by name. */
export async function measure(tasks: Task[]): Promise<Map<string, Stats>> {
  // A full GC before each task (and its warm-up) so that one task's garbage is not collected on the next one's time.
  const gc = (globalThis as { gc?: () => void }).gc;
  const bench = new Bench({ time: TIME, warmupTime: WARMUP, iterations: MIN_SAMPLES, throws: true, setup: () => gc?.() });
  for (const t of tasks) bench.add(t.name, t.fn, { async: t.async ?? false });
  await bench.run();
  const out = new Map<string, Stats>();
  for (const t of tasks) {
    const r = bench.getTask(t.name)?.result;
    if (!r || r.state !== 'completed') throw new Error(`bench task ${t.name} did not complete (${r?.state})`);
    const l = r.latency; // milliseconds per sample
    const ns = (ms: number) => (ms * 1e6) / t.batch;
    out.set(t.name, { median: ns(l.p50), p75: ns(l.p75), p99: ns(l.p99), samples: l.samplesCount });
  }
  return out;
}

/** Per-call statistics of plain timed samples (ms), for measurements tinybench cannot run (child processes). */
export function statsOf(samplesMs: number[]): Stats {
  const s = [...samplesMs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))]! * 1e6;
  return { median: at(0.5), p75: at(0.75), p99: at(0.99), samples: s.length };
}

// --- fixtures ----------------------------------------------------------------------------------------------------

/** A store that keeps nothing: storage is the host's choice, and the SDK rows measure the runtime, not a store. */
export const nullStore: TraceStore = {
  open: async () => ({ sessions: [], issues: [] }),
  append: async () => undefined,
  read: async () => [],
  sync: async () => undefined,
  close: async () => undefined,
};

export const wasmBytes = () => readFile(WASM_PATH);
export const supportAtlas = (): Promise<AtlasBundle> => loadAtlasDir(SUPPORT_ATLAS);
export const randomIds = () => crypto.randomUUID();
/** Host time in µs (what the SDK's system clock answers). */
export const nowUs = () => Date.now() * 1000;

/** A cheap unique lowercase UUID for request ids (crypto.randomUUID would add its own cost to the loop). */
let counter = 0;
export const nextId = () => `b0000000-0000-4000-8000-${(++counter).toString(16).padStart(12, '0')}`;

/**
 * A raw core with the support atlas loaded; `exports` are the unwrapped module exports, captured through the
 * `instrument` hook (meant for tests) so that the bare `cra_check` export can be timed against `Core.check`.
 */
export async function rawCore(module: WebAssembly.Module) {
  let exports!: import('../src/runtime/core.ts').CoreExports;
  const core = await Core.instantiate(module, {
    ids: randomIds,
    instrument: (ex) => (exports = ex),
  });
  core.call('atlas.load', await supportAtlas(), nowUs());
  const newSession = () => {
    const r = core.call<{ session: { session_id: string }; handle: number }>(
      'session.create',
      { agent_id: 'bench', goal: 'Answer ticket T-10042' },
      nowUs(),
    );
    return { id: r.session.session_id, handle: r.handle };
  };
  return { core, exports, newSession };
}

/** A CARP resolve request for `sessionId`, with a fresh id and the current time. */
export function resolveRequest(sessionId: string, isoNow: string) {
  return {
    carp_version: '1.0',
    request_id: nextId(),
    timestamp: isoNow,
    operation: 'resolve',
    requester: { agent_id: 'bench', session_id: sessionId },
    task: { goal: 'Answer ticket T-10042' },
  };
}

// --- printing ----------------------------------------------------------------------------------------------------

export function fmtTime(ns: number): string {
  if (ns < 1_000) return `${ns.toFixed(0)} ns`;
  if (ns < 1_000_000) return `${(ns / 1_000).toFixed(ns < 10_000 ? 2 : 1)} µs`;
  return `${(ns / 1_000_000).toFixed(2)} ms`;
}

export function fmtOps(ops: number): string {
  if (ops >= 1e6) return `${(ops / 1e6).toFixed(2)} M`;
  if (ops >= 1e3) return `${(ops / 1e3).toFixed(1)} k`;
  return ops.toFixed(1);
}

export function fmtBytes(n: number): string {
  return Math.abs(n) >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
}

export function passes(t: Target, s: Stats): boolean {
  return t.kind === 'max-ns' ? s.median <= t.ns : 1e9 / s.median >= t.ops;
}

/** Prints aligned text: the first row is the header. */
export function printTable(title: string, rows: string[][], notes: string[] = []): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  console.log(`\n## ${title}\n`);
  console.log(line(rows[0]!));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows.slice(1)) console.log(line(r));
  for (const n of notes) console.log(`   ${n}`);
}

/** One target of the run: what was measured, its figure, the target and whether it was met. */
export interface TargetLine {
  group: string;
  name: string;
  value: string;
  target: string;
  pass: boolean;
}

/** Collected PASS/FAIL lines for the summary. */
export const summary: TargetLine[] = [];

/** Records a target that is not a timing row (ratios, sizes, throughput). */
export function target(line: TargetLine): void {
  summary.push(line);
}

/** Same-run ratio, e.g. `0.42×`. */
export const fmtRatio = (r: number) => `${r >= 10 ? r.toFixed(0) : r >= 0.1 ? r.toFixed(2) : r.toPrecision(2)}×`;

/** Prints one group's timing table and records its targets in the summary. */
export function printRows(group: string, rows: Row[], notes: string[] = []): void {
  const byName = new Map(rows.map((r) => [r.name, r]));
  const table = [['benchmark', 'median', 'p75', 'p99', 'ops/s', 'target', 'status', 'vs baseline']];
  for (const r of rows) {
    const base = r.baseline ? byName.get(r.baseline) : undefined;
    const pass = r.target ? passes(r.target, r.stats) : undefined;
    table.push([
      r.isBaseline ? `(baseline) ${r.name}` : r.name,
      fmtTime(r.stats.median),
      fmtTime(r.stats.p75),
      fmtTime(r.stats.p99),
      fmtOps(1e9 / r.stats.median),
      r.target?.label ?? '',
      pass === undefined ? '' : pass ? 'PASS' : 'FAIL',
      base ? fmtRatio(r.stats.median / base.stats.median) : '',
    ]);
    if (r.target) {
      const value = r.target.kind === 'max-ns' ? fmtTime(r.stats.median) : `${fmtOps(1e9 / r.stats.median)}/s`;
      summary.push({ group, name: r.name, value, target: r.target.label, pass: pass! });
    }
  }
  printTable(group, table, notes);
}
