import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AtlasManifest, CarpRequest, Resolution } from '../../../sdk/src/types.ts';
import { readJson, simpleAtlas, testClock, testIds, T0_US, withoutDynamic } from '../../../sdk/test/helpers.ts';
import { http, KEY_A, startTestServer, type TestServer } from '../testing.ts';

/** An action that needs approval and one limited to a call a minute. */
const limitedAtlas = {
  atlas_version: '1.0' as const,
  atlas_id: 'com.example.ping',
  version: '1.0.0',
  name: 'Ping',
  description: 'Rate limits and approvals',
  capabilities: [{ capability_id: 'ping', name: 'Ping', description: 'Ping', actions: ['ping.send', 'ping.launch'] }],
  policies: [
    { policy_id: 'allow-ping', type: 'allow', actions: ['ping.send'] },
    { policy_id: 'ping-limit', type: 'rate_limit', actions: ['ping.send'], parameters: { max_calls: 1, window_seconds: 60, scope: 'session' } },
    { policy_id: 'launch-approval', type: 'require_approval', actions: ['ping.launch'] },
  ],
  actions: [
    { action_id: 'ping.send', name: 'Send', description: 'Send a ping', risk_tier: 'low', parameters_schema: { type: 'object' } },
    { action_id: 'ping.launch', name: 'Launch', description: 'Launch', risk_tier: 'high', parameters_schema: { type: 'object' } },
  ],
};

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
    expect((await call('POST', '/v1/resolve', request)).body.error).toMatchObject({ code: 'duplicate_request', path: '/request_id' });
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
    expect(denied.status).toBe(403);
    expect(denied.body.execution.status).toBe('denied');

    const raw = await call('POST', '/v1/carp', { ...exec, request_id: 'e0000000-0000-7000-8000-000000000003' });
    expect(Object.keys(raw.body)).toEqual(['execution']);
    const wrongOp = await call('POST', '/v1/resolve', { ...exec, request_id: 'e0000000-0000-7000-8000-000000000004' });
    expect(wrongOp.body.error).toMatchObject({ code: 'invalid_request', path: '/operation' });
    const wrongOp2 = await call('POST', '/v1/execute', { ...exec, operation: 'resolve' });
    expect(wrongOp2.body.error).toMatchObject({ code: 'invalid_request', path: '/operation' });
  });

  it('POST /v1/execute answers a refusal as an error carrying the execution (403, or 429 with Retry-After)', async () => {
    await s.runtime.loadAtlas(limitedAtlas as unknown as AtlasManifest);
    const id = (await call('POST', '/v1/sessions', { agent_id: 'exec-agent', goal: 'Refusals' })).body.session_id;
    const resolution = (await call('POST', `/v1/sessions/${id}/resolve`, {})).body.resolution_id;
    let n = 0;
    const execute = (action_id: string, parameters: object, path = '/v1/execute') =>
      call('POST', path, {
        carp_version: '1.0',
        request_id: `e1000000-0000-7000-8000-${String(++n).padStart(12, '0')}`,
        timestamp: new Date(T0_US / 1000).toISOString(),
        operation: 'execute',
        requester: { agent_id: 'exec-agent', session_id: id },
        execution: { resolution_id: resolution, action_id, parameters },
      });
    const lastEvents = async (k: number) => (await call('GET', `/v1/traces/${id}`)).body.slice(-k).map((e: { event_type: string }) => e.event_type);

    // Allowed, and waiting for a human: 200 with the execution, as before.
    const approved = await execute('resource.get', { resource_id: 'r-1' });
    expect([approved.status, approved.body.status]).toEqual([200, 'approved']);
    const pending = await execute('ping.launch', {});
    expect([pending.status, pending.body.status]).toEqual([200, 'pending_approval']);

    const denied = await execute('resource.delete', { resource_id: 'r-1' });
    expect(denied.status).toBe(403);
    expect(denied.body).toEqual({
      error: {
        code: 'action_denied',
        message: 'Deletion not permitted in test environment',
        path: null,
        details: { code: 'policy_denied', policy_id: 'deny-delete' },
      },
      execution: expect.objectContaining({ status: 'denied', action_id: 'resource.delete', reason: 'Deletion not permitted in test environment' }),
    });
    expect(denied.headers.get('retry-after')).toBeNull();
    expect(await lastEvents(2)).toEqual(['action.requested', 'action.denied']);

    const violated = await execute('resource.get', { resource_id: 5 });
    expect(violated.status).toBe(403);
    expect(violated.body.error).toEqual({ code: 'policy_violated', message: violated.body.execution.reason, path: null, details: violated.body.execution.details });
    expect(violated.body.error.details).toMatchObject({ code: 'invalid_parameters', errors: [expect.objectContaining({ path: '/resource_id' })] });
    expect(violated.body.execution).toMatchObject({ status: 'violated', action_id: 'resource.get' });
    expect(await lastEvents(2)).toEqual(['action.requested', 'policy.violated']);

    expect((await execute('ping.send', {})).status).toBe(200);
    const limited = await execute('ping.send', {});
    expect(limited.status).toBe(429);
    expect(limited.body.error).toEqual({ code: 'rate_limited', message: 'rate_limited', path: null, details: limited.body.execution.details });
    expect(limited.body.error.details).toMatchObject({ code: 'rate_limited', retry_after_seconds: limited.body.execution.retry_after_seconds });
    expect(limited.body.execution).toMatchObject({ status: 'denied', reason: 'rate_limited', action_id: 'ping.send' });
    const wait = limited.body.execution.retry_after_seconds;
    expect(limited.headers.get('retry-after')).toBe(wait === undefined ? null : String(Math.ceil(wait)));
    expect(await lastEvents(2)).toEqual(['action.requested', 'action.denied']);

    // Only /v1/execute changes: /v1/carp and the session's actions answer the refused execution with 200.
    const viaCarp = await execute('resource.delete', { resource_id: 'r-2' }, '/v1/carp');
    expect([viaCarp.status, viaCarp.body.execution.status]).toEqual([200, 'denied']);
    const viaActions = await call('POST', `/v1/sessions/${id}/actions`, { action_id: 'resource.delete', parameters: { resource_id: 'r-3' } });
    expect([viaActions.status, viaActions.body.status]).toEqual([200, 'denied']);
  });

  it('points validation errors of the raw CARP routes into the body, not under /request', async () => {
    const id = (await call('POST', '/v1/sessions', { agent_id: 'agent', goal: 'Paths' })).body.session_id;
    const nested = {
      carp_version: '1.0',
      request_id: 'f1000000-0000-7000-8000-000000000001',
      timestamp: new Date(T0_US / 1000).toISOString(),
      operation: 'resolve',
      requester: { agent_id: 'agent', session_id: id },
      task: { goal: 'Paths' },
    };
    const cases: Array<[string, unknown, string]> = [
      ['/v1/resolve', { ...nested, carp_version: '2.0' }, '/carp_version'],
      ['/v1/resolve', { ...nested, request_id: 'not-a-uuid' }, '/request_id'],
      ['/v1/resolve', { ...nested, requester: { agent_id: 'agent', session_id: 'zzz' } }, '/requester/session_id'],
      ['/v1/resolve', { session_id: 'zzz', agent_id: 'agent', goal: 'flat' }, '/session_id'],
      ['/v1/carp', { ...nested, carp_version: '2.0' }, '/carp_version'],
      ['/v1/carp', { session_id: id, agent_id: 5, goal: 'flat' }, '/agent_id'],
      ['/v1/execute', { ...nested, operation: 'execute', carp_version: '2.0' }, '/carp_version'],
    ];
    for (const [path, body, pointer] of cases) {
      const r = await call('POST', path, body);
      expect([path, pointer, r.status, r.body.error.code, r.body.error.path]).toEqual([path, pointer, 400, 'invalid_request', pointer]);
    }
  });

  it('points resolve and validate errors at the field of the body as sent (snake_case), recording nothing', async () => {
    const id = (await call('POST', '/v1/sessions', { agent_id: 'agent', goal: 'Wire paths' })).body.session_id;
    const cases: Array<[unknown, string]> = [
      [{ risk_tier: 'extreme' }, '/risk_tier'],
      [{ atlas_ids: ['x'] }, '/atlas_ids/0'],
      [{ context_hints: [1] }, '/context_hints/0'],
      [{ required_capabilities: 'tickets.read' }, '/required_capabilities'],
      [{ goal: 5 }, '/goal'],
      [{ request_id: 'not-a-uuid' }, '/request_id'],
    ];
    for (const operation of ['resolve', 'validate']) {
      for (const [body, pointer] of cases) {
        const r = await call('POST', `/v1/sessions/${id}/${operation}`, body);
        expect([operation, pointer, r.status, r.body.error.code, r.body.error.path]).toEqual([operation, pointer, 400, 'invalid_request', pointer]);
      }
    }
    expect((await call('GET', `/v1/traces/${id}`)).body).toHaveLength(1);
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
