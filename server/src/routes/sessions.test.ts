import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testClock, testIds, T0_US } from '../../../sdk/test/helpers.ts';
import { http, KEY_A, startTestServer, type TestServer } from '../testing.ts';

describe('session routes', () => {
  let s: TestServer;
  const call = (method: string, path: string, body?: unknown) => http(s.url, method, path, { key: KEY_A, ...(body === undefined ? {} : { body }) });
  beforeAll(async () => {
    s = await startTestServer({ runtime: { clock: testClock(T0_US), ids: testIds() } });
  });
  afterAll(() => s.close());

  it('answers the created session exactly as GET does (201)', async () => {
    const created = await call('POST', '/v1/sessions', {
      agent_id: 'support-bot',
      goal: 'Handle ticket',
      metadata: { team: 'support', level: 2, tags: ['vip'] },
    });
    expect(created.status).toBe(201);
    const got = await call('GET', `/v1/sessions/${created.body.session_id}`);
    expect(got.body).toEqual(created.body);
    const child = await call('POST', '/v1/sessions', { agent_id: 'sub', goal: 'Sub', parent_session_id: created.body.session_id, session_id: null });
    expect((await call('GET', `/v1/sessions/${child.body.session_id}`)).body).toEqual(child.body);
    expect(child.body.parent_session_id).toBe(created.body.session_id);
    expect((await call('GET', `/v1/sessions/${child.body.session_id}/ref`)).body).toEqual({
      session_id: child.body.session_id,
      agent_id: 'sub',
      goal: 'Sub',
    });
  });

  it('ends sessions by POST …/end or DELETE (reason in the query), and filters the list', async () => {
    const a = (await call('POST', '/v1/sessions', { agent_id: 'x', goal: 'a' })).body.session_id;
    const b = (await call('POST', '/v1/sessions', { agent_id: 'y', goal: 'b' })).body.session_id;
    const ended = await call('POST', `/v1/sessions/${a}/end`, { reason: 'timeout' });
    expect(ended.body).toMatchObject({ session_id: a, status: 'ended' });
    const deleted = await call('DELETE', `/v1/sessions/${b}?reason=cancelled`);
    expect(deleted.body).toMatchObject({ session_id: b, status: 'ended' });
    const trace = (await call('GET', `/v1/traces/${b}`)).body;
    expect(trace.at(-1)).toMatchObject({ event_type: 'session.ended', payload: { reason: 'cancelled' } });
    expect((await call('DELETE', `/v1/sessions/${b}`)).body.error).toEqual({ code: 'session_ended', message: expect.any(String), path: null });

    const ids = (q: string) => call('GET', `/v1/sessions${q}`).then((r) => r.body.items.map((x: { session_id: string }) => x.session_id));
    const all = await ids('');
    expect(all).toEqual(expect.arrayContaining([a, b]));
    expect(await ids('?status=all')).toEqual(all);
    expect(await ids('?status=ended')).toEqual([a, b]);
    expect((await ids('?status=active')).some((id: string) => id === a || id === b)).toBe(false);
    expect(await ids('?agent_id=y')).toEqual([b]);
    expect((await call('GET', '/v1/sessions?status=zombie')).body.error).toMatchObject({ code: 'invalid_request', path: '/status' });
  });

  it('records host events', async () => {
    const id = (await call('POST', '/v1/sessions', { agent_id: 'x', goal: 'events' })).body.session_id;
    const r = await call('POST', `/v1/sessions/${id}/events`, { event_type: 'error.occurred', payload: { code: 'oops', message: 'tool crashed' } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject([{ sequence: 1, event_type: 'error.occurred' }]);
    const bad = await call('POST', `/v1/sessions/${id}/events`, { event_type: 'carp.request.received', payload: {} });
    expect(bad.status).toBe(400);
  });
});
