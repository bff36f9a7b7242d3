/**
 * Sessions: create, list, get, end, and host-emitted events. Every session is owned by the key that created it.
 *
 * @module
 */

import { inWireTerms } from '../../../sdk/src/carp/actions.ts';
import { createRoute, z } from '@hono/zod-openapi';
import type { EmbeddedSessionOptions } from '../../../sdk/src/interface.ts';
import type { EndReason, JsonObject, Session, TraceEventType } from '../../../sdk/src/types.ts';
import type { App, Ctx, Services } from '../context.ts';
import {
  CreateSessionBody,
  EndSessionBody,
  EndSessionQuery,
  SessionIdParam,
  SessionListQuery,
  SessionListSchema,
  SessionRefSchema,
  SessionSchema,
  TraceEventSchema,
  RecordBody,
} from '../schemas.ts';
import { errors, json, ok, owned, requestBody, route, valid } from './helpers.ts';

const Sessions = ['Sessions'];

export function sessionRoutes(app: App, s: Services): void {
  const { runtime, ownership } = s;

  route(
    app,
    createRoute({
      method: 'post',
      path: '/v1/sessions',
      tags: Sessions,
      summary: 'Create a session (emits session.started)',
      request: { body: requestBody(CreateSessionBody) },
      responses: { 201: ok('The new session', SessionSchema), ...errors(400, 409) },
    }),
    async (c) => {
      const b = valid<z.infer<typeof CreateSessionBody>>(c, 'json');
      const options: EmbeddedSessionOptions = {
        agentId: b.agent_id,
        goal: b.goal,
        sessionId: b.session_id as string | undefined,
        parentSessionId: b.parent_session_id as string | undefined,
        metadata: b.metadata as JsonObject | undefined,
        owner: ownership.ownerFor(c.var.principal),
      };
      const session = await inWireTerms(() => runtime.createSession(options));
      await ownership.claim(c.var.principal, session.id);
      // The core's own view of the session (reading it does not move the runtime's clock).
      return json(c, answered(await session.info()), 201);
    },
  );

  route(
    app,
    createRoute({
      method: 'get',
      path: '/v1/sessions',
      tags: Sessions,
      summary: "List the caller's sessions (summaries from the session index; no session is restored)",
      request: { query: SessionListQuery },
      responses: { 200: ok('Sessions, oldest first (or newest first)', SessionListSchema), ...errors(400) },
    }),
    async (c) => {
      const q = valid<z.infer<typeof SessionListQuery>>(c, 'query');
      // From the runtime's index of sessions: listing restores none. With auth on, a key lists only its own.
      const principal = c.var.principal;
      const page = await runtime.listSessions({
        status: q.status,
        agentId: q.agent_id,
        limit: q.limit,
        offset: q.offset,
        order: q.order,
        ...(ownership.enforced ? { where: (id: string) => ownership.visible(principal, id) } : {}),
      });
      return json(c, page);
    },
  );

  route(
    app,
    createRoute({
      method: 'get',
      path: '/v1/sessions/{session_id}',
      tags: Sessions,
      summary: 'Get a session (status, counts, chain head)',
      request: { params: SessionIdParam },
      responses: { 200: ok('The session', SessionSchema), ...errors(404) },
    }),
    async (c) => {
      const id = await owned(c, s);
      return json(c, answered(await (await runtime.getSession(id)).info()));
    },
  );

  route(
    app,
    createRoute({
      method: 'get',
      path: '/v1/sessions/{session_id}/ref',
      tags: Sessions,
      summary: "A session's identity (id, agent, goal), without reading its live state",
      request: { params: SessionIdParam },
      responses: { 200: ok('The session identity', SessionRefSchema), ...errors(404) },
    }),
    async (c) => {
      const h = await runtime.getSession(await owned(c, s));
      return json(c, { session_id: h.id, agent_id: h.agentId, goal: h.goal });
    },
  );

  const end = async (c: Ctx, reason: unknown) => {
    const id = await owned(c, s);
    return json(c, answered(await (await runtime.getSession(id)).end(reason as EndReason | undefined)));
  };

  route(
    app,
    createRoute({
      method: 'post',
      path: '/v1/sessions/{session_id}/end',
      tags: Sessions,
      summary: 'End a session (emits session.ended); later requests on it are refused',
      request: { params: SessionIdParam, body: requestBody(EndSessionBody, false) },
      responses: { 200: ok('The ended session', SessionSchema), ...errors(400, 404, 409) },
    }),
    (c) => end(c, valid<z.infer<typeof EndSessionBody>>(c, 'json').reason ?? undefined),
  );

  route(
    app,
    createRoute({
      method: 'delete',
      path: '/v1/sessions/{session_id}',
      tags: Sessions,
      summary: 'End a session (same as POST …/end; reason in a JSON body or the query)',
      request: { params: SessionIdParam, query: EndSessionQuery, body: requestBody(EndSessionBody, false) },
      responses: { 200: ok('The ended session', SessionSchema), ...errors(400, 404, 409) },
    }),
    (c) => end(c, valid<z.infer<typeof EndSessionBody>>(c, 'json').reason ?? valid<z.infer<typeof EndSessionQuery>>(c, 'query').reason),
  );

  route(
    app,
    createRoute({
      method: 'post',
      path: '/v1/sessions/{session_id}/events',
      tags: Sessions,
      summary: 'Append a host-emitted event (error.occurred, context.redacted, …)',
      request: { params: SessionIdParam, body: requestBody(RecordBody) },
      responses: { 200: ok('The recorded events', z.array(TraceEventSchema)), ...errors(400, 404, 409) },
    }),
    async (c) => {
      const id = await owned(c, s);
      const b = valid<z.infer<typeof RecordBody>>(c, 'json');
      const session = await runtime.getSession(id);
      return json(c, await session.record(b.event_type as TraceEventType, b.payload as JsonObject));
    },
  );
}

/**
 * A session as the API answers it: without `owner`, the server's own bookkeeping (the hash of the caller's key, kept
 * beside the runtime and handed to it as host data), so that a session reads the same over HTTP as embedded.
 */
function answered(session: Session): Session {
  const { owner: _owner, ...rest } = session;
  return rest;
}
