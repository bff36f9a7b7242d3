/**
 * The JSON-body middleware on its own, over a tiny Hono app (the app's error handler, a body limit in front as in
 * `createApp`) answering real requests: what a route then sees, and the typed errors.
 */

import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { errorResponse } from '../../errors.ts';
import { bodyUpTo, jsonBody, parsedBody } from './index.ts';

const LIMIT = 64;

/** Echoes what the route sees: the content type and the parsed body (or `null` without one). */
function tinyApp(limit = LIMIT, timeoutMs?: number) {
  const app = new Hono();
  app.onError((err, c) => errorResponse(c, err));
  app.use('*', bodyUpTo(limit, timeoutMs));
  app.use('*', jsonBody());
  app.all('/echo', async (c) => {
    const type = c.req.header('content-type') ?? null;
    return c.json({ type, body: c.req.raw.body === null ? null : await c.req.json() });
  });
  app.post('/keys', (c) => c.json({ keys: Object.keys(parsedBody(c) as object) }));
  return app;
}

const JSON_TYPE = { 'content-type': 'application/json' };

const post = (body: BodyInit | null, type?: string, method = 'POST') =>
  tinyApp().request('/echo', { method, body, headers: type === undefined ? {} : { 'content-type': type } });

describe('jsonBody middleware', () => {
  it('passes valid JSON declared JSON on', async () => {
    for (const type of ['application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/vnd.api+json']) {
      const res = await post('{"a":1}', type);
      expect([type, res.status, (await res.json()).body]).toEqual([type, 200, { a: 1 }]);
    }
  });

  it('answers a body not declared JSON with 415, whatever it holds (what a cross-origin form or blob could send)', async () => {
    for (const type of [undefined, '', 'text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream', 'application/jsonx', 'application/xml']) {
      const res = await post(new TextEncoder().encode('{"a":[1,2]}'), type);
      expect([type, res.status, (await res.json()).error.code]).toEqual([type, 415, 'unsupported_media_type']);
    }
    const res = await post('{"a":1}', 'text/plain');
    expect((await res.json()).error).toEqual({ code: 'unsupported_media_type', message: "send JSON bodies with Content-Type: application/json (this one has text/plain; with curl: -H 'Content-Type: application/json')", path: null });
  });

  it('drops an empty body and its content type', async () => {
    for (const body of ['', '  \n ']) {
      const res = await post(body, 'application/json');
      expect([JSON.stringify(body), res.status, await res.json()]).toEqual([JSON.stringify(body), 200, { type: null, body: null }]);
    }
  });

  it('answers invalid JSON with 400 invalid_json, path "" (the whole body)', async () => {
    for (const [raw, type] of [
      ['{"a": 1,', 'application/json'],
      ['not json', 'application/json'],
      ['{"a":1}}', 'application/vnd.api+json'],
    ] as const) {
      const res = await post(raw, type);
      expect(res.status).toBe(400);
      const { error } = await res.json();
      expect(error).toMatchObject({ code: 'invalid_json', path: '' });
      expect(error.message).toMatch(/^the request body is not valid JSON: /);
    }
  });

  it('answers bytes that are not UTF-8 with 400 invalid_json, rather than reading replacement characters', async () => {
    for (const bytes of [[0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d], [0x22, 0xc0, 0xaf, 0x22], [0x22, 0xed, 0xa0, 0x80, 0x22]]) {
      const res = await post(new Uint8Array(bytes), 'application/json');
      expect([res.status, await res.json()]).toEqual([400, { error: { code: 'invalid_json', message: 'the request body is not valid JSON: not UTF-8', path: '' } }]);
    }
    expect(await (await post(new TextEncoder().encode('["é😀"]'), 'application/json')).json()).toMatchObject({ body: ['é😀'] });
  });

  it('answers multipart/form-data with 415 unsupported_media_type', async () => {
    const res = await post('--x\r\n', 'multipart/form-data; boundary=x');
    expect(res.status).toBe(415);
    expect(await res.json()).toEqual({ error: { code: 'unsupported_media_type', message: "send JSON bodies with Content-Type: application/json (this one has multipart/form-data; with curl: -H 'Content-Type: application/json')", path: null } });
  });

  it('reads the body before its type: over the limit it is 413, even when it would be 415', async () => {
    const big = `{"a":"${'x'.repeat(LIMIT)}"}`;
    for (const type of ['application/json', 'multipart/form-data; boundary=x']) {
      const res = await post(big, type);
      expect([type, res.status, (await res.json()).error.code]).toEqual([type, 413, 'payload_too_large']);
    }
  });

  it('leaves GET and HEAD alone', async () => {
    const res = await tinyApp().request('/echo');
    expect(await res.json()).toEqual({ type: null, body: null });
  });

  it('refuses duplicate keys with 400 invalid_json at the duplicated member, keys compared decoded', async () => {
    const app = tinyApp(1 << 20);
    for (const [raw, path] of [
      ['{"approval_hash":"000","approval_hash":"abc"}', '/approval_hash'],
      ['{"p":{"a":1,"\\u0061":2}}', '/p/a'],
      ['[{"x/y":[{"~":1,"~":2}]}]', '/0/x~1y/0/~0'],
    ] as const) {
      const res = await app.request('/echo', { method: 'POST', body: raw, headers: JSON_TYPE });
      expect([raw, res.status, (await res.json()).error]).toEqual([
        raw,
        400,
        { code: 'invalid_json', message: expect.stringMatching(/^the request body is not valid JSON: duplicate object key /), path },
      ]);
    }
  });

  it('refuses bodies nested deeper than the core accepts, at the first value past the limit, before parsing them', async () => {
    const app = tinyApp(1 << 20);
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    expect((await app.request('/echo', { method: 'POST', body: deep(128), headers: JSON_TYPE })).status).toBe(200);
    for (const [raw, path] of [
      [deep(129), '/0'.repeat(128)],
      [deep(10_000), '/0'.repeat(128)],
      [`${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`, '/a'.repeat(128)],
      ['['.repeat(500_000), '/0'.repeat(128)],
    ] as const) {
      const res = await app.request('/echo', { method: 'POST', body: raw, headers: JSON_TYPE });
      expect([res.status, await res.json()]).toEqual([
        400,
        { error: { code: 'invalid_json', message: 'the request body is not valid JSON: nesting deeper than 128 levels', path } },
      ]);
    }
  });

  it('hands routes the members as sent, prototype names included', async () => {
    const res = await tinyApp().request('/keys', { method: 'POST', body: '{"__proto__":{"x":1},"constructor":1,"a":1}', headers: JSON_TYPE });
    expect(await res.json()).toEqual({ keys: ['__proto__', 'constructor', 'a'] });
  });

  it('answers 408 request_timeout when the body is still arriving after the limit, and closes the connection', async () => {
    const stalled = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"a":'));
      },
    });
    const t0 = Date.now();
    const res = await tinyApp(LIMIT, 100).request('/echo', { method: 'POST', body: stalled, duplex: 'half', headers: JSON_TYPE } as RequestInit);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect([res.status, res.headers.get('connection'), await res.json()]).toEqual([
      408,
      'close',
      { error: { code: 'request_timeout', message: 'the request body did not arrive within 100 ms', path: null } },
    ]);
    // A body that arrives in time is read as usual.
    expect((await tinyApp(LIMIT, 100).request('/echo', { method: 'POST', body: '[1]', headers: JSON_TYPE })).status).toBe(200);
  });
});
