/**
 * Trace tools that need no runtime: verify, diff, replay, JSONL conversion and canonical hashing. They run in the
 * core (the one implementation of the hash rule), on a shared instance that holds no state.
 *
 * @module
 */

import { bundleOf } from '../atlas/bundle.ts';
import { CraError } from '../errors.ts';
import { type IdSource, systemClock, systemIds } from '../host.ts';
import type { AtlasBundle, AtlasManifest, ChainHead, CoreConfig, DiffResult, ReplayResult, TraceEvent, VerifyResult } from '../types.ts';
import { checkJsonValue, jsonValue } from '../json-value.ts';
import { compact, isObject, readOptions } from '../util.ts';
import { Core } from './core.ts';
import { compileCore, type CoreSource } from './load.ts';
import { replayInScratch } from './replay.ts';

/** What every trace tool takes. */
export interface ToolOptions {
  /** Where the core module comes from (default: the module shipped with the package). */
  wasm?: CoreSource;
}

let shared: { source: CoreSource | undefined; core: Promise<Core> } | null = null;

/** The shared stateless instance; a poisoned or failed one is replaced. */
async function sharedCore(source: CoreSource | undefined): Promise<Core> {
  if (shared && shared.source === source) {
    const current = shared;
    const core = await current.core.catch(() => null);
    if (core && !core.poisoned) return core;
    if (shared === current) shared = null;
  }
  const core = compileCore(source).then((m) => Core.instantiate(m, { ids: systemIds }));
  const entry = { source, core };
  shared = entry;
  core.catch(() => {
    if (shared === entry) shared = null;
  });
  return core;
}

/** @internal Runs `fn` on the shared stateless core (also the proof tools'). */
export async function withCore<T>(options: ToolOptions | undefined, fn: (core: Core, now: number) => T): Promise<T> {
  const core = await sharedCore(readOptions(options, '').wasm);
  return fn(core, systemClock());
}

/**
 * Verifies a chain ([Verification](../../../docs/protocol.md#verification)) in one core call; with `expectedHead`,
 * also that it has not been cut. The trace is an array of events or its JSONL text (one event per line, as stored):
 * the text is read by the core directly, the cheaper form for a trace read from a file.
 */
export async function verifyTrace(
  trace: readonly TraceEvent[] | string,
  options?: ToolOptions & { expectedHead?: ChainHead },
): Promise<VerifyResult> {
  const input = jsonValue(compact({ expected_head: readOptions(options, '').expectedHead }));
  let text: string;
  if (typeof trace === 'string') text = trace;
  else {
    // An array crosses as its JSONL too: the core reads lines straight into events (the same verdicts as an array).
    checkJsonValue(trace, '/events');
    if (!Array.isArray(trace)) throw new CraError('invalid_request', 'the trace must be an array of events or JSONL text', { path: '/events' });
    text = jsonlText(trace);
  }
  return withCore(options, (core, now) => core.call<VerifyResult>('trace.verify', input, now, text));
}

/**
 * @internal A trace as the core reads it fastest: its JSONL text, handed over as a call's attachment (the core reads
 * the lines straight into events, where an array would cross as JSON objects to be parsed into values one by one).
 */
export function jsonlText(events: readonly TraceEvent[]): string {
  return events.length === 0 ? '' : `${events.map((e) => JSON.stringify(e)).join('\n')}\n`;
}

/** Compares two traces event by event, ignoring ids, timestamps and hashes. */
export async function diffTraces(a: readonly TraceEvent[], b: readonly TraceEvent[], options?: ToolOptions): Promise<DiffResult> {
  checkJsonValue({ a, b });
  return withCore(options, (core, now) => core.call<DiffResult>('trace.diff', { a, b }, now));
}

/** One JSON event per line, LF-terminated. */
export async function toJsonl(events: readonly TraceEvent[], options?: ToolOptions): Promise<string> {
  checkJsonValue({ events });
  return withCore(options, (core, now) => core.call<{ text: string }>('trace.to_jsonl', { events }, now).text);
}

/** Parses JSONL text into events (a malformed or torn line is an error naming it). */
export async function fromJsonl(text: string, options?: ToolOptions): Promise<TraceEvent[]> {
  return withCore(options, (core, now) => core.call<{ events: TraceEvent[] }>('trace.from_jsonl', { text }, now).events);
}

/** RFC 8785 canonical JSON of `value` and its SHA-256. */
export async function canonicalHash(
  value: unknown,
  options?: ToolOptions,
): Promise<{
  /** The RFC 8785 canonical JSON text of `value`. */
  canonical: string;
  /** SHA-256 of the UTF-8 bytes of `canonical`, as lowercase hex. */
  sha256: string;
}> {
  checkJsonValue({ value });
  return withCore(options, (core, now) => core.call<{ canonical: string; sha256: string }>('canonical.hash', { value }, now));
}

/** What {@link replayTrace} takes besides the trace and its atlases. */
export interface ReplayOptions extends ToolOptions {
  /** Ids for the replayed events. Default: UUIDv7 from `crypto.getRandomValues`. */
  ids?: IdSource;
  /** Core configuration of the original runtime (replay must run under the same rules). Default: the core's. */
  config?: CoreConfig;
}

/**
 * Replays a trace in a fresh instance with `atlas` loaded (the same versions as when it was recorded) and reports
 * whether the runtime reproduces it.
 */
export async function replayTrace(
  events: readonly TraceEvent[],
  atlas: AtlasManifest | AtlasBundle | Array<AtlasManifest | AtlasBundle>,
  options?: ReplayOptions,
): Promise<ReplayResult> {
  const o = readOptions(options, '');
  if (o.ids !== undefined && typeof o.ids !== 'function') throw new CraError('invalid_request', 'ids must be a function', { path: '/ids' });
  if (o.config !== undefined && !isObject(o.config)) throw new CraError('invalid_request', 'config must be an object', { path: '/config' });
  checkJsonValue({ events });
  const list = Array.isArray(atlas) ? atlas : [atlas];
  const bundles = list.map((a, i) => {
    if (!isObject(a)) throw new CraError('invalid_request', 'an atlas must be a manifest or {manifest, files}', { path: `/atlases/${i}` });
    return jsonValue(bundleOf(a as AtlasManifest | AtlasBundle), `/atlases/${i}`) as unknown as AtlasBundle;
  });
  const config = o.config === undefined ? undefined : (jsonValue(o.config, '/config') as unknown as CoreConfig);
  const module = await compileCore(o.wasm);
  return replayInScratch(module, o.ids ?? systemIds, config, bundles, events, systemClock());
}
