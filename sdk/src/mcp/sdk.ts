/**
 * The official MCP SDK (`@modelcontextprotocol/sdk`), loaded on first use. It is an optional peer dependency of
 * `cra-runtime`: every entry (the root, `cra-runtime/server`…) works without it, and only the MCP code paths — the
 * gateway's server, an upstream connection, the HTTP route, `cra mcp-proxy` — import it, here, at run time.
 *
 * The specifiers are computed, so that bundlers (wrangler, Vite, rollup) leave the import alone instead of pulling
 * the SDK (and its Node-only stdio transports) into bundles that never use it.
 *
 * @module
 */

import { CraError } from '../errors.ts';

type ServerModule = typeof import('@modelcontextprotocol/sdk/server/index.js');
type StdioServerModule = typeof import('@modelcontextprotocol/sdk/server/stdio.js');
type HttpServerModule = typeof import('@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js');
type ClientModule = typeof import('@modelcontextprotocol/sdk/client/index.js');
type StdioClientModule = typeof import('@modelcontextprotocol/sdk/client/stdio.js');
type TypesModule = typeof import('@modelcontextprotocol/sdk/types.js');

const SDK = '@modelcontextprotocol/sdk';

/** What the error says when the SDK is not installed. */
export const MCP_SDK_MISSING = 'install @modelcontextprotocol/sdk to use the MCP gateway (npm install @modelcontextprotocol/sdk)';

const cache = new Map<string, Promise<unknown>>();

/** One module of the SDK; a missing SDK is a `CraError` `mcp_unavailable` saying what to install. */
function load<T>(path: string): Promise<T> {
  let loaded = cache.get(path);
  if (!loaded) {
    const specifier = `${SDK}/${path}`;
    loaded = import(/* @vite-ignore */ specifier).catch((err: unknown) => {
      cache.delete(path);
      if (isMissing(err)) throw new CraError('mcp_unavailable', MCP_SDK_MISSING, { cause: err });
      throw err;
    });
    cache.set(path, loaded);
  }
  return loaded as Promise<T>;
}

function isMissing(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return (code === 'ERR_MODULE_NOT_FOUND' || /cannot find|not found|could not resolve|failed to resolve/i.test(message)) && message.includes(SDK);
}

/** The low-level `Server` and the request schemas it answers. */
export async function serverSdk(): Promise<Pick<ServerModule, 'Server'> & Pick<TypesModule, 'ListToolsRequestSchema' | 'CallToolRequestSchema'>> {
  const [server, types] = await Promise.all([load<ServerModule>('server/index.js'), load<TypesModule>('types.js')]);
  return { Server: server.Server, ListToolsRequestSchema: types.ListToolsRequestSchema, CallToolRequestSchema: types.CallToolRequestSchema };
}

/** The stdio server transport (Node). */
export async function stdioServerSdk(): Promise<StdioServerModule> {
  return load<StdioServerModule>('server/stdio.js');
}

/** The Web-standard Streamable HTTP server transport. */
export async function httpServerSdk(): Promise<HttpServerModule> {
  return load<HttpServerModule>('server/webStandardStreamableHttp.js');
}

/** The `Client` and the stdio client transport (Node: it spawns the upstream server). */
export async function clientSdk(): Promise<{ Client: ClientModule['Client']; StdioClientTransport: StdioClientModule['StdioClientTransport'] }> {
  const [client, stdio] = await Promise.all([load<ClientModule>('client/index.js'), load<StdioClientModule>('client/stdio.js')]);
  return { Client: client.Client, StdioClientTransport: stdio.StdioClientTransport };
}
