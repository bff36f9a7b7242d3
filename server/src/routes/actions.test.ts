/**
 * The action routes point their errors into the body that was sent (snake_case, as on the wire), although the
 * server hands the SDK camelCase options: a path never names a field the client did not write.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AtlasManifest } from '../../../sdk/src/types.ts';
import { testClock, testIds, T0_US } from '../../../sdk/test/helpers.ts';
import { http, KEY_A, startTestServer, type TestServer } from '../testing.ts';

const atlas: AtlasManifest = {
  atlas_version: '1.0',
  atlas_id: 'com.example.launch',
  version: '1.0.0',
  name: 'Launch',
  description: 'One action that needs approval',
  capabilities: [{ capability_id: 'launch', name: 'Launch', description: 'Launch', actions: ['rocket.launch'] }],
  policies: [{ policy_id: 'launch-approval', type: 'require_approval', actions: ['rocket.launch'] }],
  actions: [{ action_id: 'rocket.launch', name: 'Launch', description: 'Launch', risk_tier: 'high', parameters_schema: { type: 'object' } }],
} as AtlasManifest;

describe('action routes: error paths', () => {
  let s: TestServer;
  const call = (method: string, path: string, body?: unknown) => http(s.url, method, path, { key: KEY_A, ...(body === undefined ? {} : { body }) });
  beforeAll(async () => {
    s = await startTestServer({ runtime: { clock: testClock(T0_US), ids: testIds() } });
    await s.runtime.loadAtlas(atlas);
  });
  afterAll(() => s.close());

  it('point at the snake_case field of the body, on every step, recording nothing', async () => {
    expect((await call('POST', '/v1/sessions', { agent_id: 5, goal: 'x' })).body.error).toMatchObject({ path: '/agent_id' });
    expect((await call('POST', '/v1/sessions', { agent_id: 'a', goal: 'x', session_id: 'nope' })).body.error).toMatchObject({
      code: 'invalid_request',
      path: '/session_id',
    });
    const id = (await call('POST', '/v1/sessions', { agent_id: 'agent', goal: 'Wire paths' })).body.session_id as string;
    const base = `/v1/sessions/${id}`;
    const early = await call('POST', `${base}/actions`, { action_id: 'rocket.launch', parameters: {} });
    expect([early.status, early.body.error.code, early.body.error.path]).toEqual([404, 'resolution_not_found', '/resolution_id']);
    await call('POST', `${base}/resolve`, {});
    const unknownResolution = await call('POST', `${base}/actions`, { action_id: 'rocket.launch', parameters: {}, resolution_id: 'bogus' });
    expect(unknownResolution.body.error.path).toBe('/resolution_id');
    const pending = (await call('POST', `${base}/actions`, { action_id: 'rocket.launch', parameters: {} })).body;
    expect(pending.status).toBe('pending_approval');
    const before = (await call('GET', `/v1/traces/${id}`)).body.length as number;
    const wrongHash = await call('POST', `${base}/actions/${pending.execution_id}/approve`, { approval_hash: '0'.repeat(64) });
    expect([wrongHash.status, wrongHash.body.error.code, wrongHash.body.error.path]).toEqual([409, 'approval_mismatch', '/approval_hash']);
    const unknown = await call('POST', `${base}/actions/00000000-0000-7000-8000-00000000beef/approve`, {});
    expect([unknown.status, unknown.body.error.path]).toEqual([404, '/execution_id']);
    await call('POST', `${base}/actions/${pending.execution_id}/approve`, {});
    const negative = await call('POST', `${base}/actions/${pending.execution_id}/complete`, { duration_ms: -5 });
    expect([negative.status, negative.body.error.path]).toEqual([400, '/duration_ms']);
    const fail = await call('POST', `${base}/actions/${pending.execution_id}/fail`, { error_code: 'x', error_message: 5 });
    expect([fail.status, fail.body.error.path]).toEqual([400, '/error_message']);
    expect((await call('GET', `/v1/traces/${id}`)).body.length).toBe(before + 1); // only the approval
  });
});
