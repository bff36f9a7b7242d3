/**
 * The body of every request, read once, up front, as JSON: so that a route never sees a body it cannot parse, and
 * every body error is the same typed answer whatever route it reached.
 *
 * - empty (or whitespace) → no body: the request goes on without one (and without its content type);
 * - `multipart/form-data` (a form upload, never JSON) → 415 `unsupported_media_type`;
 * - anything else is parsed as JSON whatever its declared type (curl's `-d` says
 *   `application/x-www-form-urlencoded`): invalid → 400 `invalid_json` (path `""`, the whole body); valid → the
 *   request is labelled `application/json`, so that the route validators read the cached text.
 *
 * The text is read before the type is looked at: behind a body limit (`hono/body-limit`), an oversized body is 413
 * whatever its type. Errors are thrown (`CraError`), for the app's error handler to answer.
 *
 * @module
 */

import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { CraError } from '../../../../sdk/src/errors.ts';
import { httpError } from '../../errors.ts';

const JSON_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;
const MULTIPART = /^\s*multipart\/form-data\s*(;|$)/i;

/** The limit in front of {@link jsonBody}: a body over `maxBytes` is 413 `payload_too_large`, before it is read. */
export function bodyUpTo(maxBytes: number): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw httpError('payload_too_large', `the request body is larger than ${maxBytes} bytes`);
    },
  });
}

export function jsonBody(): MiddlewareHandler {
  return async (c, next) => {
    const raw = c.req.raw;
    if (raw.body === null || c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const text = await c.req.text(); // first: an oversized body is 413 whatever its type
    const type = raw.headers.get('content-type');
    if (text.trim() === '') {
      const headers = new Headers(raw.headers);
      headers.delete('content-type');
      headers.delete('content-length');
      c.req.raw = new Request(raw.url, { method: raw.method, headers, signal: raw.signal });
      c.req.bodyCache = {};
      return next();
    }
    if (type !== null && MULTIPART.test(type)) {
      throw httpError('unsupported_media_type', `send JSON bodies, not ${type.split(';')[0]!.trim()}`);
    }
    try {
      JSON.parse(text);
    } catch (err) {
      throw new CraError('invalid_json', `the request body is not valid JSON: ${(err as Error).message}`, { path: '' });
    }
    if (type === null || !JSON_TYPE.test(type)) {
      const headers = new Headers(raw.headers);
      headers.set('content-type', 'application/json');
      headers.delete('content-length');
      c.req.raw = new Request(raw.url, { method: raw.method, headers, body: text, signal: raw.signal });
    }
    return next();
  };
}
