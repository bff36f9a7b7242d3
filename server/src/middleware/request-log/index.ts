/**
 * One record per request, made in one place and handed to whoever wants it: the request log (a line, human or JSON)
 * and the metrics (`cra_http_requests_total` and its durations). And a request id for every request: a well-formed
 * incoming `X-Request-Id` is kept (a proxy's or a client's, so that one id follows the request across systems), any
 * other is replaced by a fresh UUID; either way it is answered in `X-Request-Id`.
 *
 * What a record holds is what an operator needs and nothing a caller must keep secret: method, path (query values
 * whose names look like credentials are redacted), status, duration, request id, the session a route names, and the
 * key's short id (12 hex digits of its hash) — never a key, an `Authorization` or `X-API-Key` header, or a body.
 * The route is the registered pattern (`/v1/sessions/:session_id`), never the raw path: metrics stay bounded.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from 'hono';
import { basePath, matchedRoutes } from 'hono/route';
import type { AppEnv } from '../../context.ts';
import type { ServerMetrics } from '../../metrics/server-metrics.ts';

/** How request log lines are written: `text` for people, `json` (a {@link RequestRecord} a line) for log pipelines. */
export type LogFormat = 'text' | 'json';

/** What the request log records of one request (the fields of a `json` line). */
export interface RequestRecord {
  /** When the request arrived (ISO 8601). */
  time: string;
  /** The request's id, as answered in `X-Request-Id`. */
  request_id: string;
  /** The HTTP method. */
  method: string;
  /** The path as sent (percent-encoded), with its query, credential-like values redacted. */
  path: string;
  /** The route pattern that answered, relative to the app (`unmatched` when none did). */
  route: string;
  /** The HTTP status answered (500 when the handler threw). */
  status: number;
  /** From arrival to the answer, in milliseconds (to the microsecond). */
  duration_ms: number;
  /** The session the path names (lowercase), for routes under `/v1/sessions/:session_id` and the like. */
  session_id?: string;
  /** The short id of the key (`Principal.id`), `local` with auth off; absent when no key was accepted. */
  key_id?: string;
}

export interface RequestLogOptions {
  /** Where log lines go, and in which format; absent or null: no log (request ids and metrics still). */
  log?: { format: LogFormat; write: (line: string) => void } | null;
  /** Counts every request by method, route pattern and status. */
  metrics?: ServerMetrics | null;
}

/** Incoming ids kept as they are: printable, no spaces or quotes (they go into log lines), at most 128 characters. */
const REQUEST_ID = /^[A-Za-z0-9._:@+=/-]{1,128}$/;
/** Query parameters whose values are not logged. */
const SECRET_PARAM = /key|token|secret|auth|passw|signature|credential|cookie/i;

export function requestLog(options: RequestLogOptions = {}): MiddlewareHandler<AppEnv> {
  const log = options.log ?? null;
  const metrics = options.metrics ?? null;
  return async (c, next) => {
    const started = performance.now();
    const incoming = c.req.header('x-request-id');
    const id = incoming !== undefined && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    c.set('requestId', id);
    // Set before the handler, so that answers built by the context carry it without being copied.
    c.header('X-Request-Id', id);
    let failed = true;
    try {
      await next();
      failed = false;
    } finally {
      const seconds = (performance.now() - started) / 1000;
      const status = failed ? 500 : c.res.status;
      if (!failed && c.res.headers.get('x-request-id') !== id) c.header('X-Request-Id', id);
      const route = routeOf(c);
      metrics?.request(c.req.method, route, status, seconds);
      if (log) {
        const record = recordOf(c, id, route, status, seconds * 1000, started);
        try {
          log.write(log.format === 'json' ? JSON.stringify(record) : textLine(record));
        } catch {
          // A log that cannot be written never fails the request.
        }
      }
    }
  };
}

/** The pattern of the route that answered, relative to where the app is mounted; `unmatched` for none. */
function routeOf(c: Context): string {
  const routes = matchedRoutes(c);
  // Middleware is registered on `*`; the last route with a concrete path is the endpoint.
  for (let i = routes.length - 1; i >= 0; i--) {
    const r = routes[i]!;
    if (!r.path.endsWith('*')) return r.basePath !== '/' && r.path.startsWith(r.basePath) ? r.path.slice(r.basePath.length) || '/' : r.path;
  }
  return 'unmatched';
}

function recordOf(c: Context<AppEnv>, id: string, route: string, status: number, ms: number, started: number): RequestRecord {
  const url = c.req.url;
  const pathStart = url.indexOf('/', url.indexOf('//') + 2);
  const target = pathStart < 0 ? '/' : url.slice(pathStart);
  const q = target.indexOf('?');
  const path = q < 0 ? target : `${target.slice(0, q)}?${redactQuery(target.slice(q + 1))}`;
  const record: RequestRecord = {
    time: new Date(performance.timeOrigin + started).toISOString(),
    request_id: id,
    method: c.req.method,
    path,
    route,
    status,
    duration_ms: Math.round(ms * 1000) / 1000,
  };
  const session = sessionOf(c, route, q < 0 ? target : target.slice(0, q));
  if (session !== undefined) record.session_id = session;
  const principal = c.get('principal');
  if (principal) record.key_id = principal.id;
  return record;
}

/** The `:session_id` segment of the path, when the route has one. */
function sessionOf(c: Context, route: string, rawPath: string): string | undefined {
  const at = route.split('/').indexOf(':session_id');
  if (at < 0) return undefined;
  const base = basePath(c);
  const local = base !== '/' && rawPath.startsWith(base) ? rawPath.slice(base.length) : rawPath;
  const segment = local.split('/')[at];
  return segment === undefined || segment === '' ? undefined : segment.toLowerCase();
}

/** A raw query with the values of credential-like parameters replaced; names and other values kept as sent. */
export function redactQuery(query: string): string {
  return query
    .split('&')
    .map((part) => {
      const eq = part.indexOf('=');
      if (eq < 0) return part;
      let name = part.slice(0, eq);
      try {
        name = decodeURIComponent(name.replace(/\+/g, ' '));
      } catch {
        // an undecodable name is tested as sent
      }
      return SECRET_PARAM.test(name) ? `${part.slice(0, eq)}=[redacted]` : part;
    })
    .join('&');
}

/** `time method path status duration request_id [session] [key]`, one line, fields without spaces. */
export function textLine(r: RequestRecord): string {
  let line = `${r.time} ${r.method} ${r.path} ${r.status} ${r.duration_ms.toFixed(1)}ms id=${r.request_id}`;
  if (r.session_id !== undefined) line += ` session=${r.session_id}`;
  if (r.key_id !== undefined) line += ` key=${r.key_id}`;
  return line;
}
