/**
 * `npm start`: the CRA server on Node, configured by environment variables (see `config.ts`). SIGINT / SIGTERM stop
 * it gracefully: requests under way finish, live streams end, buffered traces are flushed and the store is closed.
 *
 * @module
 */

import { CraError } from '../../sdk/src/errors.ts';
import { connectUpstream, type McpUpstream } from '../../sdk/src/mcp/upstream.ts';
import { parseConfig } from './config.ts';
import { startServer } from './node.ts';

const log = (line: string) => console.log(line);

async function main(): Promise<void> {
  const config = parseConfig(process.env);
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
  if (upstream) log(`  mcp: /v1/sessions/{id}/mcp serves the tools of ${JSON.stringify(config.mcp!.command)}`);
  const sessions = (await server.runtime.listSessions()).length;
  log(`  data: ${config.dataDir} (${sessions} session(s) restored)`);
  if (!config.auth) {
    log('  auth: OFF (CRA_AUTH=off): every request is accepted and every session is visible. Local use only.');
  } else if (server.generatedKey) {
    log('  auth: no CRA_API_KEYS set, so a key was generated for this run (admin: may load atlases). It is shown once:');
    log('');
    log(`    export CRA_API_KEY=${server.generatedKey}`);
    log('');
    log('  Sessions belong to the key that created them; to keep this key across restarts, start with');
    log('  CRA_ADMIN_KEYS=$CRA_API_KEY npm start');
  } else {
    const admins = config.adminKeys.length > 0 ? `${config.adminKeys.length} admin` : 'no admin key: every key may load and unload atlases';
    log(`  auth: ${config.apiKeys.length + config.adminKeys.length} key(s) configured (${admins})`);
  }
  // Last, so that whatever waits for this line has everything above it.
  log(`CRA server listening on ${server.url} (OpenAPI: ${server.url}/openapi.json)`);

  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: shutting down`);
    server
      .close()
      .then(() => upstream?.close())
      .then(() => {
        log('stopped');
        process.exit(0);
      })
      .catch((err: unknown) => {
        console.error('shutdown failed:', err);
        process.exit(1);
      });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  const detail = err instanceof CraError ? `${err.code}: ${err.message}` : err instanceof Error ? (err.stack ?? err.message) : String(err);
  console.error(`CRA server failed to start: ${detail}`);
  process.exit(1);
});
