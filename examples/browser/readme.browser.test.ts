/**
 * The "In your page" block of examples/browser/README.md must run as written: this test saves it at the repository
 * root (where the README says to), serves it with Vite next to an index.html, opens it in Chromium and checks what
 * it logs and the trace it offers for download.
 */
import { randomUUID } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromJsonl, verifyTrace } from '../../sdk/src/index.ts';
import { launchChromium, type Chromium } from './chromium.ts';
import { EXAMPLE_DIR } from './serve.ts';
import { SUPPORT_RESOLVE_EVENTS } from '../../sdk/test/portable.ts';

const ROOT = resolve(EXAMPLE_DIR, '../..');

async function snippet(): Promise<string> {
  const readme = await readFile(join(EXAMPLE_DIR, 'README.md'), 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme.split('## In your page')[1] ?? '');
  if (!block?.[1]) throw new Error('examples/browser/README.md has no ts block under "## In your page"');
  return block[1];
}

describe('examples/browser/README.md, "In your page"', () => {
  let browser: Chromium;
  let vite: ViteDevServer;
  const name = `.browser-snippet-${randomUUID()}`;
  const files = [join(ROOT, `${name}.ts`), join(ROOT, `${name}.html`)];

  beforeAll(async () => {
    browser = await launchChromium();
    await writeFile(files[0]!, await snippet());
    await writeFile(files[1]!, `<!doctype html>\n<meta charset="utf-8">\n<link rel="icon" href="data:,">\n<script type="module" src="/${name}.ts"></script>\n`);
    vite = await createServer({
      root: ROOT,
      configFile: false,
      logLevel: 'error',
      cacheDir: join(tmpdir(), `cra-vite-${randomUUID()}`),
      server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false, watch: null },
      // Pre-bundled up front, so that Vite never reloads the page half-way through the snippet.
      optimizeDeps: { include: ['@cfworker/json-schema'], noDiscovery: true },
    });
    await vite.listen();
  });

  afterAll(async () => {
    await browser?.close();
    await vite?.close();
    for (const f of files) await rm(f, { force: true });
  });

  it('runs as written in Chromium: a policy denial, a valid chain, a JSONL download', async () => {
    const { page } = browser;
    const logs: unknown[][] = [];
    let seen = 0;
    page.on('console', async (msg) => {
      if (msg.type() !== 'log') return;
      const i = seen++; // keep the page's order whatever order the values arrive in
      logs[i] = await Promise.all(msg.args().map((a) => a.jsonValue()));
    });
    const base = vite.resolvedUrls?.local[0];
    expect(base).toBeTruthy();
    await page.goto(new URL(`${name}.html`, base).href);
    await page.waitForSelector('a[download]', { timeout: 30_000 });
    await expect.poll(() => logs.filter(Boolean).length).toBe(2);
    expect(seen).toBe(2);

    expect(logs[0]).toEqual(['denied', 'Customer data is deleted only by the privacy team (GDPR erasure workflow)']);
    const verdict = logs[1]![0] as { valid: boolean; length: number; head_hash: string };
    expect(verdict).toMatchObject({ valid: true });

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('a[download]')]);
    const events = await fromJsonl(await readFile(await download.path(), 'utf8'));
    expect(download.suggestedFilename()).toBe(`${events[0]!.session_id}.trace.jsonl`);
    expect(await verifyTrace(events)).toEqual(verdict);
    expect(events.map((e) => e.event_type)).toEqual([
      ...SUPPORT_RESOLVE_EVENTS,
      'action.requested',
      'action.approved',
      'action.executed',
      'action.requested',
      'action.denied',
      'session.ended',
    ]);
    expect(browser.problems).toEqual([]);
  });
});
