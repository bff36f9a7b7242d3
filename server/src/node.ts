/**
 * The server on Node: the embedded runtime with durable JSONL traces and a file of session owners, the atlases of a
 * folder, `@hono/node-server`, and a graceful close (stop accepting, end live streams, let requests finish, flush
 * and close the store).
 *
 * @module
 */

import { serve } from '@hono/node-server';
import type { AddressInfo, Socket } from 'node:net';
import type { Server } from 'node:http';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CraError } from '../../sdk/src/errors.ts';
import { createRuntime, type EmbeddedRuntime, type RuntimeOptions } from '../../sdk/src/runtime/runtime.ts';
import { loadAtlasDir } from '../../sdk/src/atlas/dir.ts';
import { jsonlStore } from '../../sdk/src/storage/jsonl.ts';
import type { TraceStore } from '../../sdk/src/storage/store.ts';
import type { AtlasBundle } from '../../sdk/src/types.ts';
import { createApp, type AppOptions } from './app.ts';
import { shortKeyWarning, startupAuth } from './auth/keys.ts';
import { FileOwners } from './auth/owner-file.ts';
import type { OwnerStore } from './auth/owner.ts';
import type { ServerConfig } from './config.ts';
import type { App } from './context.ts';
import { observeStore, TraceEvents } from './events.ts';

/** The example atlases shipped in the repository. */
export const BUNDLED_ATLASES = fileURLToPath(new URL('../../examples/atlases/', import.meta.url));

export interface Listening {
  server: Server;
  url: string;
  port: number;
  /** Stops accepting, ends live streams, waits up to `graceMs` for requests under way, then closes connections. */
  close(graceMs?: number): Promise<void>;
}

/** Serves `app` with `@hono/node-server`; answers once listening. */
export async function listen(app: { fetch: App['fetch'] }, options: { port?: number; host?: string; onClose?: () => void } = {}): Promise<Listening> {
  const host = options.host ?? '127.0.0.1';
  const server = await new Promise<Server>((ok, fail) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? 0, hostname: host }, () => ok(s as Server)) as Server;
    s.once('error', fail);
  });
  const { port } = server.address() as AddressInfo;
  // Requests under way per connection: at close, connections with none are ended at once (Node counts a
  // connection that has not sent a request yet as busy, and would keep it open until the grace runs out).
  const busy = new Map<Socket, number>();
  server.on('connection', (socket: Socket) => {
    busy.set(socket, 0);
    socket.once('close', () => busy.delete(socket));
  });
  server.on('request', (req, res) => {
    const socket = req.socket;
    busy.set(socket, (busy.get(socket) ?? 0) + 1);
    res.once('close', () => {
      if (busy.has(socket)) busy.set(socket, Math.max(0, (busy.get(socket) ?? 1) - 1));
    });
  });
  const endIdle = () => {
    for (const [socket, n] of busy) if (n === 0) socket.destroy();
  };
  let closing: Promise<void> | null = null;
  return {
    server,
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close(graceMs = 5000) {
      closing ??= new Promise<void>((done) => {
        options.onClose?.();
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        timer.unref();
        // Connections turn idle as their last response ends (streams included): end them as they do.
        const idle = setInterval(endIdle, 25);
        idle.unref();
        server.close(() => {
          clearTimeout(timer);
          clearInterval(idle);
          done();
        });
        endIdle();
      });
      return closing;
    },
  };
}

export interface AtlasReport {
  loaded: Array<{ atlas_id: string; version: string; path: string }>;
  skipped: Array<{ path: string; code: string; message: string }>;
}

/**
 * The atlases of a folder — the folder itself when it holds `atlas.json`, else each subfolder that does, by name —
 * that load together. A duplicate id or an invalid atlas is reported and skipped, never fatal; dependencies are
 * honoured whatever the folder order.
 */
export async function readAtlases(dir: string): Promise<{ bundles: AtlasBundle[]; report: AtlasReport }> {
  const report: AtlasReport = { loaded: [], skipped: [] };
  const paths: string[] = [];
  if (await isFile(join(dir, 'atlas.json'))) paths.push(dir);
  else {
    let names: string[];
    try {
      names = (await readdir(dir)).sort();
    } catch (err) {
      report.skipped.push({ path: dir, code: 'atlas_not_found', message: `cannot read ${dir}: ${(err as Error).message}` });
      return { bundles: [], report };
    }
    for (const name of names) if (await isFile(join(dir, name, 'atlas.json'))) paths.push(join(dir, name));
  }
  const candidates: Array<{ path: string; bundle: AtlasBundle }> = [];
  for (const path of paths) {
    try {
      candidates.push({ path, bundle: await loadAtlasDir(path) });
    } catch (err) {
      report.skipped.push({ path, ...describe(err) });
    }
  }
  // Trial loads in a scratch runtime: what loads there, in this order, loads in the real one.
  const scratch = await createRuntime();
  const bundles: AtlasBundle[] = [];
  try {
    let pending = candidates;
    for (;;) {
      const failed: Array<{ path: string; bundle: AtlasBundle; error: unknown }> = [];
      for (const c of pending) {
        try {
          const r = await scratch.loadAtlas(c.bundle);
          bundles.push(c.bundle);
          report.loaded.push({ atlas_id: r.atlas_id, version: r.version, path: c.path });
        } catch (error) {
          failed.push({ ...c, error });
        }
      }
      // Another pass only helps atlases whose dependency loaded meanwhile.
      if (failed.length === 0 || failed.length === pending.length) {
        for (const f of failed) {
          const d = describe(f.error);
          const dup = d.code === 'atlas_exists' ? report.loaded.find((l) => l.atlas_id === f.bundle.manifest?.atlas_id) : undefined;
          report.skipped.push({ path: f.path, code: d.code, message: dup ? `duplicate atlas id ${dup.atlas_id} (already loaded from ${dup.path})` : d.message });
        }
        break;
      }
      pending = failed;
    }
  } finally {
    await scratch.close();
  }
  return { bundles, report };
}

export interface StartOptions {
  /** Lines for the operator (default: console.log). */
  log?: (line: string) => void;
  /** Extra runtime options (tests inject clock and ids). */
  runtime?: Omit<RuntimeOptions, 'storage' | 'atlases'>;
  /** Extra app options. */
  app?: Partial<Omit<AppOptions, 'runtime' | 'auth' | 'owners' | 'events' | 'shutdown'>>;
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

/** Starts the server of `config`: runtime, atlases, durable store, owners, app, listener. */
export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  const log = options.log ?? ((line: string) => console.log(line));
  const { auth, generatedKey } = startupAuth(config);

  const dataDir = resolve(config.dataDir);
  const { bundles, report } = await readAtlases(config.atlasDir ? resolve(config.atlasDir) : BUNDLED_ATLASES);
  const events = new TraceEvents();
  const store: TraceStore = jsonlStore({ dir: join(dataDir, 'traces') });
  const owners = await FileOwners.open(join(dataDir, 'owners.jsonl'));
  let runtime: EmbeddedRuntime;
  try {
    runtime = await createRuntime({
      ...config.runtime,
      ...options.runtime,
      storage: observeStore(store, events),
      atlases: bundles,
      onCorruptTrace: 'skip',
    });
  } catch (err) {
    await owners.close().catch(() => undefined);
    throw err;
  }
  const shutdown = new AbortController();
  const app = createApp({
    ...options.app,
    runtime,
    auth,
    owners,
    events,
    shutdown: shutdown.signal,
    maxBodyBytes: config.maxBodyBytes,
    corsOrigins: config.corsOrigins,
    rateLimit: config.rateLimit > 0 ? { perMinute: config.rateLimit } : false,
  });
  let listening: Listening;
  try {
    listening = await listen(app, {
      port: config.port,
      host: config.host,
      onClose: () => {
        shutdown.abort();
        events.close();
      },
    });
  } catch (err) {
    await runtime.close().catch(() => undefined);
    await owners.close().catch(() => undefined);
    throw err;
  }

  for (const a of report.loaded) log(`  atlas ${a.atlas_id}@${a.version} (${a.path})`);
  for (const s of report.skipped) log(`  atlas skipped: ${s.path}: ${s.code}: ${s.message}`);
  for (const i of runtime.storageIssues) log(`  damaged trace left out: ${i.location ?? i.session_id}: ${i.kind}: ${i.message}`);
  const weak = config.auth ? shortKeyWarning(config) : null;
  if (weak) log(weak);
  if (owners.skipped.length > 0) log(`  owners.jsonl: unreadable line(s) ${owners.skipped.join(', ')} skipped`);

  let closing: Promise<void> | null = null;
  return {
    ...listening,
    app,
    runtime,
    events,
    owners,
    atlases: report,
    generatedKey,
    close(graceMs?: number) {
      closing ??= (async () => {
        const errors: unknown[] = [];
        await listening.close(graceMs);
        await runtime.flush().catch((e) => errors.push(e));
        await runtime.close().catch((e) => errors.push(e));
        await owners.close().catch((e) => errors.push(e));
        if (errors.length > 0) throw errors[0];
      })();
      return closing;
    },
  };
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function describe(err: unknown): { code: string; message: string } {
  return err instanceof CraError ? { code: err.code, message: err.message } : { code: 'internal', message: String((err as Error)?.message ?? err) };
}
