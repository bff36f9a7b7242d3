/**
 * The bench page's module (served transpiled by `../chromium.ts`): it exposes the timed steps as `window.craBench`
 * for the driver to call with `page.evaluate`. It does not import the SDK itself, so that the first `import()` of
 * the web build in a fresh page is a cold one.
 */

import type { AtlasBundle } from '../../src/types.ts';
import { openLoop, type Loop, type LoopKind, type SdkModule } from './workload.ts';

const SDK_URL = '/dist/index.web.js';

export interface ColdStartMs {
  importMs: number;
  createMs: number;
  coreMs: number;
  configureMs: number;
  atlasMs: number;
  createWarmMs: number;
}

async function atlas(): Promise<AtlasBundle> {
  const res = await fetch('/atlas.json');
  if (!res.ok) throw new Error(`/atlas.json answered HTTP ${res.status}`);
  return (await res.json()) as AtlasBundle;
}

const loops = new Map<LoopKind, Loop>();
const loop = (kind: LoopKind): Loop => {
  const l = loops.get(kind);
  if (!l) throw new Error(`no open ${kind} loop`);
  return l;
};

const craBench = {
  /**
   * A fresh page's start: `import()` of the web build, then `createRuntime()` with the atlas, in steps: the core
   * fetched and compiled (`compileCore()`, which `createRuntime()` awaits first and reuses: nothing is cached), the
   * instance made and configured, the first `atlas.load`; then a second runtime with the atlas (the compiled core
   * reused). Milliseconds; `createMs` is the sum of the three steps.
   */
  async coldStart(): Promise<ColdStartMs> {
    const bundle = await atlas();
    const t0 = performance.now();
    const sdk = (await import(SDK_URL)) as SdkModule;
    const t1 = performance.now();
    await sdk.compileCore();
    const t2 = performance.now();
    const rt = await sdk.createRuntime({ storage: sdk.memoryStore() });
    const t3 = performance.now();
    await rt.loadAtlas(bundle);
    const t4 = performance.now();
    const again = await sdk.createRuntime({ storage: sdk.memoryStore(), atlases: [bundle] });
    const t5 = performance.now();
    await rt.close();
    await again.close();
    return { importMs: t1 - t0, createMs: t4 - t1, coreMs: t2 - t1, configureMs: t3 - t2, atlasMs: t4 - t3, createWarmMs: t5 - t4 };
  },
  async open(kind: LoopKind): Promise<void> {
    loops.set(kind, await openLoop((await import(SDK_URL)) as SdkModule, await atlas(), kind));
  },
  run: (kind: LoopKind, calls: number) => loop(kind).run(calls),
  sample: (kind: LoopKind, samples: number, batch: number) => loop(kind).sample(samples, batch),
  async close(kind: LoopKind): Promise<void> {
    await loop(kind).close();
    loops.delete(kind);
  },
};

(globalThis as { craBench?: typeof craBench }).craBench = craBench;
document.getElementById('status')!.textContent = 'ready';
