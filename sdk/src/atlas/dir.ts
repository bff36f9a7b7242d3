/**
 * Reads an atlas from disk (Node): a folder with `atlas.json` and the files its context packs name, or a manifest
 * file. The core receives the text; it never touches the file system.
 *
 * @module
 */

import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { CraError } from '../errors.ts';
import type { AtlasBundle, AtlasManifest } from '../types.ts';
import { checkJsonValue } from '../json-value.ts';
import { isObject, kindOf } from '../util.ts';

/**
 * Loads `path` — a folder holding `atlas.json`, or a JSON manifest file — with the text of every context-pack file.
 * Pack paths must stay inside the atlas folder; a pack file that does not exist is left out of `files` (the core
 * then warns and gives its block no text).
 */
export async function loadAtlasDir(path: string): Promise<AtlasBundle> {
  if (typeof path !== 'string') throw new CraError('invalid_request', `an atlas path is a string, not ${kindOf(path)}`, { path: '' });
  let manifestPath = path;
  try {
    if ((await stat(path)).isDirectory()) manifestPath = join(path, 'atlas.json');
  } catch (err) {
    throw new CraError('atlas_not_found', `no atlas at ${path}`, { cause: err });
  }
  const root = dirname(manifestPath);
  let manifest: AtlasManifest;
  try {
    manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as AtlasManifest;
  } catch (err) {
    const code = (err as { code?: string }).code === 'ENOENT' ? 'atlas_not_found' : 'invalid_json';
    throw new CraError(code, `cannot read ${manifestPath}: ${(err as Error).message}`, { path: '', cause: err });
  }
  if (!isObject(manifest)) throw new CraError('atlas_invalid', `${manifestPath} is not a JSON object`, { path: '' });
  // Parsed text is plain JSON; only its nesting can exceed what the core (and every recursive reader) takes.
  checkJsonValue(manifest);
  const files: Record<string, string> = {};
  const packs = Array.isArray(manifest.context_packs) ? manifest.context_packs : [];
  for (const [i, pack] of packs.entries()) {
    const list = isObject(pack) && Array.isArray(pack.files) ? pack.files : [];
    for (const [j, file] of list.entries()) {
      const at = `/context_packs/${i}/files/${j}`;
      if (typeof file !== 'string' || file.length === 0) continue; // the core reports the malformed entry
      if (file in files) continue;
      const rel = normalize(file);
      if (isAbsolute(file) || rel === '..' || rel.startsWith(`..${sep}`)) {
        throw new CraError('atlas_invalid', `context file ${file} is outside the atlas folder`, { path: at });
      }
      try {
        files[file] = await readFile(join(root, rel), 'utf8');
      } catch (err) {
        // A file that is not there is left out: the core loads the atlas with a warning and an empty block, as it
        // does for a bundle without the text. One that exists but cannot be read is an error.
        if ((err as { code?: string }).code === 'ENOENT') continue;
        throw new CraError('atlas_invalid', `cannot read context file ${file}: ${(err as Error).message}`, { path: at, cause: err });
      }
    }
  }
  return { manifest, files };
}
