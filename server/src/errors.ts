/**
 * Every error the server answers is JSON `{error: {code, message, path}}` with the status of its code. Core and SDK
 * errors are `CraError`s (status from the SDK's `ERROR_STATUS`); the HTTP layer has its own codes
 * (`HTTP_ERROR_STATUS`). Every code and status comes from the ABI contract, `wasm/abi.json`.
 *
 * @module
 */

import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { HTTP_ERROR_STATUS, type HttpErrorCode } from '../../sdk/src/abi.ts';
import { CraError, ERROR_STATUS } from '../../sdk/src/errors.ts';

export { HTTP_ERROR_STATUS, type HttpErrorCode };

/** The status of any code: core/SDK codes through `ERROR_STATUS`, HTTP codes through {@link HTTP_ERROR_STATUS}. */
export function statusOf(code: string): number {
  return (HTTP_ERROR_STATUS as Record<string, number>)[code] ?? (ERROR_STATUS as Record<string, number>)[code] ?? 500;
}

/** A `CraError` carrying an HTTP-layer code; its `status` is the HTTP status (the SDK's table knows only core codes). */
export function httpError(code: HttpErrorCode | string, message: string, options: { path?: string | null; headers?: Record<string, string> } = {}): CraError {
  const err = new CraError(code, message, { path: options.path ?? null, status: statusOf(code) });
  if (options.headers) Object.defineProperty(err, 'headers', { value: options.headers });
  return err;
}

export interface ErrorBody {
  error: { code: string; message: string; path: string | null };
}

export function errorBody(code: string, message: string, path: string | null = null): ErrorBody {
  return { error: { code, message, path } };
}

/** A JSON pointer (RFC 6901) of a validation issue path. */
export function pointer(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p) => `/${String(p).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

/** The answer for any thrown value: CraError → its code; Hono's HTTP exceptions → a JSON error; anything else → 500. */
export function errorResponse(c: Context, err: unknown, log?: (err: unknown) => void): Response {
  if (err instanceof CraError) {
    const headers = (err as { headers?: Record<string, string> }).headers;
    if (headers) for (const [k, v] of Object.entries(headers)) c.header(k, v);
    if (err.status === 401) c.header('WWW-Authenticate', 'Bearer realm="cra"');
    if (err.status >= 500 && err.code !== 'closed') log?.(err);
    return c.json(err.toJSON(), err.status as ContentfulStatusCode);
  }
  if (err instanceof HTTPException) {
    const status = err.status;
    if (status === 413) return c.json(errorBody('payload_too_large', 'the request body is larger than the server accepts'), 413);
    if (status === 415) return c.json(errorBody('unsupported_media_type', 'send JSON bodies with Content-Type: application/json'), 415);
    if (status === 400) return c.json(errorBody('invalid_json', 'the request body is not valid JSON', ''), 400);
    if (status === 401) return c.json(errorBody('unauthorized', err.message || 'authentication required'), 401);
    return c.json(errorBody(status >= 500 ? 'internal' : 'invalid_request', err.message || 'request failed'), status as ContentfulStatusCode);
  }
  log?.(err);
  return c.json(errorBody('internal', 'internal server error'), 500);
}
