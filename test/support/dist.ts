/**
 * The package build for tests: `npm run build` once, reused while its inputs are unchanged. Test files run in
 * parallel workers, so the build is guarded by a lock (a folder, created atomically) and a stamp of the inputs'
 * hash: the first test file that needs `dist/` builds it, the others wait and reuse it.
 */

import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ROOT, run } from './proc.ts';

export const DIST = join(ROOT, 'dist');
const CACHE = join(ROOT, 'node_modules/.cache/cra-runtime');
const STAMP = join(CACHE, 'dist.stamp');
const LOCK = join(CACHE, 'build.lock');

/** Files whose content decides the build: the sources (not their tests), the build configuration. */
async function inputs(): Promise<string[]> {
  const files: string[] = [];
  const walk = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (!/\.test\.ts$/.test(entry.name)) files.push(path);
    }
  };
  await walk(join(ROOT, 'sdk/src'));
  await walk(join(ROOT, 'server/src'));
  files.push(...['package.json', 'rollup.config.mjs', 'scripts/rollup-plugins.mjs', 'tsconfig.json', 'tsconfig.build.json'].map((f) => join(ROOT, f)));
  return files.sort();
}

async function inputHash(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of await inputs()) {
    hash.update(relative(ROOT, file)).update('\0').update(await readFile(file)).update('\0');
  }
  return hash.digest('hex');
}

async function fresh(hash: string): Promise<boolean> {
  try {
    if ((await readFile(STAMP, 'utf8')).trim() !== hash) return false;
  } catch {
    return false;
  }
  return ['index.node.js', 'index.web.js', 'index.workerd.js', 'index.js', 'cra_core.wasm', 'types/sdk/src/index.d.ts'].every((f) => existsSync(join(DIST, f)));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function acquire(timeoutMs: number): Promise<void> {
  await mkdir(CACHE, { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await mkdir(LOCK);
      await writeFile(join(LOCK, 'pid'), String(process.pid));
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    // A lock left by a process that died is taken over.
    const owner = Number(await readFile(join(LOCK, 'pid'), 'utf8').catch(() => '0'));
    if (owner > 0 && !alive(owner)) await rm(LOCK, { recursive: true, force: true });
    if (Date.now() > deadline) throw new Error(`timed out waiting for the build lock ${LOCK}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** `dist/` as `npm run build` makes it from the current sources; builds only when they changed. */
export async function ensureDist(): Promise<{ built: boolean; ms: number }> {
  const t0 = Date.now();
  const before = await inputHash();
  if (await fresh(before)) return { built: false, ms: Date.now() - t0 };
  await acquire(180_000);
  try {
    const hash = await inputHash();
    if (await fresh(hash)) return { built: false, ms: Date.now() - t0 };
    await rm(STAMP, { force: true });
    const r = await run('npm', ['run', 'build', '--silent'], { timeoutMs: 150_000 });
    if (r.code !== 0) throw new Error(`npm run build failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    await writeFile(STAMP, hash);
    return { built: true, ms: Date.now() - t0 };
  } finally {
    await rm(LOCK, { recursive: true, force: true });
  }
}
