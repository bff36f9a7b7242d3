/**
 * The JSON-body middleware on its own, over a tiny Hono app (the app's error handler, a body limit in front as in
 * `createApp`) answering real requests: what a route then sees, and the typed errors.
 */

import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { errorResponse } from '../../errors.ts';
import { bodyUpTo, jsonBody } from './index.ts';

const LIMIT = 64;

/** Echoes what the route sees: the content type and the parsed body (or `null` without one). */
function tinyApp() {
  const app = new Hono();
  app.onError((err, c) => errorResponse(c, err));
  app.use('*', bodyUpTo(LIMIT));
  app.use('*', jsonBody());
  app.all('/echo', async (c) => {
    const type = c.req.header('content-type') ?? null;
    return c.json({ type, body: c.req.raw.body === null ? null : await c.req.json() });
  });
  return app;
}

const post = (body: BodyInit | null, type?: string, method = 'POST') =>
  tinyApp().request('/echo', { method, body, headers: type === undefined ? {} : { 'content-type': type } });

describe('jsonBody middleware', () => {
  it('passes valid JSON on, labelled application/json whatever its declared type', async () => {
    for (const type of [undefined, 'application/json', 'application/json; charset=utf-8', 'application/vnd.api+json']) {
      const res = await post('{"a":1}', type);
      expect([type, res.status, (await res.json()).body]).toEqual([type, 200, { a: 1 }]);
    }
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream']) {
      const res = await post('{"a":[1,2]}', type);
      expect([type, res.status, await res.json()]).toEqual([type, 200, { type: 'application/json', body: { a: [1, 2] } }]);
    }
    // Bytes without a declared type.
    const bytes = await post(new TextEncoder().encode('[true]'));
    expect(await bytes.json()).toEqual({ type: 'application/json', body: [true] });
  });

  it('drops an empty body and its content type', async () => {
    for (const body of ['', '  \n ']) {
      const res = await post(body, 'application/json');
      expect([JSON.stringify(body), res.status, await res.json()]).toEqual([JSON.stringify(body), 200, { type: null, body: null }]);
    }
  });

  it('answers invalid JSON with 400 invalid_json, path "" (the whole body), whatever its declared type', async () => {
    for (const [raw, type] of [
      ['{"a": 1,', 'application/json'],
      ['not json', 'text/plain'],
      ['{"a":1}}', undefined],
    ] as const) {
      const res = await post(raw, type);
      expect(res.status).toBe(400);
      const { error } = await res.json();
      expect(error).toMatchObject({ code: 'invalid_json', path: '' });
      expect(error.message).toMatch(/^the request body is not valid JSON: /);
    }
  });

  it('answers multipart/form-data with 415 unsupported_media_type', async () => {
    const res = await post('--x\r\n', 'multipart/form-data; boundary=x');
    expect(res.status).toBe(415);
    expect(await res.json()).toEqual({ error: { code: 'unsupported_media_type', message: 'send JSON bodies, not multipart/form-data', path: null } });
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
});
