/**
 * The package the command runs from: its `package.json` (version) and what it ships beside the code (the example
 * atlases). Found by walking up from this module to the first `package.json` named `cra-runtime`, which works from
 * the sources (`sdk/src/cli/`) and from the build (`dist/`, flat) alike, installed or in a checkout.
 *
 * @module
 */

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface PackageInfo {
  root: string;
  version: string;
}

let found: PackageInfo | null | undefined;

/** The package's folder and version; null when this module is not inside it (bundled into someone's app). */
export function packageInfo(): PackageInfo | null {
  if (found !== undefined) return found;
  found = null;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'cra-runtime' && typeof pkg.version === 'string') {
        found = { root: dir, version: pkg.version };
        break;
      }
    } catch {
      // none here: one folder up
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return found;
}

/** The example atlas the package ships (`examples/atlases/support`), or null when it is not there. */
export function exampleAtlas(): string | null {
  const info = packageInfo();
  if (!info) return null;
  const folder = join(info.root, 'examples/atlases/support');
  return existsSync(join(folder, 'atlas.json')) ? folder : null;
}
