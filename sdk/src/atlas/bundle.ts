/**
 * What an atlas argument is. The SDK takes an atlas as its manifest or as a bundle `{manifest, files?}` (the manifest
 * with the text of its context files); the rule that tells them apart lives here: a bundle has `manifest` and no
 * `atlas_version`, which every manifest has.
 *
 * @module
 */

import { CraError } from '../errors.ts';
import { type JsonIssue, jsonValue } from '../json-value.ts';
import type { AtlasBundle, AtlasManifest, AtlasValidation } from '../types.ts';
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

/**
 * {@link bundleOf} as JSON can carry it (a checked copy, in either mode). A manifest string that is not Unicode
 * text (a lone surrogate, which UTF-8 cannot carry) is the manifest's fault: `atlas_invalid` at its pointer in the
 * manifest, the way the core points its own errors. Other refusals (nesting past the core's depth, values that are
 * not JSON) stay `invalid_json`: they are about what can be sent at all.
 */
export function atlasJson(atlas: AtlasManifest | AtlasBundle, files?: Record<string, string>): AtlasBundle {
  try {
    return jsonValue(bundleOf(atlas, files)) as unknown as AtlasBundle;
  } catch (e) {
    const reason = e instanceof CraError ? (e.details as { reason?: JsonIssue } | undefined)?.reason : undefined;
    if (e instanceof CraError && e.code === 'invalid_json' && reason === 'string' && e.path?.startsWith('/manifest')) {
      throw new CraError('atlas_invalid', e.message, { path: e.path.slice('/manifest'.length) });
    }
    throw e;
  }
}

/**
 * What `validateAtlas` sends ({@link atlasJson}), or, for a manifest that cannot be sent at all, its answer: a
 * report about the manifest, not a rejection.
 */
export function atlasToValidate(atlas: AtlasManifest | AtlasBundle, files?: Record<string, string>): { bundle: AtlasBundle } | { report: AtlasValidation } {
  try {
    return { bundle: atlasJson(atlas, files) };
  } catch (e) {
    if (!(e instanceof CraError) || e.code !== 'atlas_invalid') throw e;
    return { report: { valid: false, errors: [{ code: e.code, message: e.message, path: e.path ?? '' }], warnings: [] } };
  }
}
