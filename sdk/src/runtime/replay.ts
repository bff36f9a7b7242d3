/**
 * Replay, in one place: a fresh core configured like the original runtime, the same atlas versions loaded, and the
 * trace run through it again. Used by `runtime.replay(sessionId)` and by the standalone `replayTrace`; the live
 * instance is never touched.
 *
 * @module
 */

import type { IdSource } from '../host.ts';
import type { AtlasBundle, CoreConfig, ReplayResult, TraceEvent } from '../types.ts';
import { Core } from './core.ts';
import type { WasmModule } from './host-types.ts';

export async function replayInScratch(
  module: WasmModule,
  ids: IdSource,
  config: CoreConfig | undefined,
  bundles: Iterable<AtlasBundle>,
  events: readonly TraceEvent[],
  now: number,
): Promise<ReplayResult> {
  const core = await Core.instantiate(module, { ids });
  if (config) core.call('runtime.configure', config, now);
  for (const bundle of bundles) core.call('atlas.load', bundle, now);
  return core.call<ReplayResult>('trace.replay', { events }, now);
}
