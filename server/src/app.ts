/**
 * The Hono app that puts a CRA runtime behind HTTP. Web-standard only: the same app runs on Node (`adapter/node/`),
 * Deno (`adapter/deno/`) and workerd (`adapter/workerd/`), each over `assemble()`, which builds it from a configuration.
 *
 * ```ts
 * const events = new TraceEvents();
 * const runtime = await createRuntime({ storage: observeStore(memoryStore(), events) });
 * const app = createApp({ runtime, events, auth: { keys: [process.env.CRA_API_KEY!] } });
 * ```
 *
 * @module
 */

import { OpenAPIHono } from '@hono/zod-openapi';
import { cors } from 'hono/cors';
import { basePath } from 'hono/route';
import { CraError } from '../../sdk/src/errors.ts';
import type { CraRuntime } from '../../sdk/src/interface.ts';
import { type AuthOptions, authenticate, KeyRing, checkKeys } from './auth/keys.ts';
import { MemoryOwners, type OwnerStore, Ownership } from './auth/owner.ts';
import { rateLimit, type RateLimitOptions } from './auth/rate-limit.ts';
import type { App, AppEnv, Services } from './context.ts';
import { errorBody, errorResponse, pointer } from './errors.ts';
import type { TraceEvents } from './events.ts';
import { ServerMetrics } from './metrics/server-metrics.ts';
import { bodyUpTo, DEFAULT_BODY_TIMEOUT_MS, jsonBody } from './middleware/json-body/index.ts';
import { type LogFormat, requestLog } from './middleware/request-log/index.ts';
import { traceContext } from './middleware/trace-context/index.ts';
import { actionRoutes } from './routes/actions.ts';
import { atlasRoutes } from './routes/atlases.ts';
import { type DocsOptions, docsRoutes } from './routes/docs.ts';
import { healthRoutes } from './routes/health.ts';
import { mcpRoutes, type McpRouteOptions } from './routes/mcp.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { openapiRoutes } from './routes/openapi.ts';
import { resolveRoutes } from './routes/resolve.ts';
import { sessionRoutes } from './routes/sessions.ts';
import { traceRoutes } from './routes/traces.ts';
import { proofRoutes } from './routes/proofs.ts';

/** The largest request body the app accepts when `maxBodyBytes` is not given: 1 MiB, in bytes. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** The version the server reports (`GET /health`, the OpenAPI document) when `version` is not given. */
export const SERVER_VERSION = '0.1.0';

/** What {@link createApp} takes: the runtime to serve, its keys (`auth`), and how it is served. */
export interface AppOptions {
  /** The runtime served: embedded (`createRuntime`) or any other `CraRuntime`. */
  runtime: CraRuntime;
  /**
   * API keys. Auth is on unless this is explicitly `false` (local use: no key, every session visible); with auth on
   * and no key the app refuses to start.
   */
  auth?: AuthOptions | false;
  /** Who owns which session (default: in memory; `FileOwners` on Node keeps it across restarts). */
  owners?: OwnerStore;
  /** Live events for `GET /v1/traces/:id/stream` (see `observeStore`); without it the stream polls the store. */
  events?: TraceEvents | null;
  /** Largest accepted body in bytes (default 1 MiB); larger → 413. */
  maxBodyBytes?: number;
  /**
   * Longest wait for a body once its request reached the app, ms (default 30 000; 0: no limit); later → 408
   * `request_timeout`. The Node listener bounds the headers (`adapter/node/listen.ts`).
   */
  bodyTimeoutMs?: number;
  /** Origins allowed by CORS (`*` for any); empty or omitted: no CORS headers. */
  corsOrigins?: string[];
  /** Per-key token bucket; default off. */
  rateLimit?: RateLimitOptions | false;
  /** Ends open SSE streams when aborted (graceful shutdown; closing `events` does too). */
  shutdown?: AbortSignal;
  /** Called with unexpected (5xx) errors. Default: console.error. */
  onError?: (err: unknown) => void;
  /** The version reported by `GET /health`, `GET /metrics` and the OpenAPI document. Default {@link SERVER_VERSION}. */
  version?: string;
  /** SSE keep-alive interval, ms (default 15 000). */
  heartbeatMs?: number;
  /** SSE poll interval without an event hub, ms (default 250). */
  pollMs?: number;
  /** The upstream MCP server of `POST /v1/sessions/:id/mcp` (see `routes/mcp.ts`); without it that route answers 501. */
  mcp?: McpRouteOptions;
  /** One line per request (`middleware/request-log`): its format and where it goes. Default: no log. */
  requestLog?: {
    /** `text`: one human-readable line per request; `json`: the {@link RequestRecord} on one line. */
    format: LogFormat;
    /** Takes each line (without a newline). A write that throws is ignored: the log never fails a request. */
    write: (line: string) => void;
  } | null;
  /**
   * The counters of `GET /metrics` (admin keys): pass one to share it (a metrics listener of its own reads it too);
   * default: a new one; `false`: no metrics and no route. Decisions and trace events are counted from `events`.
   */
  metrics?: ServerMetrics | false;
  /** `GET /docs` (Swagger UI, assets from a CDN unless `assetsUrl` is given); `false`: no page. */
  docs?: DocsOptions | false;
}

/** Paths served without a key, relative to where the app is mounted. */
const PUBLIC = new Set(['/health', '/v1/health', '/openapi.json', '/docs', '/docs/', '/v1/checkpoint-key']);

/** Whether `path` is public, wherever the app is mounted (`root.route('/cra', app)`: `/cra/health` is). */
function isPublic(c: Parameters<typeof basePath>[0]): boolean {
  const path = c.req.path;
  const base = basePath(c);
  if (base === '/' || base === '') return PUBLIC.has(path);
  return path.startsWith(base) && PUBLIC.has(path.slice(base.length));
}

/**
 * Builds the app over `options.runtime`: routes, authentication, limits, request log and metrics. Throws
 * `invalid_request` (with the option's path) for options that cannot work, such as auth on without keys.
 */
export function createApp(options: AppOptions): App {
  if (!options || typeof options.runtime !== 'object' || options.runtime === null) {
    throw new CraError('invalid_request', 'createApp needs a runtime', { path: '/runtime' });
  }
  const auth = options.auth;
  if (auth !== false) {
    if (auth === undefined) {
      throw new CraError('invalid_request', 'auth is on by default and needs API keys: pass auth: { keys } (or auth: false for local use)', {
        path: '/auth',
      });
    }
    checkKeys(auth);
  }
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isSafeInteger(maxBody) || maxBody < 1) {
    throw new CraError('invalid_request', 'maxBodyBytes must be a positive integer', { path: '/maxBodyBytes' });
  }
  const bodyTimeoutMs = options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  if (!Number.isSafeInteger(bodyTimeoutMs) || bodyTimeoutMs < 0) {
    throw new CraError('invalid_request', 'bodyTimeoutMs must be a non-negative integer', { path: '/bodyTimeoutMs' });
  }
  const log = options.onError ?? ((err: unknown) => console.error('[cra-server]', err));
  const services: Services = {
    runtime: options.runtime,
    ownership: new Ownership(options.owners ?? new MemoryOwners(), auth !== false, options.runtime),
    events: options.events ?? null,
    version: options.version ?? SERVER_VERSION,
    startedAt: Date.now(),
    heartbeatMs: options.heartbeatMs ?? 15_000,
    pollMs: options.pollMs ?? 250,
    shutdown: options.shutdown ?? null,
  };

  const app: App = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const issue = result.error.issues[0]!;
        const path = [...issue.path];
        if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) path.push(issue.keys[0]!);
        throw new CraError('invalid_request', issue.message, { path: pointer(path) });
      }
    },
  });

  const metrics = options.metrics === false ? null : (options.metrics ?? new ServerMetrics());
  if (metrics && options.events) metrics.observe(options.events);

  app.onError((err, c) => errorResponse(c, err, log));
  app.notFound((c) => c.json(errorBody('not_found', `no route ${c.req.method} ${new URL(c.req.url).pathname}`), 404));

  // First: it times the whole answer and names every request, refused ones included.
  app.use('*', requestLog({ log: options.requestLog ?? null, metrics }));
  // The caller's trace context, for the runtime's spans (a no-op without an OpenTelemetry SDK in the host).
  app.use('*', traceContext());

  if (options.corsOrigins && options.corsOrigins.length > 0) {
    const origins = options.corsOrigins;
    app.use(
      '*',
      cors({
        origin: origins.includes('*') ? '*' : origins,
        allowHeaders: ['Authorization', 'X-API-Key', 'Content-Type', 'Last-Event-ID', 'Accept', 'Mcp-Protocol-Version', 'X-Request-Id'],
        allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
        exposeHeaders: ['Retry-After', 'WWW-Authenticate', 'X-Request-Id'],
        maxAge: 600,
      }),
    );
  }

  const ring = auth === false ? null : KeyRing.create(auth);
  ring?.catch(() => undefined);
  const authn = authenticate(ring);
  app.use('*', (c, next) => (isPublic(c) ? next() : authn(c, next)));
  if (options.rateLimit) {
    const limit = rateLimit(options.rateLimit);
    app.use('*', (c, next) => (isPublic(c) ? next() : limit(c, next)));
  }
  app.use('*', bodyUpTo(maxBody, bodyTimeoutMs));
  app.use('*', jsonBody());

  healthRoutes(app, services);
  sessionRoutes(app, services);
  resolveRoutes(app, services);
  actionRoutes(app, services);
  mcpRoutes(app, services, options.mcp);
  traceRoutes(app, services);
  proofRoutes(app, services);
  atlasRoutes(app, services);
  if (metrics) metricsRoutes(app, { metrics, runtime: options.runtime, version: services.version });
  openapiRoutes(app, services.version);
  if (options.docs !== false) docsRoutes(app, options.docs ?? {});
  return app;
}
