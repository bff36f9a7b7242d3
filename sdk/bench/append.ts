/**
 * Trace append: host-emitted `error.occurred` events hashed into the session's chain (informational: the chain's
 * throughput is targeted on the verify side, `verify.ts`).
 * `trace.append` takes one event or a batch; the SDK queues the `record`s in flight together and appends them as
 * one batch, so the "×64 in flight" row is the SDK's batched path and the awaited row its one-at-a-time path. The
 * SDK runtime here stores nowhere (a no-op TraceStore): storage is the host's choice and is not the core's cost.
 * Baseline: crypto.createHash('sha256') of a serialised event of the same size, the floor of a hash chain.
 */

import { createHash } from 'node:crypto';
import { createRuntime } from '../src/runtime/runtime.ts';
import type { TraceEvent } from '../src/types.ts';
import { measure, nowUs, nullStore, printRows, rawCore, supportAtlas } from './harness.ts';

const K = 10; // raw appends per sample
const F = 64; // SDK records in flight, and events per raw batch

export async function run(module: WebAssembly.Module): Promise<void> {
  const { core, newSession } = await rawCore(module);
  const s = newSession();
  const input = { session_id: s.id, event_type: 'error.occurred', payload: { code: 'x', message: 'y' } };
  const batch = { session_id: s.id, events: Array.from({ length: F }, () => ({ event_type: 'error.occurred', payload: { code: 'x', message: 'y' } })) };
  const eventJson = JSON.stringify(core.call<{ events: TraceEvent[] }>('trace.append', input, nowUs()).events[0]);

  const rt = await createRuntime({ wasm: module, storage: nullStore, atlases: [await supportAtlas()] });
  const session = await rt.createSession({ agentId: 'bench', goal: 'Answer ticket T-10042' });
  const payload = { code: 'x', message: 'y' };

  let sink = 0;
  const stats = await measure([
    {
      name: 'js: sha256 of one event',
      batch: K,
      fn: () => {
        for (let i = 0; i < K; i++) sink += createHash('sha256').update(eventJson).digest('hex').length;
      },
    },
    {
      name: "core.call('trace.append')",
      batch: K,
      fn: () => {
        for (let i = 0; i < K; i++) sink += core.call<{ events: unknown[] }>('trace.append', input, nowUs()).events.length;
      },
    },
    {
      name: `core.call('trace.append') ×${F} batch`,
      batch: F,
      fn: () => {
        sink += core.call<{ events: unknown[] }>('trace.append', batch, nowUs()).events.length;
      },
    },
    {
      name: 'SDK session.record()',
      batch: 1,
      async: true,
      fn: async () => (sink += (await session.record('error.occurred', payload)).length),
    },
    {
      name: `SDK session.record() ×${F} in flight`,
      batch: F,
      async: true,
      fn: async () => {
        const all = await Promise.all(Array.from({ length: F }, () => session.record('error.occurred', payload)));
        sink += all.length;
      },
    },
  ]);
  await rt.close();
  if (sink === 0) throw new Error('append bench: nothing was appended');

  const base = 'js: sha256 of one event';
  const get = (n: string) => stats.get(n)!;
  printRows(
    'trace append',
    [
      { name: base, stats: get(base), isBaseline: true },
      { name: "core.call('trace.append')", stats: get("core.call('trace.append')"), baseline: base },
      { name: `core.call('trace.append') ×${F} batch`, stats: get(`core.call('trace.append') ×${F} batch`), baseline: base },
      { name: 'SDK session.record()', stats: get('SDK session.record()'), baseline: base },
      { name: `SDK session.record() ×${F} in flight`, stats: get(`SDK session.record() ×${F} in flight`), baseline: base },
    ],
    [`times and ops/s are per event (ops/s = events/s); one event is ${eventJson.length} bytes of JSON`],
  );
}
