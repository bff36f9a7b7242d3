/**
 * Builds the browser example and serves it:
 *
 *   node --import tsx examples/browser/serve.ts          # http://127.0.0.1:8430/
 *
 * The build bundles `app.ts` (with the SDK and the inlined support atlas) into `dist/app.js` with rollup and copies
 * the core beside it (`dist/cra_core.wasm`), so that any static server can serve this folder. The end-to-end test
 * (`example.browser.test.ts`) uses the same two functions.
 */
import { copyFile, mkdir, readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import nodeResolve from '@rollup/plugin-node-resolve';
import { rollup, type Plugin } from 'rollup';
import ts from 'typescript';

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

/** A minimal static file server for `root` on loopback (port 0: any free port). */
export async function serveStatic(root: string, port = 0, host = '127.0.0.1'): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const base = resolve(root);
  const server = createServer(async (req, res) => {
    try {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      let file = normalize(join(base, path));
      if (file !== base && !file.startsWith(base + sep)) {
        res.writeHead(403).end('forbidden');
        return;
      }
      if ((await stat(file).catch(() => null))?.isDirectory()) file = join(file, 'index.html');
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, ok);
  });
  const address = server.address() as AddressInfo;
  return {
    server,
    url: `http://${host}:${address.port}/`,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = Date.now();
  await buildExample();
  const { url } = await serveStatic(EXAMPLE_DIR, Number(process.env.PORT ?? 8430));
  console.log(`built examples/browser/dist in ${Date.now() - t0} ms`);
  console.log(`serving examples/browser on ${url} (Ctrl-C to stop)`);
}
