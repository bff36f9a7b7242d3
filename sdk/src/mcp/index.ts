/**
 * `cra-runtime/mcp` (Node, Deno): a governed MCP gateway. Needs the optional peer `@modelcontextprotocol/sdk`
 * (loaded on first use; without it these calls throw `mcp_unavailable`, "install @modelcontextprotocol/sdk …").
 *
 * ```ts
 * import { createRuntime } from 'cra-runtime';
 * import { connectUpstream, createGateway } from 'cra-runtime/mcp';
 * import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
 *
 * const upstream = await connectUpstream({ command: 'npx', args: ['some-mcp-server'] });
 * const gateway = await createGateway({ session, upstream });
 * await (await gateway.createServer()).connect(new StdioServerTransport());
 * ```
 *
 * `startMcpProxy` is all of that with an atlas folder and JSONL traces: what `cra mcp-proxy` runs.
 *
 * @module
 */

export { createGateway, GATEWAY_NAME, GATEWAY_VERSION, McpGateway, refusalResult, type GatewayOptions } from './gateway.ts';
export {
  connectUpstream,
  mapUpstreamTools,
  McpUpstream,
  type McpClientLike,
  type StdioUpstream,
  type ToolCallResult,
  type UpstreamOptions,
  type UpstreamTool,
} from './upstream.ts';
export { NO_APPROVER, startMcpProxy, type McpProxyOptions, type RunningProxy } from './proxy.ts';
export { MCP_SDK_MISSING } from './sdk.ts';
