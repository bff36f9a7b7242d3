/**
 * Resolve on the example atlas (examples/atlases/support, read with the SDK's Node loader). Target ≤ 30 µs for the
 * SDK's `session.resolve()` on the runtime `createRuntime()` gives with no storage option (MemoryStore).
 * Every request has a fresh id and the current time (the core refuses duplicates and skew beyond 300 s), so each
 * call is a real, traced resolution: five events hashed into the chain. Rows, from the inside out:
 * - the `cra_call` export with the request already encoded in memory and the answer left unread: the core's own
 *   work (parse, decide, select, hash, write);
 * - `core.call`: the whole ABI round trip, JSON.stringify of the request and JSON.parse of the answer included;
 * - the SDK's `session.resolve()`, which also checks, completes and freezes the answer and hands the events to the
 *   store: the default MemoryStore (targeted), and a store that keeps nothing (the runtime's own share).
 * Requests ask for compact allowed actions, as the SDK does (the descriptors crossed once, at atlas load).
 * Baseline: JSON.stringify + JSON.parse of the same request, the least any call across the boundary costs.
 */

import { isoFromMicros } from '../src/host.ts';
import { createRuntime } from '../src/runtime/runtime.ts';
import { atMost, measure, nowUs, nullStore, printRows, rawCore, resolveRequest, supportAtlas } from './harness.ts';

const PREPARED = 4096; // encoded requests for the raw export row
const SDK_ROW = 'SDK session.resolve() (MemoryStore)';
const NULL_ROW = 'SDK session.resolve() (store keeping nothing)';

export async function run(module: WebAssembly.Module): Promise<void> {
  const { core, exports, newSession } = await rawCore(module);
  const s = newSession();
  const input = (now: number) => ({ request: resolveRequest(s.id, isoFromMicros(now)), compact_actions: true });
  const resolveRaw = () => {
    const now = nowUs();
    return core.call<{ resolution: unknown; events: unknown[] }>('session.resolve', input(now), now);
  };
  const sample = resolveRaw();
  const responseBytes = JSON.stringify(sample).length;

  // The raw export: requests encoded ahead (fresh ids, times within the allowed skew), written and called.
  const enc = new TextEncoder();
  const op = enc.encode('session.resolve');
  const opPtr = exports.cra_alloc(op.length);
  new Uint8Array(exports.memory.buffer, opPtr, op.length).set(op);
  let prepared: Uint8Array[] = [];
  let next = 0;
  const prepare = () => {
    const now = nowUs();
    prepared = Array.from({ length: PREPARED }, () => enc.encode(JSON.stringify(input(now))));
    next = 0;
  };
  prepare();
  const rawExport = () => {
    if (next === prepared.length) prepare();
    const bytes = prepared[next++]!;
    const inPtr = exports.cra_alloc(bytes.length);
    new Uint8Array(exports.memory.buffer, inPtr, bytes.length).set(bytes);
    const res = exports.cra_call(opPtr, op.length, inPtr, bytes.length, nowUs()) >>> 0;
    const len = new DataView(exports.memory.buffer).getUint32(res, true);
    if (new Uint8Array(exports.memory.buffer, res + 4, 6)[2] !== 0x6f) throw new Error('resolve bench: the raw call failed');
    exports.cra_free(res, 4 + len);
    exports.cra_free(inPtr, bytes.length);
    return len;
  };

  const rt = await createRuntime({ wasm: module, atlases: [await supportAtlas()] });
  const session = await rt.createSession({ agentId: 'bench', goal: 'Answer ticket T-10042' });
  const bare = await createRuntime({ wasm: module, storage: nullStore, atlases: [await supportAtlas()] });
  const bareSession = await bare.createSession({ agentId: 'bench', goal: 'Answer ticket T-10042' });

  let sink = 0;
  const base = 'js: JSON stringify+parse of the request';
  const stats = await measure([
    {
      name: base,
      batch: 1,
      fn: () => {
        sink += JSON.parse(JSON.stringify(input(nowUs()))).request.request_id.length;
      },
    },
    { name: 'cra_call export (encoded input, answer unread)', batch: 1, fn: () => (sink += rawExport()) },
    { name: "core.call('session.resolve')", batch: 1, fn: () => (sink += resolveRaw().events.length) },
    { name: SDK_ROW, batch: 1, async: true, fn: async () => (sink += (await session.resolve()).allowed_actions.length) },
    { name: NULL_ROW, batch: 1, async: true, fn: async () => (sink += (await bareSession.resolve()).allowed_actions.length) },
    { name: 'SDK session.validate() (dry run)', batch: 1, async: true, fn: async () => (sink += (await session.validate()).allowed_actions.length) },
  ]);
  await rt.close();
  await bare.close();
  if (sink === 0) throw new Error('resolve bench: nothing was resolved');

  const target = atMost(30_000, '≤ 30 µs');
  const get = (n: string) => stats.get(n)!;
  printRows(
    'resolve',
    [
      { name: base, stats: get(base), isBaseline: true },
      { name: 'cra_call export (encoded input, answer unread)', stats: get('cra_call export (encoded input, answer unread)'), baseline: base },
      { name: "core.call('session.resolve')", stats: get("core.call('session.resolve')"), baseline: base },
      { name: SDK_ROW, stats: get(SDK_ROW), target, baseline: base },
      { name: NULL_ROW, stats: get(NULL_ROW), baseline: base },
      { name: 'SDK session.validate() (dry run)', stats: get('SDK session.validate() (dry run)'), baseline: base },
    ],
    [
      `on examples/atlases/support; a resolution answers ${responseBytes} bytes of JSON (${(sample.events as unknown[]).length} trace events); validate records nothing`,
    ],
  );
}
