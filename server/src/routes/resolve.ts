/**
 * CARP: resolve and validate within a session, raw CARP requests (`/v1/resolve`, `/v1/execute`, `/v1/carp`, nested
 * or flat form) and the hot-path check.
 *
 * @module
 */

import { createRoute } from '@hono/zod-openapi';
import { requestedSession } from '../../../sdk/src/carp/request.ts';
import { CraError } from '../../../sdk/src/errors.ts';
import type { ResolveOptions } from '../../../sdk/src/interface.ts';
import type { JsonObject } from '../../../sdk/src/types.ts';
import type { App, Ctx, Services } from '../context.ts';
import {
  CarpRequestBody,
  CarpResultSchema,
  CheckParams,
  CheckSchema,
  ExecutionRefusedSchema,
  ExecutionSchema,
  ResolutionSchema,
  ResolveOptionsBody,
  SessionIdParam,
} from '../schemas.ts';
import { errorBody } from '../errors.ts';
import { errors, json, ok, owned, requestBody, route, valid } from './helpers.ts';
import { refusalOf } from './refusal.ts';

const CARP = ['CARP'];

export function resolveRoutes(app: App, s: Services): void {
  const { runtime } = s;

  for (const operation of ['resolve', 'validate'] as const) {
    route(
      app,
      createRoute({
        method: 'post',
        path: `/v1/sessions/{session_id}/${operation}`,
        tags: CARP,
        summary:
          operation === 'resolve'
            ? 'Resolve the context and actions this session gets (traced)'
            : 'Compute a resolution exactly as resolve would, recording nothing',
        request: { params: SessionIdParam, body: requestBody(ResolveOptionsBody, false) },
        responses: { 200: ok('The resolution', ResolutionSchema), ...errors(400, 403, 404, 409) },
      }),
      async (c) => {
        const session = await runtime.getSession(await owned(c, s));
        // The body goes on as it came, snake_case options or a CARP request for this session (`form: 'wire'` says
        // so): the SDK checks it, the session it names included, and points its errors into it.
        const body = valid<ResolveOptions>(c, 'json');
        const how = { form: 'wire' } as const;
        return json(c, await (operation === 'resolve' ? session.resolve(body, how) : session.validate(body, how)));
      },
    );
  }

  route(
    app,
    createRoute({
      method: 'post',
      path: '/v1/resolve',
      tags: CARP,
      summary: 'Run a CARP resolve (or validate) request; the session must exist and be the caller’s',
      request: { body: requestBody(CarpRequestBody) },
      responses: { 200: ok('The resolution', ResolutionSchema), ...errors(400, 403, 404, 409) },
    }),
    async (c) => {
      // runtime.carp() points its errors into the request it was given: here, the body.
      const body = await carpBody(c, s);
      if (body.operation === 'execute') {
        throw new CraError('invalid_request', 'execute requests go to POST /v1/execute', { path: '/operation' });
      }
      return json(c, (await runtime.carp(body)).resolution);
    },
  );

  route(
    app,
    createRoute({
      method: 'post',
      path: '/v1/execute',
      tags: CARP,
      summary:
        'Run a CARP execute request: 200 when the action may run (`approved`) or waits for a human (`pending_approval`); ' +
        'a refusal is an error that carries the execution',
      request: { body: requestBody(CarpRequestBody) },
      responses: {
        200: ok('The execution: `approved` (run it) or `pending_approval` (a human decides)', ExecutionSchema),
        ...errors(400, 404, 409),
        403: ok('Action denied by policy (`action_denied`, `policy_violated`: with the execution), or `agent_mismatch`', ExecutionRefusedSchema),
        429: {
          ...ok('Rate limited: the action (`rate_limited`, with the execution) or the key', ExecutionRefusedSchema),
          headers: { 'Retry-After': { description: 'Seconds to wait (when known)', schema: { type: 'integer' } } },
        },
      },
    }),
    async (c) => {
      const body = await carpBody(c, s);
      if (body.operation !== undefined && body.operation !== 'execute') {
        throw new CraError('invalid_request', `POST /v1/execute takes execute requests, not ${JSON.stringify(body.operation)}`, {
          path: '/operation',
        });
      }
      const execution = (await runtime.carp({ ...body, operation: 'execute' })).execution!;
      const refused = refusalOf(execution);
      if (!refused) return json(c, execution);
      if (refused.retryAfter !== null) c.header('Retry-After', refused.retryAfter);
      // The refusal's details beside the code: a client reading only `error` still learns what to fix.
      const error = { ...errorBody(refused.code, refused.message).error, ...(execution.details ? { details: execution.details } : {}) };
      return json(c, { error, execution }, refused.status);
    },
  );

  route(
    app,
    createRoute({
      method: 'post',
      path: '/v1/carp',
      tags: CARP,
      summary: 'Run any CARP request (resolve, validate or execute), nested or flat form',
      request: { body: requestBody(CarpRequestBody) },
      responses: { 200: ok('A resolution or an execution', CarpResultSchema), ...errors(400, 403, 404, 409) },
    }),
    async (c) => json(c, await runtime.carp(await carpBody(c, s))),
  );

  route(
    app,
    createRoute({
      method: 'get',
      path: '/v1/sessions/{session_id}/check/{action_id}',
      tags: CARP,
      summary: 'The hot path: may this session run the action now? Records nothing',
      request: { params: CheckParams },
      responses: { 200: ok('The answer', CheckSchema), ...errors(404) },
    }),
    async (c) => {
      const id = await owned(c, s);
      const { action_id } = valid<{ action_id: string }>(c, 'param');
      return json(c, await (await runtime.getSession(id)).check(action_id));
    },
  );
}

/** The CARP body, once the session it names (if any) is known to be the caller's. */
async function carpBody(c: Ctx, s: Services): Promise<JsonObject> {
  const body = valid<JsonObject>(c, 'json');
  const { sessionId } = requestedSession(body);
  if (typeof sessionId === 'string') await s.ownership.checkCarp(c.var.principal, body, sessionId);
  return body;
}
