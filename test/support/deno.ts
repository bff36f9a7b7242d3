/**
 * Deno for the runtime tests: the binary of the `deno` dev dependency (no download), with a project-local cache
 * (`.deno/`, ignored by git) and no update check.
 */

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROOT } from './proc.ts';

/**
 * The Deno executable itself. `node_modules/.bin/deno` may be the package's Node wrapper (npm 11 does not run its
 * postinstall, which would replace it by the binary); a signal to the wrapper would not reach Deno, so the binary
 * is resolved the way the wrapper does it: the package's own `runInstall()` (it links the binary from the
 * platform's optional dependency on first use).
 */
export function denoBinary(): string {
  const linked = join(ROOT, 'node_modules/deno/deno');
  if (existsSync(linked)) return linked;
  const require = createRequire(join(ROOT, 'package.json'));
  const api = require('deno/install_api.cjs') as { runInstall(): string };
  return api.runInstall();
}

/** The environment for a Deno child: offline-friendly, quiet, cached inside the project. */
export function denoEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DENO_DIR: join(ROOT, '.deno'),
    DENO_NO_UPDATE_CHECK: '1',
    DENO_NO_PROMPT: '1',
    NO_COLOR: '1',
    ...extra,
  };
}
