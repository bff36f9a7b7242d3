/**
 * Cold start and hot-path costs of the embedded SDK.
 *
 *   npx tsx sdk/bench/cold-start.ts [--runs 15]
 *
 * Cold start is measured in fresh processes (import of the SDK + compile + instantiate + first call), then the
 * in-process steps separately: compiling the module, instantiating it, a first resolve, and steady-state check /
 * resolve latencies. Prints one JSON object.
 */

import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] ?? 15) || 15;

if (args.includes('--child')) {
  // One cold start: everything from the first import to the first answered check.
  const t0 = performance.now();
  const sdk = await import('../src/index.ts');
  const t1 = performance.now();
  const rt = await sdk.createRuntime();
  const t2 = performance.now();
  const manifest = JSON.parse(await readFile(new URL('../test/fixtures/simple-resolve/atlas.json', import.meta.url), 'utf8'));
  await rt.loadAtlas({ manifest, files: { 'context/overview.md': '# Overview\n' } });
  const session = await rt.createSession({ agentId: 'bench', goal: 'cold start' });
  await session.resolve();
  const answer = await session.check('resource.get');
  const t3 = performance.now();
  if (!answer.allowed) throw new Error('unexpected check answer');
  process.stdout.write(JSON.stringify({ import_ms: t1 - t0, create_runtime_ms: t2 - t1, first_resolve_ms: t3 - t2, total_ms: t3 - t0 }));
  process.exit(0);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))]!;

const cold: Array<Record<string, number>> = [];
for (let i = 0; i < runs; i++) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', here, '--child'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
  cold.push(JSON.parse(r.stdout));
}
const coldMedian = Object.fromEntries(Object.keys(cold[0]!).map((k) => [k, +median(cold.map((c) => c[k]!)).toFixed(2)]));

const { Core } = await import('../src/runtime/core.ts');
const { createRuntime } = await import('../src/runtime/runtime.ts');
const bytes = await readFile(new URL('../src/runtime/cra_core.wasm', import.meta.url));

const compile: number[] = [];
const instantiate: number[] = [];
let module!: WebAssembly.Module;
for (let i = 0; i < runs; i++) {
  const a = performance.now();
  module = await WebAssembly.compile(bytes);
  const b = performance.now();
  await Core.instantiate(module, { ids: () => crypto.randomUUID() });
  const c = performance.now();
  compile.push(b - a);
  instantiate.push(c - b);
}

const rt = await createRuntime({ wasm: module });
const manifest = JSON.parse(await readFile(new URL('../test/fixtures/simple-resolve/atlas.json', import.meta.url), 'utf8'));
await rt.loadAtlas({ manifest, files: { 'context/overview.md': '# Overview\n'.repeat(20) } });
const session = await rt.createSession({ agentId: 'bench', goal: 'steady state' });
await session.resolve();

const checks: number[] = [];
for (let i = 0; i < 20_000; i++) {
  const a = performance.now();
  await session.check('resource.get');
  checks.push((performance.now() - a) * 1000);
}
const resolves: number[] = [];
for (let i = 0; i < 500; i++) {
  const a = performance.now();
  await session.resolve();
  resolves.push((performance.now() - a) * 1000);
}
await rt.close();

console.log(
  JSON.stringify(
    {
      wasm_bytes: bytes.length,
      cold_start_process_median: coldMedian,
      compile_ms_median: +median(compile).toFixed(3),
      instantiate_ms_median: +median(instantiate).toFixed(3),
      check_us: { median: +median(checks).toFixed(2), p99: +p99(checks).toFixed(2) },
      resolve_us: { median: +median(resolves).toFixed(1), p99: +p99(resolves).toFixed(1) },
      runs,
    },
    null,
    2,
  ),
);
