/**
 * Instantiation. Target ≤ 10 ms for `createRuntime()` in a fresh process, alone and with the support atlas loaded
 * (the in-process rows are informational). V8 caches compiled modules by their bytes while a module with the same bytes is
 * alive, so "cold" compiles get unique bytes every iteration: the module plus a custom section holding a counter
 * (ignored by the engine, but a different cache key). Baselines: the same steps on a minimal valid module (8 bytes
 * of header plus the same custom section). V8 also compiles lazily (function by function, on first call), so a
 * first call is timed as well. Fresh-process cold starts come from ./cold-start.ts.
 */

import { Core } from '../src/runtime/core.ts';
import { createRuntime } from '../src/runtime/runtime.ts';
import { processColdStart } from './cold-start.ts';
import { QUICK, atMost, measure, nowUs, printRows, randomIds, statsOf } from './harness.ts';

const MINIMAL = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
const NAME = new TextEncoder().encode('cra-bench');
let counter = 0;

/** `bytes` plus a custom section `cra-bench` holding a fresh counter: same code, new cache key. */
function unique(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const payload = new TextEncoder().encode(String(++counter));
  const body = [NAME.length, ...NAME, ...payload]; // < 128 bytes: one-byte LEB128 lengths
  const out = new Uint8Array(bytes.length + 2 + body.length);
  out.set(bytes);
  out.set([0, body.length, ...body], bytes.length);
  return out;
}

export async function run(module: WebAssembly.Module, bytes: Uint8Array): Promise<void> {
  const minimal = await WebAssembly.compile(MINIMAL);
  const stats = await measure([
    {
      name: 'js: compile + instantiate a minimal module',
      batch: 1,
      async: true,
      fn: async () => WebAssembly.instantiate(await WebAssembly.compile(unique(MINIMAL)), {}),
    },
    {
      name: 'WebAssembly.compile + Core.instantiate (cold)',
      batch: 1,
      async: true,
      fn: async () => Core.instantiate(await WebAssembly.compile(unique(bytes)), { ids: randomIds }),
    },
    {
      name: 'compile + instantiate + first call (cold)',
      batch: 1,
      async: true,
      fn: async () => (await Core.instantiate(await WebAssembly.compile(unique(bytes)), { ids: randomIds })).call('runtime.configure', {}, nowUs()),
    },
    { name: 'js: instantiate a minimal Module', batch: 1, async: true, fn: async () => WebAssembly.instantiate(minimal, {}) },
    { name: 'Core.instantiate(compiled Module)', batch: 1, async: true, fn: async () => Core.instantiate(module, { ids: randomIds }) },
    {
      name: 'createRuntime() cold (fresh bytes)',
      batch: 1,
      async: true,
      fn: async () => (await createRuntime({ wasm: unique(bytes) })).close(),
    },
    { name: 'createRuntime() warm (compiled Module)', batch: 1, async: true, fn: async () => (await createRuntime({ wasm: module })).close() },
  ]);

  const runs = QUICK ? 3 : 11; // per kind of child
  const cold = await processColdStart(runs);
  const coldAtlas = await processColdStart(runs, true);
  const ms = (k: keyof (typeof cold)[number]) => statsOf(cold.map((c) => Number(c[k])));
  const from = cold[0]?.from === 'dist' ? 'the built package (dist/node.node.js)' : 'the TypeScript sources through tsx (no dist/: npm run build)';

  const target = atMost(10e6, '≤ 10 ms');
  const baseCold = 'js: compile + instantiate a minimal module';
  const baseInst = 'js: instantiate a minimal Module';
  const get = (n: string) => stats.get(n)!;
  printRows(
    'instantiate',
    [
      { name: baseCold, stats: get(baseCold), isBaseline: true },
      { name: 'WebAssembly.compile + Core.instantiate (cold)', stats: get('WebAssembly.compile + Core.instantiate (cold)'), baseline: baseCold },
      { name: 'compile + instantiate + first call (cold)', stats: get('compile + instantiate + first call (cold)'), baseline: baseCold },
      { name: 'createRuntime() cold (fresh bytes)', stats: get('createRuntime() cold (fresh bytes)'), baseline: baseCold },
      { name: baseInst, stats: get(baseInst), isBaseline: true },
      { name: 'Core.instantiate(compiled Module)', stats: get('Core.instantiate(compiled Module)'), baseline: baseInst },
      { name: 'createRuntime() warm (compiled Module)', stats: get('createRuntime() warm (compiled Module)'), baseline: baseInst },
      { name: 'fresh process: createRuntime()', stats: ms('create_runtime_ms'), target, baseline: baseCold },
      { name: 'fresh process: createRuntime() + support atlas', stats: statsOf(coldAtlas.map((c) => c.create_runtime_ms)), target, baseline: baseCold },
      { name: 'fresh process: import the SDK', stats: ms('import_ms') },
      { name: 'fresh process: · core read + compiled (compileCore)', stats: ms('core_ms') },
      { name: 'fresh process: · instance made + configured', stats: ms('configure_ms') },
      { name: 'fresh process: · atlas read from disk + first atlas.load', stats: ms('atlas_ms') },
      { name: 'fresh process: session → resolve → first check', stats: ms('first_check_ms') },
    ],
    [
      'V8 compiles wasm lazily (Node 20: --wasm-lazy-compilation): compile mostly validates, and each function compiles',
      'on its first call, so the honest cold figure is compile + instantiate + first call (runtime.configure here).',
      `fresh-process rows: ${runs} child processes of each kind, importing ${from}, no V8 caches;`,
      'the rows marked · are the steps of the first kind (createRuntime() = core + instance); the atlas row is',
      'createRuntime({ atlases }) in children of its own, examples/atlases/support read from disk',
    ],
  );
}
