/**
 * workerd for the runtime tests: workers bundled with rollup (TypeScript, JSON, npm dependencies resolved with the
 * `workerd` condition, `.wasm` imports kept as `CompiledWasm` modules beside the bundle) and run by Miniflare, offline
 * (no `cf` download, no telemetry).
 */

import { join } from 'node:path';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import { Miniflare, type MiniflareOptions } from 'miniflare';
import { rollup } from 'rollup';
import { jsonModules, packageSelf, platformVariant, transpileTs, wasmBeside } from '../../scripts/rollup-plugins.mjs';
import { ROOT } from './proc.ts';

/** What wrangler's bundler resolves for workers. */
export const WORKER_CONDITIONS = ['workerd', 'worker', 'browser', 'import', 'module', 'default'];
export const COMPATIBILITY_DATE = '2025-09-01';

export interface WorkerBundle {
  dir: string;
  main: string;
  modules: Array<{ type: 'ESModule' | 'CompiledWasm'; path: string }>;
}

/**
 * Bundles `input` into `outDir/worker.js`. `cra-runtime` (and its subpaths) resolve to this repository's package
 * through its `exports`, as an installed dependency would (with `self: false`, from `node_modules` like any other
 * dependency); with `sources`, files of `sdk/src` load the core as a module (as the package's `workerd` build does).
 */
export async function bundleWorker(input: string, outDir: string, options: { sources?: boolean; self?: boolean } = {}): Promise<WorkerBundle> {
  const bundle = await rollup({
    input,
    plugins: [
      platformVariant(options.sources ? 'platform.workerd.ts' : null),
      wasmBeside({ emit: true }),
      ...(options.self === false ? [] : [packageSelf(ROOT, WORKER_CONDITIONS)]),
      nodeResolve({ exportConditions: WORKER_CONDITIONS, browser: true, preferBuiltins: false, extensions: ['.ts', '.mjs', '.js', '.json'] }),
      jsonModules(),
      transpileTs(),
    ],
    onwarn(warning, warn) {
      if (warning.code === 'CIRCULAR_DEPENDENCY' || warning.code === 'THIS_IS_UNDEFINED' || warning.code === 'INVALID_ANNOTATION') return;
      warn(warning);
    },
  });
  try {
    const { output } = await bundle.write({ dir: outDir, format: 'es', entryFileNames: 'worker.js', inlineDynamicImports: true });
    const modules: WorkerBundle['modules'] = [{ type: 'ESModule', path: join(outDir, 'worker.js') }];
    for (const file of output) {
      if (file.type === 'asset' && file.fileName.endsWith('.wasm')) modules.push({ type: 'CompiledWasm', path: join(outDir, file.fileName) });
    }
    return { dir: outDir, main: join(outDir, 'worker.js'), modules };
  } finally {
    await bundle.close();
  }
}

/** Miniflare, offline: no `cf` object download, no telemetry. Answers the instance and its HTTP URL. */
export async function startWorker(bundle: WorkerBundle, options: Partial<MiniflareOptions> = {}): Promise<{ mf: Miniflare; url: URL }> {
  const mf = new Miniflare({
    modulesRoot: bundle.dir,
    modules: bundle.modules,
    compatibilityDate: COMPATIBILITY_DATE,
    cf: false,
    telemetry: { enabled: false },
    host: '127.0.0.1',
    port: 0,
    ...options,
  } as MiniflareOptions);
  try {
    return { mf, url: await mf.ready };
  } catch (err) {
    await mf.dispose().catch(() => undefined);
    throw err;
  }
}
