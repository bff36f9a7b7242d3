/**
 * The server on Deno: the same app as `npm start` (`createApp`), served by `Deno.serve`, configured by the same
 * environment variables (`config.ts`), with the same durable pieces through Deno's Node compatibility: JSONL traces
 * and the file of session owners under `CRA_DATA_DIR`, the atlases of `CRA_ATLAS_DIR`.
 *
 * ```sh
 * deno run --allow-net --allow-read --allow-write --allow-env server/src/deno.ts
 * ```
 *
 * SIGINT / SIGTERM stop it gracefully (open streams end, requests under way finish, traces are flushed).
 *
 * @module
 */

import { join, resolve } from 'node:path';
import { CraError } from '../../sdk/src/errors.ts';
import { createRuntime, type EmbeddedRuntime } from '../../sdk/src/runtime/runtime.ts';
import { jsonlStore } from '../../sdk/src/storage/jsonl.ts';
import { createApp } from './app.ts';
import { shortKeyWarning, startupAuth } from './auth/keys.ts';
import { FileOwners } from './auth/owner-file.ts';
import { parseConfig, type ServerConfig } from './config.ts';
import type { App } from './context.ts';
import { observeStore, TraceEvents } from './events.ts';
import { type AtlasReport, BUNDLED_ATLASES, readAtlases } from './node.ts';

/** The part of Deno's API used here (the repository type-checks with Node's types). */
interface DenoHttpServer {
  readonly addr: { hostname: string; port: number };
  readonly finished: Promise<void>;
  shutdown(): Promise<void>;
}
interface DenoApi {
  serve(
    options: { port: number; hostname: string; onListen?: (addr: { hostname: string; port: number }) => void },
    handler: (request: Request) => Response | Promise<Response>,
  ): DenoHttpServer;
  env: { toObject(): Record<string, string> };
  addSignalListener(signal: 'SIGINT' | 'SIGTERM', handler: () => void): void;
  exit(code?: number): never;
}

function deno(): DenoApi {
  const api = (globalThis as { Deno?: DenoApi }).Deno;
  if (!api) throw new CraError('invalid_request', 'server/src/deno.ts runs on Deno (npm start serves on Node)');
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

/** Starts the server of `config` with `Deno.serve`; answers once listening. */
export async function serveDeno(config: ServerConfig, options: { log?: (line: string) => void } = {}): Promise<DenoServer> {
  const log = options.log ?? ((line: string) => console.log(line));
  const { auth, generatedKey } = startupAuth(config);

  const dataDir = resolve(config.dataDir);
  const { bundles, report } = await readAtlases(config.atlasDir ? resolve(config.atlasDir) : BUNDLED_ATLASES);
  const events = new TraceEvents();
  const owners = await FileOwners.open(join(dataDir, 'owners.jsonl'));
  let runtime: EmbeddedRuntime;
  try {
    const store = observeStore(jsonlStore({ dir: join(dataDir, 'traces') }), events);
    runtime = await createRuntime({ ...config.runtime, storage: store, atlases: bundles, onCorruptTrace: 'skip' });
  } catch (err) {
    await owners.close().catch(() => undefined);
    throw err;
  }
  const shutdown = new AbortController();
  const app = createApp({
    runtime,
    auth,
    owners,
    events,
    shutdown: shutdown.signal,
    maxBodyBytes: config.maxBodyBytes,
    corsOrigins: config.corsOrigins,
    rateLimit: config.rateLimit > 0 ? { perMinute: config.rateLimit } : false,
  });

  // Deno.serve binds before it returns; the no-op onListen replaces Deno's own "Listening on" line.
  const server = deno().serve({ port: config.port, hostname: config.host, onListen: () => undefined }, (request) => app.fetch(request));
  const { port } = server.addr;
  for (const a of report.loaded) log(`  atlas ${a.atlas_id}@${a.version} (${a.path})`);
  for (const s of report.skipped) log(`  atlas skipped: ${s.path}: ${s.code}: ${s.message}`);
  for (const i of runtime.storageIssues) log(`  damaged trace left out: ${i.location ?? i.session_id}: ${i.kind}: ${i.message}`);
  const weak = config.auth ? shortKeyWarning(config) : null;
  if (weak) log(weak);

  let closing: Promise<void> | null = null;
  return {
    app,
    runtime,
    atlases: report,
    port,
    url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
    generatedKey,
    close(graceMs = 5000) {
      closing ??= (async () => {
        const errors: unknown[] = [];
        shutdown.abort();
        events.close();
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([server.shutdown(), new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
        clearTimeout(timer);
        await runtime.flush().catch((e) => errors.push(e));
        await runtime.close().catch((e) => errors.push(e));
        await owners.close().catch((e) => errors.push(e));
        if (errors.length > 0) throw errors[0];
      })();
      return closing;
    },
  };
}

async function main(): Promise<void> {
  const log = (line: string) => console.log(line);
  const config = parseConfig(deno().env.toObject());
  const server = await serveDeno(config, { log });
  log(`  data: ${config.dataDir} (${(await server.runtime.listSessions()).length} session(s) restored)`);
  if (!config.auth) log('  auth: OFF (CRA_AUTH=off): every request is accepted and every session is visible. Local use only.');
  else if (server.generatedKey) log(`  auth: no CRA_API_KEYS set, a key for this run (admin):\n\n    export CRA_API_KEY=${server.generatedKey}\n`);
  else log(`  auth: ${config.apiKeys.length + config.adminKeys.length} key(s) configured (${config.adminKeys.length} admin)`);
  // Last, so that whatever waits for this line has everything above it.
  log(`CRA server (Deno) listening on ${server.url} (OpenAPI: ${server.url}/openapi.json)`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: shutting down`);
    server
      .close()
      .then(() => {
        log('stopped');
        deno().exit(0);
      })
      .catch((err: unknown) => {
        console.error('shutdown failed:', err);
        deno().exit(1);
      });
  };
  deno().addSignalListener('SIGINT', () => stop('SIGINT'));
  deno().addSignalListener('SIGTERM', () => stop('SIGTERM'));
}

if ((import.meta as { main?: boolean }).main) {
  main().catch((err: unknown) => {
    const detail = err instanceof CraError ? `${err.code}: ${err.message}` : err instanceof Error ? (err.stack ?? err.message) : String(err);
    console.error(`CRA server failed to start: ${detail}`);
    deno().exit(1);
  });
}
