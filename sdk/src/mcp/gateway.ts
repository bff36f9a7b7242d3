/**
 * The governed MCP gateway: an MCP server whose tools are a CRA session's allowed actions, each run by a tool of an
 * upstream MCP server, every call through the guard.
 *
 * - `tools/list` answers the session's allowed actions that have an upstream tool (`toMcpTools` of the guard's
 *   catalog: the action's name on the `mcp` platform, its description and its parameters schema). Denied actions,
 *   actions no upstream tool runs, and upstream tools no action claims never appear.
 * - `tools/call` is `guard.call(name, arguments, {platform: 'mcp'})`: the core checks schema, policies and limits,
 *   an approval-gated call waits for the `approve` option, the upstream tool runs only once the call is approved and
 *   its outcome is traced (`action.completed`, or `action.failed` when the upstream answers `isError: true`).
 * - A refusal (or a failed upstream call) is an MCP error *result*, not a JSON-RPC error, so that the model reads
 *   why: `{content: [{type: 'text', text: reason + '\n' + JSON {code, reason, details}}], isError: true}`; for an
 *   upstream error, the upstream's own error content comes first.
 *
 * The gateway itself is transport-free ({@link McpGateway.listTools}, {@link McpGateway.callTool});
 * {@link McpGateway.createServer} wires it to the official SDK's low-level `Server` (raw JSON Schemas, no zod), which
 * any transport can carry: stdio (`cra mcp-proxy`) or Streamable HTTP (the server's `/v1/sessions/{id}/mcp`).
 *
 * @module
 */

import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CraError } from '../errors.ts';
import { Guard, type GuardOptions, type HandlerContext, type Refusal, type ToolHandler } from '../guard/guard.ts';
import type { CraSession, ResolveOptions } from '../interface.ts';
import { type McpTool, toMcpTools } from '../tools/formats.ts';
import { ToolNames } from '../tools/names.ts';
import type { JsonObject } from '../types.ts';
import { isObject } from '../util.ts';
import { serverSdk } from './sdk.ts';
import { mapUpstreamTools, type McpUpstream, type ToolCallResult } from './upstream.ts';

/** The server name a gateway announces to MCP clients unless {@link GatewayOptions.name} sets another. */
export const GATEWAY_NAME = 'cra-mcp-gateway';
/** The server version a gateway announces to MCP clients. */
export const GATEWAY_VERSION = '0.1.0';

const INSTRUCTIONS =
  'These tools are governed by CRA: every call is checked against policy and traced. A refused call answers an ' +
  'error result whose text says why (code, reason, details): correct the arguments, choose another tool, or stop. ' +
  'Calls marked as needing approval wait for a human decision.';

/** What a gateway governs and runs: a session and an upstream are required, the rest has defaults. */
export interface GatewayOptions {
  /** The session whose allowed actions become tools and whose trace records every call. */
  session: CraSession;
  /** The MCP server that runs the tools. */
  upstream: McpUpstream;
  /** Asked for approval-gated calls (see {@link GuardOptions.approve}); without it they are denied. */
  approve?: GuardOptions['approve'];
  /** How long an approval may take (default: the guard's, 5 minutes). */
  approvalTimeoutMs?: number;
  /** Why an approval-gated call is denied when there is no `approve` (such actions are then not listed). */
  noApproverReason?: string;
  /** The resolve request made for the tool list (default: the session's goal, every capability). */
  resolve?: ResolveOptions;
  /** The server name announced to MCP clients (default `cra-mcp-gateway`). */
  name?: string;
}

/** An upstream tool call failed: the guard records it as `action.failed` with this code. */
class UpstreamCallError extends Error {
  override readonly name = 'UpstreamCallError';
  constructor(
    readonly code: 'upstream_error' | 'upstream_unavailable',
    message: string,
  ) {
    super(message);
  }
}

/**
 * An MCP server's two tool methods over a CRA session, without a transport (see the module's header). Built by
 * {@link McpGateway.create}, which maps actions to upstream tools once.
 */
export class McpGateway {
  /** The session whose allowed actions are the tools, and whose trace records every call. */
  readonly session: CraSession;
  /** The MCP server that runs the tools. */
  readonly upstream: McpUpstream;
  /** The guard every call goes through; its handlers are the routed actions, each calling its upstream tool. */
  readonly guard: Guard;
  /** Which upstream tool runs each action (action id → upstream tool name). */
  readonly routes: ReadonlyMap<string, string>;
  private readonly name: string;
  /** Upstream error results by execution id, from the handler to the answer. */
  private readonly failures = new Map<string, ToolCallResult>();
  private readonly inflight = new Set<Promise<unknown>>();

  private constructor(options: GatewayOptions, routes: Map<string, string>) {
    this.session = options.session;
    this.upstream = options.upstream;
    this.routes = routes;
    this.name = options.name ?? GATEWAY_NAME;
    const handlers: Record<string, ToolHandler> = {};
    for (const [actionId, tool] of routes) handlers[actionId] = (parameters, context) => this.runUpstream(tool, parameters, context);
    this.guard = new Guard(options.session, handlers, {
      ...(options.approve ? { approve: options.approve } : {}),
      ...(options.approvalTimeoutMs !== undefined ? { approvalTimeoutMs: options.approvalTimeoutMs } : {}),
      ...(options.noApproverReason !== undefined ? { noApproverReason: options.noApproverReason } : {}),
      ...(options.resolve ? { resolve: options.resolve } : {}),
    });
  }

  /**
   * A gateway for `session` over `upstream`: lists the upstream's tools and the loaded atlases' actions once, and
   * maps each action to the upstream tool that runs it ({@link mapUpstreamTools}). Atlases or upstream tools that
   * change later need a new gateway.
   */
  static async create(options: GatewayOptions): Promise<McpGateway> {
    if (!isObject(options) || !isObject(options.session) || !isObject(options.upstream)) {
      throw new CraError('invalid_request', 'a gateway needs a session and an upstream', { path: '/session' });
    }
    const runtime = options.session.runtime;
    const [tools, summaries] = await Promise.all([options.upstream.listTools(), runtime.listAtlases()]);
    const atlases = await Promise.all(summaries.map((s) => runtime.getAtlas(s.atlas_id)));
    const ids = atlases.flatMap((a) => (a.actions ?? []).map((x) => x.action_id));
    // An explicit mapping names what exists: a typo is an error, not a tool silently left out.
    for (const [tool, actionId] of Object.entries(options.upstream.toolMap ?? {})) {
      const problem = !tools.some((t) => t.name === tool)
        ? `the upstream has no tool ${JSON.stringify(tool)} (it has: ${tools.map((t) => t.name).join(', ') || 'none'})`
        : !ids.includes(actionId)
          ? `no loaded atlas declares the action ${JSON.stringify(actionId)}`
          : null;
      if (problem) throw new CraError('invalid_request', `cannot map ${tool}=${actionId}: ${problem}`, { path: `/tools/${tool}` });
    }
    const routes = mapUpstreamTools(tools, ids, ToolNames.fromAtlases(atlases), options.upstream.toolMap);
    return new McpGateway(options, routes);
  }

  /** `tools/list`: the allowed actions that an upstream tool runs, as MCP tools (resolving first if needed). */
  async listTools(): Promise<McpTool[]> {
    return toMcpTools(await this.guard.catalog()); // the guard's handlers are the routed actions
  }

  /** `tools/call`: governs and runs one call; refusals and failures are error results, never thrown. */
  callTool(name: string, args: unknown): Promise<ToolCallResult> {
    const call = this.govern(name, args);
    this.inflight.add(call);
    const done = () => this.inflight.delete(call);
    call.then(done, done);
    return call;
  }

  /** Resolves once no call is under way (e.g. before ending the session). */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  /** A low-level MCP `Server` answering `tools/list` and `tools/call` from this gateway (needs the MCP SDK). */
  async createServer(): Promise<Server> {
    const { Server, ListToolsRequestSchema, CallToolRequestSchema } = await serverSdk();
    const server = new Server({ name: this.name, version: GATEWAY_VERSION }, { capabilities: { tools: {} }, instructions: INSTRUCTIONS });
    server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: (await this.listTools()) as never[] }));
    server.setRequestHandler(CallToolRequestSchema, async (request) => (await this.callTool(request.params.name, request.params.arguments)) as never);
    return server;
  }

  private async govern(name: string, args: unknown): Promise<ToolCallResult> {
    // A client may call a tool by the upstream's own name: it stands for the action that tool runs.
    const routed = [...this.routes].find(([, tool]) => tool === name)?.[0];
    const outcome = await this.guard.call(routed ?? name, args, { platform: 'mcp' });
    const executionId = outcome.execution?.execution_id;
    const failure = executionId === undefined ? undefined : this.failures.get(executionId);
    if (executionId !== undefined) this.failures.delete(executionId);
    if (outcome.ok) return outcome.result as ToolCallResult;
    return refusalResult(outcome.refusal, failure?.content);
  }

  private async runUpstream(tool: string, parameters: JsonObject, context: HandlerContext): Promise<ToolCallResult> {
    let result: ToolCallResult;
    try {
      result = await this.upstream.callTool(tool, parameters);
    } catch (err) {
      throw new UpstreamCallError('upstream_unavailable', `the upstream tool ${tool} could not be called: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (result.isError === true) {
      this.failures.set(context.execution.execution_id, result);
      throw new UpstreamCallError('upstream_error', textOf(result) || `the upstream tool ${tool} answered an error`);
    }
    return result;
  }
}

/** A gateway for `session` over `upstream` (see {@link McpGateway.create}). */
export function createGateway(options: GatewayOptions): Promise<McpGateway> {
  return McpGateway.create(options);
}

/**
 * The MCP error result of a refusal: its reason, then the refusal as JSON (`{code, reason, details}`), after
 * `content` (an upstream's own error content) when given.
 */
export function refusalResult(refusal: Refusal, content: readonly unknown[] = []): ToolCallResult {
  const text = `${refusal.reason}\n${JSON.stringify({ code: refusal.code, reason: refusal.reason, details: refusal.details })}`;
  return { content: [...content, { type: 'text', text }], isError: true };
}

/** The text blocks of a result, joined (what an error result says). */
function textOf(result: ToolCallResult): string {
  return result.content
    .filter((c): c is { type: 'text'; text: string } => isObject(c) && c.type === 'text' && typeof c.text === 'string')
    .map((c) => c.text)
    .join('\n')
    .trim();
}
