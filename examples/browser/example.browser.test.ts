/**
 * The browser example, end to end in a real Chromium: build it (`serve.ts`), serve it on loopback with the CRA
 * server beside it (traces in a temporary data folder), drive `/usr/bin/chromium` through it with playwright-core,
 * and check what the page shows and exports against the SDK running in Node — and what it syncs against the
 * server's files, the command line's `cra verify` and the independent Python verifier. Runs with
 * `npm run test:browser` (project `e2e`); a missing Chromium is a failure, never a skip.
 * Screenshots: test-results/browser-example.png (valid chain) and test-results/browser-example-tampered.png.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, createRuntime, diffTraces, fromJsonl, replayTrace, toJsonl, verifyCheckpoint, verifyTrace } from '../../sdk/src/index.ts';
import { cli } from '../../sdk/src/cli/testing.ts';
import type { AtlasBundle, TraceEvent } from '../../sdk/src/types.ts';
import { AGENT_ID, GOAL, runAgent } from './agent.ts';
import { launchChromium, type Chromium } from './chromium.ts';
import { buildExample, EXAMPLE_DIR, serveExample, type ExampleServer } from './serve.ts';
import { SUPPORT_RESOLVE_EVENTS } from '../../sdk/test/portable.ts';

const ROOT = resolve(EXAMPLE_DIR, '../..');
const RESULTS = join(ROOT, 'test-results');
const SCREENSHOT = join(RESULTS, 'browser-example.png');
const SCREENSHOT_TAMPERED = join(RESULTS, 'browser-example-tampered.png');

/** What the agent's run records, in order. */
const EXPECTED_TYPES = [
  ...SUPPORT_RESOLVE_EVENTS,
  'action.requested', // ticket.lookup
  'action.approved',
  'action.executed',
  'action.requested', // customer.delete
  'action.denied',
  'action.requested', // refund.issue 25 USD: waits for the Approve button
  'action.approved',
  'action.executed',
  'action.requested', // refund.issue 900 USD: outside the policy's scope
  'policy.violated',
  'session.ended',
];

interface Row {
  sequence: number;
  type: string;
  fields: string;
  shortHash: string;
  hash: string;
  classes: string[];
}

const rows = (page: Page): Promise<Row[]> =>
  page.$$eval('#timeline tr', (trs) =>
    trs.map((tr) => ({
      sequence: Number((tr as HTMLElement).dataset.sequence),
      type: (tr as HTMLElement).dataset.type ?? '',
      fields: tr.querySelector('td.fields')?.textContent ?? '',
      shortHash: tr.querySelector('td.hash')?.textContent ?? '',
      hash: (tr as HTMLElement).dataset.hash ?? '',
      classes: [...tr.classList],
    })),
  );

/** The sync's outcome as the page shows it. */
async function syncStatus(page: Page): Promise<Record<string, string | undefined> & { text: string; color: string }> {
  return page.$eval('#sync-status', (el) => ({ ...(el as HTMLElement).dataset, text: el.textContent ?? '', color: getComputedStyle(el).color }));
}

/** Clicks a sync button and waits for the server's answer to be shown. */
async function clickAndSync(page: Page, selector: '#sync' | '#rewrite'): Promise<Awaited<ReturnType<typeof syncStatus>>> {
  await page.$eval('#sync-status', (el) => ((el as HTMLElement).dataset.state = 'waiting'));
  await page.click(selector);
  await page.waitForFunction(() => document.getElementById('sync-status')?.dataset.state !== 'waiting');
  return syncStatus(page);
}

/** The checkpoints the page lists: size, root and note of each. */
const listedCheckpoints = (page: Page): Promise<Array<{ size: number; root: string; note: string }>> =>
  page.$$eval('#checkpoints li', (lis) => lis.map((li) => ({ size: Number((li as HTMLElement).dataset.size), root: (li as HTMLElement).dataset.root ?? '', note: (li as HTMLElement).title })));

const run = promisify(execFile);

const renders = async (page: Page) => Number(await page.getAttribute('body', 'data-renders'));

/** The page's width at a phone's viewport (390×844), then the desktop viewport of `launchChromium` again. */
async function phoneWidth(page: Page): Promise<number> {
  await page.setViewportSize({ width: 390, height: 844 });
  try {
    return await page.evaluate(() => document.documentElement.scrollWidth);
  } finally {
    await page.setViewportSize({ width: 1280, height: 900 });
  }
}

/** The log's "why" of each refused call, and the timeline's text of each refusal event (its key fields' last part). */
async function refusalWords(page: Page): Promise<{ log: string[]; timeline: string[] }> {
  const log = await page.$$eval('#log li', (lis) => lis.map((li) => li.textContent ?? '').filter((t) => t.includes(' — ')).map((t) => t.split(' — ')[1]!));
  const timeline = (await rows(page)).filter((r) => r.type === 'action.denied' || r.type === 'policy.violated').map((r) => r.fields.split(' · ').at(-1)!);
  return { log, timeline };
}

/** Clicks `selector` and waits until the page has rendered the trace again. */
async function clickAndRender(page: Page, selector: string): Promise<void> {
  const before = await renders(page);
  await page.click(selector);
  await page.waitForFunction((n) => Number(document.body.dataset.renders) > n, before);
}

/** Clicks the export link and answers the downloaded file's name and text. */
async function exportJsonl(page: Page): Promise<{ name: string; text: string }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
  const path = await download.path();
  return { name: download.suggestedFilename(), text: await readFile(path, 'utf8') };
}

describe('examples/browser in Chromium', () => {
  let browser: Chromium;
  let page: Page;
  let site: ExampleServer;
  let dataDir: string;
  let atlas: AtlasBundle;
  let exported: TraceEvent[] = [];
  let exportedText = '';
  let verifierKey = '';
  /** The synced session's files in the server's data folder. */
  const files = () => {
    const id = exported[0]!.session_id;
    return { trace: join(dataDir, 'traces', `${id}.trace.jsonl`), checkpoints: join(dataDir, 'traces', `${id}.checkpoints.jsonl`) };
  };

  beforeAll(async () => {
    browser = await launchChromium(); // first: a missing Chromium fails here, with how to install it
    page = browser.page;
    atlas = JSON.parse(await readFile(join(ROOT, 'sdk/test/parity/support-bundle.json'), 'utf8')) as AtlasBundle;
    await buildExample();
    dataDir = await mkdtemp(join(tmpdir(), 'cra-browser-example-'));
    site = await serveExample({ dataDir });
  });

  afterAll(async () => {
    await browser?.close();
    await site?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('serves the built page, the bundle and the core, the page its server and key, and never the data folder', async () => {
    for (const [path, type] of [
      ['', 'text/html'],
      ['dist/app.js', 'text/javascript'],
      ['dist/cra_core.wasm', 'application/wasm'],
    ] as const) {
      const res = await fetch(new URL(path, site.url));
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toMatch(new RegExp(`^${type}`));
    }
    expect(await (await fetch(new URL('config.json', site.url))).json()).toEqual({ cra: '/cra', apiKey: site.apiKey });
    expect((await fetch(new URL('cra/health', site.url))).status).toBe(200);
    // The server's files are reached through its API only: no dot-folder is served, however it is spelt.
    for (const path of ['.data/owners.jsonl', '%2Edata/owners.jsonl', 'x/../.data/owners.jsonl']) {
      expect((await fetch(new URL(path, site.url))).status, path).toBe(404);
    }
  });

  it('loads the core (by URL, beside the bundle) and the atlas in the page', async () => {
    const wasmRequests: string[] = [];
    page.on('request', (req) => {
      if (req.url().endsWith('.wasm')) wasmRequests.push(new URL(req.url()).pathname);
    });
    await page.goto(site.url);
    await page.waitForSelector('#status[data-state=ready]', { timeout: 30_000 });
    expect(await page.textContent('#status')).toMatch(/^ready · core loaded in \d+ ms · atlas com\.example\.support 1\.2\.0$/);
    expect(wasmRequests).toEqual(['/dist/cra_core.wasm']);
    expect(await page.textContent('#verdict')).toBe('no events yet');
    expect(await page.getAttribute('#export', 'aria-disabled')).toBe('true');
    expect(await page.isEnabled('#run')).toBe(true);
    // The tab's own signing key, made at start: its verifier key is shown, short, with the whole key beside.
    expect(await page.textContent('#key')).toMatch(/^verifier key cra\.example\/browser\+[0-9a-f]{8}$/);
    verifierKey = (await page.getAttribute('#key', 'data-key')) ?? '';
    expect(verifierKey).toMatch(/^cra\.example\/browser\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
    expect(await page.isEnabled('#sync')).toBe(true);
    expect(await page.isEnabled('#rewrite')).toBe(false);
  });

  it('runs the agent: an allowed lookup, a denied erasure, then waits for a human on the refund', async () => {
    await page.click('#run');
    await page.waitForSelector('body[data-agent=awaiting-approval]');
    expect(await page.isVisible('#approval')).toBe(true);
    expect(await page.textContent('#approval-text')).toMatch(/^refund\.issue .*"amount":25.* needs approval: approval required \(refund-approval\)/);
    const log = await page.$$eval('#log li', (lis) => lis.map((li) => [(li as HTMLElement).dataset.action, (li as HTMLElement).dataset.outcome, li.textContent]));
    expect(log.map(([a, o]) => [a, o])).toEqual([
      ['ticket.lookup', 'executed'],
      ['customer.delete', 'denied'],
    ]);
    expect(log[1]![2]).toContain('Customer data is deleted only by the privacy team (GDPR erasure workflow) (no-customer-delete)');
    // The pending request is already in the live timeline, and the chain so far verifies.
    await page.waitForFunction(() => document.querySelectorAll('#timeline tr').length === 12);
    const so = await rows(page);
    expect(so.map((r) => r.type)).toEqual(EXPECTED_TYPES.slice(0, 12));
    await page.waitForSelector('#verdict[data-state=valid]');
    expect(await page.textContent('#verdict')).toMatch(/^✔ chain valid · 12 events · head [0-9a-f]{12}$/);
    // On a phone, the approval (the call's JSON) and the timeline fit the screen: nothing scrolls sideways.
    expect(await phoneWidth(page)).toBeLessThanOrEqual(390);
  });

  it('syncs while the agent waits: the server takes the 12 events so far, under a checkpoint the page signs for them', async () => {
    expect((await listedCheckpoints(page)).map((c) => c.size)).toEqual([8]);
    const status = await clickAndSync(page, '#sync');
    expect(status).toMatchObject({ state: 'synced', length: '12', appended: '12' });
    const listed = await listedCheckpoints(page);
    expect(listed.map((c) => c.size)).toEqual([8, 12]);
    expect(status.text).toBe(`✔ synced: 12 events (12 new) · root ${listed[1]!.root.slice(0, 12)}`);
    expect(status.root).toBe(listed[1]!.root);
    const server = createClient({ baseUrl: site.craUrl, apiKey: site.apiKey, telemetry: false });
    const held = await server.trace((await page.getAttribute('#timeline', 'data-session'))!);
    expect(held.map((e) => e.event_type)).toEqual(EXPECTED_TYPES.slice(0, 12));
    expect(await page.isEnabled('#rewrite')).toBe(true);
  });

  it('after Approve, runs the refund, refuses the over-limit one, ends, and shows a valid chain', async () => {
    await page.click('#approve');
    await page.waitForSelector('body[data-agent=done]');
    expect(await page.isVisible('#approval')).toBe(false);
    const log = await page.$$eval('#log li', (lis) => lis.map((li) => [(li as HTMLElement).dataset.action, (li as HTMLElement).dataset.outcome]));
    expect(log).toEqual([
      ['ticket.lookup', 'executed'],
      ['customer.delete', 'denied'],
      ['refund.issue', 'executed'],
      ['refund.issue', 'violated'],
    ]);

    const timeline = await rows(page);
    expect(timeline.map((r) => r.type)).toEqual(EXPECTED_TYPES);
    expect(timeline.map((r) => r.sequence)).toEqual(EXPECTED_TYPES.map((_, i) => i));
    for (const r of timeline) {
      expect(r.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(r.shortHash).toBe(r.hash.slice(0, 12));
      expect(r.classes).toEqual([]);
    }
    expect(timeline[0]!.fields).toBe(`agent_id=${AGENT_ID} · goal=${GOAL}`);
    expect(timeline[10]!.fields).toBe(
      'action_id=customer.delete · Customer data is deleted only by the privacy team (GDPR erasure workflow) (no-customer-delete)',
    );
    expect(timeline[12]!.fields).toBe('action_id=refund.issue · approver=lead@example.com');
    expect(timeline[15]!.fields).toContain('`amount` exceeds the maximum 500');

    expect(await page.getAttribute('#verdict', 'data-state')).toBe('valid');
    expect(await page.textContent('#verdict')).toBe(`✔ chain valid · 17 events · head ${timeline[16]!.shortHash}`);
    // Green, as in the stylesheet (--ok).
    expect(await page.$eval('#verdict', (el) => getComputedStyle(el).color)).toBe('rgb(19, 115, 51)');

    // Each refusal reads the same in the log and in the timeline: the core's reason, then its policy.
    expect(await refusalWords(page)).toEqual({
      log: ['Customer data is deleted only by the privacy team (GDPR erasure workflow) (no-customer-delete)', '`amount` exceeds the maximum 500 (refund-limits)'],
      timeline: ['Customer data is deleted only by the privacy team (GDPR erasure workflow) (no-customer-delete)', '`amount` exceeds the maximum 500 (refund-limits)'],
    });
    expect(await phoneWidth(page)).toBeLessThanOrEqual(390);

    await mkdir(RESULTS, { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
  });

  it('exports the trace as JSONL: the same events, verified, replayed and compared by the SDK in Node', async () => {
    const { name, text } = await exportJsonl(page);
    exportedText = text;
    expect(name).toMatch(/^[0-9a-f-]{36}\.trace\.jsonl$/);
    exported = await fromJsonl(text);
    expect(await toJsonl(exported)).toBe(text); // the export is the canonical JSONL of the chain
    const timeline = await rows(page);
    expect(exported.map((e) => [e.sequence, e.event_type, e.event_hash])).toEqual(timeline.map((r) => [r.sequence, r.type, r.hash]));
    expect(name).toBe(`${exported[0]!.session_id}.trace.jsonl`);
    expect(await verifyTrace(exported)).toEqual({ valid: true, length: 17, head_hash: timeline[16]!.hash });

    // Node's core replays the browser's trace against the same atlas and gets the same decisions.
    expect(await replayTrace(exported, atlas)).toMatchObject({ identical: true, original_length: 17, replayed_length: 17 });

    // The same agent run in Node records the same trace, up to ids, times and hashes.
    const runtime = await createRuntime();
    try {
      await runtime.loadAtlas(atlas);
      const { session } = await runAgent(runtime, { approve: async () => true, approver: 'lead@example.com' });
      const diff = await diffTraces(await session.trace(), exported);
      // The guard reports each tool's measured run time (`duration_ms`, whole ms: 0 or 1 here), a time that
      // `diffTraces` compares on executions (it ignores it on session.ended only): any difference is that and only that.
      const timing = diff.differences.filter((d) => d.kind === 'changed' && d.event_type === 'action.executed' && d.paths.join() === '/payload/duration_ms');
      expect({ ...diff, differences: diff.differences.filter((d) => !timing.includes(d)) }).toEqual({ identical: timing.length === 0, differences: [] });
    } finally {
      await runtime.close();
    }
  });

  it('lists the checkpoints the tab signed: every 8 events, the one the sync asked for, and the end, each verifying with its key', async () => {
    const listed = await listedCheckpoints(page);
    expect(listed.map((c) => c.size)).toEqual([8, 12, 16, 17]);
    for (const c of listed) {
      expect(await verifyCheckpoint(c.note, { keys: verifierKey })).toMatchObject({ valid: true, session_id: exported[0]!.session_id, size: c.size, root: c.root });
    }
    expect(await page.$$eval('#checkpoints li', (lis) => lis.map((li) => li.textContent))).toEqual(listed.map((c) => `${c.size} events · root ${c.root.slice(0, 12)}`));
  });

  it('syncs the rest: the server holds the page\'s export byte for byte, and cra verify and the Python verifier accept it with the page\'s key', async () => {
    const status = await clickAndSync(page, '#sync');
    expect(status).toMatchObject({ state: 'synced', length: '17', appended: '5' }); // only what was new
    expect(status.color).toBe('rgb(19, 115, 51)');
    const { trace, checkpoints } = files();
    expect(await readFile(trace, 'utf8')).toBe(exportedText);
    // The server keeps the tab's own checkpoints, in order: the notes the page signed.
    const notes = (await readFile(checkpoints, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as string);
    expect(notes).toEqual((await listedCheckpoints(page)).map((c) => c.note));
    // Over HTTP with the run's key, too.
    const server = createClient({ baseUrl: site.craUrl, apiKey: site.apiKey, telemetry: false });
    expect(await toJsonl(await server.trace(exported[0]!.session_id))).toBe(exportedText);
    expect(await server.verify(exported[0]!.session_id)).toEqual({ valid: true, length: 17, head_hash: exported[16]!.event_hash });

    // The command line: the chain, and each checkpoint beside the trace with the page's verifier key.
    const verified = await cli(['verify', trace, '--key', verifierKey]);
    expect(verified.stdout).toBe(`valid: 17 events, head ${exported[16]!.event_hash}; checkpoints: 4 verified (newest: size 17, key ${verifierKey.split('+').slice(0, 2).join('+')})\n`);
    expect(verified.code).toBe(0);
    // The independent Python verifier (no shared code) agrees.
    const py = await run('python3', ['-m', 'cra_client.verify', trace, '--checkpoints', checkpoints, '--key', verifierKey], { cwd: join(ROOT, 'clients/python') });
    expect(py.stdout).toBe(verified.stdout); // word for word

    // Nothing new: a sync still checks where both sides stand, and appends nothing.
    expect(await clickAndSync(page, '#sync')).toMatchObject({ state: 'synced', length: '17', appended: '0' });
  });

  it('refuses a rewritten history of the synced session, validly signed by the same key: history_rewritten, in red, and nothing changes', async () => {
    const { trace, checkpoints } = files();
    const before = { trace: await readFile(trace, 'utf8'), checkpoints: await readFile(checkpoints, 'utf8') };
    const status = await clickAndSync(page, '#rewrite');
    expect(status).toMatchObject({ state: 'refused', action: 'rewrite', code: 'history_rewritten' });
    expect(status.text).toMatch(/^✘ rewritten history refused: history_rewritten \(409\) — /);
    expect(status.text).toContain('event 9'); // where the rewritten history parts: after the lookup's action.executed (#8)
    expect(status.color).toBe('rgb(179, 38, 30)');
    expect({ trace: await readFile(trace, 'utf8'), checkpoints: await readFile(checkpoints, 'utf8') }).toEqual(before);
    const server = createClient({ baseUrl: site.craUrl, apiKey: site.apiKey, telemetry: false });
    expect(await server.syncState(exported[0]!.session_id)).toMatchObject({ length: 17, head_hash: exported[16]!.event_hash });
    // The displayed trace is the real one still.
    expect(await page.getAttribute('#verdict', 'data-state')).toBe('valid');
  });

  it('tampering with one displayed event turns the status red at that event; the tampered export fails in Node too', async () => {
    await clickAndRender(page, '#tamper');
    expect(await page.getAttribute('#verdict', 'data-state')).toBe('invalid');
    expect(await page.textContent('#verdict')).toBe('✘ chain broken at event #12 (hash_mismatch)');
    expect(await page.getAttribute('#verdict', 'data-index')).toBe('12');
    expect(await page.$eval('#verdict', (el) => getComputedStyle(el).color)).toBe('rgb(179, 38, 30)');
    const timeline = await rows(page);
    expect(timeline.filter((r) => r.classes.length > 0).map((r) => [r.sequence, r.type, r.classes.sort()])).toEqual([
      [12, 'action.approved', ['broken', 'tampered']],
    ]);
    expect(timeline[12]!.fields).toBe('action_id=refund.issue · approver=mallory@example.com');
    await page.screenshot({ path: SCREENSHOT_TAMPERED, fullPage: true });

    const { name, text } = await exportJsonl(page);
    expect(name).toMatch(/\.tampered\.trace\.jsonl$/);
    const tampered = await fromJsonl(text);
    expect(await verifyTrace(tampered)).toEqual({ valid: false, index: 12, reason: 'hash_mismatch' });
    expect(await diffTraces(exported, tampered)).toEqual({
      identical: false,
      differences: [{ index: 12, kind: 'changed', event_type: 'action.approved', paths: ['/payload/approver'] }],
    });

    await clickAndRender(page, '#tamper'); // undo
    expect(await page.getAttribute('#verdict', 'data-state')).toBe('valid');
    expect((await rows(page)).every((r) => r.classes.length === 0)).toBe(true);
  });

  it('a second run in a new session, where the human denies the refund: it never runs', async () => {
    await page.click('#run');
    await page.waitForSelector('body[data-agent=awaiting-approval]');
    await page.click('#deny');
    await page.waitForSelector('body[data-agent=done]');
    const log = await page.$$eval('#log li', (lis) => lis.map((li) => [(li as HTMLElement).dataset.action, (li as HTMLElement).dataset.outcome]));
    expect(log).toEqual([
      ['ticket.lookup', 'executed'],
      ['customer.delete', 'denied'],
      ['refund.issue', 'denied'],
      ['refund.issue', 'violated'],
    ]);
    const timeline = await rows(page);
    expect(timeline.map((r) => r.type)).toEqual([...EXPECTED_TYPES.slice(0, 12), 'action.denied', ...EXPECTED_TYPES.slice(14)]);
    expect(timeline[12]!.fields).toBe('action_id=refund.issue · approver=lead@example.com · declined by the approver (refund-approval)');
    const words = await refusalWords(page);
    expect(words.log).toEqual(words.timeline);
    expect(words.log[1]).toBe('declined by the approver (refund-approval)');
    expect(await page.getAttribute('#verdict', 'data-state')).toBe('valid');
    const { text } = await exportJsonl(page);
    const events = await fromJsonl(text);
    expect(events[0]!.session_id).not.toBe(exported[0]!.session_id);
    expect(await verifyTrace(events)).toMatchObject({ valid: true, length: 16 });
  });

  it('a page with a wrong API key: its sync answers 401 unauthorized and the server stores nothing', async () => {
    const listing = async () => (await readdir(join(dataDir, 'traces'))).sort();
    const before = { files: await listing(), trace: await readFile(files().trace, 'utf8') };
    const other = await browser.context.newPage();
    try {
      await other.route('**/config.json', (route) => route.fulfill({ json: { cra: '/cra', apiKey: 'cra-example-not-the-key-of-this-run' } }));
      await other.goto(site.url);
      await other.waitForSelector('#status[data-state=ready]', { timeout: 30_000 });
      await other.click('#run');
      await other.waitForSelector('body[data-agent=awaiting-approval]');
      await other.click('#deny');
      await other.waitForSelector('body[data-agent=done]');
      const status = await clickAndSync(other, '#sync');
      expect(status).toMatchObject({ state: 'refused', action: 'sync', code: 'unauthorized' });
      expect(status.text).toMatch(/^✘ sync refused: unauthorized \(401\) — /);
      expect(await other.isEnabled('#rewrite')).toBe(false);
    } finally {
      await other.close();
    }
    expect({ files: await listing(), trace: await readFile(files().trace, 'utf8') }).toEqual(before);
  });

  it('logged no page error, console error or failed request, but the refused rewrite\'s 409', () => {
    // Chromium logs every HTTP error answer of a fetch; this one is the refusal the page shows.
    expect(browser.problems).toEqual(['console.error: Failed to load resource: the server responded with a status of 409 (Conflict)']);
  });
});
