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
 *   `action.approved` / `action.denied`, then answers the guard the execution as it now stands
 *   (`session.execution(id)`): the guard runs it or refuses it, and nothing is approved twice.
 * - Without an upstream configured, the route answers 501 `mcp_not_configured`.
 *
 * @module
 */

import { createRoute, z } from '@hono/zod-openapi';
import type { ApprovalDecision } from '../../../sdk/src/guard/guard.ts';
import type { CraSession } from '../../../sdk/src/interface.ts';
import { McpGateway } from '../../../sdk/src/mcp/gateway.ts';
import { httpServerSdk } from '../../../sdk/src/mcp/sdk.ts';
import type { McpUpstream } from '../../../sdk/src/mcp/upstream.ts';
import type { Execution, TraceEvent } from '../../../sdk/src/types.ts';
import type { App, Services } from '../context.ts';
import { errorBody, httpError } from '../errors.ts';
import { ErrorSchema, SessionIdParam } from '../schemas.ts';
import { errors, ok, owned, requestBody, route } from './helpers.ts';

/** The upstream MCP server behind `POST /v1/sessions/:id/mcp`, and how its gateways are kept. */
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

/** Registers `POST /v1/sessions/:id/mcp`: the session's governed MCP gateway (501 without `options`). */
export function mcpRoutes(app: App, s: Services, options: McpRouteOptions | undefined): void {
  const approvals = new Approvals(s);
  const gateways = new Map<string, Promise<McpGateway>>();
  const max = Math.max(1, options?.maxSessions ?? 1000);

  const gatewayOf = (session: CraSession, opts: McpRouteOptions): Promise<McpGateway> => {
    const id = session.id;
    let gateway = gateways.get(id);
    if (gateway) {
      gateways.delete(id); // most recently used last
      gateways.set(id, gateway);
      return gateway;
    }
    gateway = (async () =>
      McpGateway.create({
        session,
        upstream: opts.upstream,
        approve: (execution) => approvals.wait(session, execution),
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
      request: { params: SessionIdParam, body: requestBody(JsonRpcBody) },
      responses: {
        200: ok('The JSON-RPC answer(s)', z.looseObject({})),
        202: { description: 'Notifications only: accepted' },
        ...errors(400, 404),
        501: ok('No upstream MCP server is configured (`mcp_not_configured`)', ErrorSchema),
      },
    }),
    async (c) => {
      const id = await owned(c, s);
      const session = await s.runtime.getSession(id); // a missing session is 404 here too, whatever the configuration
      if (!options) {
        return c.json(errorBody('mcp_not_configured', 'this server has no upstream MCP server (set CRA_MCP_UPSTREAM, or the mcp option of createApp)'), 501);
      }
      const gateway = await gatewayOf(session, options);
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

/** Approval-gated calls of the MCP route waiting for a decision (taken through the approve / deny routes, or anywhere). */
class Approvals {
  constructor(private readonly s: Services) {}

  /** The guard's `approve`: waits for the execution's decision event, then answers the execution as it now stands. */
  wait(session: CraSession, pending: Execution): Promise<ApprovalDecision> {
    const { events, runtime, shutdown } = this.s;
    const id = pending.execution_id;
    return new Promise<ApprovalDecision>((resolve, reject) => {
      let done = false;
      let timer: ReturnType<typeof setInterval> | undefined;
      let unsubscribe: (() => void) | undefined;
      const cleanup = () => {
        done = true;
        unsubscribe?.();
        if (timer !== undefined) clearInterval(timer);
        shutdown?.removeEventListener('abort', onShutdown);
      };
      const onShutdown = () => {
        if (done) return;
        cleanup();
        reject(new Error('the server is shutting down'));
      };
      const decided = (batch: readonly TraceEvent[]) => {
        if (done) return;
        const event = batch.find((e) => (e.event_type === 'action.approved' || e.event_type === 'action.denied') && e.payload.execution_id === id);
        if (!event) return;
        cleanup();
        session.execution(id).then((execution) => resolve({ execution }), reject);
      };
      unsubscribe = events?.subscribe(session.id, decided, onShutdown);
      if (done) return; // the hub was closed: the server is shutting down
      shutdown?.addEventListener('abort', onShutdown);
      if (shutdown?.aborted) return onShutdown();
      // A decision recorded before the subscription (or, with no event hub, polled for).
      const look = () => runtime.trace(session.id).then(decided, () => undefined);
      void look();
      if (!events) timer = setInterval(look, this.s.pollMs);
    });
  }
}
