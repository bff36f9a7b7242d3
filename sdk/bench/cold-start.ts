/**
 * Cold start in fresh processes: nothing compiled, nothing cached. Each child (./cold-start-child.mjs, on plain
 * `node`) imports the SDK as a user does, from the built package (`dist/node.node.js`, what the `node` condition of
 * `cra-runtime/node` resolves to), times one runtime made cold and the path to a first answered check on the support
 * atlas, then prints one JSON line. Without a build (`npm run build`) the children import the TypeScript sources
 * through tsx instead, and say so (`from: 'sources'`): their import time is then tsx's, not the package's.
 * There are two kinds of child, so that each figure is the first runtime of its process:
 * - `createRuntime()` alone, in steps: the core read and compiled (`compileCore()`, which `createRuntime()` calls and
 *   which keeps the compiled module), the instance made and configured, then the atlas read from disk and loaded;
 * - `createRuntime({ atlases })` with the support atlas read from disk (`--atlas`): what a host starting on the
 *   example atlas waits for.
 * `processColdStart` runs the children one after another and collects their numbers.
 */

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The package's Node entry as built; the sources stand in for it when there is no build. */
export const BUILT_NODE_ENTRY = fileURLToPath(new URL('../../dist/node.node.js', import.meta.url));

export interface ColdStart {
  /** What was imported: the built package, or the TypeScript sources through tsx. */
  from: 'dist' | 'sources';
  import_ms: number;
  /** `createRuntime()` (plain children) or `createRuntime({ atlases })` with the atlas read from disk (`--atlas`). */
  create_runtime_ms: number;
  /** Plain children: the parts of `create_runtime_ms` (core read + compiled; instance made + configured). */
  core_ms?: number;
  configure_ms?: number;
  /** Plain children: the support atlas read from disk and loaded into the runtime (its first `atlas.load`). */
  atlas_ms?: number;
  /** From a runtime with the atlas: session, resolve, first check. */
  first_check_ms: number;
  total_ms: number;
}

/** Runs `runs` fresh processes of the kind asked, one after another, on the build when there is one. */
export async function processColdStart(runs: number, withAtlas = false, from: ColdStart['from'] = existsSync(BUILT_NODE_ENTRY) ? 'dist' : 'sources'): Promise<ColdStart[]> {
  const out: ColdStart[] = [];
  for (let i = 0; i < runs; i++) out.push(await child(withAtlas, from));
  return out;
}

const CHILD = fileURLToPath(new URL('./cold-start-child.mjs', import.meta.url));
const SOURCES_ENTRY = new URL('../src/node.ts', import.meta.url).href;
const ATLAS_DIR = fileURLToPath(new URL('../../examples/atlases/support', import.meta.url));

function child(withAtlas: boolean, from: ColdStart['from']): Promise<ColdStart> {
  return new Promise((resolve, reject) => {
    const entry = from === 'dist' ? pathToFileURL(BUILT_NODE_ENTRY).href : SOURCES_ENTRY;
    const args = [...(from === 'sources' ? ['--import', 'tsx'] : []), CHILD, entry, ATLAS_DIR, ...(withAtlas ? ['--atlas'] : [])];
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) =>
      code === 0 ? resolve({ from, ...(JSON.parse(stdout) as Omit<ColdStart, 'from'>) }) : reject(new Error(`cold-start child failed: ${stderr}`)),
    );
  });
}
