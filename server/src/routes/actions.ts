/**
 * Actions of a session: request one, read one, approve or deny a pending approval, report that it ran (complete) or
 * failed.
 *
 * @module
 */

import { inWireTerms } from '../../../sdk/src/carp/actions.ts';
import { createRoute, z } from '@hono/zod-openapi';
import type { JsonObject } from '../../../sdk/src/types.ts';
import type { App, Services } from '../context.ts';
import { ActionRequestBody, ApproveBody, CompleteBody, DenyBody, ExecutionParams, ExecutionSchema, FailBody, SessionIdParam } from '../schemas.ts';
import { errors, json, ok, owned, requestBody, route, valid } from './helpers.ts';

const Actions = ['Actions'];
const execution = ok('The execution', ExecutionSchema);
/** Values pass as sent (null included): the SDK call gets what an embedded caller would pass. */
const u = <T>(v: T | null | undefined): T | undefined => v as T | undefined;

export function actionRoutes(app: App, s: Services): void {
  const { runtime } = s;

  route(
    app,
    createRoute({
      method: 'post',
      path: '/v1/sessions/{session_id}/actions',
      tags: Actions,
      summary: 'Request an action: `approved` → run it; `pending_approval` → a human decides; `denied` / `violated` → not',
      request: { params: SessionIdParam, body: requestBody(ActionRequestBody) },
      responses: { 200: execution, ...errors(400, 403, 404, 409) },
    }),
    async (c) => {
      const id = await owned(c, s);
      const b = valid<z.infer<typeof ActionRequestBody>>(c, 'json');
      const session = await runtime.getSession(id);
      const execution = await inWireTerms(() =>
        session.requestAction({
          actionId: b.action_id as string,
          parameters: u(b.parameters) as JsonObject | undefined,
          resolutionId: u(b.resolution_id),
          idempotencyKey: u(b.idempotency_key),
        }),
      );
      return json(c, execution);
    },
  );

  route(
    app,
    createRoute({
      method: 'get',
      path: '/v1/sessions/{session_id}/actions/{execution_id}',
      tags: Actions,
      summary: 'One execution as it stands now (e.g. whether a pending approval was decided)',
      request: { params: ExecutionParams },
      responses: { 200: execution, ...errors(404) },
    }),
    async (c) => {
      const id = await owned(c, s);
      const { execution_id } = valid<{ execution_id: string }>(c, 'param');
      const session = await runtime.getSession(id);
      return json(c, await inWireTerms(() => session.execution(execution_id)));
    },
  );

  const step = (
    verb: 'approve' | 'deny' | 'complete' | 'fail',
    summary: string,
    body: z.ZodType,
    required: boolean,
    run: (session: Awaited<ReturnType<typeof runtime.getSession>>, executionId: string, b: Record<string, unknown>) => Promise<unknown>,
  ) =>
    route(
      app,
      createRoute({
        method: 'post',
        path: `/v1/sessions/{session_id}/actions/{execution_id}/${verb}`,
        tags: Actions,
        summary,
        request: { params: ExecutionParams, body: requestBody(body, required) },
        responses: { 200: execution, ...errors(400, 404, 409) },
      }),
      async (c) => {
        const id = await owned(c, s);
        const { execution_id } = valid<{ execution_id: string }>(c, 'param');
        const session = await runtime.getSession(id);
        // The session takes SDK options; its errors point back into the body that was sent.
        return json(c, await inWireTerms(() => run(session, execution_id, valid<Record<string, unknown>>(c, 'json'))));
      },
    );

  step('approve', 'Grant a pending approval (bound to the execution’s approval_hash)', ApproveBody, false, (session, ex, b) =>
    session.approve(ex, { approver: u(b.approver) as string | undefined, approvalHash: u(b.approval_hash) as string | undefined }),
  );
  step('deny', 'Refuse a pending approval', DenyBody, false, (session, ex, b) =>
    session.deny(ex, { reason: u(b.reason) as string | undefined, approver: u(b.approver) as string | undefined }),
  );
  step('complete', 'Report that an approved action ran (only the hash of its result is traced)', CompleteBody, false, (session, ex, b) =>
    session.complete(ex, { result: b.result as never, durationMs: u(b.duration_ms) as number | undefined }),
  );
  step('fail', 'Report that an approved action failed', FailBody, true, (session, ex, b) =>
    session.fail(ex, {
      errorCode: b.error_code as string,
      errorMessage: b.error_message as string,
      durationMs: u(b.duration_ms) as number | undefined,
    }),
  );
}
