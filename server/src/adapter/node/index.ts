/**
 * The server on Node: the server on files (`adapter/files`: atlases of a folder, JSONL traces, the file of session
 * owners) served by `@hono/node-server`, its start-up report logged, and a graceful close (stop accepting, end live
 * streams, let requests finish, flush and close the store and the owners).
 *
 * Operators get a line per request through the same `log` as the report (`CRA_LOG_FORMAT`: text, JSON lines, off),
 * and, with `CRA_METRICS_PORT`, `GET /metrics` on a listener of its own without auth (loopback unless
 * `CRA_METRICS_HOST` says otherwise). A port that cannot be bound is one line naming the variable to change.
 *
 * @module
 */

import type { EmbeddedRuntime } from '../../../../sdk/src/runtime/runtime.ts';
import type { AssembleOptions } from '../../assemble.ts';
import type { OwnerStore } from '../../auth/owner.ts';
import { SERVER_VERSION } from '../../app.ts';
import type { ServerConfig } from '../../config.ts';
import type { App } from '../../context.ts';
import type { TraceEvents } from '../../events.ts';
import { type AtlasReport, startupReport } from '../../report.ts';
import { metricsOnly } from '../../routes/metrics.ts';
import { assembleOnFiles } from '../files/index.ts';
import { bindFailure } from '../process.ts';
import { listen, type Listening } from './listen.ts';

export { listen, type Listening } from './listen.ts';

export interface StartOptions {
  /** Lines for the operator (default: console.log). */
  log?: (line: string) => void;
  /** Extra runtime options (tests inject clock and ids). */
  runtime?: AssembleOptions['runtime'];
  /** Extra app options (`mcp`: the upstream of `/v1/sessions/{id}/mcp`). */
  app?: AssembleOptions['app'];
  /** How the operator started it, for the report's hints (default `npm start`). */
  command?: string;
}

export interface RunningServer extends Listening {
  app: App;
  runtime: EmbeddedRuntime;
  events: TraceEvents;
  owners: OwnerStore;
  atlases: AtlasReport;
  /** The key generated at start (auth on, no key configured), else null. */
  generatedKey: string | null;
  /** The metrics listener (`CRA_METRICS_PORT`), else null. */
  metrics: Listening | null;
  /** Graceful stop: stop accepting, end streams, finish requests, flush traces, close the store and owners. */
  close(graceMs?: number): Promise<void>;
}

/** Starts the server of `config`: runtime, atlases, durable store, owners, app, listener; logs its start-up report. */
export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  const log = options.log ?? ((line: string) => console.log(line));
  const bodyTimeoutMs = config.bodyTimeoutSeconds * 1000;
  const format = config.logFormat ?? 'text';
  const requestLog = format === 'off' ? null : { format, write: log };
  const server = await assembleOnFiles(config, { runtime: options.runtime, app: { bodyTimeoutMs, requestLog, ...options.app } });
  let listening: Listening;
  let metrics: Listening | null = null;
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
    }).catch((err: unknown) => {
      throw bindFailure(err, { port: config.port, host: config.host, portVariable: 'CRA_PORT', hostVariable: 'CRA_HOST' });
    });
  } catch (err) {
    await server.close().catch(() => undefined);
    throw err;
  }
  if (config.metricsPort !== undefined && server.metrics) {
    const host = config.metricsHost ?? '127.0.0.1';
    const only = metricsOnly({ metrics: server.metrics, runtime: server.runtime, version: options.app?.version ?? SERVER_VERSION });
    try {
      metrics = await listen(only, { port: config.metricsPort, host }).catch((err: unknown) => {
        throw bindFailure(err, { port: config.metricsPort!, host, portVariable: 'CRA_METRICS_PORT', hostVariable: 'CRA_METRICS_HOST' });
      });
    } catch (err) {
      await listening.close(0).catch(() => undefined);
      await server.close().catch(() => undefined);
      throw err;
    }
  }
  const lines = await startupReport(server, {
    name: 'CRA server',
    url: listening.url,
    data: config.dataDir,
    durability: config.durability,
    command: options.command ?? 'npm start',
    atlases: server.atlases,
    ownersSkipped: server.owners.skipped,
    ...(options.app?.mcp && config.mcp ? { mcp: config.mcp.command } : {}),
    ...(metrics ? { metrics: `${metrics.url}/metrics` } : {}),
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
    metrics,
    close(graceMs?: number) {
      closing ??= Promise.all([listening.close(graceMs), metrics?.close(0)]).then(() => server.close());
      return closing;
    },
  };
}
