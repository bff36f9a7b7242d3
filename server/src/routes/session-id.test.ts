/**
 * The `:session_id` path parameter, on every route that has one: ids are stored lowercase, so the parameter is
 * lowercased; one that is not a UUID gets exactly the 404 `session_not_found` of an unknown session (with a JSONL
 * store, which refuses such ids as file names with 400, the runtime would say otherwise for traces).
 */

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAtlasDir } from '../../../sdk/src/atlas/dir.ts';
import { jsonlStore } from '../../../sdk/src/storage/jsonl.ts';
import { EXAMPLES, tempDir } from '../../../sdk/test/helpers.ts';
import { http, KEY_A, openSse, sessionRoutes, startTestServer, type TestServer } from '../testing.ts';

const UPPER = '0193F2A0-0000-7000-8000-0000000000AB';
const UNKNOWN = '00000000-0000-7000-8000-00000000dead';
const routes = (id: string, execution = UNKNOWN) => sessionRoutes(id, execution);


describe('session ids in paths', () => {
  let s: TestServer;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    s = await startTestServer({ storage: jsonlStore({ dir: join(t.dir, 'traces') }) });
    await s.runtime.loadAtlas(await loadAtlasDir(join(EXAMPLES, 'atlases/support')));
  });
  afterAll(async () => {
    await s.close();
    await cleanup();
  });
  const call = (method: string, path: string, body?: unknown) => http(s.url, method, path, { key: KEY_A, ...(body === undefined ? {} : { body }) });

  it('lowercases the id on every route (ids are stored lowercase)', async () => {
    const created = await call('POST', '/v1/sessions', { agent_id: 'support-bot', goal: 'Upper case', session_id: UPPER });
    expect(created.body.session_id).toBe(UPPER.toLowerCase());
    const stream = await openSse(s.url, `/v1/traces/${UPPER}/stream`, { key: KEY_A });
    expect(stream.res.status).toBe(200);
    expect((await stream.next())!.id).toBe('0');
    stream.close();
    for (const [method, path, body] of routes(UPPER)) {
      if (path.endsWith('/stream')) continue;
      const r = await call(method, path, body);
      // Everything succeeds but the steps on an execution that does not exist, ending an ended session, and the MCP
      // route of a server with no upstream (which answers so only for a session it found).
      const expected = path.includes(UNKNOWN)
        ? [404, 'execution_not_found']
        : method === 'DELETE'
          ? [409, 'session_ended']
          : path.endsWith('/mcp')
            ? [501, 'mcp_not_configured']
            : [200, undefined];
      expect([method, path, r.status, r.body.error?.code]).toEqual([method, path, ...expected]);
      if (method === 'GET' && path === `/v1/sessions/${UPPER}`) expect(r.body.session_id).toBe(UPPER.toLowerCase());
    }
    expect((await call('GET', `/v1/sessions/${UPPER}`)).body).toMatchObject({ status: 'ended' });
  });

  it('answers a parameter that is not a UUID exactly as an unknown session, on every route', async () => {
    for (const bad of ['nope', 'NOT-A-UUID', '0193f2a0-0000-7000-8000-00000000000g', '..%2F..%2Fetc']) {
      const shown = decodeURIComponent(bad).toLowerCase();
      const unknown = routes(UNKNOWN);
      for (const [i, [method, path, body]] of routes(bad).entries()) {
        const r = await call(method, path, body);
        const [m2, p2, b2] = unknown[i]!;
        const missing = await call(m2, p2, b2);
        expect([method, path, r.status, r.body.error?.code]).toEqual([method, path, 404, 'session_not_found']);
        expect([method, path, r.text]).toEqual([method, path, missing.text.replaceAll(UNKNOWN, JSON.stringify(shown).slice(1, -1))]);
      }
    }
  });
});
