/**
 * Traces over real HTTP: JSON and JSONL, filters, verify, replay, diff, and the live SSE stream (past events, then
 * live ones in order; resume with Last-Event-ID; ends after session.ended or at shutdown).
 */

import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadAtlasDir } from '../../../sdk/src/atlas/dir.ts';
import { memoryStore } from '../../../sdk/src/storage/memory.ts';
import type { TraceEvent } from '../../../sdk/src/types.ts';
import { EXAMPLES } from '../../../sdk/test/helpers.ts';
import { http, KEY_A, openSse, startTestServer, type TestServer } from '../testing.ts';

const support = await loadAtlasDir(join(EXAMPLES, 'atlases/support'));

describe('trace routes', () => {
  const servers: TestServer[] = [];
  const start = async (options: Parameters<typeof startTestServer>[0] = {}) => {
    const s = await startTestServer(options);
    servers.push(s);
    await s.runtime.loadAtlas(support);
    const call = (method: string, path: string, body?: unknown) => http(s.url, method, path, { key: KEY_A, ...(body === undefined ? {} : { body }) });
    const session = async () => (await call('POST', '/v1/sessions', { agent_id: 'support-bot', goal: 'Trace me' })).body.session_id as string;
    return { s, call, session };
  };
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });

  it('answers the trace as a JSON array, or JSONL (both media types) with a trailing newline', async () => {
    const { s, call, session } = await start();
    const id = await session();
    await call('POST', `/v1/sessions/${id}/resolve`, { required_capabilities: ['tickets.read'] });
    const json = await call('GET', `/v1/traces/${id}`);
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
    const events = json.body as TraceEvent[];
    expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i));
    for (const type of ['application/x-ndjson', 'application/vnd.cra.trace+jsonl']) {
      const r = await http(s.url, 'GET', `/v1/traces/${id}`, { key: KEY_A, headers: { accept: type } });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe(`${type}; charset=utf-8`);
      expect(r.text.endsWith('\n')).toBe(true);
      const lines = r.text.split('\n');
      expect(lines.pop()).toBe('');
      expect(lines.map((l) => JSON.parse(l))).toEqual(events);
    }
    expect((await call('GET', `/v1/traces/${id}?since_sequence=0&limit=2`)).body.map((e: TraceEvent) => e.sequence)).toEqual([1, 2]);
    expect((await call('GET', `/v1/traces/${id}?event_type=session.started`)).body).toHaveLength(1);
  });

  it('verifies (GET and POST), replays and diffs', async () => {
    const { call, session } = await start();
    const id = await session();
    await call('POST', `/v1/sessions/${id}/resolve`, {});
    const trace = (await call('GET', `/v1/traces/${id}`)).body as TraceEvent[];
    const verdict = { valid: true, length: trace.length, head_hash: trace.at(-1)!.event_hash };
    expect((await call('GET', `/v1/traces/${id}/verify`)).body).toEqual(verdict);
    expect((await call('POST', `/v1/traces/${id}/verify`)).body).toEqual(verdict);
    expect((await call('POST', `/v1/traces/${id}/replay`)).body).toMatchObject({ identical: true, original_length: trace.length });
    expect((await call('POST', '/v1/traces/diff', { a: trace, b: trace })).body).toEqual({ identical: true, differences: [] });
  });

  it('streams past events, then live ones in order, then `end` after session.ended', async () => {
    const { s, call, session } = await start();
    const id = await session();
    const stream = await openSse(s.url, `/v1/traces/${id}/stream`, { key: KEY_A });
    expect(stream.res.status).toBe(200);
    expect(stream.res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const first = await stream.next();
    expect(first).toMatchObject({ event: 'message', id: '0' });
    expect(JSON.parse(first!.data).event_type).toBe('session.started');

    await call('POST', `/v1/sessions/${id}/resolve`, { required_capabilities: ['tickets.read'] });
    const ex = (await call('POST', `/v1/sessions/${id}/actions`, { action_id: 'ticket.lookup', parameters: { ticket_id: 'T-10042' } })).body;
    await call('POST', `/v1/sessions/${id}/actions/${ex.execution_id}/complete`, { result: { ok: true } });
    await call('POST', `/v1/sessions/${id}/end`, { reason: 'completed' });

    const trace = (await call('GET', `/v1/traces/${id}`)).body as TraceEvent[];
    const live: TraceEvent[] = [];
    for (let i = 1; i < trace.length; i++) {
      const m = await stream.next();
      expect(m!.id).toBe(String(i));
      live.push(JSON.parse(m!.data));
    }
    expect(live).toEqual(trace.slice(1));
    expect(await stream.next()).toEqual({ event: 'end', id: null, data: JSON.stringify({ session_id: id, length: trace.length }) });
    expect(await stream.next()).toBeNull();
    expect(s.events.size).toBe(0);
  });

  it('resumes after Last-Event-ID (or since_sequence) and serves an ended session whole', async () => {
    const { s, call, session } = await start();
    const id = await session();
    await call('POST', `/v1/sessions/${id}/resolve`, {});
    await call('POST', `/v1/sessions/${id}/end`, {});
    const trace = (await call('GET', `/v1/traces/${id}`)).body as TraceEvent[];
    for (const [path, headers] of [
      [`/v1/traces/${id}/stream`, { 'last-event-id': '2' }],
      [`/v1/traces/${id}/stream?since_sequence=2`, {}],
    ] as const) {
      const stream = await openSse(s.url, path, { key: KEY_A, headers });
      const ids: string[] = [];
      for (let m = await stream.next(); m && m.event === 'message'; m = await stream.next()) ids.push(m.id!);
      expect(ids).toEqual(trace.slice(3).map((e) => String(e.sequence)));
    }
  });

  it('drops the subscription when the client goes away, and ends open streams at shutdown', async () => {
    const { s, session } = await start();
    const id = await session();
    const a = await openSse(s.url, `/v1/traces/${id}/stream`, { key: KEY_A });
    await a.next();
    expect(s.events.size).toBe(1);
    a.close();
    for (let i = 0; i < 50 && s.events.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(s.events.size).toBe(0);

    const b = await openSse(s.url, `/v1/traces/${id}/stream`, { key: KEY_A });
    await b.next();
    const t0 = Date.now();
    await s.close();
    servers.length = 0;
    expect(await b.next()).toBeNull();
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('polls the store when the app has no event hub', async () => {
    const { s, call, session } = await start({ storage: memoryStore() });
    // A second app on the same runtime, without the hub (auth off: no owners to share).
    const { createApp } = await import('../app.ts');
    const { listen } = await import('../adapter/node/listen.ts');
    const l = await listen(createApp({ runtime: s.runtime, auth: false, pollMs: 20 }));
    try {
      const id = await session();
      const stream = await openSse(l.url, `/v1/traces/${id}/stream`);
      expect(stream.res.status).toBe(200);
      expect((await stream.next())!.id).toBe('0');
      await call('POST', `/v1/sessions/${id}/resolve`, {});
      await call('POST', `/v1/sessions/${id}/end`, {});
      const trace = (await call('GET', `/v1/traces/${id}`)).body as TraceEvent[];
      const ids: string[] = [];
      for (let m = await stream.next(); m && m.event === 'message'; m = await stream.next()) ids.push(m.id!);
      expect(ids).toEqual(trace.slice(1).map((e) => String(e.sequence)));
    } finally {
      await l.close(100);
    }
  });
});
