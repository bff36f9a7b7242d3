#!/usr/bin/env node
/**
 * `prestart`: builds `dist/` (`npm run build`) before `npm start` runs the built server, so that a fresh clone
 * (`npm ci && npm start`, no `dist/`: it is not committed) and an edited checkout both start what their sources say.
 *
 * The rule: build when a file `npm start` may run (`dist/cli.js`, `dist/server-main.node.js`) is missing, or when any
 * input of the build was modified after the older of them — a file under `sdk/src/` or `server/src/` (tests excepted), the core
 * (`sdk/src/runtime/cra_core.wasm`, under `sdk/src/`), `package.json`, `rollup.config.mjs`,
 * `scripts/rollup-plugins.mjs` or a `tsconfig*.json`. Modification times, not contents: checking costs a few
 * milliseconds per start, and a build that was not needed costs only time. Otherwise nothing runs.
 */

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ENTRIES = ['dist/cli.js', 'dist/server-main.node.js'];
const FOLDERS = ['sdk/src', 'server/src'];
const FILES = ['package.json', 'rollup.config.mjs', 'scripts/rollup-plugins.mjs', 'tsconfig.json', 'tsconfig.build.json'];

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -Infinity;
  }
}

/** The newest input of the build, as a path and its modification time. */
function newestInput() {
  let newest = { path: null, ms: -Infinity };
  const see = (path) => {
    const ms = mtime(path);
    if (ms > newest.ms) newest = { path, ms };
  };
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (!entry.name.endsWith('.test.ts')) see(path);
    }
  };
  for (const folder of FOLDERS) walk(join(ROOT, folder));
  for (const file of FILES) see(join(ROOT, file));
  return newest;
}

const missing = ENTRIES.find((f) => mtime(join(ROOT, f)) === -Infinity);
const built = Math.min(...ENTRIES.map((f) => mtime(join(ROOT, f))));
const newest = newestInput();
if (built !== -Infinity && built >= newest.ms) process.exit(0);

const why = missing ? `${missing} is missing` : `${newest.path.slice(ROOT.length + 1)} is newer than dist/`;
// A checkout installed without its dev dependencies (`npm ci --omit=dev`) has no build tools: say what to do
// instead of letting the build fail on a missing command. The published package ships dist/ built.
if (!existsSync(join(ROOT, 'node_modules', 'rollup', 'package.json'))) {
  console.error(
    `dist/ must be built (${why}), and building it needs the dev dependencies, which are not installed.\n` +
      '  In this checkout: npm ci (with dev dependencies), then npm start.\n' +
      '  For production without dev dependencies: npm install cra-runtime (it ships dist/ built), then npx cra serve.',
  );
  process.exit(1);
}
console.log(`building dist/ (${why}): npm run build`);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const r = spawnSync(npm, ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit', shell: process.platform === 'win32' });
process.exit(r.status ?? 1);
