/**
 * A server on files, for the runtimes that have them (Node, and Deno through its Node compatibility): the atlases of
 * `CRA_ATLAS_DIR` (default: the example atlases, see `defaultAtlasesFor`), JSONL traces and the file of session owners under
 * `CRA_DATA_DIR`, assembled (`assemble()`). The adapters add their listener and signals.
 *
 * @module
 */

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CraError } from '../../../../sdk/src/errors.ts';
import { jsonlStore } from '../../../../sdk/src/storage/jsonl.ts';
import { assemble, type AssembleOptions, type Assembly } from '../../assemble.ts';
import { FileOwners } from '../../auth/owner-file.ts';
import type { ServerConfig } from '../../config.ts';
import type { AtlasReport } from '../../report.ts';
import { readAtlases } from './atlases.ts';

export { readAtlases } from './atlases.ts';

/**
 * The default atlas folder of a module at `moduleUrl`: the repository's examples when it runs from the repository's
 * sources, else none. Built (`dist/`), the same relative path would name a folder outside the package — one that
 * anyone able to write there could fill with an allow-everything atlas — so a build finds its examples only through
 * {@link packageAtlasesFor}, from the package's own entries.
 */
export function bundledAtlasesFor(moduleUrl: string): string | null {
  const here = fileURLToPath(moduleUrl);
  if (!/[\\/]server[\\/]src[\\/]adapter[\\/]files[\\/][^\\/]+$/.test(here)) return null;
  return fileURLToPath(new URL('../../../../examples/atlases/', moduleUrl));
}

/**
 * The example atlases the package ships (`files`: `examples/atlases/`), for its own programs built into `dist/`:
 * `dist/cli.js` (`cra serve`) and `dist/server-main.node.js`. `<package>/examples/atlases/` when that folder
 * exists, else null. Only for those two entries, whose folder is the package's `dist/` (installed: inside
 * `node_modules/cra-runtime/`, written by the package manager): bundled into someone else's `dist/`, the same
 * relative path would name a folder of theirs.
 */
export function packageAtlasesFor(entryUrl: string): string | null {
  const here = fileURLToPath(entryUrl);
  if (!/[\\/]dist[\\/](cli\.js|server-main\.node\.js)$/.test(here)) return null;
  const folder = fileURLToPath(new URL('../examples/atlases/', entryUrl));
  return existsSync(folder) ? folder : null;
}

/**
 * The atlas folder a server program loads when none is configured: the repository's examples from the sources,
 * the package's from its build (see {@link packageAtlasesFor}), else none.
 */
export function defaultAtlasesFor(entryUrl: string): string | null {
  return BUNDLED_ATLASES ?? packageAtlasesFor(entryUrl);
}

/** The example atlases of the repository, when this module runs from its sources (see {@link bundledAtlasesFor}). */
export const BUNDLED_ATLASES = bundledAtlasesFor(import.meta.url);

export interface FileAssembly extends Assembly {
  owners: FileOwners;
  /** The atlases read from the atlas folder: loaded, and skipped with why. */
  atlases: AtlasReport;
}

/**
 * The server of `config` on files: atlases from its folder, traces and owners under its data folder. A configured
 * atlas folder (`CRA_ATLAS_DIR`, `--atlas`) from which no atlas loads — missing, empty, or every atlas in it
 * invalid — is refused (`atlas_not_found`, naming why): a server that starts with no atlas denies every action,
 * and a mistyped folder would otherwise show only as a skipped line. Some invalid atlases beside a valid one are
 * reported and skipped.
 */
export async function assembleOnFiles(config: ServerConfig, options: Omit<AssembleOptions, 'storage' | 'owners' | 'atlases'> = {}): Promise<FileAssembly> {
  const dataDir = resolve(config.dataDir);
  const folder = config.atlasDir ? resolve(config.atlasDir) : BUNDLED_ATLASES;
  const { bundles, report } = folder === null ? { bundles: [], report: { loaded: [], skipped: [] } } : await readAtlases(folder);
  if (config.atlasDir && report.loaded.length === 0) throw noAtlasLoaded(config.atlasDir, report);
  const owners = await FileOwners.open(join(dataDir, 'owners.jsonl'));
  const assembly = await assemble(config, { ...options, storage: jsonlStore({ dir: join(dataDir, 'traces'), durability: config.durability }), owners, atlases: bundles });
  return { ...assembly, owners, atlases: report };
}

/** Why nothing loaded from the configured folder `dir`, as the one error that stops the start. */
function noAtlasLoaded(dir: string, report: AtlasReport): CraError {
  if (report.skipped.length === 0) {
    return new CraError('atlas_not_found', `no atlas loaded from ${dir}: it holds no atlas.json, and none of its subfolders does`, { path: '/CRA_ATLAS_DIR' });
  }
  const why = report.skipped.map((s) => (s.path === resolve(dir) ? s.message : `${s.path}: ${s.code}: ${s.message}`)).join('; ');
  // Found but refused: the code of the first refusal (atlas_invalid for a broken atlas), and where to see every error.
  const refused = report.skipped.find((s) => s.code !== 'atlas_not_found');
  if (!refused) return new CraError('atlas_not_found', `no atlas loaded from ${dir}: ${why}`, { path: '/CRA_ATLAS_DIR' });
  return new CraError(refused.code, `no atlas loaded from ${dir}: ${why} (every error with its JSON pointer: npx cra atlas validate ${dir})`, {
    path: '/CRA_ATLAS_DIR',
  });
}
