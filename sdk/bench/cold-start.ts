/**
 * Cold start in fresh processes: nothing compiled, nothing cached. Each child times, from its first import of the
 * SDK, one runtime made cold and the path to a first answered check on the support atlas, then prints one JSON line.
 * There are two kinds of child, so that each figure is the first runtime of its process:
 * - `createRuntime()` alone (read + compile + instantiate + configure), then the atlas loaded into it;
 * - `createRuntime({ atlases })` with the support atlas read from disk (`--atlas`): what a host starting on the
 *   example atlas waits for.
 * `processColdStart` runs the children one after another and collects their numbers.
 *
 *   node --import tsx sdk/bench/cold-start.ts --child [--atlas]     # one cold start, printed as JSON
 *
 * The import time is the TypeScript source through tsx, not a built package: it is shown, never targeted.
 */

import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = fileURLToPath(import.meta.url);

export interface ColdStart {
  import_ms: number;
  /** `createRuntime()` (plain children) or `createRuntime({ atlases })` with the atlas read from disk (`--atlas`). */
  create_runtime_ms: number;
  first_check_ms: number;
  total_ms: number;
}

/** Runs `runs` fresh processes of the kind asked, one after another. */
export async function processColdStart(runs: number, withAtlas = false): Promise<ColdStart[]> {
  const out: ColdStart[] = [];
  for (let i = 0; i < runs; i++) out.push(await child(withAtlas));
  return out;
}

function child(withAtlas: boolean): Promise<ColdStart> {
  return new Promise((resolve, reject) => {
    const args = ['--import', 'tsx', here, '--child', ...(withAtlas ? ['--atlas'] : [])];
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(JSON.parse(stdout) as ColdStart) : reject(new Error(`cold-start child failed: ${stderr}`))));
  });
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url && process.argv.includes('--child')) {
  const atlasDir = fileURLToPath(new URL('../../examples/atlases/support', import.meta.url));
  const t0 = performance.now();
  const sdk = await import('../src/node.ts');
  const t1 = performance.now();
  const rt = process.argv.includes('--atlas') ? await sdk.createRuntime({ atlases: [await sdk.loadAtlasDir(atlasDir)] }) : await sdk.createRuntime();
  const t2 = performance.now();
  if (!process.argv.includes('--atlas')) await rt.loadAtlas(await sdk.loadAtlasDir(atlasDir));
  const session = await rt.createSession({ agentId: 'bench', goal: 'cold start' });
  await session.resolve();
  const answer = await session.check('ticket.lookup');
  const t3 = performance.now();
  if (!answer.allowed) throw new Error('cold start: unexpected check answer');
  await rt.close();
  const result: ColdStart = { import_ms: t1 - t0, create_runtime_ms: t2 - t1, first_check_ms: t3 - t2, total_ms: t3 - t0 };
  process.stdout.write(JSON.stringify(result));
}
