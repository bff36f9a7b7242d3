/**
 * The SDK in Chromium, against Node in the same run. The package's web build (`dist/index.web.js`, the build browsers
 * and bundlers pick) is served from loopback with a bench page (`browser/bench.html`), the system Chromium runs it
 * headless through playwright-core, and the page times itself: the numbers never cross the DevTools protocol while
 * they are taken. Rows:
 * - a fresh page's `import()` of the web build (nothing cached: a new browser context per sample, `no-store`
 *   responses), target ≤ 50 ms;
 * - `createRuntime()` with the support atlas in that page, the core fetched and compiled on the way (what a page
 *   pays at load), target ≤ 15 ms, with its steps (core, instance, first `atlas.load`); and a second one, the compiled
 *   core reused;
 * - a governed call (`requestAction('ticket.lookup')` + `complete`, memory store) and `session.resolve()`, both
 *   against the Node figure of the same loop (`browser/workload.ts`, run in this process on `dist/index.node.js`,
 *   the same build for Node), target ≤ 2× Node. Rounds of the two alternate, and on Linux the notes add the CPU
 *   time of each main thread per call, which a shared machine's load does not move the way it moves wall time.
 * Needs `dist/` (`npm run build`) and Chromium (`/usr/bin/chromium` or `CRA_CHROMIUM`); without either the group
 * says so and is skipped. `CRA_CHROMIUM_JS_FLAGS` passes V8 flags to Chromium (diagnosis only: users run defaults).
 */

import { existsSync, readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { CHROMIUM, CHROMIUM_ARGS } from '../../examples/browser/chromium.ts';
import { QUICK, atMost, fmtTime, printRows, statsOf, supportAtlas, type Row, type Stats } from './harness.ts';
import type { ColdStartMs } from './browser/page.ts';
import { openLoop, type LoopKind, type SdkModule } from './browser/workload.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIST = join(ROOT, 'dist');
const PAGE_DIR = join(ROOT, 'sdk/bench/browser');

const COLD_RUNS = QUICK ? 5 : 15;
/** Loops: warm-up calls, then rounds alternating Node and Chromium, each round `samples` batches of `batch` calls. */
const PLAN = QUICK ? { warmup: 300, rounds: 4, samples: 5, batch: 25 } : { warmup: 1000, rounds: 10, samples: 8, batch: 25 };

/** Why the group cannot run here, or null. */
function missing(dist: string): string | null {
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CRA_CHROMIUM)`;
  for (const f of ['index.web.js', 'index.node.js', 'cra_core.wasm']) {
    if (!existsSync(join(dist, f))) return `${join(dist, f)} is missing: run \`npm run build\` first`;
  }
  return null;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.ts': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
};

/** `/dist/…` the build, `/bench/…` the page (TypeScript transpiled on the way), `/atlas.json`. */
export async function serveBench(dist = DIST): Promise<{ url: string; close(): Promise<void> }> {
  const atlas = JSON.stringify(await supportAtlas());
  const roots: Array<[string, string]> = [
    ['/dist/', dist],
    ['/bench/', PAGE_DIR],
  ];
  const server: Server = createServer(async (req, res) => {
    // no-store: every page starts cold (no HTTP cache, so no V8 code cache for scripts or wasm either).
    const headers = { 'cache-control': 'no-store' };
    try {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      if (path === '/atlas.json') {
        res.writeHead(200, { ...headers, 'content-type': TYPES['.json']! }).end(atlas);
        return;
      }
      const root = roots.find(([prefix]) => path.startsWith(prefix));
      if (!root) throw new Error('no route');
      const file = normalize(join(root[1], path.slice(root[0].length)));
      if (!file.startsWith(root[1] + sep) || !(await stat(file)).isFile()) throw new Error('outside');
      let body: string | Buffer = await readFile(file);
      if (file.endsWith('.ts')) {
        body = ts.transpileModule(body.toString('utf8'), {
          fileName: file,
          compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, isolatedModules: true },
        }).outputText;
      }
      res.writeHead(200, { ...headers, 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404, { ...headers, 'content-type': 'text/plain' }).end('not found');
    }
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', ok);
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise<void>((ok) => server.close(() => ok())) };
}

/** Headless Chromium, default V8 flags unless `CRA_CHROMIUM_JS_FLAGS` says otherwise. */
export async function launchBrowser() {
  const { chromium } = await import('playwright-core');
  const jsFlags = process.env.CRA_CHROMIUM_JS_FLAGS;
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...(jsFlags ? [`--js-flags=${jsFlags}`] : [])] });
}

type Browser = Awaited<ReturnType<typeof launchBrowser>>;

/** A fresh context (its own profile state and renderer) with the bench page loaded and the HTTP cache off. */
export async function benchPage(browser: Browser, url: string) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await page.goto(`${url}bench/bench.html`);
  await page.waitForFunction(() => 'craBench' in globalThis);
  return { context, page, cdp, errors };
}

type Page = Awaited<ReturnType<typeof benchPage>>['page'];
type Bench = { [k: string]: (...args: any[]) => Promise<any> };

/** Calls `craBench[name](...args)` in the page. */
function inPage<T>(page: Page, name: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(([n, a]) => ((globalThis as unknown as { craBench: Bench }).craBench[n as string]!(...(a as unknown[])) as Promise<T>), [name, args] as const);
}

/**
 * CPU time (ms) of a process's main thread, from `/proc` (Linux; null elsewhere). On a shared machine wall time
 * swings with the neighbours' load, and differently for two processes; CPU time per call does not.
 */
function mainThreadCpuMs(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in ticks of 1/100 s
  } catch {
    return null;
  }
}

/** The renderer processes' ids (the page's is among them; Chromium may keep a spare). */
async function rendererPids(browser: Browser): Promise<number[]> {
  try {
    const cdp = await browser.newBrowserCDPSession();
    const info = (await cdp.send('SystemInfo.getProcessInfo')) as { processInfo: Array<{ type: string; id: number }> };
    await cdp.detach();
    return info.processInfo.filter((p) => p.type === 'renderer').map((p) => p.id);
  } catch {
    return [];
  }
}

export interface Interleaved {
  /** Per-call wall time (ms) of each sample. */
  node: number[];
  web: number[];
  /** CPU time (µs) of the main thread per call over all timed rounds, where `/proc` tells (else null). */
  nodeCpuUs: number | null;
  webCpuUs: number | null;
}

/** Per-call samples (ms) of one loop in Node and in the page, rounds alternating which goes first. */
export async function interleaved(node: SdkModule, page: Page, kind: LoopKind, renderers: number[] = [], plan = PLAN): Promise<Interleaved> {
  const atlas = await supportAtlas();
  const loop = await openLoop(node, atlas, kind);
  await inPage(page, 'open', kind);
  try {
    await loop.run(plan.warmup);
    await inPage(page, 'run', kind, plan.warmup);
    const out = { node: [] as number[], web: [] as number[] };
    const perCall = (ms: number[]) => ms.map((x) => x / plan.batch);
    let nodeCpu: number | null = 0;
    let webCpu: number | null = renderers.length > 0 ? 0 : null;
    const rendererCpu = () => renderers.map(mainThreadCpuMs);
    for (let r = 0; r < plan.rounds; r++) {
      const nodeRound = async () => {
        const before = mainThreadCpuMs(process.pid);
        out.node.push(...perCall(await loop.sample(plan.samples, plan.batch)));
        const after = mainThreadCpuMs(process.pid);
        nodeCpu = nodeCpu === null || before === null || after === null ? null : nodeCpu + after - before;
      };
      const webRound = async () => {
        const before = rendererCpu();
        out.web.push(...perCall(await inPage<number[]>(page, 'sample', kind, plan.samples, plan.batch)));
        const after = rendererCpu();
        // The busy renderer is the page's; a spare one stays near zero.
        const spent = Math.max(...after.map((a, i) => (a === null || before[i] === null ? Number.NaN : a - before[i]!)));
        webCpu = webCpu === null || Number.isNaN(spent) ? null : webCpu + spent;
      };
      if (r % 2 === 0) await nodeRound().then(webRound);
      else await webRound().then(nodeRound);
    }
    const calls = plan.rounds * plan.samples * plan.batch;
    const us = (ms: number | null) => (ms === null ? null : (ms * 1000) / calls);
    return { ...out, nodeCpuUs: us(nodeCpu), webCpuUs: us(webCpu) };
  } finally {
    await loop.close();
    await inPage(page, 'close', kind);
  }
}

/** The group; `dist` is the build to measure (default: the package's `dist/`). */
export async function run(dist = DIST): Promise<void> {
  const why = missing(dist);
  if (why) {
    console.log(`SKIP chromium: ${why}`);
    return;
  }
  const node = (await import(pathToFileURL(join(dist, 'index.node.js')).href)) as SdkModule;
  const server = await serveBench(dist);
  const browser = await launchBrowser();
  try {
    const version = browser.version();
    const cold: ColdStartMs[] = [];
    for (let i = 0; i < COLD_RUNS; i++) {
      const { context, page, errors } = await benchPage(browser, server.url);
      try {
        cold.push(await inPage(page, 'coldStart'));
        if (errors.length > 0) throw new Error(`the bench page failed: ${errors.join('; ')}`);
      } finally {
        await context.close();
      }
    }

    const { context, page, errors } = await benchPage(browser, server.url);
    let governed: Interleaved;
    let resolve: Interleaved;
    try {
      const renderers = await rendererPids(browser);
      governed = await interleaved(node, page, 'governed', renderers);
      resolve = await interleaved(node, page, 'resolve', renderers);
      if (errors.length > 0) throw new Error(`the bench page failed: ${errors.join('; ')}`);
    } finally {
      await context.close();
    }
    const [nodeGoverned, webGoverned, nodeResolve, webResolve] = [governed.node, governed.web, resolve.node, resolve.web].map(statsOf) as [
      Stats,
      Stats,
      Stats,
      Stats,
    ];

    const twiceNode = (s: Stats) => atMost(2 * s.median, `≤ 2× Node (${fmtTime(2 * s.median)})`);
    const rows: Row[] = [
      { name: 'import() of dist/index.web.js (fresh page)', stats: statsOf(cold.map((c) => c.importMs)), target: atMost(50e6, '≤ 50 ms') },
      {
        name: 'createRuntime() + support atlas (core fetched + compiled)',
        stats: statsOf(cold.map((c) => c.createMs)),
        target: atMost(15e6, '≤ 15 ms'),
      },
      { name: '· core fetched + compiled (compileCore)', stats: statsOf(cold.map((c) => c.coreMs)) },
      { name: '· instance made + configured', stats: statsOf(cold.map((c) => c.configureMs)) },
      { name: '· first atlas.load', stats: statsOf(cold.map((c) => c.atlasMs)) },
      { name: 'createRuntime() + support atlas (core compiled)', stats: statsOf(cold.map((c) => c.createWarmMs)) },
      { name: 'Node: governed call (request + complete)', stats: nodeGoverned, isBaseline: true },
      { name: 'governed call (request + complete)', stats: webGoverned, target: twiceNode(nodeGoverned), baseline: 'Node: governed call (request + complete)' },
      { name: 'Node: session.resolve()', stats: nodeResolve, isBaseline: true },
      { name: 'session.resolve()', stats: webResolve, target: twiceNode(nodeResolve), baseline: 'Node: session.resolve()' },
    ];
    printRows('chromium', rows, [
      `Chromium ${version} headless, default V8 flags${process.env.CRA_CHROMIUM_JS_FLAGS ? ` plus ${process.env.CRA_CHROMIUM_JS_FLAGS}` : ''}; Node ${process.version} in this process`,
      ...[
        ['governed call', governed],
        ['session.resolve()', resolve],
      ].flatMap(([name, r]) => {
        const { nodeCpuUs, webCpuUs } = r as Interleaved;
        if (nodeCpuUs === null || webCpuUs === null) return [];
        const ratio = (webCpuUs / nodeCpuUs).toFixed(2);
        return [`CPU time of the main thread per call, ${name}: Node ${nodeCpuUs.toFixed(0)} µs, Chromium ${webCpuUs.toFixed(0)} µs (${ratio}×; load-independent, 10 ms ticks)`];
      }),
      `start-up: ${COLD_RUNS} fresh contexts, no HTTP cache; the rows marked · are the steps of the first createRuntime() + atlas; loops: ${PLAN.warmup} calls of warm-up, then ${PLAN.rounds} rounds alternating Node and Chromium, ${PLAN.samples} samples of ${PLAN.batch} awaited calls each, one session (memory store)`,
    ]);
  } finally {
    await browser.close();
    await server.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await run();
