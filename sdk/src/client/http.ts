/**
 * The transport of the HTTP client: one JSON request at a time over `fetch`, the API key as a bearer token, and
 * every failure as a `CraError` — the server's `{error: {code, message, path}}` rebuilt as it was thrown there.
 *
 * @module
 */

import { context, propagation } from '@opentelemetry/api';
import { CraError } from '../errors.ts';
import { checkJsonValue, describeValue, jsonValue } from '../json-value.ts';
import { isObject, kindOf } from '../util.ts';
import type { HostAbortSignal, HostFetch, HostResponse } from '../runtime/host-types.ts';

/** Where the server is and how to reach it (the part of `ClientOptions` the transport reads). */
export interface HttpOptions {
  /** The server, e.g. `http://127.0.0.1:8420`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Default: the global `fetch`. */
  fetch?: HostFetch;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
  /** Per-request timeout in ms (default: none). */
  timeoutMs?: number;
}

/** A `CraError` with the HTTP status the server answered (codes of the HTTP layer are not in `ERROR_STATUS`). */
export function errorWithStatus(code: string, message: string, path: string | null, status: number, cause?: unknown): CraError {
  return new CraError(code, message, { path, status, ...(cause === undefined ? {} : { cause }) });
}

/** Sends the client's requests: one instance per client, holding the base URL, key, headers and timeout. */
export class HttpTransport {
  readonly baseUrl: string;
  private readonly apiKey: string | undefined;
  private readonly fetchFn: typeof fetch;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number | undefined;

  constructor(options: HttpOptions) {
    checkHttpOptions(options);
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.apiKey = options.apiKey;
    this.fetchFn = options.fetch ?? ((...args: Parameters<typeof fetch>) => fetch(...args));
    this.headers = { ...options.headers };
    this.timeoutMs = options.timeoutMs;
  }

  /** `path` is already encoded. Answers the parsed JSON body (`undefined` for 204). */
  async request<T>(method: string, path: string, body?: unknown, accept = 'application/json'): Promise<T> {
    const res = await this.send(method, path, body, accept);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw errorWithStatus('invalid_json', `${method} ${path} answered a body that is not JSON`, null, 502, err);
    }
  }

  /** The raw response of a successful request (non-2xx answers reject with their `CraError`). */
  async send(method: string, path: string, body?: unknown, accept = 'application/json', signal?: HostAbortSignal): Promise<HostResponse> {
    const headers: Record<string, string> = { accept, ...this.headers };
    if (this.apiKey !== undefined) headers.authorization = `Bearer ${this.apiKey}`;
    // The active trace context (`traceparent` …) for the server to continue; nothing without a registered propagator.
    propagation.inject(context.active(), headers);
    let payload: string | undefined;
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      // Checked without recursion first: JSON.stringify would overflow on a deep value, or send `null` for NaN.
      payload = JSON.stringify(jsonValue(body));
    }
    const signals = [signal, this.timeoutMs !== undefined ? AbortSignal.timeout(this.timeoutMs) : undefined].filter(
      (s): s is AbortSignal => s !== undefined,
    );
    let res: Response;
    try {
      res = await this.fetchFn(`${this.baseUrl}${path}`, {
        method,
        headers,
        ...(payload === undefined ? {} : { body: payload }),
        ...(signals.length > 0 ? { signal: signals.length === 1 ? signals[0] : AbortSignal.any(signals) } : {}),
      });
    } catch (err) {
      throw errorWithStatus('unavailable', `${method} ${this.baseUrl}${path} failed: ${(err as Error)?.message ?? String(err)}`, null, 503, err);
    }
    if (!res.ok) throw await toError(res, method, path);
    return res;
  }
}

/** Refuses client options of the wrong shape, each at its own pointer. */
function checkHttpOptions(options: HttpOptions): void {
  if (!isObject(options)) throw new CraError('invalid_request', `client options must be an object, not ${kindOf(options)}`, { path: '' });
  if (typeof options.baseUrl !== 'string' || !/^https?:\/\//i.test(options.baseUrl)) {
    throw new CraError('invalid_request', 'baseUrl must be an http(s) URL', { path: '/baseUrl' });
  }
  if (options.apiKey !== undefined && typeof options.apiKey !== 'string') {
    throw new CraError('invalid_request', 'apiKey must be a string', { path: '/apiKey' });
  }
  if (options.fetch !== undefined && typeof options.fetch !== 'function') {
    throw new CraError('invalid_request', 'fetch must be a function', { path: '/fetch' });
  }
  if (options.headers !== undefined) {
    if (!isObject(options.headers)) throw new CraError('invalid_request', 'headers must map names to strings', { path: '/headers' });
    for (const [name, value] of Object.entries(options.headers)) {
      if (typeof value !== 'string') throw new CraError('invalid_request', `header ${name} must be a string`, { path: `/headers/${name.replace(/~/g, '~0').replace(/\//g, '~1')}` });
    }
  }
  const t = options.timeoutMs;
  if (t !== undefined && (typeof t !== 'number' || !Number.isSafeInteger(t) || t <= 0)) {
    throw new CraError('invalid_request', 'timeoutMs must be a positive integer', { path: '/timeoutMs' });
  }
}

/**
 * An id as a path segment. A string that JSON cannot carry (a lone surrogate) is refused at `path`, as the embedded
 * runtime refuses it; any other value still reaches the server, which answers what the runtime would.
 */
export function segment(id: unknown, path: string): string {
  if (typeof id === 'string') checkJsonValue(id, path);
  const s = typeof id === 'string' ? id : describeValue(id);
  return s === '' ? '%20' : encodeURIComponent(s);
}

async function toError(res: Response, method: string, path: string): Promise<CraError> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; path?: unknown } };
    const e = body?.error;
    if (e && typeof e.code === 'string' && typeof e.message === 'string') {
      return errorWithStatus(e.code, e.message, typeof e.path === 'string' ? e.path : null, res.status);
    }
  } catch {
    // not JSON: described below
  }
  const code = res.status === 404 ? 'not_found' : res.status === 401 ? 'unauthorized' : res.status >= 500 ? 'internal' : 'invalid_request';
  return errorWithStatus(code, `${method} ${path} answered ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`, null, res.status);
}

