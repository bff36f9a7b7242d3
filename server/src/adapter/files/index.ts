/**
 * A server on files, for the runtimes that have them (Node, and Deno through its Node compatibility): the atlases of
 * `CRA_ATLAS_DIR` (default: the repository's examples when run from its sources, none when installed), JSONL traces and the file of session owners under
 * `CRA_DATA_DIR`, assembled (`assemble()`). The adapters add their listener and signals.
 *
 * @module
 */

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jsonlStore } from '../../../../sdk/src/storage/jsonl.ts';
import { assemble, type AssembleOptions, type Assembly } from '../../assemble.ts';
import { FileOwners } from '../../auth/owner-file.ts';
import type { ServerConfig } from '../../config.ts';
import type { AtlasReport } from '../../report.ts';
import { readAtlases } from './atlases.ts';

export { readAtlases } from './atlases.ts';

/**
 * The default atlas folder of a module at `moduleUrl`: the repository's examples when it runs from the repository's
 * sources (`npm start`), else none. Built into the installed package (`dist/`, which ships no examples), the same
 * relative path would name a folder outside the package — one that anyone able to write there could fill with an
 * allow-everything atlas — so the installed server loads only what `CRA_ATLAS_DIR` names.
 */
export function bundledAtlasesFor(moduleUrl: string): string | null {
  const here = fileURLToPath(moduleUrl);
  if (!/[\\/]server[\\/]src[\\/]adapter[\\/]files[\\/][^\\/]+$/.test(here)) return null;
  return fileURLToPath(new URL('../../../../examples/atlases/', moduleUrl));
}

/**
 * The example atlases of a repository checkout for its built server (`dist/server-main.node.js`, which `npm start`
 * runs): `<checkout>/examples/atlases/` when that folder exists, else null. The path stays inside the folder that
 * holds `dist/`: installed, that is the package's own folder, which ships no `examples/`.
 */
export function checkoutAtlasesFor(mainUrl: string): string | null {
  const here = fileURLToPath(mainUrl);
  if (!/[\\/]dist[\\/]server-main\.node\.js$/.test(here)) return null;
  const folder = fileURLToPath(new URL('../examples/atlases/', mainUrl));
  return existsSync(folder) ? folder : null;
}

/** The example atlases of the repository, when this module runs from its sources (see {@link bundledAtlasesFor}). */
export const BUNDLED_ATLASES = bundledAtlasesFor(import.meta.url);

export interface FileAssembly extends Assembly {
  owners: FileOwners;
  /** The atlases read from the atlas folder: loaded, and skipped with why. */
  atlases: AtlasReport;
}

/** The server of `config` on files: atlases from its folder, traces and owners under its data folder. */
export async function assembleOnFiles(config: ServerConfig, options: Omit<AssembleOptions, 'storage' | 'owners' | 'atlases'> = {}): Promise<FileAssembly> {
  const dataDir = resolve(config.dataDir);
  const folder = config.atlasDir ? resolve(config.atlasDir) : BUNDLED_ATLASES;
  const { bundles, report } = folder === null ? { bundles: [], report: { loaded: [], skipped: [] } } : await readAtlases(folder);
  const owners = await FileOwners.open(join(dataDir, 'owners.jsonl'));
  const assembly = await assemble(config, { ...options, storage: jsonlStore({ dir: join(dataDir, 'traces'), durability: config.durability }), owners, atlases: bundles });
  return { ...assembly, owners, atlases: report };
}
