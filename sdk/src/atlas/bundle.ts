/**
 * What an atlas argument is. The SDK takes an atlas as its manifest or as a bundle `{manifest, files?}` (the manifest
 * with the text of its context files); the rule that tells them apart lives here: a bundle has `manifest` and no
 * `atlas_version`, which every manifest has.
 *
 * @module
 */

import { CraError } from '../errors.ts';
import type { AtlasBundle, AtlasManifest } from '../types.ts';
import { isObject, kindOf } from '../util.ts';

/** True for a bundle `{manifest, files?}`, false for a manifest (or anything else). */
export function isAtlasBundle(atlas: unknown): atlas is AtlasBundle {
  return isObject(atlas) && 'manifest' in atlas && !('atlas_version' in atlas);
}

/** The manifest of a manifest or a bundle. */
export function manifestOf(atlas: AtlasManifest | AtlasBundle): AtlasManifest {
  return isAtlasBundle(atlas) ? atlas.manifest : atlas;
}

/**
 * The bundle of a manifest or a bundle, with `files` merged over the bundle's own (`files` only when there are
 * some). An atlas or a `files` that is not an object is refused here, in either mode; what is inside is the core's
 * to judge. Members are copied as data (a file named `__proto__` stays a file).
 */
export function bundleOf(atlas: AtlasManifest | AtlasBundle, files?: Record<string, string>): AtlasBundle {
  if (!isObject(atlas)) throw new CraError('invalid_request', `an atlas must be a manifest or {manifest, files}, not ${kindOf(atlas)}`, { path: '' });
  const own = isAtlasBundle(atlas) ? atlas.files : undefined;
  for (const f of [own, files]) {
    if (f !== undefined && !isObject(f)) throw new CraError('invalid_request', `files must be an object, not ${kindOf(f)}`, { path: '/files' });
  }
  const merged = { ...own, ...files };
  const manifest = manifestOf(atlas);
  return Object.keys(merged).length > 0 ? { manifest, files: merged } : { manifest };
}
