/**
 * The package as users get it: `npm run build` (reused while fresh), `npm pack`, the tarball installed into a
 * scratch project (offline, from npm's cache), then used from there the way each runtime resolves it:
 *
 * - Node: a plain ESM script imports every entry (`node` condition) and runs a flow through each;
 * - TypeScript: a consumer type-checks against the shipped `.d.ts` (NodeNext and Bundler resolution), and so does
 *   a strict project with neither the DOM library nor @types/node;
 * - Deno: `cra-runtime` through the `deno` condition runs the parity scenario, byte for byte, and
 *   `cra-runtime/server`'s app serves it with `Deno.serve`;
 * - workerd: a worker bundled from the scratch project's node_modules (`workerd` condition, the core as a
 *   CompiledWasm module) runs the parity scenario, byte for byte;
 * - browser bundlers: Vite builds a page from the `browser` condition, emitting the core as an asset; the built
 *   module runs from an HTTP origin the way a page loads it (in Deno: no DOM needed; Chromium runs are in
 *   `npm run test:browser`).
 */

import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { denoBinary, denoEnv } from './support/deno.ts';
import { ensureDist } from './support/dist.ts';
import { ROOT, run } from './support/proc.ts';
import { bundleWorker, startWorker } from './support/workers.ts';

const FIXTURES = join(ROOT, 'test/package/fixtures');
const PARITY = join(ROOT, 'sdk/test/parity');
const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; exports: Record<string, unknown> };

/** npm for the child: none of the `npm test` run's own settings, no audit, no funding, no update check. */
function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('npm_') && !/^npm_config_(cache|registry|userconfig|globalconfig)$/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
}

/** Every file an `exports` entry can resolve to. */
function targets(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value && typeof value === 'object') return Object.values(value).flatMap(targets);
  return [];
}

describe('the packed package', () => {
  let tmp: string;
  let app: string;
  let packed: string[];
  let expected: string;

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'cra-package-'));
    app = join(tmp, 'app');
    await mkdir(app);
    await ensureDist();
    const pack = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { env: npmEnv() });
    expect(pack.code, pack.stderr).toBe(0);
    const [info] = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    packed = info!.files.map((f) => f.path).sort();

    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'cra-scratch', private: true, type: 'module' }, null, 2));
    const tarball = join(tmp, info!.filename);
    const flags = ['--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock'];
    let install = await run('npm', ['install', tarball, '--offline', ...flags], { cwd: app, env: npmEnv() });
    // Offline needs the dependencies in npm's cache (npm ci put them there); else ask the registry.
    if (install.code !== 0) install = await run('npm', ['install', tarball, '--prefer-offline', ...flags], { cwd: app, env: npmEnv() });
    expect(install.code, install.stderr).toBe(0);

    await cp(join(ROOT, 'examples/atlases/support'), join(app, 'atlases/support'), { recursive: true });
    const fill = (text: string, scenario: string, atlas: string) => text.replaceAll('__SCENARIO__', scenario).replaceAll('__ATLAS__', atlas);
    await cp(join(FIXTURES, 'flow-node.mjs'), join(app, 'flow-node.mjs'));
    await cp(join(FIXTURES, 'consumer.ts'), join(app, 'consumer.ts'));
    await cp(join(FIXTURES, 'consumer-strict.ts'), join(app, 'consumer-strict.ts'));
    await cp(join(FIXTURES, 'web'), join(app, 'web'), { recursive: true });
    await cp(join(PARITY, 'support-bundle.json'), join(app, 'web/support-bundle.json'));
    const deno = await readFile(join(FIXTURES, 'parity-deno.ts'), 'utf8');
    await writeFile(join(app, 'parity-deno.ts'), fill(deno, pathToFileURL(join(PARITY, 'scenario.ts')).href, pathToFileURL(join(PARITY, 'support-bundle.json')).href));
    const worker = await readFile(join(FIXTURES, 'parity-worker.ts'), 'utf8');
    await writeFile(join(app, 'parity-worker.ts'), fill(worker, join(PARITY, 'scenario.ts'), join(PARITY, 'support-bundle.json')));
    expected = await readFile(join(PARITY, 'expected.trace.jsonl'), 'utf8');
  }, 180_000);

  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('holds the bundles, the types, one core, the schemas, the example atlas, the docs and the Python client, and nothing else', () => {
    for (const file of ['package.json', 'README.md', 'LICENSE', 'docs/protocol.md', 'docs/atlas-guide.md', 'docs/observability.md']) {
      expect(packed).toContain(file);
    }
    expect(packed.filter((p) => p.endsWith('.wasm'))).toEqual(['dist/cra_core.wasm']);
    for (const target of targets(pkg.exports)) {
      // `./schemas/*`: a folder of files, every one a JSON Schema.
      if (target.endsWith('/*')) expect(packed.filter((p) => p.startsWith(target.slice(2, -1))).length).toBeGreaterThan(0);
      else expect(packed).toContain(target.replace(/^\.\//, ''));
    }
    expect(packed.filter((p) => p.startsWith('schemas/')).sort()).toEqual(
      ['atlas-manifest', 'carp-request', 'carp-resolution', 'trace-event'].map((n) => `schemas/${n}.schema.json`),
    );
    expect(packed).toContain('examples/atlases/support/atlas.json');
    // The server's reference and the Python client (`pip install node_modules/cra-runtime/clients/python`), which
    // the README links.
    for (const file of ['server/README.md', 'clients/python/README.md', 'clients/python/pyproject.toml', 'clients/python/cra_client/client.py']) {
      expect(packed).toContain(file);
    }
    expect(packed.filter((p) => /__pycache__|\.pyc$/.test(p))).toEqual([]);
    const elsewhere = /^(dist|schemas|examples\/atlases|clients\/python\/cra_client)\/|^docs\/[^/]+\.md$|^(package\.json|README\.md|LICENSE|server\/README\.md|clients\/python\/(README\.md|pyproject\.toml))$/;
    expect(packed.filter((p) => !elsewhere.test(p))).toEqual([]);
    expect(packed.filter((p) => /\.test\.|\.ts$/.test(p) && !p.endsWith('.d.ts'))).toEqual([]);
  });

  it('Node: every entry from a plain ESM script, embedded and over HTTP', async () => {
    const r = await run(process.execPath, ['flow-node.mjs'], { cwd: app, timeoutMs: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    const dist = pathToFileURL(join(app, 'node_modules/cra-runtime/dist/')).href;
    expect(out.resolved).toEqual({
      'cra-runtime': `${dist}index.node.js`,
      'cra-runtime/client': `${dist}client.node.js`,
      'cra-runtime/server': `${dist}server.node.js`,
      'cra-runtime/node': `${dist}node.node.js`,
      'cra-runtime/server/node': `${dist}server-node.node.js`,
    });
    expect(out.embedded).toMatchObject({ decision: 'allow', lookup: 'approved', verify: { valid: true, length: 8 } });
    expect(out.http).toMatchObject({ erase: 'denied', verify: { valid: true }, missing: { code: 'session_not_found', root: true, client: true } });
    expect(out.app).toBe('function');
    expect(out.universal).toBe('allow');
  }, 60_000);

  it('the `cra` command (bin) from the installed package; the MCP proxy names its optional peer when missing', async () => {
    const version = await run('npx', ['cra', '--version'], { cwd: app, env: npmEnv() });
    expect([version.code, version.stdout]).toEqual([0, `${pkg.version}\n`]);
    const help = await run('npx', ['cra', 'mcp-proxy', '--help'], { cwd: app, env: npmEnv() });
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: cra mcp-proxy --atlas <dir>/);
    // `@modelcontextprotocol/sdk` is an optional peer, not installed here: only the MCP code paths ask for it.
    const proxy = await run('npx', ['cra', 'mcp-proxy', '--atlas', 'atlases/support', '--data', join(tmp, 'mcp-data'), '--', process.execPath, '-e', ''], { cwd: app, env: npmEnv() });
    expect([proxy.code, proxy.stderr]).toEqual([1, 'cra mcp-proxy: install @modelcontextprotocol/sdk to use the MCP gateway (npm install @modelcontextprotocol/sdk) [mcp_unavailable]\n']);
  });

  /** The code block that follows `**<label>**` in the README. */
  async function readmeSnippet(label: string): Promise<string> {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const block = /```(?:js|ts)\n([\s\S]*?)```/.exec(readme.split(`**${label}**`)[1] ?? '');
    if (!block?.[1]) throw new Error(`README.md has no code block after **${label}**`);
    return block[1];
  }

  it("README's Node snippet runs as written from the installed package", async () => {
    await writeFile(join(app, 'readme-node.mjs'), await readmeSnippet('Node'));
    const r = await run(process.execPath, ['readme-node.mjs'], { cwd: app });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/valid: true/);
  });

  it("README's Workers snippet runs as written in workerd from the installed package", async () => {
    await writeFile(join(app, 'readme-worker.ts'), await readmeSnippet('Cloudflare Workers / workerd'));
    const bundle = await bundleWorker(join(app, 'readme-worker.ts'), join(tmp, 'readme-worker'), { self: false });
    let mf: Miniflare | undefined;
    try {
      let url: URL;
      ({ mf, url } = await startWorker(bundle));
      const res = await fetch(new URL('/tickets/T-10042', url));
      const resolution = (await res.json()) as { carp_version: string; decision: { type: string } };
      expect(resolution.carp_version).toBe('1.0');
      expect(resolution.decision.type).toBe('deny'); // no atlas loaded: nothing to allow
    } finally {
      await mf?.dispose();
    }
  });

  it('TypeScript: a consumer type-checks against the shipped types (NodeNext and Bundler)', async () => {
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    for (const [module, moduleResolution] of [
      ['NodeNext', 'NodeNext'],
      ['ESNext', 'Bundler'],
    ]) {
      // A Node project has @types/node (`cra-runtime/node` and `cra-runtime/server/node` use Node's types).
      const compilerOptions = {
        target: 'ES2022',
        lib: ['ES2022', 'DOM'],
        module,
        moduleResolution,
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [join(ROOT, 'node_modules/@types')],
      };
      await writeFile(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['consumer.ts'] }));
      const r = await run(process.execPath, [tsc, '-p', '.'], { cwd: app });
      expect([moduleResolution, r.stdout + r.stderr]).toEqual([moduleResolution, '']);
    }
  }, 60_000);

  it('TypeScript: the shipped types check in a strict project with no DOM library and no @types/node', async () => {
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const compilerOptions = { target: 'ES2022', lib: ['es2022'], types: [], module: 'ESNext', moduleResolution: 'Bundler', strict: true, noEmit: true, skipLibCheck: false };
    await writeFile(join(app, 'tsconfig.strict.json'), JSON.stringify({ compilerOptions, files: ['consumer-strict.ts'] }));
    const r = await run(process.execPath, [tsc, '-p', 'tsconfig.strict.json', '--pretty', 'false'], { cwd: app });
    // Errors in the declarations of dependencies (whose host types are theirs to declare) are not the package's.
    const ours = (r.stdout + r.stderr).split('\n').filter((line) => /error TS/.test(line) && (!line.includes('node_modules/') || line.includes('node_modules/cra-runtime/')));
    expect(ours).toEqual([]);
  }, 60_000);

  it('Deno: the deno condition, the parity trace byte for byte, and the app on Deno.serve', async () => {
    const r = await run(denoBinary(), ['run', '--no-prompt', '--allow-read', '--allow-net=127.0.0.1', 'parity-deno.ts'], { cwd: app, env: denoEnv(), timeoutMs: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { resolved: string; jsonl: string; verify: unknown };
    expect(out.resolved).toBe(pathToFileURL(join(app, 'node_modules/cra-runtime/dist/index.web.js')).href);
    expect(out.jsonl).toBe(expected);
    expect(out.verify).toMatchObject({ valid: true, length: expected.trim().split('\n').length });
  }, 60_000);

  it('workerd: the workerd condition (the core as a CompiledWasm module), and the parity trace byte for byte', async () => {
    const bundle = await bundleWorker(join(app, 'parity-worker.ts'), join(tmp, 'worker'), { self: false });
    expect(bundle.modules.map((m) => m.type)).toEqual(['ESModule', 'CompiledWasm']);
    let mf: Miniflare | undefined;
    try {
      let url: URL;
      ({ mf, url } = await startWorker(bundle));
      const res = await fetch(url);
      expect(res.headers.get('x-runtime')).toBe('Cloudflare-Workers');
      expect(await res.text()).toBe(expected);
    } finally {
      await mf?.dispose();
    }
  }, 60_000);

  it('browser bundlers: Vite emits the core as an asset, and the built page module runs from an HTTP origin', async () => {
    const { build } = await import('vite');
    const out = join(tmp, 'web-dist');
    await build({
      root: join(app, 'web'),
      configFile: false,
      logLevel: 'silent',
      build: { outDir: out, emptyOutDir: true, target: 'es2022', modulePreload: { polyfill: false } },
    });
    const assets = await readdir(join(out, 'assets'));
    const wasm = assets.filter((f) => f.endsWith('.wasm'));
    const js = assets.filter((f) => f.endsWith('.js'));
    expect(wasm).toHaveLength(1);
    expect(js).toHaveLength(1);
    expect((await readFile(join(out, 'assets', wasm[0]!))).equals(await readFile(join(ROOT, 'dist/cra_core.wasm')))).toBe(true);
    const code = await readFile(join(out, 'assets', js[0]!), 'utf8');
    expect(code).toContain(`new URL(\`/assets/${wasm[0]}\``);
    expect(code).not.toMatch(/(?:from|import\()\s*["']node:/);

    // Serve the build and load the page's module over HTTP: import.meta.url is http, the core is fetched and
    // compiled from its response (application/wasm), as in a browser.
    const server = createServer((req, res) => {
      readFile(join(out, new URL(req.url!, 'http://x').pathname))
        .then((body) => res.writeHead(200, { 'content-type': req.url!.endsWith('.wasm') ? 'application/wasm' : 'text/javascript' }).end(body))
        .catch(() => res.writeHead(404).end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const origin = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await writeFile(join(tmp, 'page.mjs'), `await import('http://${origin}/assets/${js[0]}');\nconsole.log(JSON.stringify(globalThis.craResult));\n`);
      const r = await run(denoBinary(), ['run', '--no-prompt', `--allow-import=${origin}`, `--allow-net=${origin}`, join(tmp, 'page.mjs')], {
        env: denoEnv({ DENO_DIR: join(tmp, 'deno-cache') }),
        timeoutMs: 60_000,
      });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ decision: 'allow', lookup: 'approved', verify: { valid: true } });
    } finally {
      await new Promise((r) => server.close(r));
    }
  }, 60_000);
});
