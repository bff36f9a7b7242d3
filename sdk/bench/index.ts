/**
 * CRA benchmarks: `npm run bench` runs every default group (about five minutes, quiet machine) and prints the
 * targets table at the end; `npm run bench -- --quick` is the smoke version (about a minute and a half). Groups can
 * be picked by name: `npm run bench -- --quick http cedar`. `--write-results` also writes `sdk/bench/RESULTS.md`
 * (the targets and the machine); without it a run leaves the tree as it was.
 *
 * Default groups: size, check, cedar, guard (governed and denied calls), resolve, verify, proofs, append, instantiate
 * (with fresh-process cold starts), memory, growth, http, chromium (skipped, saying why, without a build or a
 * Chromium). `scale` is NOT in the default run: it builds a 100 000-session folder and runs for minutes; run it by
 * name: `npm run bench -- scale`.
 *
 * Methodology
 * - Medians. Each task runs under tinybench (warm-up first, then until a time budget and a minimum sample count
 *   are met); fast calls are timed in batches (1000 sync / 100 awaited calls per sample) and divided, so timer
 *   resolution does not swamp them. Tables show median, p75 and p99 per call; ops/s is 1 / median. Medians are
 *   what to quote: means are dragged by GC pauses and tier-up.
 * - Same-run baselines. Every timed group has a reference measured in the same process, minutes apart at most (a
 *   Map lookup for check, Cedar's `statefulIsAuthorized` for the same decision, node:crypto SHA-256 over the same
 *   lines for verify, a bare Hono app for HTTP, a minimal module for instantiate). The "vs baseline" ratio is
 *   comparable across machines where absolute times are not.
 * - Targets are printed as PASS/FAIL and never fail the process: shared and CI machines are too noisy for timing
 *   gates, which is also why the unit tests assert behaviour and never speed. Only a real error exits non-zero.
 */

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { QUICK, WASM_PATH, summary, wasmBytes } from './harness.ts';
import * as append from './append.ts';
import * as cedar from './cedar.ts';
import * as check from './check.ts';
import * as growth from './growth.ts';
import * as guard from './guard.ts';
import * as http from './http.ts';
import * as instantiate from './instantiate.ts';
import * as memory from './memory.ts';
import * as proofs from './proofs.ts';
import * as resolve from './resolve.ts';
import * as size from './size.ts';
import * as verify from './verify.ts';
import { RESULTS_PATH, writeResults } from './results.ts';

const GROUPS = ['size', 'check', 'cedar', 'guard', 'resolve', 'verify', 'proofs', 'append', 'instantiate', 'memory', 'growth', 'http', 'chromium'];
const BY_NAME_ONLY = ['scale'];

const picked = process.argv.slice(2).filter((a) => !a.startsWith('--') && !/^[0-9]/.test(a)); // a number is an option's value
for (const p of picked) {
  if (!GROUPS.includes(p) && !BY_NAME_ONLY.includes(p)) throw new Error(`unknown bench group ${p}; groups: ${[...GROUPS, ...BY_NAME_ONLY].join(', ')}`);
}
const want = (group: string) => (picked.length === 0 ? GROUPS.includes(group) : picked.includes(group));

const started = performance.now();
const date = new Date();
const bytes = await wasmBytes();
const module = await WebAssembly.compile(bytes);
const cpu = (await import('node:os')).cpus()[0]?.model ?? 'unknown CPU';
console.log(`# CRA bench (${QUICK ? 'quick' : 'full'}) — Node ${process.version}, ${process.platform}/${process.arch}, ${cpu}`);
console.log(`# core: ${WASM_PATH} (${bytes.length} bytes)`);

if (want('size')) size.run(bytes);
if (want('check')) await check.run(module);
if (want('cedar')) await cedar.run(module);
if (want('guard')) await guard.run(module);
if (want('resolve')) await resolve.run(module);
if (want('verify')) await verify.run(module);
if (want('proofs')) await proofs.run(module);
if (want('append')) await append.run(module);
if (want('instantiate')) await instantiate.run(module, bytes);
if (want('memory')) await memory.run(module);
if (want('growth')) await growth.run(module);
if (want('http')) await http.run();
if (want('chromium')) {
  // Written separately and optional here: a checkout without it, or a machine without Chromium, skips the group.
  const file = fileURLToPath(new URL('./chromium.ts', import.meta.url));
  if (!existsSync(file)) console.log('\nSKIP chromium: sdk/bench/chromium.ts is not in this checkout');
  else {
    let group: { run: () => Promise<void> } | null = null;
    try {
      group = (await import(new URL('./chromium.ts', import.meta.url).href)) as { run: () => Promise<void> };
    } catch (err) {
      console.log(`\nSKIP chromium: ${(err as Error).message.split('\n')[0]}`);
    }
    if (group) await group.run();
  }
}
if (want('scale')) await (await import('./scale.ts')).run();

const seconds = (performance.now() - started) / 1000;
console.log('\n## targets (medians; informational, never fails the run)\n');
const w = Math.max(0, ...summary.map((s) => `${s.group}: ${s.name}`.length));
for (const s of summary) {
  console.log(`${s.pass ? 'PASS' : 'FAIL'}  ${`${s.group}: ${s.name}`.padEnd(w)}  ${s.value.padStart(12)}  (target ${s.target})`);
}
if (process.argv.includes('--write-results')) {
  await writeResults(summary, { quick: QUICK, groups: GROUPS.filter(want).concat(BY_NAME_ONLY.filter(want)), seconds, date });
  console.log(`\nwrote ${RESULTS_PATH}`);
}
console.log(`\ndone in ${seconds.toFixed(1)} s`);
