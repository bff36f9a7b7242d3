/**
 * The workerd adapter: its `fetch` called directly (configuration, the start-up report, one assembly for the
 * isolate's life), then the same Worker bundled from the sources for workerd and run by Miniflare, offline, through
 * the whole HTTP API.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Miniflare } from 'miniflare';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAtlasDir } from '../../../../sdk/src/atlas/dir.ts';
import { EXAMPLES } from '../../../../sdk/test/helpers.ts';
import { FLOW_TYPES, httpFlow } from '../../../../test/support/http-flow.ts';
import { bundleWorker, startWorker } from '../../../../test/support/workers.ts';
import { KEY_A, KEY_B } from '../../testing.ts';
import { createWorker } from './index.ts';

const ORIGIN = 'https://cra.example.workers.dev';

describe('workerd adapter (createWorker)', () => {
  it('assembles on the first request, logs the start-up report once, and keeps its sessions for the isolate', async () => {
    const support = await loadAtlasDir(join(EXAMPLES, 'atlases/support'));
    const lines: string[] = [];
    const worker = createWorker({ atlases: [support], log: (line) => lines.push(line) });
    const env = { CRA_API_KEYS: KEY_A, SESSIONS: { a: 'binding' } };
    const call = (path: string, init: RequestInit = {}) =>
      worker.fetch(new Request(`${ORIGIN}${path}`, { ...init, headers: { authorization: `Bearer ${KEY_A}`, ...init.headers } }), env);

    expect((await call('/health')).status).toBe(200);
    expect(lines).toEqual([
      '  atlas com.example.support@1.2.0 (deployed with the Worker)',
      '  checkpoints: none signed (CRA_SIGNING_KEY, from `cra key generate`, turns them on)',
      '  data: in memory, this isolate only (0 session(s) indexed, 0 active; each restored when used)',
      '  auth: 1 key(s) configured (no admin key: atlases change only at start; CRA_ADMIN_KEYS lets keys change them over HTTP)',
      `CRA server (workerd) listening on ${ORIGIN} (OpenAPI: ${ORIGIN}/openapi.json, docs: ${ORIGIN}/docs)`,
    ]);
    const created = await call('/v1/sessions', { method: 'POST', body: JSON.stringify({ agent_id: 'a', goal: 'g' }), headers: { 'content-type': 'application/json' } });
    expect(created.status).toBe(201);
    const { session_id } = (await created.json()) as { session_id: string };
    expect(((await (await call(`/v1/sessions/${session_id}`)).json()) as { event_count: number }).event_count).toBe(1);
    expect(lines).toHaveLength(5); // assembled once
  });

  it('refuses to start with auth on and no key (none could be shown), and tries again at the next request', async () => {
    const lines: string[] = [];
    const worker = createWorker({ log: (line) => lines.push(line) });
    const res = await worker.fetch(new Request(`${ORIGIN}/health`));
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({
      error: {
        code: 'invalid_request',
        message: 'the server cannot start: no API key configured: set CRA_API_KEYS (wrangler secret put CRA_API_KEYS), or CRA_AUTH=off for local use',
        path: '/CRA_API_KEYS',
      },
    });
    expect(lines).toEqual([]);
    const bad = await worker.fetch(new Request(`${ORIGIN}/health`), { CRA_RATE_LIMIT: 'lots', CRA_AUTH: 'off' });
    expect([bad.status, ((await bad.json()) as { error: { path: string } }).error.path]).toEqual([500, '/CRA_RATE_LIMIT']);
    const open = await worker.fetch(new Request(`${ORIGIN}/v1/sessions`), { CRA_AUTH: 'off' });
    expect(open.status).toBe(200);
    expect(lines).toContain('  auth: OFF (CRA_AUTH=off): every request is accepted and every session is visible. Local use only.');
  });

  describe('in workerd (Miniflare)', () => {
    let dir: string | undefined;
    let mf: Miniflare | undefined;
    afterAll(async () => {
      await mf?.dispose();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('serves the API: session, resolve, actions, trace, verify, stream, key isolation', async () => {
      dir = await mkdtemp(join(tmpdir(), 'cra-workerd-adapter-'));
      const bundle = await bundleWorker(fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url)), dir, { sources: true });
      let url: URL;
      ({ mf, url } = await startWorker(bundle, { bindings: { CRA_API_KEYS: `${KEY_A},${KEY_B}` } }));
      const flow = await httpFlow(url.href.replace(/\/$/, ''), KEY_A, KEY_B);
      expect(flow.events.map((e) => e.event_type)).toEqual(FLOW_TYPES);
    }, 120_000);
  });
});
