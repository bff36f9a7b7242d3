/**
 * The body of every request, read once, up front, as JSON: so that a route never sees a body it cannot parse, and
 * every body error is the same typed answer whatever route it reached.
 *
 * - empty (or whitespace) → no body: the request goes on without one (and without its content type);
 * - a body not declared JSON (`application/json` or `application/<x>+json`), or declared nothing → 415
 *   `unsupported_media_type`. A browser sends a form (`text/plain`, `application/x-www-form-urlencoded`,
 *   `multipart/form-data`) or a typeless blob cross-origin without asking first; a JSON type forces a CORS preflight,
 *   so that no page a user visits can drive a server (one with auth off above all) through their browser;
 * - then bytes that are not UTF-8 → 400 `invalid_json`; a duplicate key or nesting deeper than the core accepts →
 *   400 `invalid_json` at the member's pointer (`strict-json.ts`: the core refuses both, and anything recursive
 *   downstream would overflow on a deep body); otherwise invalid → 400 `invalid_json` (path `""`, the whole body);
 *   valid → the parsed value is kept for the routes ({@link parsedBody}).
 *
 * The body is read before its type is looked at, by the limit in front ({@link bodyUpTo}): an oversized body is 413
 * whatever its type, and a body still arriving after the deadline is 408 `request_timeout` (a client that declares
 * 1000 bytes and sends 10 would otherwise hold its request open for good). Errors are thrown (`CraError`), for the
 * app's error handler to answer.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from 'hono';
import { CraError } from '../../../../sdk/src/errors.ts';
import { httpError } from '../../errors.ts';
import { strictJsonFinding } from './strict-json.ts';

const JSON_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Default time for a body to arrive once its request reached the app (ms). */
export const DEFAULT_BODY_TIMEOUT_MS = 30_000;

/**
 * The limit in front of {@link jsonBody}: the body is read here, whole, within `timeoutMs` (0: no limit) — still
 * arriving after it → 408 `request_timeout` with `Connection: close` — and up to `maxBytes` — over it → 413
 * `payload_too_large`, before a byte is read when the declared length says so.
 */
export function bodyUpTo(maxBytes: number, timeoutMs: number = DEFAULT_BODY_TIMEOUT_MS): MiddlewareHandler {
  return async (c, next) => {
    // The method first: a GET or HEAD request has no body, and asking the Node adapter for one builds a whole
    // `Request` (signal and all) that nothing else of such a request needs.
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const raw = c.req.raw;
    const declared = raw.headers.get('content-length');
    const framed = declared !== null && DIGITS.test(declared) && !raw.headers.has('transfer-encoding');
    if (framed && Number(declared) > maxBytes) throw tooLarge(maxBytes);
    let buffer: ArrayBuffer;
    if (framed) {
      // A declared length bounds the body (the HTTP layer reads no more): it is read whole, as bytes. On Node this
      // is the adapter's direct read of the socket; `raw.body` would first build a whole `Request` with a web stream
      // over it, the largest part of what a small JSON request costs.
      buffer = await withinTime(raw.arrayBuffer(), timeoutMs);
      if (buffer.byteLength > maxBytes) throw tooLarge(maxBytes);
    } else {
      if (raw.body === null) return next();
      const bytes = await readUpTo(raw.body, maxBytes, timeoutMs);
      buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    }
    // Kept as the request's cached bytes (what `c.req.arrayBuffer()`/`text()`/`json()` read): the request itself is
    // left as it came (rebuilding it would read its signal, which some runtimes warn about).
    (c.req.bodyCache as { arrayBuffer?: Promise<ArrayBuffer> }).arrayBuffer = Promise.resolve(buffer);
    return next();
  };
}

const DIGITS = /^\d+$/;

/** `read`, or 408 once `timeoutMs` pass (0: no limit); the read itself is not awaited then. */
async function withinTime<T>(read: Promise<T>, timeoutMs: number): Promise<T> {
  if (timeoutMs <= 0) return read;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(lateBody(timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([read, late]);
  } finally {
    clearTimeout(timer);
  }
}

const lateBody = (timeoutMs: number) =>
  httpError('request_timeout', `the request body did not arrive within ${timeoutMs} ms`, { headers: { Connection: 'close' } });

// The rest of an oversized body is never read: the connection cannot carry another request, so the client is told.
const tooLarge = (maxBytes: number) =>
  httpError('payload_too_large', `the request body is larger than ${maxBytes} bytes`, { headers: { Connection: 'close' } });

/** Every byte of `stream`, or 408 once `timeoutMs` pass (the rest is not awaited), or 413 past `maxBytes`. */
async function readUpTo(stream: ReadableStream<Uint8Array>, maxBytes: number, timeoutMs: number): Promise<Uint8Array> {
  const reader = stream.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late =
    timeoutMs > 0
      ? new Promise<never>((_, fail) => {
          timer = setTimeout(() => fail(lateBody(timeoutMs)), timeoutMs);
        })
      : null;
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = late ? await Promise.race([reader.read(), late]) : await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) throw tooLarge(maxBytes);
      chunks.push(value);
    }
  } catch (err) {
    reader.cancel().catch(() => undefined);
    throw err;
  } finally {
    clearTimeout(timer);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

const PARSED = 'craJsonBody';

/**
 * The body as `JSON.parse` read it, or `undefined` without one. Routes hand this on rather than the validator's
 * output: a validator rebuilds objects by assignment, which drops an own `__proto__` member, and what is validated,
 * hashed and recorded must be exactly what was sent.
 */
export function parsedBody(c: Context): unknown {
  return (c.get as (key: string) => unknown)(PARSED);
}

export function jsonBody(): MiddlewareHandler {
  return async (c, next) => {
    const raw = c.req.raw;
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    // Read already (behind bodyUpTo): asking for `raw.body` again would build the Node adapter's whole `Request`.
    const read = (c.req.bodyCache as { arrayBuffer?: Promise<ArrayBuffer> }).arrayBuffer !== undefined;
    if (!read && raw.body === null) return next();
    // First: behind bodyUpTo, an oversized or late body is 413/408 whatever its type.
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    let text: string | null = null;
    try {
      text = STRICT_UTF8.decode(bytes);
    } catch {
      // not UTF-8: refused below, unless it is not declared JSON (415)
    }
    const type = raw.headers.get('content-type');
    if (text !== null && text.trim() === '') {
      const headers = new Headers(raw.headers);
      headers.delete('content-type');
      headers.delete('content-length');
      c.req.raw = new Request(raw.url, { method: raw.method, headers, signal: raw.signal });
      c.req.bodyCache = {};
      return next();
    }
    if (type === null || !JSON_TYPE.test(type)) {
      const declared = type === null || type.split(';')[0]!.trim() === '' ? 'none' : type.split(';')[0]!.trim();
      throw httpError('unsupported_media_type', `send JSON bodies with Content-Type: application/json (this one has ${declared}; with curl: -H 'Content-Type: application/json')`);
    }
    // Decoding with replacement characters would change what was sent; the core refuses such text too.
    if (text === null) throw new CraError('invalid_json', 'the request body is not valid JSON: not UTF-8', { path: '' });
    (c.req.bodyCache as { text?: Promise<string> }).text = Promise.resolve(text);
    const finding = strictJsonFinding(text);
    if (finding) throw new CraError('invalid_json', `the request body is not valid JSON: ${finding.message}`, { path: finding.path });
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new CraError('invalid_json', `the request body is not valid JSON: ${(err as Error).message}`, { path: '' });
    }
    (c.set as (key: string, value: unknown) => void)(PARSED, value);
    return next();
  };
}

