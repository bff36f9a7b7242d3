/**
 * The server as a Worker (workerd, Cloudflare Workers): a `fetch` handler over `assemble()`, configured by the
 * Worker's environment (the server's `CRA_*` variables; keys as secrets), assembled on the first request (workerd
 * allows no I/O or randomness at start) and kept for the isolate's life, its start-up report logged then.
 *
 * Storage is in memory by default: the sessions of one isolate, gone when it is evicted — for a demo, a test, a
 * short-lived agent. Durable sessions on workerd need Durable Objects: `examples/edge` keeps each session in its own.
 *
 * ```ts
 * import { createWorker } from 'cra-runtime/server';
 * import support from './atlases/support.json';
 * export default createWorker({ atlases: [support] });
 * ```
 *
 * @module
 */

import { CraError } from '../../../../sdk/src/errors.ts';
import { assemble, type AssembleOptions, type Assembly } from '../../assemble.ts';
import { parseConfig } from '../../config.ts';
import { errorBody } from '../../errors.ts';
import { startupReport } from '../../report.ts';

/** What {@link createWorker} takes: what `assemble` takes beside the configuration, and where start-up lines go. */
export interface WorkerOptions extends AssembleOptions {
  /** Lines for the operator, at the first request (default: console.log, shown by `wrangler tail`). */
  log?: (line: string) => void;
}

/** What a Worker module exports: `export default createWorker(…)`. */
export interface Worker {
  /** `env`: the Worker's bindings; its string values are the configuration. */
  fetch(request: Request, env?: Record<string, unknown>): Promise<Response>;
}

/**
 * The Worker over `assemble()`: configured from the Worker's environment and assembled on its first request. A
 * start that fails (a missing key, a bad variable) answers 500 with why, and the next request tries again.
 */
export function createWorker(options: WorkerOptions = {}): Worker {
  const { log = (line: string) => console.log(line), ...assembleOptions } = options;
  let server: Promise<Assembly> | null = null;
  return {
    async fetch(request, env = {}) {
      server ??= start(new URL(request.url).origin, env, assembleOptions, log).catch((err: unknown) => {
        server = null; // the next request tries again (a secret set meanwhile, say)
        throw err;
      });
      let ready: Assembly;
      try {
        ready = await server;
      } catch (err) {
        const e = err instanceof CraError ? err : new CraError('internal', err instanceof Error ? err.message : String(err));
        return Response.json(errorBody(e.code, `the server cannot start: ${e.message}`, e.path), { status: 500 });
      }
      return ready.app.fetch(request);
    },
  };
}

async function start(origin: string, env: Record<string, unknown>, options: AssembleOptions, log: (line: string) => void): Promise<Assembly> {
  const config = parseConfig(Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string')));
  // A key generated here could be shown to no one: with auth on, the keys must be configured.
  if (config.auth && config.apiKeys.length + config.adminKeys.length === 0) {
    throw new CraError('invalid_request', 'no API key configured: set CRA_API_KEYS (wrangler secret put CRA_API_KEYS), or CRA_AUTH=off for local use', {
      path: '/CRA_API_KEYS',
    });
  }
  const server = await assemble(config, options);
  const loaded = (await server.runtime.listAtlases()).map((a) => ({ atlas_id: a.atlas_id, version: a.version, path: 'deployed with the Worker' }));
  const lines = await startupReport(server, {
    name: 'CRA server (workerd)',
    url: origin,
    data: 'in memory, this isolate only',
    command: 'wrangler deploy',
    atlases: { loaded, skipped: [] },
  });
  for (const line of lines) log(line);
  return server;
}
