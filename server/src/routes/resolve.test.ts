import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CarpRequest, Resolution } from '../../../sdk/src/types.ts';
import { readJson, simpleAtlas, testClock, testIds, T0_US, withoutDynamic } from '../../../sdk/test/helpers.ts';
import { http, KEY_A, startTestServer, type TestServer } from '../testing.ts';

describe('CARP routes', () => {
  let s: TestServer;
  let request: CarpRequest;
  let expected: Resolution;
  const call = (method: string, path: string, body?: unknown) => http(s.url, method, path, { key: KEY_A, ...(body === undefined ? {} : { body }) });
  beforeAll(async () => {
    s = await startTestServer({ runtime: { clock: testClock(T0_US), ids: testIds() } });
    await s.runtime.loadAtlas(await simpleAtlas());
    request = await readJson<CarpRequest>('simple-resolve/request.json');
    const { $comment: _c, ...rest } = await readJson<Resolution & { $comment?: string }>('simple-resolve/expected-resolution.json');
    expected = rest as Resolution;
  });
  afterAll(() => s.close());

  it('POST /v1/resolve answers the golden resolution for the golden request (nested form)', async () => {
    const created = await call('POST', '/v1/sessions', {
      agent_id: request.requester.agent_id,
      goal: request.task!.goal,
      session_id: request.requester.session_id,
    });
    expect(created.status).toBe(201);
    const r = await call('POST', '/v1/resolve', request);
    expect(r.status).toBe(200);
    expect(withoutDynamic(r.body, expected)).toEqual(expected);
    // The same request id again is a replay: refused.
    expect((await call('POST', '/v1/resolve', request)).body.error).toMatchObject({ code: 'duplicate_request', path: '/request/request_id' });
  });

  it('accepts the flat form, validate (records nothing), execute and raw CARP', async () => {
    const id = (await call('POST', '/v1/sessions', { agent_id: 'flat-agent', goal: 'Manage resources' })).body.session_id;
    const flat = await call('POST', '/v1/resolve', { session_id: id, agent_id: 'flat-agent', goal: 'Manage resources', risk_tier: 'low' });
    expect(flat.status).toBe(200);
    expect(flat.body.allowed_actions.map((a: { action_id: string }) => a.action_id)).toContain('resource.get');
    const length = (await call('GET', `/v1/traces/${id}`)).body.length;
    const dry = await call('POST', '/v1/resolve', { session_id: id, agent_id: 'flat-agent', goal: 'x', operation: 'validate', carp_version: '1.0' });
    expect(dry.status).toBe(200);
    expect((await call('GET', `/v1/traces/${id}`)).body.length).toBe(length);

    const exec = {
      carp_version: '1.0',
      request_id: 'e0000000-0000-7000-8000-000000000001',
      timestamp: new Date(T0_US / 1000).toISOString(),
      operation: 'execute',
      requester: { agent_id: 'flat-agent', session_id: id },
      execution: { resolution_id: flat.body.resolution_id, action_id: 'resource.get', parameters: { resource_id: 'r-1' } },
    };
    const ex = await call('POST', '/v1/execute', exec);
    expect(ex.status).toBe(200);
    expect(ex.body).toMatchObject({ status: 'approved', action_id: 'resource.get', session_id: id });
    const denied = await call('POST', '/v1/execute', {
      ...exec,
      request_id: 'e0000000-0000-7000-8000-000000000002',
      execution: { ...exec.execution, action_id: 'resource.delete', parameters: { resource_id: 'r-1' } },
    });
    expect(denied.status).toBe(200);
    expect(denied.body.status).toBe('denied');

    const raw = await call('POST', '/v1/carp', { ...exec, request_id: 'e0000000-0000-7000-8000-000000000003' });
    expect(Object.keys(raw.body)).toEqual(['execution']);
    const wrongOp = await call('POST', '/v1/resolve', { ...exec, request_id: 'e0000000-0000-7000-8000-000000000004' });
    expect(wrongOp.body.error).toMatchObject({ code: 'invalid_request', path: '/request/operation' });
    const wrongOp2 = await call('POST', '/v1/execute', { ...exec, operation: 'resolve' });
    expect(wrongOp2.body.error).toMatchObject({ code: 'invalid_request', path: '/request/operation' });
  });

  it('a full CARP request on a session’s route must name that session', async () => {
    const a = (await call('POST', '/v1/sessions', { agent_id: 'agent', goal: 'A' })).body.session_id;
    const b = (await call('POST', '/v1/sessions', { agent_id: 'agent', goal: 'B' })).body.session_id;
    const req = {
      carp_version: '1.0',
      request_id: 'f0000000-0000-7000-8000-000000000001',
      timestamp: new Date(T0_US / 1000).toISOString(),
      operation: 'resolve',
      requester: { agent_id: 'agent', session_id: b },
      task: { goal: 'B' },
    };
    const r = await call('POST', `/v1/sessions/${a}/resolve`, req);
    expect([r.status, r.body.error.code, r.body.error.path]).toEqual([400, 'invalid_request', '/requester/session_id']);
    const ok = await call('POST', `/v1/sessions/${b}/resolve`, req);
    expect(ok.status).toBe(200);
    const v = await call('POST', `/v1/sessions/${b}/validate`, { ...req, request_id: 'f0000000-0000-7000-8000-000000000002', operation: 'validate' });
    expect(v.status).toBe(200);
    expect((await call('GET', `/v1/sessions/${a}`)).body.event_count).toBe(1);
  });

  it('checks on the hot path', async () => {
    const id = (await call('POST', '/v1/sessions', { agent_id: 'agent', goal: 'Manage resources' })).body.session_id;
    expect((await call('GET', `/v1/sessions/${id}/check/resource.get`)).body).toMatchObject({ result: 'no_resolution', allowed: false });
    await call('POST', `/v1/sessions/${id}/resolve`, {});
    expect((await call('GET', `/v1/sessions/${id}/check/resource.get`)).body).toEqual({ result: 'allow', code: expect.any(Number), allowed: true });
    expect((await call('GET', `/v1/sessions/${id}/check/resource.delete`)).body.allowed).toBe(false);
  });
});
