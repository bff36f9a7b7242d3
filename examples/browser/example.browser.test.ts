/**
 * The browser example, end to end in a real Chromium: build it (`serve.ts`), serve it on loopback, drive
 * `/usr/bin/chromium` through it with playwright-core, and check what the page shows and exports against the SDK
 * running in Node. Runs with `npm run test:browser` (project `e2e`); a missing Chromium is a failure, never a skip.
 * Screenshots: test-results/browser-example.png (valid chain) and test-results/browser-example-tampered.png.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, diffTraces, fromJsonl, replayTrace, toJsonl, verifyTrace } from '../../sdk/src/index.ts';
import type { AtlasBundle, TraceEvent } from '../../sdk/src/types.ts';
import { AGENT_ID, GOAL, runAgent } from './agent.ts';
import { launchChromium, type Chromium } from './chromium.ts';
import { buildExample, EXAMPLE_DIR, serveStatic } from './serve.ts';
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
  let site: Awaited<ReturnType<typeof serveStatic>>;
  let atlas: AtlasBundle;
  let exported: TraceEvent[] = [];

  beforeAll(async () => {
    browser = await launchChromium(); // first: a missing Chromium fails here, with how to install it
    page = browser.page;
    atlas = JSON.parse(await readFile(join(ROOT, 'sdk/test/parity/support-bundle.json'), 'utf8')) as AtlasBundle;
    await buildExample();
    site = await serveStatic(EXAMPLE_DIR);
  });

  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });

  it('serves the built page, the bundle and the core from a static folder', async () => {
    for (const [path, type] of [
      ['', 'text/html'],
      ['dist/app.js', 'text/javascript'],
      ['dist/cra_core.wasm', 'application/wasm'],
    ] as const) {
      const res = await fetch(new URL(path, site.url));
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toMatch(new RegExp(`^${type}`));
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

  it('logged no page error, console error or failed request', () => {
    expect(browser.problems).toEqual([]);
  });
});
