/**
 * What `createRuntime` takes, checked before anything is built, and the core configuration it asks for.
 *
 * @module
 */

import type { CollectorOptions, TraceSink } from '../collector/collector.ts';
import { CraError } from '../errors.ts';
import type { Clock, IdSource } from '../host.ts';
import type { TraceStore } from '../storage/store.ts';
import { checkTelemetry, type TelemetrySetting } from '../telemetry/telemetry.ts';
import type { AtlasBundle, AtlasManifest, CoreConfig } from '../types.ts';
import { compact, isObject } from '../util.ts';
import type { CoreExports } from './core.ts';
import type { CoreSource } from './load.ts';
import type { ResidencyOptions } from './residency.ts';

/** Which sessions stay live in the core (`RuntimeOptions.sessions`). */
export interface SessionResidency {
  /** Most sessions live at once; beyond it the least recently used leaves. Default 10 000. */
  maxLiveSessions?: number;
  /**
   * A live session unused this long leaves. Checked at each call on a session, against the host time of that call
   * (there is no timer: a runtime nobody calls holds what it held). Default 900.
   */
  idleSeconds?: number;
}

/**
 * What {@link createRuntime} takes: every member is optional, and the defaults give an in-memory runtime with the
 * shipped core, the system clock and the protocol's default rules. Checked before anything is built: a member of the
 * wrong shape fails with `invalid_request` naming it.
 */
export interface RuntimeOptions {
  /** Where the core module comes from (default: the module shipped with the package). */
  wasm?: CoreSource;
  /** Host time in integral microseconds since the Unix epoch. Default {@link systemClock}. */
  clock?: Clock;
  /** Fresh lowercase UUIDs. Default: UUIDv7 from `crypto.getRandomValues`. */
  ids?: IdSource;
  /**
   * Where traces are kept (default: in memory). On start the runtime reads what the store knows of each session
   * (its index), and restores a session from its trace when the session is used.
   */
  storage?: TraceStore;
  /**
   * Which sessions stay in the core. An ended session leaves it at once; an active one leaves after `idleSeconds`
   * without use (default 900), or least recently used first when more than `maxLiveSessions` are live (default
   * 10 000). A session that left is restored from its trace on its next use, with its state intact.
   */
  sessions?: SessionResidency;
  /** Buffered collection: every recorded event also goes to these sinks, in batches. */
  sinks?: TraceSink[];
  /** How the `sinks` are fed: batch size, flush interval, failure callback. Unused without `sinks`. */
  collector?: CollectorOptions;
  /** Atlases to load before stored sessions are restored (so that their resolutions can be rebuilt). */
  atlases?: Array<AtlasManifest | AtlasBundle>;
  /** `deny` (the protocol's rule, default) or `allow` for actions no policy matched. */
  defaultDecision?: 'deny' | 'allow';
  /** Context budget of a resolution when the request names none. Default 8000. */
  maxContextTokens?: number;
  /** Accepted skew of request timestamps, in seconds, either way of the host clock. Default 300. */
  clockSkewSeconds?: number;
  /** Lifetime of a resolution, in seconds, when the request asks for none. Default 3600. */
  defaultTtlSeconds?: number;
  /**
   * Damage a store sees on start without reading traces (an unreadable index line, a torn trace found without one):
   * `throw` (default) fails `createRuntime` with `storage_corrupt`; `skip` starts without those sessions and lists
   * them in {@link EmbeddedRuntime.storageIssues}. Damage of a trace the index names (a file that is gone, a torn
   * or missing line, a broken chain) is found when its session is used, verified or traced: that call answers
   * `storage_corrupt`, whatever this says.
   */
  onCorruptTrace?: 'throw' | 'skip';
  /**
   * The owner of a stored session (what `createSession({ owner })` named), for a host serving several tenants with a
   * persistent store: owners are host data, never in the trace, so a restore is handed them again, and each restored
   * session's rate-limit counts stay its owner's. Without it, restored sessions have no owner.
   */
  ownerOf?: (sessionId: string) => string | undefined;
  /**
   * OpenTelemetry spans and metrics (`docs/observability.md`). Default: the providers registered with the global
   * `@opentelemetry/api` (none: nothing is recorded); `{ tracerProvider, meterProvider }` to use these instead (one
   * left out stays the global one); `false` for none at all, whatever is registered.
   */
  telemetry?: TelemetrySetting;
  /**
   * Signed checkpoints of every session's log ([Proofs](../../../docs/protocol.md#proofs)): made when a session ends,
   * every `every` events (default 1000), and on {@link EmbeddedRuntime.checkpoint}; stored with the trace. `key` is
   * a signer key string ({@link generateSigningKey}); its name is the log name of the checkpoints.
   */
  signing?: SigningOptions;
  /**
   * The verifier keys whose checkpoints {@link EmbeddedRuntime.sync} accepts. Without them, a session's first sync
   * names its key (`key`), and every later sync of it must be signed by that key.
   */
  trustedKeys?: string[];
  /** @internal fault injection for tests. */
  instrument?: (exports: CoreExports) => CoreExports;
}

/** How a runtime signs checkpoints (`RuntimeOptions.signing`). */
export interface SigningOptions {
  /** The signer key string: `PRIVATE+KEY+<name>+<key id>+<base64>`. Keep it secret. */
  key: string;
  /** A checkpoint every this many events of a session (besides one when it ends). Default 1000; 0 for none but those. */
  every?: number;
}

/** `options.signing`, checked (the key itself is read when the runtime starts). */
export function signingOptions(options: RuntimeOptions): Required<SigningOptions> | null {
  const o = options.signing;
  if (o === undefined) return null;
  if (!isObject(o)) throw new CraError('invalid_request', 'signing must be an object: { key, every? }', { path: '/signing' });
  for (const key of Object.keys(o)) {
    if (key !== 'key' && key !== 'every') throw new CraError('invalid_request', `signing takes key and every, not ${key}`, { path: `/signing/${key}` });
  }
  if (typeof o.key !== 'string') throw new CraError('invalid_request', 'signing.key must be a signer key string', { path: '/signing/key' });
  const every: unknown = o.every ?? 1000;
  if (typeof every !== 'number' || !Number.isSafeInteger(every) || every < 0) {
    throw new CraError('invalid_request', 'signing.every must be a non-negative integer', { path: '/signing/every' });
  }
  if (options.storage !== undefined && (typeof options.storage.appendCheckpoint !== 'function' || typeof options.storage.readCheckpoints !== 'function')) {
    throw new CraError('invalid_request', 'signing needs a store that keeps checkpoints (appendCheckpoint and readCheckpoints)', { path: '/storage' });
  }
  return { key: o.key, every };
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
  if (options.sessions !== undefined) residencyOptions(options);
  if (options.collector !== undefined && !isObject(options.collector)) {
    throw new CraError('invalid_request', 'collector must be an object', { path: '/collector' });
  }
  checkTelemetry(options.telemetry, '/telemetry');
  signingOptions(options);
  if (options.trustedKeys !== undefined && (!Array.isArray(options.trustedKeys) || options.trustedKeys.length === 0 || !options.trustedKeys.every((k) => typeof k === 'string'))) {
    throw new CraError('invalid_request', 'trustedKeys must be a non-empty array of verifier key strings', { path: '/trustedKeys' });
  }
  if (options.onCorruptTrace !== undefined && options.onCorruptTrace !== 'throw' && options.onCorruptTrace !== 'skip') {
    throw new CraError('invalid_request', 'onCorruptTrace must be "throw" or "skip"', { path: '/onCorruptTrace' });
  }
}

/** How many sessions stay live, and for how long unused (`options.sessions`, checked). */
export function residencyOptions(options: RuntimeOptions): ResidencyOptions {
  const o = options.sessions as SessionResidency | undefined;
  if (o !== undefined && !isObject(o)) throw new CraError('invalid_request', 'sessions must be an object', { path: '/sessions' });
  for (const key of Object.keys(o ?? {})) {
    if (key !== 'maxLiveSessions' && key !== 'idleSeconds') {
      throw new CraError('invalid_request', `sessions takes maxLiveSessions and idleSeconds, not ${key}`, { path: `/sessions/${key}` });
    }
  }
  const max: unknown = o?.maxLiveSessions ?? 10_000;
  const idle: unknown = o?.idleSeconds ?? 900;
  if (typeof max !== 'number' || !Number.isSafeInteger(max) || max < 1) {
    throw new CraError('invalid_request', 'sessions.maxLiveSessions must be a positive integer', { path: '/sessions/maxLiveSessions' });
  }
  if (typeof idle !== 'number' || !(idle >= 0) || !Number.isFinite(idle)) {
    throw new CraError('invalid_request', 'sessions.idleSeconds must be a non-negative number', { path: '/sessions/idleSeconds' });
  }
  return { maxLiveSessions: max, idleMicros: Math.round(idle * 1e6) };
}

/** The `runtime.configure` input the options ask for (the core answers the effective configuration). */
export function requestedConfig(options: RuntimeOptions): CoreConfig {
  return compact({
    default_decision: options.defaultDecision,
    max_context_tokens: options.maxContextTokens,
    clock_skew_seconds: options.clockSkewSeconds,
    default_ttl_seconds: options.defaultTtlSeconds,
    // The tree costs two small hashes per event: kept only by a runtime that signs checkpoints of it.
    merkle_trees: options.signing !== undefined ? true : undefined,
  }) as CoreConfig;
}
