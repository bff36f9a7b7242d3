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
 * The builds differ only in `sdk/src/runtime/platform.ts`, swapped for `platform.<build>.ts`, and in their layout.
 * `workerd` and `default` are for bundlers: dependencies stay external and rollup shares chunks between entries.
 * `node` and `web` are loaded as they are (Node, Deno, a page without a bundler), where every file is one more module
 * to resolve and, in a page, one more request after the one that named it: there `@cfworker/json-schema` and
 * `@opentelemetry/api` are bundled (the API finds a host's registered SDK through its global symbol, so a bundled
 * copy still reports to it), and every module `cra-runtime` reaches is in its entry file (`index.<build>.js`, one
 * request, no chain of imports);
 * the other entries import what they share with it from that file (`cra-runtime/client` alone then loads the
 * runtime's JavaScript too, not its core). Other dependencies stay external. The `node` build also makes the `cra`
 * command (`bin`): `dist/cli.js`, with a `#!/usr/bin/env node` line, and `dist/server-main.node.js`, the server that
 * `npm start` runs.
 * TypeScript is transpiled file by file (the sources are `isolatedModules`); the first build also writes
 * the declarations of `tsconfig.build.json` to `dist/types/` (`npm run typecheck` is the type-check).
 */

import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeResolve } from '@rollup/plugin-node-resolve';
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
  mcp: 'sdk/src/mcp/index.ts', // cra-runtime/mcp (Node, Deno; needs the optional peer @modelcontextprotocol/sdk)
  'ai-sdk': 'sdk/src/ai-sdk.ts', // cra-runtime/ai-sdk (needs the optional peer `ai`)
};
const ALL = Object.keys(ENTRIES);
/**
 * Built with the node build only: the package's command (`bin`), and the server as `npm start` runs it (plain
 * `node`, no TypeScript loader; `scripts/ensure-build.mjs` rebuilds it first when the sources are newer).
 */
const BIN = { cli: 'sdk/src/cli/main.ts' };
const NODE_ONLY = { 'server-main': 'server/src/adapter/node/main.ts' };
const WEB_STANDARD = ['index', 'client', 'server', 'ai-sdk'];

const BUILDS = [
  { suffix: '', platform: null, entries: ALL },
  { suffix: '.node', platform: 'platform.node.ts', entries: ALL, bin: true, unbundled: true },
  // Deno runs the Node entries too (node: modules), so `cra-runtime/node` there shares the classes of `cra-runtime`.
  { suffix: '.web', platform: 'platform.web.ts', entries: ALL, unbundled: true },
  { suffix: '.workerd', platform: 'platform.workerd.ts', entries: WEB_STANDARD },
];

/** Bundled into the builds that are loaded without a bundler. */
const INLINE = ['@cfworker/json-schema', '@opentelemetry/api'];

const deps = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})];
const builtins = new Set(builtinModules);
/** Dependencies, optional peers and Node built-ins are imported at run time, not bundled, except those in `inline`. */
function externalBut(inline = []) {
  return (id) => {
    if (id.startsWith('node:') || builtins.has(id)) return true;
    return deps.some((d) => !inline.includes(d) && (id === d || id.startsWith(`${d}/`)));
  };
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

/**
 * `output.manualChunks`: every module that `cra-runtime` (the `index` entry) reaches goes into its entry file, so
 * that importing it is one request; the other entries import what they share with it from there.
 */
function indexHoldsItsGraph() {
  let graph;
  return (id, { getModuleInfo }) => {
    if (!graph) {
      graph = new Set();
      const walk = (m) => {
        if (graph.has(m)) return;
        graph.add(m);
        for (const d of getModuleInfo(m)?.importedIds ?? []) walk(d);
      };
      walk(join(ROOT, ENTRIES.index));
    }
    return graph.has(id) ? 'index' : undefined;
  };
}

/** The notice of each dependency bundled into a file (their licenses ask for it to travel with the code). */
function inlinedNotices(inline) {
  const notices = inline.map((name) => {
    const dep = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8'));
    const author = typeof dep.author === 'string' ? dep.author.replace(/\s*<[^>]*>/, '') : dep.author?.name;
    const home = typeof dep.repository === 'string' ? dep.repository : dep.repository?.url;
    return { dir: `${join(ROOT, 'node_modules', name)}/`, text: `${name} ${dep.version}: ${dep.license} License, Copyright (c) ${author} (${home})` };
  });
  return (chunk) => {
    const found = notices.filter((n) => chunk.moduleIds.some((id) => id.startsWith(n.dir)));
    return found.length > 0 ? `/*! Includes ${found.map((n) => n.text).join('; ')} */` : '';
  };
}

export default BUILDS.map((build, i) => ({
  input: { ...Object.fromEntries(build.entries.map((e) => [e, ENTRIES[e]])), ...(build.bin ? { ...BIN, ...NODE_ONLY } : {}) },
  external: externalBut(build.unbundled ? INLINE : []),
  // The index entry's file also exports (under short names) what the other entries import from it.
  ...(build.unbundled ? { preserveEntrySignatures: 'allow-extension' } : {}),
  plugins: [
    ...(i === 0 ? [distFolder(), declarations(join(ROOT, 'tsconfig.build.json'))] : []),
    platformVariant(build.platform),
    ...(build.unbundled ? [nodeResolve({ resolveOnly: INLINE })] : []),
    wasmBeside(),
    transpileTs(),
  ],
  output: {
    dir: DIST,
    format: 'es',
    // Flat: every chunk sits beside cra_core.wasm, so `new URL('./cra_core.wasm', import.meta.url)` finds it.
    entryFileNames: (chunk) => (build.bin && chunk.name in BIN ? `${chunk.name}.js` : `[name]${build.suffix}.js`),
    banner: (chunk) => (build.bin && chunk.isEntry && chunk.name in BIN ? '#!/usr/bin/env node' : ''),
    chunkFileNames: `[name]-[hash]${build.suffix}.js`,
    ...(build.unbundled ? { intro: inlinedNotices(INLINE), manualChunks: indexHoldsItsGraph() } : {}),
  },
  onwarn(warning, warn) {
    if (warning.code === 'CIRCULAR_DEPENDENCY') return;
    warn(warning);
  },
}));
