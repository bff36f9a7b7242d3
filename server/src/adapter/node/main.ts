/**
 * `npm start`: the CRA server on Node, configured by environment variables (see `config.ts`). It runs built
 * (`dist/server-main.node.js`, plain `node`): no TypeScript loader compiling modules at start, in production or not;
 * `scripts/ensure-build.mjs` (`prestart`) builds it first when it is missing or older than the sources. SIGINT /
 * SIGTERM stop it gracefully: requests under way finish, live streams end, buffered traces are flushed and the
 * store is closed.
 *
 * @module
 */

import { connectUpstream, type McpUpstream } from '../../../../sdk/src/mcp/upstream.ts';
import { parseConfig, type ServerConfig } from '../../config.ts';
import { BUNDLED_ATLASES, checkoutAtlasesFor } from '../files/index.ts';
import { startFailure, stopOnSignals } from '../process.ts';
import { startServer } from './index.ts';

const log = (line: string) => console.log(line);

async function main(): Promise<void> {
  const config = withCheckoutAtlases(parseConfig(process.env));
  // CRA_MCP_UPSTREAM: the MCP server behind /v1/sessions/{id}/mcp, spawned without a shell (stderr: ours).
  let upstream: McpUpstream | undefined;
  let stopping = false;
  if (config.mcp) {
    const [command, ...args] = config.mcp.command;
    upstream = await connectUpstream({ command: command!, args, env: process.env as Record<string, string> });
    upstream.onClose(() => {
      if (!stopping) log('  mcp: the upstream MCP server exited; /v1/sessions/{id}/mcp calls now fail');
    });
  }
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer(config, {
      log,
      ...(upstream ? { app: { mcp: { upstream, approvalTimeoutMs: config.mcp!.approvalTimeoutSeconds * 1000 } } } : {}),
    });
  } catch (err) {
    await upstream?.close().catch(() => undefined);
    throw err;
  }
  stopOnSignals({ onSignal: (signal, handler) => process.on(signal, handler), exit: (code) => process.exit(code), log }, async () => {
    stopping = true;
    await server.close();
    await upstream?.close();
  });
}

/** Built, in a repository checkout, the default atlas folder is still the checkout's examples (as from the sources). */
function withCheckoutAtlases(config: ServerConfig): ServerConfig {
  if (config.atlasDir !== undefined || BUNDLED_ATLASES !== null) return config;
  const examples = checkoutAtlasesFor(import.meta.url);
  return examples === null ? config : { ...config, atlasDir: examples };
}

main().catch((err: unknown) => {
  console.error(startFailure(err));
  process.exit(1);
});
