/**
 * What the app and its routes share: the services of one app and the Hono env type (the helpers that declare and
 * answer routes are in `routes/helpers.ts`). Web-standard only (no Node imports): the app runs on Node, Deno and
 * workerd.
 *
 * @module
 */

import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { CraRuntime } from '../../sdk/src/interface.ts';
import type { Principal } from './auth/keys.ts';
import type { Ownership } from './auth/owner.ts';
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
  /**
   * Ends open SSE streams and approval waits (graceful shutdown); null when the app is never stopped that way (its
   * event hub, when it has one, still ends them as it closes). An app-wide signal cannot exist on workerd, which ties
   * an AbortSignal to the request that made it.
   */
  shutdown: AbortSignal | null;
}

/** The Hono env of the app: what its middleware sets on each request's context, for the routes to read. */
export type AppEnv = {
  /** Per-request values (`c.get(name)`). */
  Variables: {
    /** The caller, set by authentication on every route that needs a key (`LOCAL_PRINCIPAL` with auth off). */
    principal: Principal;
    /** The request's id (`X-Request-Id`, set by `middleware/request-log`). */
    requestId: string;
  };
};

/**
 * The app {@link createApp} answers: an `OpenAPIHono` with the CRA routes. Serve `app.fetch`, or mount it in another
 * Hono app (`root.route('/cra', app)`).
 */
export type App = OpenAPIHono<AppEnv>;
export type Ctx = Context<AppEnv>;
