/**
 * Resolve on the example atlas (examples/atlases/support, read with the SDK's Node loader). Target ≤ 20 µs.
 * Every request has a fresh id and the current time (the core refuses duplicates and skew beyond 300 s), so each
 * call is a real, traced resolution. Baseline: JSON.stringify + JSON.parse of the same request, the least any
 * call across the boundary costs.
 */

import { isoFromMicros } from '../src/host.ts';
import { createRuntime } from '../src/runtime/runtime.ts';
import { atMost, measure, nowUs, printRows, rawCore, resolveRequest, supportAtlas } from './harness.ts';

export async function run(module: WebAssembly.Module): Promise<void> {
  const { core, newSession } = await rawCore(module);
  const s = newSession();
  const resolveRaw = () => {
    const now = nowUs();
    return core.call<{ resolution: unknown; events: unknown[] }>('session.resolve', { request: resolveRequest(s.id, isoFromMicros(now)) }, now);
  };
  const sample = resolveRaw();
  const responseBytes = JSON.stringify(sample).length;

  const rt = await createRuntime({ wasm: module, atlases: [await supportAtlas()] });
  const session = await rt.createSession({ agentId: 'bench', goal: 'Answer ticket T-10042' });

  let sink = 0;
  const stats = await measure([
    {
      name: 'js: JSON stringify+parse of the request',
      batch: 1,
      fn: () => {
        sink += JSON.parse(JSON.stringify({ request: resolveRequest(s.id, isoFromMicros(nowUs())) })).request.request_id.length;
      },
    },
    { name: "core.call('session.resolve')", batch: 1, fn: () => (sink += resolveRaw().events.length) },
    { name: 'SDK session.resolve()', batch: 1, async: true, fn: async () => (sink += (await session.resolve()).allowed_actions.length) },
    { name: 'SDK session.validate() (dry run)', batch: 1, async: true, fn: async () => (sink += (await session.validate()).allowed_actions.length) },
  ]);
  await rt.close();
  if (sink === 0) throw new Error('resolve bench: nothing was resolved');

  const target = atMost(20_000, '≤ 20 µs');
  const base = 'js: JSON stringify+parse of the request';
  const get = (n: string) => stats.get(n)!;
  printRows(
    'resolve',
    [
      { name: base, stats: get(base), isBaseline: true },
      { name: "core.call('session.resolve')", stats: get("core.call('session.resolve')"), target, baseline: base },
      { name: 'SDK session.resolve()', stats: get('SDK session.resolve()'), target, baseline: base },
      { name: 'SDK session.validate() (dry run)', stats: get('SDK session.validate() (dry run)'), baseline: base },
    ],
    [`on examples/atlases/support; a resolution answers ${responseBytes} bytes of JSON (${(sample.events as unknown[]).length} trace events); validate records nothing`],
  );
}
