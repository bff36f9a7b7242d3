/**
 * CRA benchmarks: `npm run bench` (full, about three minutes, plus about five the first time to build the 100 000-session
 * folder of `scale`) or `npm run bench -- --quick` (smoke, about a minute). Groups can be picked by name:
 * `npm run bench -- --quick check resolve`.
 *
 * Methodology
 * - Medians. Each task runs under tinybench (warm-up first, then until a time budget and a minimum sample count
 *   are met); fast calls are timed in batches (1000 sync / 100 awaited calls per sample) and divided, so timer
 *   resolution does not swamp them. Tables show median, p75 and p99 per call; ops/s is 1 / median. Medians are
 *   what to quote: means are dragged by GC pauses and tier-up.
 * - Same-run baselines. Every timed group has a plain-JS reference measured in the same process, minutes apart
 *   at most (a Map lookup for check, a JSON round trip of the request for resolve, a sha256 of an event for
 *   append, a minimal module for instantiate). The "vs baseline" ratio is comparable across machines where
 *   absolute times are not.
 * - Targets are printed as PASS/MISS and never fail the process: shared and CI machines are too noisy for timing
 *   gates, which is also why the unit tests assert behaviour and never speed. Only a real error exits non-zero.
 */

import { QUICK, WASM_PATH, summary, wasmBytes } from './harness.ts';
import * as append from './append.ts';
import * as check from './check.ts';
import * as guard from './guard.ts';
import * as instantiate from './instantiate.ts';
import * as memory from './memory.ts';
import * as resolve from './resolve.ts';
import * as scale from './scale.ts';
import * as size from './size.ts';

const picked = process.argv.slice(2).filter((a) => !a.startsWith('--') && !/^[0-9]/.test(a)); // a number is an option's value
const want = (group: string) => picked.length === 0 || picked.includes(group);

const started = performance.now();
const bytes = await wasmBytes();
const module = await WebAssembly.compile(bytes);
const cpu = (await import('node:os')).cpus()[0]?.model ?? 'unknown CPU';
console.log(`# CRA bench (${QUICK ? 'quick' : 'full'}) — Node ${process.version}, ${process.platform}/${process.arch}, ${cpu}`);
console.log(`# core: ${WASM_PATH} (${bytes.length} bytes)`);

if (want('size')) size.run(bytes);
if (want('check')) await check.run(module);
if (want('resolve')) await resolve.run(module);
if (want('append')) await append.run(module);
if (want('guard')) await guard.run(module);
if (want('instantiate')) await instantiate.run(module, bytes);
if (want('memory')) await memory.run(module);
if (want('scale')) await scale.run();

console.log('\n## targets (medians; informational, never fails the run)\n');
const w = Math.max(...summary.map((s) => `${s.group}: ${s.name}`.length));
for (const s of summary) {
  console.log(`${s.pass ? 'PASS' : 'MISS'}  ${`${s.group}: ${s.name}`.padEnd(w)}  ${s.value.padStart(12)}  (target ${s.target})`);
}
console.log(`\ndone in ${((performance.now() - started) / 1000).toFixed(1)} s`);
