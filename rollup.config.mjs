/**
 * `npm run build`: the package's ESM bundles and `.d.ts` types in `dist/`.
 *
 * One build per runtime, each with its entries (so that `cra-runtime`, `cra-runtime/server` and the others share one
 * `CraError` and one runtime class), all flat in `dist/` beside one `cra_core.wasm`:
 *
 * | build | files | export condition | the core, when `createRuntime()` gets no `wasm` |
 * |---|---|---|---|
 * | `workerd` | `*.workerd.js` | `workerd` | `import core from './cra_core.wasm'` (a `CompiledWasm` module) |
 * | `web` | `*.web.js` | `deno`, `browser` | `fetch(new URL('./cra_core.wasm', import.meta.url))` |
 * | `node` | `*.node.js` | `node` | `fs.readFile(new URL('./cra_core.wasm', import.meta.url))` |
 * | `default` | `*.js` | `default` | detected at run time, as the sources do |
 *
 * The builds differ only in `sdk/src/runtime/platform.ts`, swapped for `platform.<build>.ts`. Dependencies stay
 * external. TypeScript is transpiled file by file (the sources are `isolatedModules`); the first build also writes
 * the declarations of `tsconfig.build.json` to `dist/types/` (`npm run typecheck` is the type-check).
 */

import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { declarations, platformVariant, transpileTs, wasmBeside } from './scripts/rollup-plugins.mjs';

const ROOT = dirname(fileURLToPath(import.meta.url));
const DIST = join(ROOT, 'dist');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

const ENTRIES = {
  index: 'sdk/src/index.ts', // cra-runtime
  client: 'sdk/src/client/index.ts', // cra-runtime/client
  server: 'server/src/index.ts', // cra-runtime/server
  node: 'sdk/src/node.ts', // cra-runtime/node
  'server-node': 'server/src/node-index.ts', // cra-runtime/server/node
};
const ALL = Object.keys(ENTRIES);
const WEB_STANDARD = ['index', 'client', 'server'];

const BUILDS = [
  { suffix: '', platform: null, entries: ALL },
  { suffix: '.node', platform: 'platform.node.ts', entries: ALL },
  // Deno runs the Node entries too (node: modules), so `cra-runtime/node` there shares the classes of `cra-runtime`.
  { suffix: '.web', platform: 'platform.web.ts', entries: ALL },
  { suffix: '.workerd', platform: 'platform.workerd.ts', entries: WEB_STANDARD },
];

const deps = Object.keys(pkg.dependencies ?? {});
const builtins = new Set(builtinModules);
/** Dependencies and Node built-ins are imported at run time, not bundled. */
function external(id) {
  if (id.startsWith('node:') || builtins.has(id)) return true;
  return deps.some((d) => id === d || id.startsWith(`${d}/`));
}

/** Cleans `dist/` before the first build and puts the core beside the bundles. */
function distFolder() {
  return {
    name: 'cra-dist',
    buildStart() {
      rmSync(DIST, { recursive: true, force: true });
    },
    writeBundle() {
      mkdirSync(DIST, { recursive: true });
      copyFileSync(join(ROOT, 'sdk/src/runtime/cra_core.wasm'), join(DIST, 'cra_core.wasm'));
    },
  };
}

export default BUILDS.map((build, i) => ({
  input: Object.fromEntries(build.entries.map((e) => [e, ENTRIES[e]])),
  external,
  plugins: [
    ...(i === 0 ? [distFolder(), declarations(join(ROOT, 'tsconfig.build.json'))] : []),
    platformVariant(build.platform),
    wasmBeside(),
    transpileTs(),
  ],
  output: {
    dir: DIST,
    format: 'es',
    // Flat: every chunk sits beside cra_core.wasm, so `new URL('./cra_core.wasm', import.meta.url)` finds it.
    entryFileNames: `[name]${build.suffix}.js`,
    chunkFileNames: `[name]-[hash]${build.suffix}.js`,
  },
  onwarn(warning, warn) {
    if (warning.code === 'CIRCULAR_DEPENDENCY') return;
    warn(warning);
  },
}));
