/**
 * The CRA server on Node as a program, configured by environment variables (see `config.ts`): {@link serveFromEnv}
 * starts it, and both programs that serve call it — `cra serve` (whose flags set the variables) and this module
 * when it is the program itself (`node dist/server-main.node.js`, or `node --import tsx` on this file). Built, it
 * runs with plain `node`: no TypeScript loader compiling modules at start; `scripts/ensure-build.mjs` (`prestart`)
 * builds it first when it is missing or older than the sources. SIGINT / SIGTERM stop it gracefully: requests under
 * way finish, live streams end, buffered traces are flushed and the store is closed.
 *
 * With no atlas folder configured, it serves the example atlases the package ships (from the sources, the
 * repository's), and its start report says so: a first run answers with something to try.
 *
 * @module
 */

import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { connectUpstream, type McpUpstream } from '../../../../sdk/src/mcp/upstream.ts';
import { type Env, parseConfig } from '../../config.ts';
import { defaultAtlasesFor } from '../files/index.ts';
import { startFailure, stopOnSignals } from '../process.ts';
import { type RunningServer, startServer } from './index.ts';

export interface ServeOptions {
  /** Lines for the operator (default: console.log). */
  log?: (line: string) => void;
  /** How the operator started it, for the start report's hints (default `npm start`). */
  command?: string;
}

export interface Serving {
  /** Where it listens (`CRA_PORT=0`: the port chosen), as the report's last line says. */
  url: string;
  server: RunningServer;
  /** Graceful stop of the server and its MCP upstream; the same promise when called again. */
  close(): Promise<void>;
  /** Settles once closed. */
  closed: Promise<void>;
}

/** Starts the server that the variables of `env` describe; rejects (a `CraError` for a bad variable) when it cannot. */
export async function serveFromEnv(env: Env, options: ServeOptions = {}): Promise<Serving> {
  const log = options.log ?? ((line: string) => console.log(line));
  let config = parseConfig(env);
  const bundled = config.atlasDir === undefined ? defaultAtlasesFor(import.meta.url) : null;
  if (bundled !== null) config = { ...config, atlasDir: bundled };
  // CRA_MCP_UPSTREAM: the MCP server behind /v1/sessions/{id}/mcp, spawned without a shell (stderr: ours).
  let upstream: McpUpstream | undefined;
  let stopping = false;
  if (config.mcp) {
    const [command, ...args] = config.mcp.command;
    const childEnv = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
    upstream = await connectUpstream({ command: command!, args, env: childEnv });
    upstream.onClose(() => {
      if (!stopping) log('  mcp: the upstream MCP server exited; /v1/sessions/{id}/mcp calls now fail');
    });
  }
  if (bundled !== null) log(`  atlases: the bundled examples (${bundled}); set CRA_ATLAS_DIR or --atlas for your own`);
  let server: RunningServer;
  try {
    server = await startServer(config, {
      log,
      ...(options.command ? { command: options.command } : {}),
      ...(upstream ? { app: { mcp: { upstream, approvalTimeoutMs: config.mcp!.approvalTimeoutSeconds * 1000 } } } : {}),
    });
  } catch (err) {
    await upstream?.close().catch(() => undefined);
    throw err;
  }
  let closing: Promise<void> | null = null;
  let done!: () => void;
  const closed = new Promise<void>((resolve) => (done = resolve));
  return {
    url: server.url,
    server,
    closed,
    close() {
      closing ??= (async () => {
        stopping = true;
        try {
          await server.close();
          await upstream?.close();
        } finally {
          done();
        }
      })();
      return closing;
    },
  };
}

/** This process stops `serving` on the first SIGINT / SIGTERM (`SIGTERM: shutting down`, `stopped`) and exits. */
export function stopOnProcessSignals(serving: Serving, log: (line: string) => void = (line) => console.log(line)): void {
  stopOnSignals({ onSignal: (signal, handler) => process.on(signal, handler), exit: (code) => process.exit(code), log }, () => serving.close());
}

/** Whether this module is the program (`node <this file>`), not imported by another (`cra serve`, tests). */
function isProgram(): boolean {
  const program = process.argv[1];
  if (!program) return false;
  try {
    return realpathSync(program) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isProgram()) {
  serveFromEnv(process.env).then(
    (serving) => stopOnProcessSignals(serving),
    (err: unknown) => {
      console.error(startFailure(err));
      process.exit(1);
    },
  );
}
