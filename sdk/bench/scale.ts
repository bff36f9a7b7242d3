/**
 * Scale: what a runtime with a long history costs. Start-up must not grow with the sessions on disk (it reads the
 * store's index, no trace), an ended session must cost little once it has left the core, a session must come back
 * from its trace quickly when it is used, and a long run of whole sessions must leave memory flat.
 *
 * - Start-up and memory per session run in fresh child processes (`scale-child.ts`), on a folder of sessions made by
 *   the runtime (`scale-data.ts`, cached under `.bench/`): 100 000 sessions with 1 000 open (quick: 5 000 and 100).
 *   A second child on an empty folder gives the fixed cost, which is taken out of the per-session figure.
 * - Restore by trace length: sessions of ~10, ~100 and ~1 000 events; each timing is one `info()` after every session
 *   left the core (read the file + restore in the core). Baseline: reading the same file and parsing its lines.
 * - Churn: `--churn-seconds S` (default 120, quick 15) of whole sessions in a child; the last third of the samples
 *   against the first third (medians).
 *
 * @module
 */

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime } from '../src/runtime/runtime.ts';
import { JsonlStore } from '../src/storage/jsonl.ts';
import { atMost, type Row, fmtTime, printRows, printTable, QUICK, statsOf, summary, supportAtlas } from './harness.ts';
import { type ChurnResult, type ChurnSample, runChild, type StartupResult } from './scale-child.ts';
import { lookup, scaleData } from './scale-data.ts';

const SESSIONS = QUICK ? 5_000 : 100_000;
const ACTIVE = QUICK ? 100 : 1_000;
const LENGTHS = [10, 100, 1_000];
const RESTORE_REPS = QUICK ? 7 : 21;
const KB = 1024;
const MB = 1024 * 1024;

const mb = (n: number) => `${(n / MB).toFixed(1)} MB`;
const bytes = (n: number) => (Math.abs(n) >= 10 * KB ? `${(n / KB).toFixed(1)} KB` : `${Math.round(n)} B`);

/** `--churn-seconds S` or `--churn-seconds=S`. */
function churnSeconds(): number {
  const argv = process.argv;
  const i = argv.findIndex((a) => a === '--churn-seconds' || a.startsWith('--churn-seconds='));
  const raw = i < 0 ? undefined : argv[i]!.includes('=') ? argv[i]!.split('=')[1] : argv[i + 1];
  const s = raw === undefined ? (QUICK ? 15 : 120) : Number(raw);
  if (!(s > 0)) throw new Error(`--churn-seconds must be a positive number (got ${raw})`);
  return s;
}

export interface RestoreTiming {
  target: number;
  events: number;
  samples_ms: number[];
}

/**
 * Sessions of about `lengths` events made by the runtime (repeated `ticket.lookup` asked and completed), each
 * restored `reps` times from its trace after every session left the core.
 */
export async function restoreByLength(lengths: number[], reps: number): Promise<{ timings: RestoreTiming[]; parseMs: number[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'cra-restore-'));
  const store = new JsonlStore({ dir, fsyncIntervalMs: 0 });
  const rt = await createRuntime({ atlases: [await supportAtlas()], storage: store });
  try {
    const made: Array<{ id: string; target: number; events: number }> = [];
    for (const target of lengths) {
      const s = await rt.createSession({ agentId: 'bench', goal: `restore ${target}` });
      await s.resolve();
      const base = (await s.trace()).length;
      await lookup(s);
      const one = (await s.trace()).length;
      const pairs = Math.max(0, Math.round((target - one) / (one - base)));
      for (let i = 0; i < pairs; i++) await lookup(s);
      made.push({ id: s.id, target, events: (await s.trace()).length });
    }
    const timings: RestoreTiming[] = made.map((m) => ({ target: m.target, events: m.events, samples_ms: [] }));
    const parseMs: number[] = [];
    const longest = made[made.length - 1]!;
    for (let r = 0; r < reps; r++) {
      for (let i = 0; i < made.length; i++) {
        rt.evictSessions();
        const t0 = performance.now();
        await (await rt.getSession(made[i]!.id)).info();
        timings[i]!.samples_ms.push(performance.now() - t0);
      }
      // Same-run baseline: what reading the longest file and parsing its lines costs in plain JS.
      const t0 = performance.now();
      const text = await readFile(store.pathOf(longest.id), 'utf8');
      for (const line of text.split('\n')) if (line.length > 0) JSON.parse(line);
      parseMs.push(performance.now() - t0);
    }
    const st = await rt.stats();
    if (st.restores === undefined || st.restores < reps * made.length) throw new Error(`restore bench: ${st.restores} restores, expected ${reps * made.length}`);
    return { timings, parseMs };
  } finally {
    await rt.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Medians of the first and last third of the samples, and last / first. */
export function thirds(samples: ChurnSample[], value: 'rss' | 'heap_used' | 'core' | ((s: ChurnSample) => number)): { first: number; last: number; ratio: number } {
  const of = typeof value === 'function' ? value : (s: ChurnSample) => s[value];
  const k = Math.max(1, Math.floor(samples.length / 3));
  const first = median(samples.slice(0, k).map(of));
  const last = median(samples.slice(-k).map(of));
  return { first, last, ratio: last / first };
}

/** Bytes per known session: the heap a start-up on `n` sessions keeps, less what a start-up on none keeps. */
export const perKnown = (full: StartupResult, empty: StartupResult, n: number) =>
  (full.after.heap_used - full.before.heap_used - (empty.after.heap_used - empty.before.heap_used)) / n;

export async function run(): Promise<void> {
  const churnS = churnSeconds();

  // --- start-up and memory per session -------------------------------------------------------------------------
  const data = await scaleData(SESSIONS, ACTIVE);
  if (data.generated_s > 0) {
    console.log(`   generated ${SESSIONS} sessions in ${data.generated_s.toFixed(0)} s (${(SESSIONS / data.generated_s).toFixed(0)}/s) into ${data.dir}`);
  }
  const emptyDir = await mkdtemp(join(tmpdir(), 'cra-empty-'));
  const empty = await runChild<StartupResult>(['startup', emptyDir, '0']).finally(() => rm(emptyDir, { recursive: true, force: true }));
  const full = await runChild<StartupResult>(['startup', data.dir, String(ACTIVE)]);
  const known = perKnown(full, empty, SESSIONS);
  const liveCore = (full.live_after.core - full.live_before.core) / full.live;
  const liveHeap = (full.live_after.heap_used - full.live_before.heap_used) / full.live;
  const startOk = full.startup_ms <= 1000;
  const knownOk = known <= KB;
  summary.push({ group: 'scale', name: `start-up, ${SESSIONS} sessions on disk (${ACTIVE} active)`, value: `${full.startup_ms.toFixed(0)} ms`, target: '≤ 1 s', pass: startOk });
  summary.push({ group: 'scale', name: 'resident memory per ended session', value: bytes(known), target: '≤ 1 KB', pass: knownOk });
  printTable(
    `scale: start-up with ${SESSIONS} sessions on disk, ${ACTIVE} of them active (fresh processes)`,
    [
      ['measure', 'empty folder', `${SESSIONS} sessions`, 'target', 'status'],
      ['start-up (atlas + store open + createRuntime)', `${empty.startup_ms.toFixed(0)} ms`, `${full.startup_ms.toFixed(0)} ms`, '≤ 1 s', startOk ? 'PASS' : 'MISS'],
      ['RSS after start-up', mb(empty.after.rss), mb(full.after.rss), 'report', ''],
      ['JS heap used after start-up', mb(empty.after.heap_used), mb(full.after.heap_used), 'report', ''],
      ['core memory after start-up', mb(empty.stats.memory_bytes), mb(full.stats.memory_bytes), 'report', ''],
      ['stats: sessions live / known / restores', `${empty.stats.sessions} / ${empty.stats.known_sessions} / ${empty.stats.restores}`, `${full.stats.sessions} / ${full.stats.known_sessions} / ${full.stats.restores}`, '0 / N / 0', ''],
      ['JS heap per ended session (less the empty start-up)', '', bytes(known), '≤ 1 KB', knownOk ? 'PASS' : 'MISS'],
      [`then ${full.live} active sessions restored (info())`, '', `${full.restore_all_ms.toFixed(0)} ms`, '', ''],
      ['  per live session: core memory', '', bytes(liveCore), 'report', ''],
      ['  per live session: JS heap', '', bytes(liveHeap), 'report', ''],
      ['  per live session: restore time', '', fmtTime((full.restore_all_ms * 1e6) / full.live), '', ''],
      ['  RSS with them live', '', mb(full.live_after.rss), '', ''],
      ['  stats: sessions live', '', String(full.live_after.sessions), `${full.live}`, ''],
    ],
    [
      `data: ${data.dir} (${data.generated_s > 0 ? 'generated now' : 'reused'}); each session created, resolved, one ticket.lookup asked and completed, ended (the last ${ACTIVE} open)`,
      'heap and RSS read after global.gc(); core memory is linear memory, which never shrinks and grows by 64 KiB pages',
    ],
  );

  // --- restore by trace length ----------------------------------------------------------------------------------
  const { timings, parseMs } = await restoreByLength(LENGTHS, RESTORE_REPS);
  const rows: Row[] = timings.map((t) => ({
    name: `restore a session of ${t.events} events (info() after eviction)`,
    stats: statsOf(t.samples_ms),
    target: t.target === 1_000 ? atMost(5e6, '≤ 5 ms') : undefined,
    baseline: t.target === 1_000 ? 'read + JSON.parse its file' : undefined,
  }));
  rows.push({ name: 'read + JSON.parse its file', stats: statsOf(parseMs), isBaseline: true });
  printRows('scale', rows, [`median of ${RESTORE_REPS} restores each; baseline: the ${timings[timings.length - 1]!.events}-event file read and its lines parsed in plain JS`]);

  // --- churn ----------------------------------------------------------------------------------------------------
  const sampleMs = QUICK ? 1000 : 4000;
  console.log(`\n   churn: ${churnS} s of whole sessions in a child process …`);
  const churn = await runChild<ChurnResult>(['churn', String(churnS), String(sampleMs)]);
  const table = [['t', 'sessions churned', 'live', 'known', 'RSS', 'JS heap', 'core memory']];
  for (const s of churn.samples) {
    table.push([`${s.t_s.toFixed(1)} s`, String(s.churned), String(s.sessions), String(s.known_sessions), mb(s.rss), mb(s.heap_used), mb(s.core)]);
  }
  printTable(`scale: churn, ${churn.churned} sessions in ${churnS} s (${(churn.churned / churnS).toFixed(0)}/s)`, table, [
    'each: create, resolve, 5× (ticket.lookup asked + completed), end; JSONL store in a temp folder; gc before each sample',
  ]);
  // Every ended session stays known at ≤ 1 KB (its summary: what lists it and restores it later), so the JS heap
  // grows by that per ended session by design; what must stay flat is the core and everything else.
  const ratios = [
    ['JS heap less known sessions × per-ended-session figure', thirds(churn.samples, (s) => s.heap_used - s.known_sessions * known), true],
    ['core memory', thirds(churn.samples, 'core'), true],
    ['JS heap used', thirds(churn.samples, 'heap_used'), false],
    ['RSS', thirds(churn.samples, 'rss'), false],
  ] as const;
  const last = churn.samples[churn.samples.length - 1]!;
  const first = churn.samples[0]!;
  const heapPerSession = last.churned > 0 ? (last.heap_used - first.heap_used) / last.churned : 0;
  printTable(
    'scale: churn, last third vs first third (medians)',
    [
      ['measure', 'first third', 'last third', 'ratio', 'target', 'status'],
      ...ratios.map(([name, r, targeted]) => [
        name,
        mb(r.first),
        mb(r.last),
        r.ratio.toFixed(3),
        targeted ? '≤ 1.1' : 'report',
        targeted ? (r.ratio <= 1.1 ? 'PASS' : 'MISS') : '',
      ]),
    ],
    [`JS heap growth over the run per session churned: ${bytes(heapPerSession)} (every ended session stays known: its directory entry)`],
  );
  for (const [name, r, targeted] of ratios) {
    if (targeted) summary.push({ group: 'scale', name: `churn ${churnS} s: ${name}, last third / first third`, value: r.ratio.toFixed(3), target: '≤ 1.1', pass: r.ratio <= 1.1 });
  }
  summary.push({ group: 'scale', name: `churn ${churnS} s: JS heap growth per ended session`, value: bytes(heapPerSession), target: '≤ 1 KB', pass: heapPerSession <= 1024 });
}
