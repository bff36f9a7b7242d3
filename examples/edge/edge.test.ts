/**
 * The Cloudflare Worker of examples/edge in workerd (Miniflare from Node, offline): bundled with rollup against the
 * package's `workerd` build (the core imported as a `CompiledWasm` module), sessions in Durable Objects persisted to
 * a temporary folder. Real HTTP requests through the whole API, then a restart of workerd that must restore the
 * sessions from Durable Object storage.
 *
 * The worker is bundled and started once; each test creates the sessions it looks at (the listing tests under keys
 * of their own), so the tests pass alone (`-t`) and in any order (`--sequence.shuffle`).
 */

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Miniflare } from 'miniflare';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadAtlasDir } from '../../sdk/src/atlas/dir.ts';
import { ensureDist } from '../../test/support/dist.ts';
import { FLOW_TYPES, httpFlow, type FlowResult } from '../../test/support/http-flow.ts';
import { bundleWorker, startWorker, type WorkerBundle } from '../../test/support/workers.ts';

const HERE = fileURLToPath(new URL('./', import.meta.url));
const KEY = 'test-key-edge-alice-0123456789';
const OTHER = 'test-key-edge-bob-0123456789ab';
/** Keys used by one test each, so that what they list is exactly what that test created. */
const LISTER = 'test-key-edge-lister-0123456789';
const NOBODY = 'test-key-edge-nobody-0123456789';
const PAGER = 'test-key-edge-pager-01234567890';
const RESTARTER = 'test-key-edge-restarter-0123456';

describe('edge worker (workerd, Durable Objects)', () => {
  let tmp: string;
  let bundle: WorkerBundle;
  let mf: Miniflare | undefined;
  let url: URL;

  const start = async () => {
    ({ mf, url } = await startWorker(bundle, {
      bindings: { CRA_API_KEYS: [KEY, OTHER, LISTER, NOBODY, PAGER, RESTARTER].join(',') },
      durableObjects: { SESSIONS: { className: 'CraSession', useSQLite: true }, DIRECTORY: { className: 'CraDirectory', useSQLite: true } },
      durableObjectsPersist: join(tmp, 'durable-objects'),
    }));
  };
  const call = (path: string, init: RequestInit & { key?: string | null } = {}) => {
    const headers = new Headers(init.headers);
    if (init.key !== null) headers.set('authorization', `Bearer ${init.key ?? KEY}`);
    if (init.body !== undefined) headers.set('content-type', 'application/json');
    return fetch(new URL(path, url), { ...init, headers });
  };
  const createSession = async (key: string, agentId = 'support-bot', goal = 'Refunds'): Promise<string> => {
    const res = await call('/v1/sessions', { method: 'POST', key, body: JSON.stringify({ agent_id: agentId, goal }) });
    expect(res.status).toBe(201);
    return ((await res.json()) as { session_id: string }).session_id;
  };
  const list = async (query: string, key: string) => {
    const res = await call(`/v1/sessions${query}`, { key });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: Array<{ session_id: string }>; total: number };
    return [body.items.map((s) => s.session_id), body.total] as const;
  };

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'cra-edge-'));
    await ensureDist();
    bundle = await bundleWorker(join(HERE, 'src/worker.ts'), join(tmp, 'out'));
    await start();
  }, 120_000);

  // A test that failed between stopping workerd and starting it again leaves none running for the next one.
  beforeEach(async () => {
    if (!mf) await start();
  }, 60_000);

  afterAll(async () => {
    await mf?.dispose();
    await rm(tmp, { recursive: true, force: true });
  });

  it('is bundled with the package for workerd: the core is a CompiledWasm module beside the worker', async () => {
    expect(bundle.modules.map((m) => m.type)).toEqual(['ESModule', 'CompiledWasm']);
    const code = await readFile(bundle.main, 'utf8');
    expect(code).toMatch(/^import \w+ from '\.\/cra_core\.wasm';$/m);
    const wasm = await readFile(bundle.modules[1]!.path);
    expect(wasm.equals(await readFile(join(HERE, '../../dist/cra_core.wasm')))).toBe(true);
  });

  it('ships the example support atlas', async () => {
    const shipped = JSON.parse(await readFile(join(HERE, 'src/atlases/support.json'), 'utf8'));
    expect(shipped).toEqual(await loadAtlasDir(join(HERE, '../atlases/support')));
  });

  it('serves the API: session, resolve, actions, trace, verify, stream, key isolation', async () => {
    await httpFlow(url.href.replace(/\/$/, ''), KEY, OTHER);
  }, 60_000);

  it('routes CARP requests to the session they name, nested or flat', async () => {
    const s = { session_id: await createSession(KEY) };
    const flat = await call('/v1/resolve', {
      method: 'POST',
      body: JSON.stringify({ session_id: s.session_id, agent_id: 'support-bot', goal: 'Refunds', required_capabilities: ['billing.refund'] }),
    });
    expect(flat.status).toBe(200);
    const resolution = (await flat.json()) as { resolution_id: string; allowed_actions: Array<{ action_id: string }> };
    expect(resolution.allowed_actions.map((a) => a.action_id)).toContain('refund.issue');
    const nested = await call('/v1/carp', {
      method: 'POST',
      body: JSON.stringify({
        carp_version: '1.0',
        request_id: crypto.randomUUID(),
        timestamp: new Date().toISOString(),
        operation: 'resolve',
        requester: { agent_id: 'support-bot', session_id: s.session_id },
        task: { goal: 'Refunds', risk_tier: 'low' },
      }),
    });
    expect(nested.status).toBe(200);
    expect(((await nested.json()) as { resolution: { resolution_id: string } }).resolution.resolution_id).toMatch(/^[0-9a-f-]{36}$/);
    const info = (await (await call(`/v1/sessions/${s.session_id}`)).json()) as { resolution_count: number };
    expect(info.resolution_count).toBe(2);
    // Someone else's key gets what a missing session gets, from the session's own object.
    const probe = await call('/v1/resolve', { method: 'POST', key: OTHER, body: JSON.stringify({ session_id: s.session_id, agent_id: 'support-bot', goal: 'x' }) });
    expect(probe.status).toBe(404);
  });

  it('lists each key its own sessions, across objects', async () => {
    const first = await createSession(LISTER);
    const second = await createSession(LISTER);
    expect((await call(`/v1/sessions/${first}/end`, { method: 'POST', key: LISTER, body: '{}' })).status).toBe(200);
    expect(await list('?status=all', LISTER)).toEqual([[first, second], 2]);
    expect(await list('?status=ended', LISTER)).toEqual([[first], 1]);
    expect(await list('?status=active', LISTER)).toEqual([[second], 1]);
    expect(await list('', NOBODY)).toEqual([[], 0]);
    expect((await call('/v1/sessions', { key: null })).status).toBe(401);
  });

  it('pages the whole list with limit and offset, after the filters, and counts every match in total', async () => {
    // One session per object: paging each object's own list would answer every session for `limit`, none for `offset`.
    const mine: string[] = [];
    for (let i = 0; i < 5; i++) {
      mine.push(await createSession(PAGER, 'pager', `p${i}`));
      await createSession(PAGER, 'someone-else', `q${i}`); // filtered out by agent_id, before paging
    }
    const page = (q: string) => list(`?agent_id=pager${q}`, PAGER);
    expect(await page('')).toEqual([mine, 5]);
    expect(await page('&limit=2')).toEqual([mine.slice(0, 2), 5]);
    expect(await page('&limit=2&offset=2')).toEqual([mine.slice(2, 4), 5]);
    expect(await page('&offset=4')).toEqual([mine.slice(4), 5]);
    expect(await page('&offset=9&limit=1000')).toEqual([[], 5]);
    expect(await list('?limit=3', PAGER)).toEqual([expect.any(Array), 10]);
    expect((await call(`/v1/sessions/${mine[1]}/end`, { method: 'POST', key: PAGER, body: '{}' })).status).toBe(200);
    expect(await page('&status=active&limit=2&offset=1')).toEqual([[mine[2], mine[3]], 4]);
    // The query is checked as the Node server checks it.
    const bad = await call('/v1/sessions?limit=0', { key: PAGER });
    expect([bad.status, ((await bad.json()) as { error: { path: string } }).error.path]).toEqual([400, '/limit']);
  }, 60_000);

  it('serves atlases and OpenAPI from the deployed bundle, and refuses to load atlases over HTTP', async () => {
    const atlases = (await (await call('/v1/atlases')).json()) as { items: Array<{ atlas_id: string }> };
    expect(atlases.items.map((a) => a.atlas_id)).toEqual(['com.example.support']);
    expect((await call('/openapi.json', { key: null })).status).toBe(200);
    const load = await call('/v1/atlases', { method: 'POST', body: JSON.stringify({ manifest: {} }) });
    expect(load.status).toBe(403);
  });

  it('keeps sessions in Durable Object storage across a restart of workerd', async () => {
    const flow: FlowResult = await httpFlow(url.href.replace(/\/$/, ''), RESTARTER, OTHER);
    await mf!.dispose();
    mf = undefined;
    await start();
    expect(await list('', RESTARTER)).toEqual([[flow.sessionId], 1]);
    const info = await call(`/v1/sessions/${flow.sessionId}`, { key: RESTARTER });
    expect(await info.json()).toMatchObject({ session_id: flow.sessionId, status: 'ended', event_count: FLOW_TYPES.length });
    const jsonl = await (await call(`/v1/traces/${flow.sessionId}`, { key: RESTARTER, headers: { accept: 'application/x-ndjson' } })).text();
    expect(jsonl).toBe(flow.jsonl);
    expect(await (await call(`/v1/traces/${flow.sessionId}/verify`, { key: RESTARTER })).json()).toMatchObject({ valid: true, length: FLOW_TYPES.length });
    expect((await call(`/v1/sessions/${flow.sessionId}`, { key: OTHER })).status).toBe(404);
  }, 60_000);
});
