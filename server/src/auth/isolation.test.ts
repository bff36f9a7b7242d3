/**
 * Authentication and ownership over real HTTP: no key or a bad key → 401; a session is visible only to the key that
 * created it, and another key gets exactly the answer of a missing session (so ids cannot be probed).
 */

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAtlasDir } from '../../../sdk/src/atlas/dir.ts';
import { EXAMPLES } from '../../../sdk/test/helpers.ts';
import { listen } from '../adapter/node/listen.ts';
import { assemble } from '../assemble.ts';
import { parseConfig } from '../config.ts';
import { ADMIN_KEY, http, KEY_A, KEY_B, sessionRoutes, startTestServer, type TestServer } from '../testing.ts';

const UNKNOWN = '00000000-0000-7000-8000-00000000dead';

describe('auth and isolation', () => {
  let server: TestServer;
  let open: TestServer;
  let sessionA: string;
  let executionA: string;
  let resolutionA: string;
  const call = (key: string | null, method: string, path: string, body?: unknown) =>
    http(server.url, method, path, { key, ...(body === undefined ? {} : { body }) });

  beforeAll(async () => {
    const support = await loadAtlasDir(join(EXAMPLES, 'atlases/support'));
    server = await startTestServer();
    await server.runtime.loadAtlas(support);
    open = await startTestServer({ auth: false });
    await open.runtime.loadAtlas(support);
    sessionA = (await call(KEY_A, 'POST', '/v1/sessions', { agent_id: 'support-bot', goal: 'Alice’s ticket' })).body.session_id;
    resolutionA = (await call(KEY_A, 'POST', `/v1/sessions/${sessionA}/resolve`, { required_capabilities: ['billing.refund'] })).body.resolution_id;
    const ex = await call(KEY_A, 'POST', `/v1/sessions/${sessionA}/actions`, {
      action_id: 'refund.issue',
      parameters: { customer_id: 'c', payment_id: 'p', amount: 5, currency: 'EUR' },
    });
    expect(ex.body.status).toBe('pending_approval');
    executionA = ex.body.execution_id;
  });
  afterAll(async () => {
    await server?.close();
    await open?.close();
  });

  it('refuses requests without a key, with a bad key or a malformed header (401, JSON, WWW-Authenticate)', async () => {
    for (const [headers, message] of [
      [{}, 'an API key is required: Authorization: Bearer <key>'],
      [{ authorization: 'Bearer not-a-key-0123456789' }, 'the API key is not valid'],
      [{ 'x-api-key': 'not-a-key-0123456789' }, 'the API key is not valid'],
      [{ authorization: 'Token abc' }, 'use Authorization: Bearer <key> (or X-API-Key: <key>)'],
    ] as const) {
      for (const path of ['/v1/sessions', `/v1/sessions/${sessionA}`, `/v1/traces/${sessionA}`, '/v1/atlases', '/v1/no-such-route']) {
        const r = await http(server.url, 'GET', path, { headers });
        expect(r.status).toBe(401);
        expect(r.body).toEqual({ error: { code: 'unauthorized', message, path: null } });
        expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect(r.headers.get('content-type')).toMatch(/^application\/json/);
      }
    }
  });

  it('accepts Authorization: Bearer and X-API-Key; health and the OpenAPI document need no key', async () => {
    expect((await http(server.url, 'GET', '/v1/sessions', { headers: { 'x-api-key': KEY_A } })).status).toBe(200);
    expect((await call(KEY_A, 'GET', '/v1/sessions')).status).toBe(200);
    for (const path of ['/health', '/v1/health', '/openapi.json']) expect((await http(server.url, 'GET', path)).status).toBe(200);
  });

  it('lists only the caller’s sessions', async () => {
    const b = await call(KEY_B, 'POST', '/v1/sessions', { agent_id: 'bob-bot', goal: 'Bob’s work' });
    expect((await call(KEY_A, 'GET', '/v1/sessions')).body.items.map((s: { session_id: string }) => s.session_id)).toEqual([sessionA]);
    expect((await call(KEY_B, 'GET', '/v1/sessions')).body).toMatchObject({ items: [{ session_id: b.body.session_id }], total: 1 });
  });


  const routes = (id: string, execution = UNKNOWN) => sessionRoutes(id, execution);

  const carp = (id: string, operation: string): Record<string, unknown> => ({
    carp_version: '1.0',
    request_id: 'd0000000-0000-7000-8000-000000000001',
    timestamp: new Date().toISOString(),
    operation,
    requester: { agent_id: 'support-bot', session_id: id },
    ...(operation === 'execute'
      ? { execution: { resolution_id: resolutionA, action_id: 'ticket.lookup', parameters: { ticket_id: 'T-10042' } } }
      : { task: { goal: 'x' } }),
  });
  const carpRoutes = (id: string): Array<[string, string, unknown]> => [
    ['POST', '/v1/resolve', carp(id, 'resolve')],
    ['POST', '/v1/resolve', carp(id, 'validate')],
    ['POST', '/v1/execute', carp(id, 'execute')],
    ['POST', '/v1/carp', carp(id, 'resolve')],
    ['POST', '/v1/carp', { session_id: id, agent_id: 'support-bot', goal: 'flat form' }],
  ];

  it('answers another key exactly as for a missing session, on every route, and changes nothing', async () => {
    const before = (await call(KEY_A, 'GET', `/v1/traces/${sessionA}`)).body;
    const foreign = [...routes(sessionA, executionA), ...carpRoutes(sessionA)];
    const missing = [...routes(UNKNOWN, executionA), ...carpRoutes(UNKNOWN)];
    for (const [i, [method, path, body]] of foreign.entries()) {
      const asB = await call(KEY_B, method, path, body);
      const [m2, p2, b2] = missing[i]!;
      const unknown = await call(KEY_B, m2, p2, b2);
      expect([method, path, asB.status]).toEqual([method, path, 404]);
      expect(asB.body.error.code).toBe('session_not_found');
      expect(asB.text.replaceAll(sessionA, UNKNOWN)).toBe(unknown.text);
    }
    expect((await call(KEY_A, 'GET', `/v1/traces/${sessionA}`)).body).toEqual(before);
    expect((await call(KEY_A, 'GET', `/v1/sessions/${sessionA}`)).body.status).toBe('active');
  });

  it('answers foreign sessions with the very message the runtime gives for a missing one (auth off)', async () => {
    const upper = UNKNOWN.toUpperCase();
    for (const [i, [method, path, body]] of [...routes(UNKNOWN), ...carpRoutes(UNKNOWN), ...routes(upper), ...carpRoutes(upper)].entries()) {
      const fromRuntime = await http(open.url, method, path, { ...(body === undefined ? {} : { body }) });
      const fromOwnership = await call(KEY_B, method, path, body);
      expect([i, method, path, fromRuntime.status, fromRuntime.text]).toEqual([i, method, path, fromOwnership.status, fromOwnership.text]);
    }
  });

  it('lets the owner act: approve with the approval hash, then the trace verifies', async () => {
    const ex = (await call(KEY_A, 'GET', `/v1/traces/${sessionA}`)).body.find((e: { event_type: string }) => e.event_type === 'action.requested');
    expect(ex.payload.execution_id).toBe(executionA);
    const approved = await call(KEY_A, 'POST', `/v1/sessions/${sessionA}/actions/${executionA}/approve`, { approver: 'alice' });
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe('approved');
    expect((await call(KEY_A, 'GET', `/v1/traces/${sessionA}/verify`)).body.valid).toBe(true);
  });

  it('keeps atlas changes and runtime counters to admin keys', async () => {
    const manifest = { atlas_version: '1.0', atlas_id: 'com.example.tiny', version: '1.0.0', name: 'Tiny', description: 'Tiny atlas' };
    const refused = await call(KEY_A, 'POST', '/v1/atlases', manifest);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toEqual({
      code: 'forbidden',
      message: 'loading an atlas needs an admin key (set CRA_ADMIN_KEYS, or CRA_ATLAS_WRITES=any-key to let every key change atlases)',
      path: null,
    });
    expect((await call(KEY_A, 'DELETE', '/v1/atlases/com.example.support')).status).toBe(403);
    expect((await call(KEY_A, 'GET', '/v1/stats')).status).toBe(403);
    expect((await call(KEY_A, 'GET', '/v1/atlases')).status).toBe(200);
    expect((await call(KEY_A, 'POST', '/v1/atlases/validate', manifest)).body.valid).toBe(true);
    expect((await call(ADMIN_KEY, 'POST', '/v1/atlases', manifest)).status).toBe(201);
    expect((await call(ADMIN_KEY, 'DELETE', '/v1/atlases/com.example.tiny')).status).toBe(204);
    expect((await call(ADMIN_KEY, 'GET', '/v1/stats')).body).toMatchObject({ atlases: 1 });
  });

  it('refuses atlas writes to every key when no admin key is configured, unless CRA_ATLAS_WRITES=any-key says otherwise', async () => {
    const manifest = { atlas_version: '1.0', atlas_id: 'com.example.shared', version: '1.0.0', name: 'Shared', description: 'Shared atlas' };
    const serve = async (env: Record<string, string>) => {
      const assembly = await assemble(parseConfig({ CRA_API_KEYS: `${KEY_A},${KEY_B}`, ...env }), { app: { onError: () => undefined } });
      const l = await listen(assembly.app, { port: 0 });
      return { url: l.url, close: () => l.close(500).then(() => assembly.close()) };
    };
    const closed = await serve({});
    try {
      const load = await http(closed.url, 'POST', '/v1/atlases', { key: KEY_A, body: manifest });
      expect([load.status, load.body.error.code]).toEqual([403, 'forbidden']);
      expect(load.body.error.message).toMatch(/CRA_ADMIN_KEYS.*CRA_ATLAS_WRITES=any-key/);
      expect((await http(closed.url, 'POST', '/v1/atlases?replace=true', { key: KEY_B, body: manifest })).status).toBe(403);
      expect((await http(closed.url, 'DELETE', '/v1/atlases/com.example.shared', { key: KEY_B })).status).toBe(403);
      expect((await http(closed.url, 'GET', '/v1/atlases', { key: KEY_A })).body.total).toBe(0);
      expect((await http(closed.url, 'POST', '/v1/atlases/validate', { key: KEY_A, body: manifest })).body.valid).toBe(true);
    } finally {
      await closed.close();
    }
    const shared = await serve({ CRA_ATLAS_WRITES: 'any-key' });
    try {
      const loaded = await http(shared.url, 'POST', '/v1/atlases', { key: KEY_A, body: manifest });
      expect([loaded.status, loaded.body.atlas_id]).toEqual([201, 'com.example.shared']);
      expect((await http(shared.url, 'DELETE', '/v1/atlases/com.example.shared', { key: KEY_B })).status).toBe(204);
      expect((await http(shared.url, 'GET', '/v1/stats', { key: KEY_A })).status).toBe(403);
    } finally {
      await shared.close();
    }
  });

  it('with auth off (explicit), needs no key and shows every session', async () => {
    const a = await http(open.url, 'POST', '/v1/sessions', { body: { agent_id: 'x', goal: 'y' } });
    expect(a.status).toBe(201);
    const b = await http(open.url, 'GET', `/v1/sessions/${a.body.session_id}`, { key: 'whatever-key-0123456789' });
    expect(b.status).toBe(200);
    expect((await http(open.url, 'POST', '/v1/atlases', { body: { atlas_version: '1.0', atlas_id: 'com.example.open', version: '1.0.0', name: 'o', description: 'o' } })).status).toBe(201);
  });
});
