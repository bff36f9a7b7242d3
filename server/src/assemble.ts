/**
 * One server from one configuration, whatever runs it: the embedded runtime (over the trace store and atlases it is
 * given), the live-event hub, the session owners and the app. Every adapter (`adapter/node`, `adapter/deno`,
 * `adapter/workerd`) starts here and adds only what its runtime has: a listener, signals, files. Web-standard only.
 *
 * @module
 */

import { createRuntime, type EmbeddedRuntime, type RuntimeOptions } from '../../sdk/src/runtime/runtime.ts';
import { memoryStore } from '../../sdk/src/storage/memory.ts';
import type { TraceStore } from '../../sdk/src/storage/store.ts';
import { createApp, type AppOptions } from './app.ts';
import { startupAuth } from './auth/keys.ts';
import { MemoryOwners, type OwnerStore, unownedSessions } from './auth/owner.ts';
import type { ServerConfig } from './config.ts';
import type { App } from './context.ts';
import { observeStore, TraceEvents } from './events.ts';
import { ServerMetrics } from './metrics/server-metrics.ts';

/** The part of a configuration an assembly reads (listening and files are the adapters'). */
export type AssemblyConfig = Pick<ServerConfig, 'auth' | 'apiKeys' | 'adminKeys' | 'maxBodyBytes' | 'corsOrigins' | 'rateLimit' | 'runtime'> &
  Partial<Pick<ServerConfig, 'atlasWrites' | 'bodyTimeoutSeconds'>>;

/** What an assembly takes beyond its configuration: its store, owners, atlases, and extra runtime and app options. */
export interface AssembleOptions {
  /** Where traces are kept (default: in memory). */
  storage?: TraceStore;
  /** Who owns which session (default: in memory). Closed with the assembly, or at once if assembling fails. */
  owners?: OwnerStore;
  /** The atlases loaded at start. */
  atlases?: RuntimeOptions['atlases'];
  /** Extra runtime options (tests inject clock and ids). */
  runtime?: Omit<RuntimeOptions, 'storage' | 'atlases'>;
  /** Extra app options, over those of the configuration. */
  app?: Partial<Omit<AppOptions, 'runtime' | 'auth' | 'owners' | 'events' | 'shutdown'>>;
}

/** A server built from a configuration, before any listener: its app, runtime, event hub and owners. */
export interface Assembly {
  /** The configuration it was built from. */
  config: AssemblyConfig;
  /** The Hono app to serve (`app.fetch`). */
  app: App;
  /** The embedded runtime behind it. */
  runtime: EmbeddedRuntime;
  /** Every appended trace event, for live streams and metrics. */
  events: TraceEvents;
  /** Who owns which session. */
  owners: OwnerStore;
  /** The counters of `GET /metrics` (null with `app.metrics: false`), for a metrics listener of its own. */
  metrics: ServerMetrics | null;
  /** The key generated for this run (auth on, no key configured), else null. */
  generatedKey: string | null;
  /** Sessions no key owns, found at start (auth on; 0 with auth off, where every session is visible). */
  unowned: number;
  /** Ends the live streams (SSE, waiting MCP approvals) by closing the event hub: the first step of a graceful stop. */
  endStreams(): void;
  /** Flushes the traces, closes the runtime and the owners; throws the first error once all were tried. */
  close(): Promise<void>;
}

/** Builds the server of `config`. The configuration's runtime options, then `options.runtime`, go to the runtime. */
export async function assemble(config: AssemblyConfig, options: AssembleOptions = {}): Promise<Assembly> {
  const { auth, generatedKey } = startupAuth(config);
  const owners: OwnerStore = options.owners ?? new MemoryOwners();
  const events = new TraceEvents();
  let runtime: EmbeddedRuntime;
  try {
    runtime = await createRuntime({
      ...config.runtime,
      ...options.runtime,
      storage: observeStore(options.storage ?? memoryStore(), events),
      // Owners are host data: each restored session is handed its owner again (its rate limits count per owner).
      // With auth off no session has one (Ownership.ownerFor), whatever the owner store says.
      ...(auth ? { ownerOf: (sessionId: string) => owners.get(sessionId) } : {}),
      atlases: options.atlases ?? [],
      // A damaged stored trace is left out and reported (`runtime.storageIssues`), never a reason not to start.
      onCorruptTrace: 'skip',
    });
  } catch (err) {
    await owners.close?.().catch(() => undefined);
    throw err;
  }
  const metrics = options.app?.metrics === false ? null : (options.app?.metrics ?? new ServerMetrics());
  let app: App;
  let unowned = 0;
  try {
    if (auth) unowned = await unownedSessions(runtime, owners);
    app = createApp({
      maxBodyBytes: config.maxBodyBytes,
      corsOrigins: config.corsOrigins,
      rateLimit: config.rateLimit > 0 ? { perMinute: config.rateLimit } : false,
      ...(config.bodyTimeoutSeconds !== undefined ? { bodyTimeoutMs: config.bodyTimeoutSeconds * 1000 } : {}),
      ...options.app,
      metrics: metrics ?? false,
      runtime,
      auth,
      owners,
      // No shutdown signal: closing the hub ends every stream, and workerd allows no app-wide AbortSignal.
      events,
    });
  } catch (err) {
    await runtime.close().catch(() => undefined);
    await owners.close?.().catch(() => undefined);
    throw err;
  }
  let closing: Promise<void> | null = null;
  return {
    config,
    app,
    runtime,
    events,
    owners,
    metrics,
    generatedKey,
    unowned,
    endStreams() {
      events.close();
    },
    close() {
      closing ??= (async () => {
        const errors: unknown[] = [];
        await runtime.flush().catch((e) => errors.push(e));
        await runtime.close().catch((e) => errors.push(e));
        await owners.close?.().catch((e) => errors.push(e));
        if (errors.length > 0) throw errors[0];
      })();
      return closing;
    },
  };
}
