/**
 * Memory: the core's linear memory must not grow over 100 000 calls once warm. A round is the life of a short
 * session: create, 5 resolves, 5 appends, trace.verify of its events, 1000 checks, forget (the host keeps traces;
 * the core drops a forgotten session). Linear memory never shrinks, so any leak inside the core shows as growth.
 * global.gc() runs before each reading (for the JS heap figure, which is informational).
 */

import type { TraceEvent } from '../src/types.ts';
import { fmtBytes, nowUs, printTable, rawCore, resolveRequest, summary } from './harness.ts';
import { isoFromMicros } from '../src/host.ts';

const CALLS = 100_000;
const WARMUP_ROUNDS = 10;

export async function run(module: WebAssembly.Module): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) console.warn('   (no global.gc: run node with --expose-gc for a stable JS heap figure)');
  const collect = () => gc?.();

  const { core, newSession } = await rawCore(module);
  const action = core.call<{ handle: number }>('action.handle', { action_id: 'ticket.lookup' }, nowUs()).handle;
  let calls = 0;
  let checksAllowed = 0;

  const round = () => {
    const now = nowUs();
    const iso = isoFromMicros(now);
    const events: TraceEvent[] = [];
    const created = core.call<{ session: { session_id: string }; handle: number; events: TraceEvent[] }>(
      'session.create',
      { agent_id: 'bench', goal: 'memory' },
      now,
    );
    const id = created.session.session_id;
    events.push(...created.events);
    for (let i = 0; i < 5; i++) {
      events.push(...core.call<{ events: TraceEvent[] }>('session.resolve', { request: resolveRequest(id, iso) }, now).events);
    }
    for (let i = 0; i < 5; i++) {
      const input = { session_id: id, event_type: 'error.occurred', payload: { code: 'x', message: 'y' } };
      events.push(...core.call<{ events: TraceEvent[] }>('trace.append', input, now).events);
    }
    const verdict = core.call<{ valid: boolean }>('trace.verify', { events }, now);
    if (!verdict.valid) throw new Error('memory bench: trace does not verify');
    for (let i = 0; i < 1000; i++) if (core.check(created.handle, action, now) === 1) checksAllowed++;
    core.call('session.forget', { session_id: id }, now);
    calls += 1 + 5 + 5 + 1 + 1000 + 1;
  };

  const fresh = core.memoryBytes;
  for (let i = 0; i < WARMUP_ROUNDS; i++) round();
  collect();
  const before = { wasm: core.memoryBytes, heap: process.memoryUsage().heapUsed };
  calls = 0;
  while (calls < CALLS) round();
  collect();
  const after = { wasm: core.memoryBytes, heap: process.memoryUsage().heapUsed };
  if (checksAllowed === 0) throw new Error('memory bench: no check was allowed');

  const growth = after.wasm - before.wasm;
  const pass = growth === 0;
  summary.push({ group: 'memory', name: `wasm memory growth over ${calls} calls`, value: fmtBytes(growth), target: '0 B', pass });
  printTable(
    `memory (${calls} calls after ${WARMUP_ROUNDS} warm-up rounds)`,
    [
      ['measure', 'fresh', 'after warm-up', `after ${calls} calls`, 'growth', 'target', 'status'],
      ['wasm linear memory', fmtBytes(fresh), fmtBytes(before.wasm), fmtBytes(after.wasm), fmtBytes(growth), '0 B', pass ? 'PASS' : 'FAIL'],
      ['JS heap used (info)', '', fmtBytes(before.heap), fmtBytes(after.heap), fmtBytes(after.heap - before.heap), '', ''],
    ],
    ['per round: session.create, 5× session.resolve, 5× trace.append, trace.verify, 1000× Core.check, session.forget'],
  );
}
