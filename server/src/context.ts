/**
 * What the routes share: the services of one app, the Hono env type and small helpers to declare documented routes.
 * Web-standard only (no Node imports): the app runs on Node, Deno and workerd.
 *
 * @module
 */

import type { OpenAPIHono, RouteConfig } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { CraRuntime } from '../../sdk/src/interface.ts';
import type { Principal } from './auth/keys.ts';
import type { Ownership } from './auth/owner.ts';
import { ErrorSchema } from './schemas.ts';
import type { TraceEvents } from './events.ts';

export interface Services {
  runtime: CraRuntime;
  ownership: Ownership;
  /** Live events for the SSE stream; without it the stream polls the store. */
  events: TraceEvents | null;
  version: string;
  startedAt: number;
  /** SSE keep-alive comment interval (ms). */
  heartbeatMs: number;
  /** Poll interval of the SSE stream when there is no event hub (ms). */
  pollMs: number;
  /** Ends open SSE streams (graceful shutdown). */
  shutdown: AbortSignal;
}

export type AppEnv = { Variables: { principal: Principal } };
export type App = OpenAPIHono<AppEnv>;
export type Ctx = Context<AppEnv>;

/** The validated input of a target (`json`, `param`, `query`). */
export function valid<T>(c: Ctx, target: 'json' | 'param' | 'query'): T {
  return (c.req.valid as (t: string) => unknown)(target) as T;
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request (`invalid_request`, `invalid_json`, …): `path` points at the field',
  401: 'Missing or invalid API key',
  403: 'Forbidden (admin key needed, or `agent_mismatch`)',
  404: 'Unknown (or not owned) session, atlas, resolution or execution',
  409: 'Conflict with the current state (`session_ended`, `invalid_state`, `atlas_exists`, …)',
  413: 'Body larger than the limit',
  429: 'Rate limited (see Retry-After)',
};

/** Documented error answers. */
export function errors(...statuses: number[]): RouteConfig['responses'] {
  const out: RouteConfig['responses'] = {};
  for (const s of [401, 429, ...statuses]) {
    out[s] = { description: ERROR_DESCRIPTIONS[s] ?? 'Error', content: { 'application/json': { schema: ErrorSchema } } };
  }
  return out;
}

/** Registers a documented route (handler typing is loose: bodies are the SDK's protocol objects). */
export function route(app: App, config: RouteConfig, handler: (c: Ctx) => Response | Promise<Response>): void {
  (app.openapi as (r: RouteConfig, h: (c: Ctx) => Response | Promise<Response>) => unknown)(config, handler);
}

/** A JSON body (as `c.json` does) with an explicit status. */
export function json(c: Ctx, body: unknown, status = 200): Response {
  return c.json(body as object, status as 200);
}
