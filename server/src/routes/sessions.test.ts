import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testClock, testIds, T0_US } from '../../../sdk/test/helpers.ts';
import { ownerOf } from '../auth/keys.ts';
import { http, KEY_A, KEY_B, startTestServer, type TestServer } from '../testing.ts';

describe('session routes', () => {
  let s: TestServer;
  const call = (method: string, path: string, body?: unknown) => http(s.url, method, path, { key: KEY_A, ...(body === undefined ? {} : { body }) });
  beforeAll(async () => {
    s = await startTestServer({ runtime: { clock: testClock(T0_US), ids: testIds() } });
  });
  afterAll(() => s.close());

  it('answers a taken session_id with the same 409 whoever holds it: no owner, agent or contents in the answer', async () => {
    const id = '0193f2a0-0000-7000-8000-0000000000c1';
    const body = { agent_id: 'secret-agent', goal: 'Secret goal', session_id: id, metadata: { customer: 'C-7' } };
    expect((await call('POST', '/v1/sessions', body)).status).toBe(201);
    const again = { agent_id: 'other-bot', goal: 'Other', session_id: id };
    const own = await http(s.url, 'POST', '/v1/sessions', { key: KEY_A, body: again });
    const foreign = await http(s.url, 'POST', '/v1/sessions', { key: KEY_B, body: again });
    expect([own.status, foreign.status]).toEqual([409, 409]);
    expect(foreign.text).toBe(own.text);
    expect(foreign.body.error).toMatchObject({ code: 'session_exists', path: '/session_id' });
    for (const secret of ['secret-agent', 'Secret goal', 'C-7', (await ownerOf(KEY_A)).slice(7), KEY_A]) expect(foreign.text).not.toContain(secret);
    // And the other key still cannot read it.
    expect((await http(s.url, 'GET', `/v1/sessions/${id}`, { key: KEY_B })).status).toBe(404);
  });

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

  it('DELETE takes the end reason from a JSON body or the query (default completed)', async () => {
    const reasonOf = async (id: string) => (await call('GET', `/v1/traces/${id}`)).body.at(-1).payload.reason;
    const [a, b, c, d] = await Promise.all(['a', 'b', 'c', 'd'].map(async (g) => (await call('POST', '/v1/sessions', { agent_id: 'del', goal: g })).body.session_id));
    expect((await call('DELETE', `/v1/sessions/${a}`, { reason: 'error' })).body).toMatchObject({ session_id: a, status: 'ended' });
    expect(await reasonOf(a)).toBe('error');
    // A body not declared JSON (curl -X DELETE -d … without -H) is 415, and ends nothing.
    const form = await http(s.url, 'DELETE', `/v1/sessions/${b}`, { key: KEY_A, raw: '{"reason":"timeout"}', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect([form.status, form.body.error.code]).toEqual([415, 'unsupported_media_type']);
    const raw = await http(s.url, 'DELETE', `/v1/sessions/${b}`, { key: KEY_A, raw: '{"reason":"timeout"}', headers: { 'content-type': 'application/json' } });
    expect(raw.status).toBe(200);
    expect(await reasonOf(b)).toBe('timeout');
    await call('DELETE', `/v1/sessions/${c}`);
    expect(await reasonOf(c)).toBe('completed');
    const bad = await call('DELETE', `/v1/sessions/${d}`, { reason: 7 });
    expect([bad.status, bad.body.error.code, bad.body.error.path]).toEqual([400, 'invalid_request', '/reason']);
    expect((await call('DELETE', `/v1/sessions/${d}?reason=cancelled`, {})).status).toBe(200);
    expect(await reasonOf(d)).toBe('cancelled');
  });

  it('pages the list with limit and offset, after the filters, in creation order', async () => {
    const mine: string[] = [];
    for (let i = 0; i < 5; i++) mine.push((await call('POST', '/v1/sessions', { agent_id: 'pager', goal: `p${i}` })).body.session_id);
    const page = async (q: string) => {
      const r = await call('GET', `/v1/sessions?agent_id=pager${q}`);
      return [r.body.items.map((x: { session_id: string }) => x.session_id), r.body.total];
    };
    expect(await page('')).toEqual([mine, 5]);
    expect(await page('&limit=2')).toEqual([mine.slice(0, 2), 5]);
    expect(await page('&limit=2&offset=2')).toEqual([mine.slice(2, 4), 5]);
    expect(await page('&offset=4')).toEqual([mine.slice(4), 5]);
    expect(await page('&offset=9&limit=1000')).toEqual([[], 5]);
    await call('POST', `/v1/sessions/${mine[1]}/end`, {});
    expect(await page('&status=active&limit=2&offset=1')).toEqual([[mine[2], mine[3]], 4]);
    for (const [q, path] of [
      ['limit=0', '/limit'],
      ['limit=1001', '/limit'],
      ['limit=two', '/limit'],
      ['limit=1.5', '/limit'],
      ['offset=-1', '/offset'],
      ['offset=x', '/offset'],
    ] as const) {
      const r = await call('GET', `/v1/sessions?${q}`);
      expect([q, r.status, r.body.error.code, r.body.error.path]).toEqual([q, 400, 'invalid_request', path]);
    }
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
