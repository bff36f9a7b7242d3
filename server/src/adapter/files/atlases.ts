/**
 * The atlases of a folder, for the runtimes that have files (Node, Deno): read, trial-loaded in dependency order,
 * and reported. A duplicate id or an invalid atlas is reported and skipped; whether a folder that yields none may
 * start a server is the caller's rule (`assembleOnFiles`).
 *
 * @module
 */

import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { loadAtlasDir } from '../../../../sdk/src/atlas/dir.ts';
import { CraError } from '../../../../sdk/src/errors.ts';
import { createRuntime } from '../../../../sdk/src/runtime/runtime.ts';
import type { AtlasBundle } from '../../../../sdk/src/types.ts';
import type { AtlasReport } from '../../report.ts';

/**
 * The atlases of a folder — the folder itself when it holds `atlas.json`, else each subfolder that does, by name —
 * that load together. A duplicate id or an invalid atlas is reported and skipped; dependencies are honoured
 * whatever the folder order.
 */
export async function readAtlases(dir: string): Promise<{ bundles: AtlasBundle[]; report: AtlasReport }> {
  const report: AtlasReport = { loaded: [], skipped: [] };
  const paths: string[] = [];
  if (await isFile(join(dir, 'atlas.json'))) paths.push(dir);
  else {
    let names: string[];
    try {
      names = (await readdir(dir)).sort();
    } catch (err) {
      const code = (err as { code?: string }).code;
      const why = code === 'ENOENT' ? 'no such folder' : code === 'ENOTDIR' ? 'not a folder' : (err as Error).message;
      report.skipped.push({ path: dir, code: 'atlas_not_found', message: `cannot read ${dir}: ${why}` });
      return { bundles: [], report };
    }
    for (const name of names) if (await isFile(join(dir, name, 'atlas.json'))) paths.push(join(dir, name));
  }
  const candidates: Array<{ path: string; bundle: AtlasBundle }> = [];
  for (const path of paths) {
    try {
      candidates.push({ path, bundle: await loadAtlasDir(path) });
    } catch (err) {
      report.skipped.push({ path, ...describe(err) });
    }
  }
  // Trial loads in a scratch runtime: what loads there, in this order, loads in the real one.
  const scratch = await createRuntime();
  const bundles: AtlasBundle[] = [];
  try {
    let pending = candidates;
    for (;;) {
      const failed: Array<{ path: string; bundle: AtlasBundle; error: unknown }> = [];
      for (const c of pending) {
        try {
          const r = await scratch.loadAtlas(c.bundle);
          bundles.push(c.bundle);
          report.loaded.push({ atlas_id: r.atlas_id, version: r.version, path: c.path });
        } catch (error) {
          failed.push({ ...c, error });
        }
      }
      // Another pass only helps atlases whose dependency loaded meanwhile.
      if (failed.length === 0 || failed.length === pending.length) {
        for (const f of failed) {
          const d = describe(f.error);
          const dup = d.code === 'atlas_exists' ? report.loaded.find((l) => l.atlas_id === f.bundle.manifest?.atlas_id) : undefined;
          report.skipped.push({ path: f.path, code: d.code, message: dup ? `duplicate atlas id ${dup.atlas_id} (already loaded from ${dup.path})` : d.message });
        }
        break;
      }
      pending = failed;
    }
  } finally {
    await scratch.close();
  }
  return { bundles, report };
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function describe(err: unknown): { code: string; message: string } {
  return err instanceof CraError ? { code: err.code, message: err.message } : { code: 'internal', message: String((err as Error)?.message ?? err) };
}
