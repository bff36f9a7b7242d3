/**
 * The HTTP layer over real loopback HTTP: every error is JSON `{error: {code, message, path}}` with the right status —
 * body limit, malformed JSON, media types, validation, unknown routes, CORS, rate limit, core failures.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { faults } from '../../sdk/test/helpers.ts';
import { http, type HttpAnswer, KEY_A, startTestServer, type TestServer } from './testing.ts';

describe('HTTP layer', () => {
  const servers: TestServer[] = [];
  const start = async (options: Parameters<typeof startTestServer>[0] = {}) => {
    const s = await startTestServer(options);
    servers.push(s);
    return s;
  };
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });

  it('refuses bodies over the limit with 413 JSON (declared length or streamed), default 1 MiB', async () => {
    const s = await start();
    const big = JSON.stringify({ agent_id: 'a', goal: 'x'.repeat(1024 * 1024) });
    const r = await http(s.url, 'POST', '/v1/sessions', { key: KEY_A, raw: big, headers: { 'content-type': 'application/json' } });
    expect(r.status).toBe(413);
    expect(r.body).toEqual({ error: { code: 'payload_too_large', message: 'the request body is larger than 1048576 bytes', path: null } });

    const small = await start({ app: { maxBodyBytes: 64 } });
    const chunks = [new TextEncoder().encode('{"agent_id":"a","goal":"'), new TextEncoder().encode(`${'y'.repeat(100)}"}`)];
    const streamed = await fetch(`${small.url}/v1/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY_A}`, 'content-type': 'application/json' },
      body: new ReadableStream({
        start(c) {
          for (const ch of chunks) c.enqueue(ch);
          c.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect((await streamed.json()).error.code).toBe('payload_too_large');
    const fits = await http(small.url, 'POST', '/v1/sessions', { key: KEY_A, body: { agent_id: 'a', goal: 'g' } });
    expect(fits.status).toBe(201);
  });

  it('answers malformed JSON with 400 invalid_json, a body not declared JSON with 415', async () => {
    const s = await start();
    for (const raw of ['{"agent_id": "a",', 'not json', '{"a":1}}']) {
      const r = await http(s.url, 'POST', '/v1/sessions', { key: KEY_A, raw, headers: { 'content-type': 'application/json' } });
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'invalid_json', path: '' });
    }
    // A body not declared JSON is 415 whatever it holds: a browser sends forms and typeless blobs cross-origin
    // without a preflight, a JSON type never.
    const noType = await http(s.url, 'POST', '/v1/sessions', { key: KEY_A, raw: new TextEncoder().encode('{"agent_id":"a","goal":"g"}') });
    expect([noType.status, noType.body.error.code]).toEqual([415, 'unsupported_media_type']);
    for (const type of ['text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'application/octet-stream', 'image/png']) {
      const r = await http(s.url, 'POST', '/v1/sessions', { key: KEY_A, raw: '{"agent_id":"a","goal":"g"}', headers: { 'content-type': type } });
      expect([type, r.status, r.body.error.code]).toEqual([type, 415, 'unsupported_media_type']);
    }
    expect((await http(s.url, 'GET', '/v1/sessions', { key: KEY_A })).body.total).toBe(0);
    // A form upload too.
    const form = new FormData();
    form.set('agent_id', 'a');
    const multipart = await fetch(`${s.url}/v1/sessions`, { method: 'POST', headers: { authorization: `Bearer ${KEY_A}` }, body: form });
    expect(multipart.headers.get('content-type')).toMatch(/^application\/json/);
    expect(multipart.status).toBe(415);
    expect((await multipart.json()).error).toEqual({ code: 'unsupported_media_type', message: "send JSON bodies with Content-Type: application/json (this one has multipart/form-data; with curl: -H 'Content-Type: application/json')", path: null });
    const declared = await http(s.url, 'POST', '/v1/sessions', {
      key: KEY_A,
      raw: '{"agent_id":"a","goal":"g"}',
      headers: { 'content-type': 'multipart/form-data; boundary=x' },
    });
    expect(declared.status).toBe(415);
  });

  it('keeps the size limit whatever the declared type (413 before 415)', async () => {
    const s = await start({ app: { maxBodyBytes: 64 } });
    for (const type of ['text/plain', 'multipart/form-data; boundary=x']) {
      const r = await http(s.url, 'POST', '/v1/sessions', { key: KEY_A, raw: 'x'.repeat(100), headers: { 'content-type': type } });
      expect([type, r.status, r.body.error.code]).toEqual([type, 413, 'payload_too_large']);
    }
  });

  it('validates requests with zod: 400 invalid_request with the JSON pointer of the first issue', async () => {
    const s = await start();
    const cases: Array<[string, string, unknown, string]> = [
      ['POST', '/v1/sessions', { agent_id: 42, goal: 'g' }, '/agent_id'],
      ['POST', '/v1/sessions', { agent_id: 'a' }, '/goal'],
      ['POST', '/v1/sessions', [1, 2], ''],
      ['POST', '/v1/sessions', { agent_id: 'a', goal: 'g', metadata: [1] }, '/metadata'],
      ['POST', '/v1/traces/diff', { a: [], b: 'x' }, '/b'],
      ['POST', '/v1/resolve', 'just a string', ''],
    ];
    for (const [method, path, body, pointer] of cases) {
      const r = await http(s.url, method, path, { key: KEY_A, body });
      expect([path, r.status, r.body.error.code, r.body.error.path]).toEqual([path, 400, 'invalid_request', pointer]);
      expect(typeof r.body.error.message).toBe('string');
    }
    const session = (await http(s.url, 'POST', '/v1/sessions', { key: KEY_A, body: { agent_id: 'a', goal: 'g' } })).body.session_id;
    const q = await http(s.url, 'GET', `/v1/traces/${session}?since_sequence=abc`, { key: KEY_A });
    expect([q.status, q.body.error.code, q.body.error.path]).toEqual([400, 'invalid_request', '/since_sequence']);
    const fail = await http(s.url, 'POST', `/v1/sessions/${session}/actions/${session}/fail`, { key: KEY_A, body: { error_code: 'x' } });
    expect(fail.body.error).toMatchObject({ code: 'invalid_request', path: '/error_message' });
  });

  it('takes an empty body as no body', async () => {
    const s = await start();
    const session = (await http(s.url, 'POST', '/v1/sessions', { key: KEY_A, body: { agent_id: 'a', goal: 'g' } })).body.session_id;
    const ended = await http(s.url, 'POST', `/v1/sessions/${session}/end`, { key: KEY_A, raw: '', headers: { 'content-type': 'application/json' } });
    expect([ended.status, ended.body.status]).toEqual([200, 'ended']);
    const none = await http(s.url, 'POST', '/v1/sessions', { key: KEY_A, raw: ' ', headers: { 'content-type': 'application/json' } });
    expect([none.status, none.body.error.path]).toEqual([400, '/agent_id']);
  });

  it('answers unknown routes and methods with 404 JSON', async () => {
    const s = await start();
    for (const [method, path] of [
      ['GET', '/nope'],
      ['GET', '/v1'],
      ['PUT', '/v1/sessions'],
      ['PATCH', '/v1/atlases/com.example.support'],
      ['GET', '/v1/sessions/x/y/z'],
    ] as const) {
      const r = await http(s.url, method, path, { key: KEY_A });
      expect([method, path, r.status]).toEqual([method, path, 404]);
      expect(r.body).toEqual({ error: { code: 'not_found', message: `no route ${method} ${path}`, path: null } });
    }
  });

  it('sends no CORS headers unless origins are configured', async () => {
    const off = await start();
    const r = await http(off.url, 'GET', '/v1/health', { headers: { origin: 'https://app.example' } });
    expect(r.headers.get('access-control-allow-origin')).toBeNull();

    const on = await start({ app: { corsOrigins: ['https://app.example'] } });
    const pre = await fetch(`${on.url}/v1/sessions`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(pre.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    const get = await http(on.url, 'GET', '/v1/sessions', { key: KEY_A, headers: { origin: 'https://app.example' } });
    expect(get.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const other = await http(on.url, 'GET', '/v1/sessions', { key: KEY_A, headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('rate limits per key with 429 and Retry-After', async () => {
    const s = await start({ app: { rateLimit: { perMinute: 3 } } });
    const codes: number[] = [];
    let last: HttpAnswer<any> | null = null;
    for (let i = 0; i < 4; i++) {
      last = await http(s.url, 'GET', '/v1/sessions', { key: KEY_A });
      codes.push(last.status);
    }
    expect(codes).toEqual([200, 200, 200, 429]);
    expect(last!.body.error.code).toBe('rate_limited');
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Another key has its own bucket; health is never limited.
    expect((await http(s.url, 'GET', '/v1/sessions', { key: 'test-key-bob-0123456789ab' })).status).toBe(200);
    expect((await http(s.url, 'GET', '/health')).status).toBe(200);
  });

  it('answers a core failure with 500 core_failure, then recovers', async () => {
    const fault = faults();
    const s = await start({ runtime: { instrument: fault } });
    const created = await http(s.url, 'POST', '/v1/sessions', { key: KEY_A, body: { agent_id: 'a', goal: 'g' } });
    fault.arm({ op: 'session.get', kind: 'trap-before' });
    const r = await http(s.url, 'GET', `/v1/sessions/${created.body.session_id}`, { key: KEY_A });
    expect(r.status).toBe(500);
    expect(r.body.error).toMatchObject({ code: 'core_failure', path: null });
    const again = await http(s.url, 'GET', '/v1/sessions', { key: KEY_A });
    expect(again.status).toBe(200);
    expect(again.body.items.map((x: { session_id: string }) => x.session_id)).toEqual([created.body.session_id]);
  });

  it('reports health without a key', async () => {
    const s = await start();
    for (const path of ['/health', '/v1/health']) {
      const r = await http(s.url, 'GET', path);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ status: 'healthy', version: '0.1.0', mode: 'server' });
    }
  });
});
