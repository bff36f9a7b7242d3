/**
 * The upstream MCP server whose tools CRA governs: connected over stdio (a command and its arguments, spawned
 * without a shell) or through an MCP `Client` already connected by the caller. It lists the upstream's tools and
 * calls them; {@link mapUpstreamTools} decides which atlas action each upstream tool stands for.
 *
 * The types here are structural (the official SDK's `Client` satisfies {@link McpClientLike}), so that code naming
 * an upstream — e.g. the server's `AppOptions` — does not need the MCP SDK's types.
 *
 * @module
 */

import { CraError } from '../errors.ts';
import type { ToolNames } from '../tools/names.ts';
import { isObject } from '../util.ts';
import { clientSdk } from './sdk.ts';

/** A tool as an MCP server lists it (`tools/list`). */
export interface UpstreamTool {
  /** The upstream's name for the tool, the one `tools/call` takes. */
  name: string;
  /** A human-readable name. */
  title?: string;
  /** What the tool does. */
  description?: string;
  /** The JSON Schema of its arguments. */
  inputSchema?: unknown;
  /** Anything else the upstream lists, kept as is. */
  [key: string]: unknown;
}

/** The result of an MCP `tools/call`. */
export interface ToolCallResult {
  /** The content blocks (`{type: 'text', text}` and others). */
  content: unknown[];
  /** The result as JSON, beside `content` (tools with an output schema give it). */
  structuredContent?: unknown;
  /** Set when the tool failed; `content` then says why. */
  isError?: boolean;
  /** Anything else the upstream answers, kept as is. */
  [key: string]: unknown;
}

/** What CRA needs of an MCP client; the official SDK's `Client` (connected) has it. */
export interface McpClientLike {
  /** `tools/list`: one page of tools, from `cursor` when given. */
  listTools(params?: { cursor?: string }): Promise<{
    /** The tools of this page. */
    tools: UpstreamTool[];
    /** Where the next page starts; absent on the last one. */
    nextCursor?: string;
  }>;
  /** `tools/call`: runs one tool and answers its result. */
  callTool(params: { name: string; arguments?: Record<string, unknown> }): Promise<unknown>;
  /** Closes the connection. */
  close(): Promise<void>;
  /** Called when the connection closes, whoever closed it (an {@link McpUpstream} chains its own listener here). */
  onclose?: (() => void) | undefined;
}

/** An upstream MCP server to spawn: no shell is involved, `command` is run with `args` as they are. */
export interface StdioUpstream {
  /** The program to run. */
  command: string;
  /** Its arguments, passed as they are. Default none. */
  args?: string[];
  /** The child's environment (default: the MCP SDK's safe subset of the parent's: HOME, PATH, …). */
  env?: Record<string, string>;
  /** The child's working directory (default: this process's). */
  cwd?: string;
  /** Where the child's stderr goes (default `inherit`: the parent's stderr, never its stdout). */
  stderr?: 'inherit' | 'ignore' | 'pipe';
}

/** How an upstream's tools are matched to actions, and how the client introduces itself. */
export interface UpstreamOptions {
  /**
   * Explicit mapping `{upstreamToolName: actionId}`, for upstream tools whose name is neither the action's MCP
   * tool name nor its id. It wins over names.
   */
  tools?: Record<string, string>;
  /** The client name announced to the upstream (default `cra-mcp-gateway`). */
  clientName?: string;
}

/** A connected upstream MCP server. */
export class McpUpstream {
  /** The MCP client connected to the upstream. */
  readonly client: McpClientLike;
  /** The explicit `{upstreamToolName: actionId}` mapping. */
  readonly toolMap: Readonly<Record<string, string>>;
  private tools: Promise<UpstreamTool[]> | undefined;
  private readonly closeListeners = new Set<() => void>();
  private closing: Promise<void> | undefined;
  private closedFlag = false;

  constructor(client: McpClientLike, options: UpstreamOptions = {}) {
    if (!isObject(client) || typeof client.listTools !== 'function' || typeof client.callTool !== 'function') {
      throw new CraError('invalid_request', 'an upstream needs a connected MCP client (listTools, callTool, close)', { path: '/client' });
    }
    this.client = client;
    this.toolMap = Object.freeze({ ...checkToolMap(options.tools) });
    const previous = client.onclose;
    client.onclose = () => {
      this.closedFlag = true;
      previous?.();
      for (const listener of [...this.closeListeners]) listener();
    };
  }

  /** True once the connection closed (by {@link close} or because the upstream went away). */
  get closed(): boolean {
    return this.closedFlag;
  }

  /** Calls `listener` when the connection closes; answers the unsubscribe. */
  onClose(listener: () => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Every tool of the upstream, all pages (read once; `refresh` reads them again). */
  listTools(refresh = false): Promise<UpstreamTool[]> {
    if (refresh) this.tools = undefined;
    this.tools ??= this.readTools().catch((err) => {
      this.tools = undefined;
      throw err;
    });
    return this.tools;
  }

  /** Calls one upstream tool; answers its result as the upstream gave it (`isError` results included). */
  async callTool(name: string, args: Record<string, unknown>): Promise<ToolCallResult> {
    const result = await this.client.callTool({ name, arguments: args });
    if (!isObject(result) || !Array.isArray(result.content)) {
      // Pre-2024-11-05 servers answer `{toolResult}`: carried as a text block.
      const value = isObject(result) && 'toolResult' in result ? result.toolResult : result;
      return { content: [{ type: 'text', text: JSON.stringify(value ?? null) }] };
    }
    return result as ToolCallResult;
  }

  /** Closes the connection (a spawned upstream is stopped). */
  close(): Promise<void> {
    this.closing ??= this.client.close().finally(() => {
      this.closedFlag = true;
    });
    return this.closing;
  }

  private async readTools(): Promise<UpstreamTool[]> {
    const out: UpstreamTool[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 1000; page++) {
      const answer = await this.client.listTools(cursor === undefined ? undefined : { cursor });
      for (const tool of answer.tools ?? []) if (isObject(tool) && typeof tool.name === 'string') out.push(tool);
      cursor = answer.nextCursor;
      if (!cursor) break;
    }
    return out;
  }
}

/**
 * Connects to an upstream MCP server: spawns `source.command` with `source.args` over stdio (no shell), or wraps an
 * MCP client the caller already connected. Needs `@modelcontextprotocol/sdk` for stdio.
 */
export async function connectUpstream(source: StdioUpstream | McpClientLike, options: UpstreamOptions = {}): Promise<McpUpstream> {
  if (isObject(source) && typeof (source as McpClientLike).callTool === 'function') return new McpUpstream(source as McpClientLike, options);
  const stdio = source as StdioUpstream;
  if (!isObject(stdio) || typeof stdio.command !== 'string' || stdio.command.length === 0) {
    throw new CraError('invalid_request', 'an upstream is a command to spawn ({command, args}) or a connected MCP client', { path: '/command' });
  }
  if (stdio.args !== undefined && (!Array.isArray(stdio.args) || stdio.args.some((a) => typeof a !== 'string'))) {
    throw new CraError('invalid_request', 'the upstream args must be strings', { path: '/args' });
  }
  const { Client, StdioClientTransport } = await clientSdk();
  const transport = new StdioClientTransport({
    command: stdio.command,
    args: stdio.args ?? [],
    ...(stdio.env ? { env: stdio.env } : {}),
    ...(stdio.cwd ? { cwd: stdio.cwd } : {}),
    stderr: stdio.stderr ?? 'inherit',
  });
  const client = new Client({ name: options.clientName ?? 'cra-mcp-gateway', version: '0.1.0' }, { capabilities: {} });
  try {
    await client.connect(transport);
  } catch (err) {
    await client.close().catch(() => undefined);
    throw new CraError('upstream_unavailable', `cannot start the upstream MCP server ${JSON.stringify([stdio.command, ...(stdio.args ?? [])])}: ${messageOf(err)}`, {
      cause: err,
    });
  }
  return new McpUpstream(client as unknown as McpClientLike, options);
}

/**
 * Which upstream tool runs each action: for every action id, the upstream tool that the explicit map assigns to it,
 * else the one named as the action's MCP tool (`names.nameOf(id, 'mcp')`, which honours the atlas's
 * `adapters.mcp.settings.tool_names`), else the one named as the action id itself. A tool the explicit map assigns
 * is not matched by name to another action. Upstream tools that no action claims are not in the answer: they are
 * never exposed.
 */
export function mapUpstreamTools(
  tools: readonly UpstreamTool[],
  actionIds: Iterable<string>,
  names: ToolNames,
  explicit: Readonly<Record<string, string>> = {},
): Map<string, string> {
  const available = new Set(tools.map((t) => t.name));
  const reserved = new Set(Object.keys(explicit).filter((name) => available.has(name)));
  const byAction = new Map<string, string>();
  for (const [tool, actionId] of Object.entries(explicit)) {
    if (available.has(tool) && !byAction.has(actionId)) byAction.set(actionId, tool);
  }
  const ids = [...actionIds];
  const known = new Set(ids);
  for (const [actionId] of byAction) if (!known.has(actionId)) byAction.delete(actionId);
  for (const actionId of ids) {
    if (byAction.has(actionId)) continue;
    for (const candidate of [names.nameOf(actionId, 'mcp'), actionId]) {
      if (available.has(candidate) && !reserved.has(candidate)) {
        byAction.set(actionId, candidate);
        break;
      }
    }
  }
  return byAction;
}

function checkToolMap(map: unknown): Record<string, string> {
  if (map === undefined) return {};
  if (!isObject(map)) throw new CraError('invalid_request', 'tools must map upstream tool names to action ids', { path: '/tools' });
  for (const [name, id] of Object.entries(map)) {
    if (typeof id !== 'string' || id.length === 0) {
      throw new CraError('invalid_request', `the action id of upstream tool ${JSON.stringify(name)} must be a string`, { path: `/tools/${name}` });
    }
  }
  return map as Record<string, string>;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
