/**
 * The scale bench's measurements that need a process of their own, so that RSS and heap are the runtime's and not
 * the bench's: one run prints one JSON line on stdout (progress goes to stderr). `runChild` spawns one.
 *
 *   node --expose-gc --import tsx sdk/bench/scale-child.ts startup <store dir> <live>
 *   node --expose-gc --import tsx sdk/bench/scale-child.ts churn <seconds> <sample ms>
 *
 * startup: a cold start on a folder (compile, the support atlas, the store's index); heap and RSS before and after
 * (gc first); then `live` active sessions restored with `info()`, and what that cost in core and JS memory.
 * churn: whole sessions in a loop (create, resolve, 5 governed calls, end) on a store in a temp folder; RSS, JS heap,
 * core memory and live sessions sampled (gc first) every `sample ms`.
 *
 * @module
 */

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { RuntimeStats } from '../src/types.ts';

const here = fileURLToPath(import.meta.url);

export interface Memory {
  rss: number;
  heap_used: number;
}

export interface StartupResult {
  startup_ms: number;
  before: Memory;
  after: Memory;
  stats: RuntimeStats;
  /** Active sessions restored, their time in all, and memory around them. */
  live: number;
  restore_all_ms: number;
  live_before: Memory & { core: number };
  live_after: Memory & { core: number; sessions: number };
}

export interface ChurnSample {
  t_s: number;
  rss: number;
  heap_used: number;
  core: number;
  sessions: number;
  known_sessions: number;
  churned: number;
}

export interface ChurnResult {
  seconds: number;
  churned: number;
  samples: ChurnSample[];
}

/** Spawns a child with `args`, forwards its progress, and answers its JSON line. */
export function runChild<T>(args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', here, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => {
      stderr += d;
      process.stderr.write(d);
    });
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) return reject(new Error(`scale child ${args[0]} exited with ${code}: ${stderr.slice(-2000)}`));
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop()!) as T);
      } catch (err) {
        reject(new Error(`scale child ${args[0]} answered no JSON: ${stdout.slice(-500)}`, { cause: err }));
      }
    });
  });
}

const gc = (globalThis as { gc?: () => void }).gc;

/** RSS and heap after two full collections (the second catches what the first's finalizers freed). */
function memory(): Memory {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heap_used: m.heapUsed };
}

async function startup(dir: string, live: number): Promise<StartupResult> {
  // Modules imported before the first reading: the delta is the runtime's data, not the SDK's code.
  const { createRuntime } = await import('../src/runtime/runtime.ts');
  const { JsonlStore } = await import('../src/storage/jsonl.ts');
  const { supportAtlas } = await import('./harness.ts');
  const before = memory();
  const t0 = performance.now();
  const rt = await createRuntime({ atlases: [await supportAtlas()], storage: new JsonlStore({ dir }) });
  const startup_ms = performance.now() - t0;
  const after = memory();
  const stats = await rt.stats();

  const ids = (await rt.listSessions({ status: 'active', limit: Math.max(1, live) })).items.map((s) => s.session_id).slice(0, live);
  const live_before = { ...memory(), core: (await rt.stats()).memory_bytes };
  const t1 = performance.now();
  for (const id of ids) await (await rt.getSession(id)).info();
  const restore_all_ms = performance.now() - t1;
  const end = await rt.stats();
  const live_after = { ...memory(), core: end.memory_bytes, sessions: end.sessions };
  await rt.close();
  return { startup_ms, before, after, stats, live: ids.length, restore_all_ms, live_before, live_after };
}

async function churn(seconds: number, sampleMs: number): Promise<ChurnResult> {
  const { createRuntime } = await import('../src/runtime/runtime.ts');
  const { JsonlStore } = await import('../src/storage/jsonl.ts');
  const { supportAtlas } = await import('./harness.ts');
  const { lookup } = await import('./scale-data.ts');
  const dir = await mkdtemp(join(tmpdir(), 'cra-churn-'));
  try {
    const rt = await createRuntime({ atlases: [await supportAtlas()], storage: new JsonlStore({ dir }) });
    const samples: ChurnSample[] = [];
    let churned = 0;
    const t0 = performance.now();
    const sample = async () => {
      const m = memory();
      const s = await rt.stats();
      samples.push({
        t_s: (performance.now() - t0) / 1000,
        rss: m.rss,
        heap_used: m.heap_used,
        core: s.memory_bytes,
        sessions: s.sessions,
        known_sessions: s.known_sessions ?? 0,
        churned,
      });
    };
    await sample();
    let nextSample = t0 + sampleMs;
    const until = t0 + seconds * 1000;
    while (performance.now() < until) {
      const s = await rt.createSession({ agentId: 'churn', goal: `Answer ticket ${churned}` });
      await s.resolve();
      for (let i = 0; i < 5; i++) await lookup(s);
      await s.end();
      churned++;
      if (performance.now() >= nextSample) {
        await sample();
        nextSample += sampleMs;
      }
    }
    await sample();
    await rt.close();
    return { seconds, churned, samples };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  const [mode, a, b] = process.argv.slice(2);
  let out: unknown;
  if (mode === 'startup') out = await startup(a!, Number(b));
  else if (mode === 'churn') out = await churn(Number(a), Number(b));
  else throw new Error(`scale child: unknown mode ${mode}`);
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
