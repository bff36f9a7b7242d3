/**
 * The server as a library (`cra-runtime/server`): the Hono app over any {@link "sdk/src".CraRuntime | CraRuntime},
 * Web-standard only, so the same app runs on Node, Deno (`Deno.serve(app.fetch)`) and edge workers
 * (`export default app`); `assemble` builds runtime, owners and app from a configuration, and `createWorker` is a
 * Worker's `fetch` over it. Node's listener, durable owners and `startServer` are in `cra-runtime/server/node`.
 *
 * ```ts
 * import { createRuntime, memoryStore } from 'cra-runtime';
 * import { createApp, observeStore, TraceEvents } from 'cra-runtime/server';
 *
 * const events = new TraceEvents();
 * const runtime = await createRuntime({ storage: observeStore(memoryStore(), events), atlases: [bundle] });
 * const app = createApp({ runtime, events, auth: { keys: [apiKey] } });
 * ```
 *
 * @module
 */

export { createApp, DEFAULT_MAX_BODY_BYTES, SERVER_VERSION, type AppOptions } from './app.ts';
export type { McpRouteOptions } from './routes/mcp.ts';
export type { App, AppEnv } from './context.ts';
export { observeStore, TraceEvents, type TraceListener, type TraceObserver } from './events.ts';
export { ServerMetrics } from './metrics/server-metrics.ts';
export type { LogFormat, RequestRecord } from './middleware/request-log/index.ts';
export { MemoryOwners, type OwnerStore } from './auth/owner.ts';
export { generateKey, MIN_KEY_LENGTH, type AuthOptions, type Principal } from './auth/keys.ts';
export type { RateLimitOptions } from './auth/rate-limit.ts';
export { parseConfig, type AtlasWrites, type Env, type JsonlDurability, type LogSetting, type McpConfig, type RuntimeConfig, type ServerConfig } from './config.ts';
export { assemble, type AssembleOptions, type Assembly, type AssemblyConfig } from './assemble.ts';
export { startupReport, type AtlasReport, type Served } from './report.ts';
export { createWorker, type Worker, type WorkerOptions } from './adapter/workerd/index.ts';
