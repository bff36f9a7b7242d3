/**
 * What `createRuntime` takes, checked before anything is built, and the core configuration it asks for.
 *
 * @module
 */

import type { CollectorOptions, TraceSink } from '../collector/collector.ts';
import { CraError } from '../errors.ts';
import type { Clock, IdSource } from '../host.ts';
import type { TraceStore } from '../storage/store.ts';
import type { AtlasBundle, AtlasManifest, CoreConfig } from '../types.ts';
import { compact, isObject } from '../util.ts';
import type { CoreExports } from './core.ts';
import type { CoreSource } from './load.ts';

export interface RuntimeOptions {
  /** Where the core module comes from (default: the module shipped with the package). */
  wasm?: CoreSource;
  /** Host time in integral microseconds since the Unix epoch. Default {@link systemClock}. */
  clock?: Clock;
  /** Fresh lowercase UUIDs. Default: UUIDv7 from `crypto.getRandomValues`. */
  ids?: IdSource;
  /** Where traces are kept (default: in memory). Sessions found in it are restored on start. */
  storage?: TraceStore;
  /** Buffered collection: every recorded event also goes to these sinks, in batches. */
  sinks?: TraceSink[];
  collector?: CollectorOptions;
  /** Atlases to load before stored sessions are restored (so that their resolutions can be rebuilt). */
  atlases?: Array<AtlasManifest | AtlasBundle>;
  /** `deny` (the protocol's rule, default) or `allow` for actions no policy matched. */
  defaultDecision?: 'deny' | 'allow';
  /** Context budget of a resolution when the request names none. Default 8000. */
  maxContextTokens?: number;
  /** Accepted skew of request timestamps. Default 300. */
  clockSkewSeconds?: number;
  /** Lifetime of resolutions. Default 3600. */
  defaultTtlSeconds?: number;
  /**
   * Damaged stored traces found on start: `throw` (default) fails `createRuntime` with `storage_corrupt`;
   * `skip` starts without them and lists them in {@link EmbeddedRuntime.storageIssues}.
   */
  onCorruptTrace?: 'throw' | 'skip';
  /**
   * The owner of a stored session (what `createSession({ owner })` named), for a host serving several tenants with a
   * persistent store: owners are host data, never in the trace, so a restore is handed them again, and each restored
   * session's rate-limit counts stay its owner's. Without it, restored sessions have no owner.
   */
  ownerOf?: (sessionId: string) => string | undefined;
  /** @internal fault injection for tests. */
  instrument?: (exports: CoreExports) => CoreExports;
}

/** Refuses options of the wrong shape, before anything is compiled or opened. */
export function checkOptions(options: RuntimeOptions): void {
  if (!isObject(options)) throw new CraError('invalid_request', 'runtime options must be an object', { path: '' });
  for (const key of ['clock', 'ids', 'instrument', 'ownerOf'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'function') {
      throw new CraError('invalid_request', `${key} must be a function`, { path: `/${key}` });
    }
  }
  if (options.storage !== undefined) {
    for (const m of ['open', 'append', 'read', 'sync', 'close'] as const) {
      if (typeof (options.storage as unknown as Record<string, unknown>)?.[m] !== 'function') {
        throw new CraError('invalid_request', `storage must implement ${m}()`, { path: '/storage' });
      }
    }
  }
  for (const key of ['sinks', 'atlases'] as const) {
    if (options[key] !== undefined && !Array.isArray(options[key])) {
      throw new CraError('invalid_request', `${key} must be an array`, { path: `/${key}` });
    }
  }
  if (options.collector !== undefined && !isObject(options.collector)) {
    throw new CraError('invalid_request', 'collector must be an object', { path: '/collector' });
  }
  if (options.onCorruptTrace !== undefined && options.onCorruptTrace !== 'throw' && options.onCorruptTrace !== 'skip') {
    throw new CraError('invalid_request', 'onCorruptTrace must be "throw" or "skip"', { path: '/onCorruptTrace' });
  }
}

/** The `runtime.configure` input the options ask for (the core answers the effective configuration). */
export function requestedConfig(options: RuntimeOptions): CoreConfig {
  return compact({
    default_decision: options.defaultDecision,
    max_context_tokens: options.maxContextTokens,
    clock_skew_seconds: options.clockSkewSeconds,
    default_ttl_seconds: options.defaultTtlSeconds,
  }) as CoreConfig;
}
