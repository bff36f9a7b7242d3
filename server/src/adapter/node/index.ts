/**
 * The server on Node: the server on files (`adapter/files`: atlases of a folder, JSONL traces, the file of session
 * owners) served by `@hono/node-server`, its start-up report logged, and a graceful close (stop accepting, end live
 * streams, let requests finish, flush and close the store and the owners).
 *
 * @module
 */

import type { EmbeddedRuntime } from '../../../../sdk/src/runtime/runtime.ts';
import type { AssembleOptions } from '../../assemble.ts';
import type { OwnerStore } from '../../auth/owner.ts';
import type { ServerConfig } from '../../config.ts';
import type { App } from '../../context.ts';
import type { TraceEvents } from '../../events.ts';
import { type AtlasReport, startupReport } from '../../report.ts';
import { assembleOnFiles } from '../files/index.ts';
import { listen, type Listening } from './listen.ts';

export { listen, type Listening } from './listen.ts';

export interface StartOptions {
  /** Lines for the operator (default: console.log). */
  log?: (line: string) => void;
  /** Extra runtime options (tests inject clock and ids). */
  runtime?: AssembleOptions['runtime'];
  /** Extra app options (`mcp`: the upstream of `/v1/sessions/{id}/mcp`). */
  app?: AssembleOptions['app'];
}

export interface RunningServer extends Listening {
  app: App;
  runtime: EmbeddedRuntime;
  events: TraceEvents;
  owners: OwnerStore;
  atlases: AtlasReport;
  /** The key generated at start (auth on, no key configured), else null. */
  generatedKey: string | null;
  /** Graceful stop: stop accepting, end streams, finish requests, flush traces, close the store and owners. */
  close(graceMs?: number): Promise<void>;
}

/** Starts the server of `config`: runtime, atlases, durable store, owners, app, listener; logs its start-up report. */
export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  const log = options.log ?? ((line: string) => console.log(line));
  const bodyTimeoutMs = config.bodyTimeoutSeconds * 1000;
  const server = await assembleOnFiles(config, { runtime: options.runtime, app: { bodyTimeoutMs, ...options.app } });
  let listening: Listening;
  try {
    const headersTimeoutMs = config.headersTimeoutSeconds * 1000;
    listening = await listen(server.app, {
      port: config.port,
      host: config.host,
      onClose: server.endStreams,
      headersTimeoutMs,
      // The app answers a slow body first (408 after bodyTimeoutMs); Node's own limit is the backstop.
      requestTimeoutMs: headersTimeoutMs + bodyTimeoutMs + 5000,
      maxConnectionsPerAddress: config.maxConnectionsPerAddress,
      maxConnections: config.maxConnections,
    });
  } catch (err) {
    await server.close().catch(() => undefined);
    throw err;
  }
  const lines = await startupReport(server, {
    name: 'CRA server',
    url: listening.url,
    data: config.dataDir,
    durability: config.durability,
    command: 'npm start',
    atlases: server.atlases,
    ownersSkipped: server.owners.skipped,
    ...(options.app?.mcp && config.mcp ? { mcp: config.mcp.command } : {}),
  });
  for (const line of lines) log(line);

  let closing: Promise<void> | null = null;
  return {
    ...listening,
    app: server.app,
    runtime: server.runtime,
    events: server.events,
    owners: server.owners,
    atlases: server.atlases,
    generatedKey: server.generatedKey,
    close(graceMs?: number) {
      closing ??= listening.close(graceMs).then(() => server.close());
      return closing;
    },
  };
}
