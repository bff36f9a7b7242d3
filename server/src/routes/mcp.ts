/**
 * `POST /v1/sessions/{id}/mcp`: the session as an MCP server (Streamable HTTP), its tools run by the upstream MCP
 * server configured on this server (`AppOptions.mcp`, `CRA_MCP_UPSTREAM` for `npm start`).
 *
 * - Same auth and ownership as every session route (`owned`): another key's session is 404, no key 401.
 * - Stateless transport: every POST gets a fresh MCP `Server` and `WebStandardStreamableHTTPServerTransport`
 *   (no `Mcp-Session-Id`, JSON answers). What lasts between requests is kept per CRA session: one
 *   {@link McpGateway} (its guard holds the resolution the tool list comes from), the most recently used
 *   `maxSessions` of them. `GET` (a server-to-client stream) and `DELETE` (an MCP session to end) answer 405, as
 *   the MCP spec allows a stateless server to.
 * - Approval-gated calls wait (up to `approvalTimeoutMs`, default 5 minutes, then denied) until someone approves or
 *   denies the execution with `POST /v1/sessions/{id}/actions/{execution_id}/approve` (or `/deny`). The wait
 *   watches the session's live events (`TraceEvents`; without a hub it polls the trace) for the execution's
 *   `action.approved` / `action.denied`, and answers the guard the execution *as decided*: the approve/deny route's
 *   own answer, which a small tap on those two routes (below) hands over — nothing is approved twice. A decision
 *   taken elsewhere (e.g. embedded, on the same runtime) is rebuilt from its event.
 * - Without an upstream configured, the route answers 501 `mcp_not_configured`.
 *
 * @module
 */

import { createRoute, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { ApprovalDecision } from '../../../sdk/src/guard/guard.ts';
import { McpGateway } from '../../../sdk/src/mcp/gateway.ts';
import { httpServerSdk } from '../../../sdk/src/mcp/sdk.ts';
import type { McpUpstream } from '../../../sdk/src/mcp/upstream.ts';
import type { Execution, TraceEvent } from '../../../sdk/src/types.ts';
import { isObject } from '../../../sdk/src/util.ts';
import { type App, type AppEnv, errors, route, type Services } from '../context.ts';
import { errorBody, httpError } from '../errors.ts';
import { ErrorSchema, SessionIdParam } from '../schemas.ts';
import { owned } from './sessions.ts';

export interface McpRouteOptions {
  /** The upstream MCP server whose tools the sessions' actions run (`connectUpstream` of `sdk/src/mcp`). */
  upstream: McpUpstream;
  /** How long an approval-gated call waits for a decision before it is denied (default 5 minutes). */
  approvalTimeoutMs?: number;
  /** Gateways kept, one per session, least recently used dropped first (default 1000; a dropped one is rebuilt). */
  maxSessions?: number;
}

const PATH = '/v1/sessions/{session_id}/mcp';
const JsonRpcBody = z
  .union([z.looseObject({}), z.array(z.looseObject({}))])
  .openapi('JsonRpcMessage', { description: 'A JSON-RPC 2.0 message of MCP (or a batch): `initialize`, `tools/list`, `tools/call`, notifications' });

export function mcpRoutes(app: App, s: Services, options: McpRouteOptions | undefined): void {
  const approvals = new Approvals(s);
  if (options) {
    // Before the action routes: the tap must see the approve/deny answers.
    app.use('/v1/sessions/:session_id/actions/:execution_id/approve', approvals.tap());
    app.use('/v1/sessions/:session_id/actions/:execution_id/deny', approvals.tap());
  }
  const gateways = new Map<string, Promise<McpGateway>>();
  const max = Math.max(1, options?.maxSessions ?? 1000);

  const gatewayOf = (id: string, opts: McpRouteOptions): Promise<McpGateway> => {
    let gateway = gateways.get(id);
    if (gateway) {
      gateways.delete(id); // most recently used last
      gateways.set(id, gateway);
      return gateway;
    }
    gateway = (async () =>
      McpGateway.create({
        session: await s.runtime.getSession(id),
        upstream: opts.upstream,
        approve: (execution) => approvals.wait(id, execution),
        ...(opts.approvalTimeoutMs !== undefined ? { approvalTimeoutMs: opts.approvalTimeoutMs } : {}),
      }))();
    gateways.set(id, gateway);
    gateway.catch(() => {
      if (gateways.get(id) === gateway) gateways.delete(id);
    });
    while (gateways.size > max) gateways.delete(gateways.keys().next().value!);
    return gateway;
  };

  route(
    app,
    createRoute({
      method: 'post',
      path: PATH,
      tags: ['Sessions'],
      summary:
        "The session as an MCP server (Streamable HTTP, stateless, JSON answers): tools/list answers the session's allowed actions that the " +
        'upstream MCP server has a tool for; tools/call runs through the guard (a refusal is an `isError` result with the reason; ' +
        'an approval-gated call waits for POST …/actions/{execution_id}/approve or /deny). GET and DELETE answer 405.',
      request: { params: SessionIdParam, body: { content: { 'application/json': { schema: JsonRpcBody } }, required: true } },
      responses: {
        200: { description: 'The JSON-RPC answer(s)', content: { 'application/json': { schema: z.looseObject({}) } } },
        202: { description: 'Notifications only: accepted' },
        ...errors(400, 404),
        501: { description: 'No upstream MCP server is configured (`mcp_not_configured`)', content: { 'application/json': { schema: ErrorSchema } } },
      },
    }),
    async (c) => {
      const id = await owned(c, s);
      if (!options) {
        return c.json(errorBody('mcp_not_configured', 'this server has no upstream MCP server (set CRA_MCP_UPSTREAM, or the mcp option of createApp)'), 501);
      }
      const gateway = await gatewayOf(id, options);
      const { WebStandardStreamableHTTPServerTransport } = await httpServerSdk();
      const server = await gateway.createServer();
      const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      await server.connect(transport);
      try {
        // The body was read (and checked to be JSON) by the app's body middleware.
        return await transport.handleRequest(c.req.raw, { parsedBody: await c.req.json() });
      } finally {
        await server.close().catch(() => undefined);
      }
    },
  );

  // Stateless: no server-to-client stream (GET) and no MCP session to end (DELETE). Not an operation of the
  // OpenAPI document (the POST's summary says so).
  app.all(PATH.replace('{session_id}', ':session_id'), (c) => {
    throw httpError('method_not_allowed', `${c.req.method} is not supported here: the MCP route is stateless, POST JSON-RPC messages`, {
      headers: { Allow: 'POST' },
    });
  });
}

/** Approval-gated calls of the MCP route waiting for a decision taken through the approve / deny routes. */
class Approvals {
  /** Approve / deny requests under way through this app, by execution id: each settles with the route's answer. */
  private readonly inflight = new Map<string, Set<Promise<Execution | null>>>();

  constructor(private readonly s: Services) {}

  /** Middleware on the approve / deny routes: registers the request before it runs, hands over its answer. */
  tap(): MiddlewareHandler<AppEnv> {
    return async (c, next) => {
      const id = (c.req.param('execution_id') ?? '').toLowerCase();
      let settle!: (execution: Execution | null) => void;
      const answer = new Promise<Execution | null>((done) => (settle = done));
      let set = this.inflight.get(id);
      if (!set) this.inflight.set(id, (set = new Set()));
      set.add(answer);
      try {
        await next();
        settle(c.res.status === 200 ? await c.res.clone().json().catch(() => null) : null);
      } catch (err) {
        settle(null);
        throw err;
      } finally {
        set.delete(answer);
        if (set.size === 0 && this.inflight.get(id) === set) this.inflight.delete(id);
      }
    };
  }

  /** The guard's `approve`: waits for the execution's decision and answers the execution as decided. */
  wait(sessionId: string, pending: Execution): Promise<ApprovalDecision> {
    const { events, runtime, shutdown } = this.s;
    const id = pending.execution_id;
    return new Promise<ApprovalDecision>((resolve, reject) => {
      let done = false;
      let timer: ReturnType<typeof setInterval> | undefined;
      const cleanup = () => {
        done = true;
        unsubscribe?.();
        if (timer !== undefined) clearInterval(timer);
        shutdown.removeEventListener('abort', onShutdown);
      };
      const fail = (reason: string) => {
        if (done) return;
        cleanup();
        reject(new Error(reason));
      };
      const onShutdown = () => fail('the server is shutting down');
      const decided = (batch: readonly TraceEvent[]) => {
        if (done) return;
        const event = batch.find((e) => (e.event_type === 'action.approved' || e.event_type === 'action.denied') && e.payload.execution_id === id);
        if (!event) return;
        cleanup();
        // Taken now, synchronously: a decision through this app's routes is under way while its event is published.
        const answers = [...(this.inflight.get(id) ?? [])];
        void asDecided(pending, event, answers).then(resolve, reject);
      };
      const unsubscribe = events?.subscribe(sessionId, decided, onShutdown);
      shutdown.addEventListener('abort', onShutdown);
      if (shutdown.aborted) return onShutdown();
      // A decision recorded before the subscription (or, with no event hub, polled for).
      const look = () => runtime.trace(sessionId).then(decided, () => undefined);
      void look();
      if (!events) timer = setInterval(look, this.s.pollMs);
    });
  }
}

/** The execution as decided: the approve / deny route's answer when the decision went through it, else rebuilt from its event. */
async function asDecided(pending: Execution, event: TraceEvent, answers: Array<Promise<Execution | null>>): Promise<ApprovalDecision> {
  const status = event.event_type === 'action.approved' ? 'approved' : 'denied';
  for (const answer of await Promise.all(answers)) {
    if (isObject(answer) && answer.execution_id === pending.execution_id && answer.status === status) return { execution: answer };
  }
  const p = event.payload;
  if (status === 'approved') return { execution: { ...pending, status, reason: null } };
  const policyId = typeof p.policy_id === 'string' ? p.policy_id : pending.policy_id;
  const details = typeof p.code === 'string' ? { code: p.code, ...(policyId ? { policy_id: policyId } : {}) } : null;
  const reason = typeof p.reason === 'string' ? p.reason : 'denied';
  return { execution: { ...pending, status, reason, policy_id: policyId, details } as unknown as Execution };
}
