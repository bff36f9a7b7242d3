/**
 * The server on Deno: the same server on files as on Node (`adapter/files`, through Deno's Node compatibility:
 * JSONL traces and the file of session owners under `CRA_DATA_DIR`, the atlases of `CRA_ATLAS_DIR`), served by
 * `Deno.serve`, with the same start-up report and the same graceful close. `main.ts` runs it as a process.
 *
 * @module
 */

import { CraError } from '../../../../sdk/src/errors.ts';
import type { EmbeddedRuntime } from '../../../../sdk/src/runtime/runtime.ts';
import type { ServerConfig } from '../../config.ts';
import type { App } from '../../context.ts';
import { type AtlasReport, startupReport } from '../../report.ts';
import { assembleOnFiles } from '../files/index.ts';
import { bindFailure } from '../process.ts';

/** The part of Deno's API used here (the repository type-checks with Node's types). */
interface DenoHttpServer {
  readonly addr: { hostname: string; port: number };
  readonly finished: Promise<void>;
  shutdown(): Promise<void>;
}
export interface DenoApi {
  serve(
    options: { port: number; hostname: string; onListen?: (addr: { hostname: string; port: number }) => void },
    handler: (request: Request) => Response | Promise<Response>,
  ): DenoHttpServer;
  env: { toObject(): Record<string, string> };
  addSignalListener(signal: 'SIGINT' | 'SIGTERM', handler: () => void): void;
  exit(code?: number): never;
}

/** Deno's global, or a clear error elsewhere. */
export function deno(): DenoApi {
  const api = (globalThis as { Deno?: DenoApi }).Deno;
  if (!api) throw new CraError('invalid_request', 'server/src/adapter/deno runs on Deno (npm start serves on Node)');
  return api;
}

export interface DenoServer {
  app: App;
  runtime: EmbeddedRuntime;
  atlases: AtlasReport;
  url: string;
  port: number;
  /** The key generated at start (auth on, no key configured), else null. */
  generatedKey: string | null;
  /** Graceful stop: end streams, finish requests (up to `graceMs`), flush traces, close the store and owners. */
  close(graceMs?: number): Promise<void>;
}

/** Starts the server of `config` with `Deno.serve`; logs its start-up report; answers once listening. */
export async function serveDeno(config: ServerConfig, options: { log?: (line: string) => void } = {}): Promise<DenoServer> {
  const log = options.log ?? ((line: string) => console.log(line));
  const format = config.logFormat ?? 'text';
  const server = await assembleOnFiles(config, { app: { requestLog: format === 'off' ? null : { format, write: log } } });
  let http: DenoHttpServer;
  try {
    // Deno.serve binds before it returns; the no-op onListen replaces Deno's own "Listening on" line.
    http = deno().serve({ port: config.port, hostname: config.host, onListen: () => undefined }, (request) => server.app.fetch(request));
  } catch (err) {
    await server.close().catch(() => undefined);
    throw bindFailure(err, { port: config.port, host: config.host, portVariable: 'CRA_PORT', hostVariable: 'CRA_HOST' });
  }
  const { port } = http.addr;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  const lines = await startupReport(server, {
    name: 'CRA server (Deno)',
    url,
    data: config.dataDir,
    durability: config.durability,
    command: 'deno run --allow-net --allow-read --allow-write --allow-env server/src/adapter/deno/main.ts',
    atlases: server.atlases,
    ownersSkipped: server.owners.skipped,
  });
  for (const line of lines) log(line);

  let closing: Promise<void> | null = null;
  return {
    app: server.app,
    runtime: server.runtime,
    atlases: server.atlases,
    port,
    url,
    generatedKey: server.generatedKey,
    close(graceMs = 5000) {
      closing ??= (async () => {
        server.endStreams();
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([http.shutdown(), new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
        clearTimeout(timer);
        await server.close();
      })();
      return closing;
    },
  };
}
