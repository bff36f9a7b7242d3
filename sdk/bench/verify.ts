/**
 * Trace verification: the SDK's public `verifyTrace` on a 9 006-event trace made by the real runtime (a session
 * created and resolved, then 3 000 governed calls of `ticket.lookup`: 6 + 3 × 3 000 events), against node:crypto
 * SHA-256 over the same JSONL lines, each hashed with the previous digest (the floor of any hash chain written in
 * JS). Target: ours ≥ 100 % of node:crypto's events/s. Then verify time against chain length (100 → 10 000
 * events, prefixes of one longer trace, each a valid chain from its genesis): a verification is linear in its
 * events, so the figure to watch is the time per event, which must stay flat.
 */

import { createHash } from 'node:crypto';
import { createRuntime } from '../src/runtime/runtime.ts';
import { toJsonl, verifyTrace } from '../src/runtime/tools.ts';
import type { TraceEvent } from '../src/types.ts';
import { fmtRatio, fmtTime, measure, printRows, printTable, supportAtlas, target } from './harness.ts';

export const TRACE_EVENTS = 9_006;
const LENGTHS = [100, 1_000, 10_000];

/** A trace of at least `min` events made by the runtime: create, resolve, then governed calls (3 events each). */
export async function governedTrace(module: WebAssembly.Module | undefined, min: number): Promise<TraceEvent[]> {
  const rt = await createRuntime({ ...(module ? { wasm: module } : {}), atlases: [await supportAtlas()] });
  try {
    const session = await rt.createSession({ agentId: 'bench', goal: 'Answer ticket T-10042' });
    await session.resolve();
    const calls = Math.max(0, Math.ceil((min - 6) / 3));
    for (let i = 0; i < calls; i++) {
      const e = await session.requestAction({ actionId: 'ticket.lookup', parameters: { ticket_id: 'T-10042' } });
      await session.complete(e, { result: { status: 'open' } });
    }
    return await session.trace();
  } finally {
    await rt.close();
  }
}

/** The node:crypto baseline: each JSONL line hashed after the previous digest. */
function shaChain(lines: string[]): string {
  let prev = '';
  for (const line of lines) prev = createHash('sha256').update(prev).update(line).digest('hex');
  return prev;
}

export async function run(module: WebAssembly.Module): Promise<void> {
  const all = await governedTrace(module, Math.max(TRACE_EVENTS, ...LENGTHS));
  const events = all.slice(0, TRACE_EVENTS);
  if (events.length !== TRACE_EVENTS) throw new Error(`verify bench: the trace has ${events.length} events`);
  const lines = (await toJsonl(events)).split('\n').filter((l) => l.length > 0);
  if (lines.length !== TRACE_EVENTS) throw new Error('verify bench: JSONL lines do not match the events');
  const verdict = await verifyTrace(events, { wasm: module });
  if (!verdict.valid || verdict.length !== TRACE_EVENTS) throw new Error(`verify bench: the trace does not verify: ${JSON.stringify(verdict)}`);

  let sink = 0;
  const base = `node:crypto sha256 chain over ${TRACE_EVENTS} JSONL lines`;
  const ours = `verifyTrace(${TRACE_EVENTS} events)`;
  const prefixes = LENGTHS.map((n) => ({ n, events: all.slice(0, n), name: `verifyTrace(${n} events)` }));
  const stats = await measure([
    { name: base, batch: 1, fn: () => (sink += shaChain(lines).length) },
    { name: ours, batch: 1, async: true, fn: async () => (sink += (await verifyTrace(events, { wasm: module })).valid ? 1 : 0) },
    ...prefixes.map((p) => ({ name: p.name, batch: 1, async: true, fn: async () => (sink += (await verifyTrace(p.events, { wasm: module })).valid ? 1 : 0) })),
  ]);
  if (sink === 0) throw new Error('verify bench: nothing was verified');

  const get = (n: string) => stats.get(n)!;
  const eps = (name: string, n: number) => (n * 1e9) / get(name).median;
  const share = eps(ours, TRACE_EVENTS) / eps(base, TRACE_EVENTS);
  target({
    group: 'verify',
    name: `verifyTrace, ${TRACE_EVENTS}-event trace, vs node:crypto`,
    value: `${(share * 100).toFixed(0)} % (${(eps(ours, TRACE_EVENTS) / 1e3).toFixed(0)} k events/s)`,
    target: '≥ 100 % of node:crypto events/s',
    pass: share >= 1,
  });
  printRows(
    'trace verify',
    [
      { name: base, stats: get(base), isBaseline: true },
      { name: ours, stats: get(ours), baseline: base },
    ],
    [
      `per whole trace; ours: ${(eps(ours, TRACE_EVENTS) / 1e3).toFixed(0)} k events/s, node:crypto: ${(eps(base, TRACE_EVENTS) / 1e3).toFixed(0)} k events/s (${(share * 100).toFixed(0)} %)`,
      'ours includes handing the events to the core (JSON) and canonicalising each event before hashing it',
    ],
  );

  const perEvent = prefixes.map((p) => get(p.name).median / p.n);
  const ratio = perEvent.at(-1)! / perEvent[0]!;
  printTable(
    'growth: verify time vs chain length',
    [
      ['events', 'median', 'per event', 'events/s'],
      ...prefixes.map((p, i) => [String(p.n), fmtTime(get(p.name).median), fmtTime(perEvent[i]!), `${(eps(p.name, p.n) / 1e3).toFixed(0)} k`]),
    ],
    [`per event, ${LENGTHS.at(-1)} / ${LENGTHS[0]} events: ${fmtRatio(ratio)} (linear in events: the time per event should stay flat)`],
  );
  target({ group: 'growth', name: `verify per event, ${LENGTHS.at(-1)} vs ${LENGTHS[0]} events`, value: fmtRatio(ratio), target: '≤ 2× (flat per event)', pass: ratio <= 2 });
}
