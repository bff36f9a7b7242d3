/**
 * Builds the browser example and serves it, with a CRA server beside it on the same origin:
 *
 *   node --import tsx examples/browser/serve.ts          # http://127.0.0.1:8430/
 *
 * The build bundles `app.ts` (with the SDK and the inlined support atlas) into `dist/app.js` with rollup and copies
 * the core beside it (`dist/cra_core.wasm`), so that any static server can serve this folder (the page then runs
 * without its Sync buttons). `serveExample` serves the folder at `/` and the real server app at `/cra` — assembled
 * as every adapter assembles it, with JSONL traces and session owners in a data folder (`.data/` here) — so that
 * the page can sync its signed log to it: same origin, no CORS. Auth stays on: one API key is generated per start,
 * printed, and handed to the page by `/config.json`; the listener is bound to 127.0.0.1, so only this machine can
 * read that key. The end-to-end test (`example.browser.test.ts`) uses the same functions.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import nodeResolve from '@rollup/plugin-node-resolve';
import { Hono } from 'hono';
import { rollup, type Plugin } from 'rollup';
import ts from 'typescript';
import { assembleOnFiles, type FileAssembly } from '../../server/src/adapter/files/index.ts';
import { listen } from '../../server/src/adapter/node/listen.ts';
import { parseConfig } from '../../server/src/config.ts';

export const EXAMPLE_DIR = fileURLToPath(new URL('./', import.meta.url));
const ROOT = resolve(EXAMPLE_DIR, '../..');
const CORE = join(ROOT, 'sdk/src/runtime/cra_core.wasm');

/** `import data from './x.json'` as an ES module (the atlas is inlined this way). */
function json(): Plugin {
  return {
    name: 'json',
    transform(code, id) {
      if (!id.endsWith('.json')) return null;
      return { code: `export default ${JSON.stringify(JSON.parse(code))};\n`, map: { mappings: '' } };
    },
  };
}

/**
 * TypeScript → JavaScript, one file at a time (`ts.transpileModule`: the sources are written for `isolatedModules`).
 * No type checking here, `npm run typecheck` does it; this keeps the build at a second or two.
 */
function transpile(): Plugin {
  return {
    name: 'transpile-ts',
    transform(code, id) {
      if (!id.endsWith('.ts')) return null;
      const out = ts.transpileModule(code, {
        fileName: id,
        compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, isolatedModules: true, sourceMap: true },
      });
      return { code: out.outputText, map: out.sourceMapText ?? null };
    },
  };
}

/** Bundles `app.ts` into `<outDir>/app.js` and copies the core beside it. Answers the output folder. */
export async function buildExample(outDir = join(EXAMPLE_DIR, 'dist')): Promise<string> {
  const bundle = await rollup({
    input: join(EXAMPLE_DIR, 'app.ts'),
    plugins: [nodeResolve({ browser: true, extensions: ['.ts', '.js', '.mjs', '.json'] }), json(), transpile()],
  });
  try {
    await bundle.write({ dir: outDir, format: 'es', entryFileNames: 'app.js', sourcemap: true });
  } finally {
    await bundle.close();
  }
  await mkdir(outDir, { recursive: true });
  await copyFile(CORE, join(outDir, 'cra_core.wasm'));
  return outDir;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.md': 'text/markdown; charset=utf-8',
};

/**
 * The file of `folder` a URL path names, or null: never outside `folder`, and never a dot-file or dot-folder — the data
 * folder (`.data/`: traces, session owners) is the server's, reached through its API and its keys only.
 */
async function staticFile(folder: string, urlPath: string): Promise<string | null> {
  let path: string;
  try {
    path = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (path.split('/').some((part) => part.startsWith('.'))) return null;
  let file = normalize(join(folder, path));
  if (file !== folder && !file.startsWith(folder + sep)) return null;
  if ((await stat(file).catch(() => null))?.isDirectory()) file = join(file, 'index.html');
  return (await stat(file).catch(() => null))?.isFile() ? file : null;
}

/** What the page reads at start: where the CRA server is and the key to call it with. */
export interface PageConfig {
  /** The server's base URL, relative to the page. */
  cra: string;
  /** The API key of this run. */
  apiKey: string;
}

export interface ServeOptions {
  /** Port on 127.0.0.1 (0: any free port). */
  port?: number;
  /** The server's data folder: `traces/` (JSONL traces and checkpoints) and `owners.jsonl`. Default `.data/` here. */
  dataDir?: string;
  /** The folder served at `/` (default this one). */
  folder?: string;
}

export interface ExampleServer {
  /** The page's URL (`http://127.0.0.1:<port>/`). */
  url: string;
  /** The CRA server's base URL (`<url>cra`). */
  craUrl: string;
  /** The API key of this run, as the page gets it. */
  apiKey: string;
  /** The server's data folder. */
  dataDir: string;
  /** The server behind `/cra`: its runtime, owners and app. */
  cra: FileAssembly;
  close(): Promise<void>;
}

/**
 * Serves the example folder at `/`, the page's configuration at `/config.json` and a CRA server at `/cra`, on
 * 127.0.0.1 only. The server has auth on with one API key generated now; its traces and checkpoints are files.
 */
export async function serveExample(options: ServeOptions = {}): Promise<ExampleServer> {
  const folder = resolve(options.folder ?? EXAMPLE_DIR);
  const dataDir = resolve(options.dataDir ?? join(EXAMPLE_DIR, '.data'));
  const apiKey = `cra-example-${randomBytes(24).toString('base64url')}`;
  // Auth on with this run's key (no admin key: the page only syncs and reads its own sessions).
  const config = parseConfig({ CRA_DATA_DIR: dataDir, CRA_API_KEYS: apiKey });
  const cra = await assembleOnFiles(config, { app: { onError: () => undefined } });
  const root = new Hono();
  root.get('/config.json', (c) => c.json({ cra: '/cra', apiKey } satisfies PageConfig, 200, { 'cache-control': 'no-store' }));
  root.route('/cra', cra.app);
  root.get('*', async (c) => {
    const file = await staticFile(folder, new URL(c.req.url).pathname);
    if (file === null) return c.text('not found', 404);
    return c.body(await readFile(file), 200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
  });
  let listening: Awaited<ReturnType<typeof listen>>;
  try {
    listening = await listen(root, { port: options.port ?? 0, host: '127.0.0.1', onClose: cra.endStreams });
  } catch (err) {
    await cra.close().catch(() => undefined);
    throw err;
  }
  let closing: Promise<void> | null = null;
  const url = `${listening.url.replace(/\/$/, '')}/`;
  return {
    url,
    craUrl: `${url}cra`,
    apiKey,
    dataDir,
    cra,
    close() {
      closing ??= listening.close(1000).then(() => cra.close());
      return closing;
    },
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = Date.now();
  await buildExample();
  const server = await serveExample({ port: Number(process.env.PORT ?? 8430) });
  console.log(`built examples/browser/dist in ${Date.now() - t0} ms`);
  console.log(`serving examples/browser on ${server.url} (Ctrl-C to stop)`);
  console.log(`  CRA server: ${server.craUrl} (traces in ${server.dataDir}/traces)`);
  console.log(`  API key of this run: ${server.apiKey} (the page gets it from /config.json)`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
