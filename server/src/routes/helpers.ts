/**
 * What every route file uses to declare a documented route and answer it, in one place: the request and response
 * schema entries, the documented errors, the validated input, and the session ownership check that every route
 * naming a session goes through (so that a foreign or malformed id answers alike everywhere).
 *
 * @module
 */

import type { RouteConfig, z } from '@hono/zod-openapi';
import { isUuid } from '../../../sdk/src/host.ts';
import type { App, Ctx, Services } from '../context.ts';
import { parsedBody } from '../middleware/json-body/index.ts';
import { ErrorSchema } from '../schemas.ts';

/** A JSON request body of `schema` (documented and validated). */
export function requestBody(schema: z.ZodType, required = true) {
  return { content: { 'application/json': { schema } }, required };
}

/** A JSON answer of `schema`. */
export function ok(description: string, schema: z.ZodType) {
  return { description, content: { 'application/json': { schema } } };
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

/** Documented error answers (401 and 429 on every route). */
export function errors(...statuses: number[]): RouteConfig['responses'] {
  const out: RouteConfig['responses'] = {};
  for (const s of [401, 429, ...statuses]) out[s] = ok(ERROR_DESCRIPTIONS[s] ?? 'Error', ErrorSchema);
  return out;
}

/** Registers a documented route (handler typing is loose: bodies are the SDK's protocol objects). */
export function route(app: App, config: RouteConfig, handler: (c: Ctx) => Response | Promise<Response>): void {
  (app.openapi as (r: RouteConfig, h: (c: Ctx) => Response | Promise<Response>) => unknown)(config, handler);
}

/**
 * The validated input of a target (`json`, `param`, `query`). For `json`, the body exactly as sent, once its
 * validator accepted it: the validator's output is a rebuilt copy (objects rebuilt by assignment lose an own
 * `__proto__` member, and unknown members are stripped), and JSON has no prototype keys — `__proto__`,
 * `constructor`, `prototype` are members like any other, validated, hashed and recorded as sent on every route.
 */
export function valid<T>(c: Ctx, target: 'json' | 'param' | 'query'): T {
  const checked = (c.req.valid as (t: string) => unknown)(target) as T;
  if (target !== 'json') return checked;
  const sent = parsedBody(c);
  return sent === undefined ? checked : (sent as T);
}

/** A JSON body (as `c.json` does) with an explicit status. */
export function json(c: Ctx, body: unknown, status = 200): Response {
  return c.json(body as object, status as 200);
}

/**
 * The `session_id` path parameter, lowercased (ids are stored lowercase), once the caller is known to own it. A
 * parameter that is not a UUID, or a session of another key, gets the answer of a missing session, on every route.
 */
export async function owned(c: Ctx, s: Services): Promise<string> {
  const id = valid<{ session_id: string }>(c, 'param').session_id.toLowerCase();
  if (!isUuid(id)) throw await s.ownership.missing(id);
  await s.ownership.check(c.var.principal, id);
  return id;
}
