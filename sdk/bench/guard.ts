/**
 * A governed tool call end to end, on the runtime a host gets from `createRuntime()` with no storage option (its
 * default MemoryStore keeps every event): `session.requestAction` → the handler → `session.complete` (two core
 * calls, three traced events). Target ≤ 15 µs. Beside it: `guard.call` (name → action, schema validation, the same
 * two steps), a denied request (`customer.delete`, which the support atlas denies: the runtime answers an execution
 * with status `denied`, two traced events; target ≤ 8 µs), and the floor: the bare handler with no governance.
 */

import { guard } from '../src/guard/guard.ts';
import { createRuntime } from '../src/runtime/runtime.ts';
import { atMost, measure, printRows, supportAtlas } from './harness.ts';

const M = 20; // awaited calls per sample

export const GOVERNED = 'governed call: requestAction → run → complete';
export const DENIED = "denied request: requestAction('customer.delete')";

export async function run(module: WebAssembly.Module): Promise<void> {
  const rt = await createRuntime({ wasm: module, atlases: [await supportAtlas()] });
  const session = await rt.createSession({ agentId: 'bench', goal: 'Answer ticket T-10042' });
  await session.resolve();
  const handler = async (p: { ticket_id: string }) => ({ ticket_id: p.ticket_id, status: 'open' });
  const g = guard(session, { 'ticket.lookup': (p) => handler(p) });
  const args = { ticket_id: 'T-10042' };
  const deleteArgs = { customer_id: 'C-1' };
  const first = await g.call('ticket_lookup', args);
  if (!first.ok) throw new Error(`guard bench: the call was refused: ${first.refusal.reason}`);
  const governed = async () => {
    const execution = await session.requestAction({ actionId: 'ticket.lookup', parameters: args });
    if (execution.status !== 'approved') throw new Error(`guard bench: ticket.lookup answered ${execution.status}`);
    const result = await handler(args);
    return session.complete(execution, { result });
  };
  if ((await governed()).status !== 'executed') throw new Error('guard bench: the governed call did not complete');
  const denied = await session.requestAction({ actionId: 'customer.delete', parameters: deleteArgs });
  if (denied.status !== 'denied') throw new Error(`guard bench: customer.delete answered ${denied.status}, not denied`);

  let sink = 0;
  const stats = await measure([
    {
      name: 'bare handler (no governance)',
      batch: M,
      async: true,
      fn: async () => {
        for (let i = 0; i < M; i++) sink += (await handler(args)).status.length;
      },
    },
    {
      name: GOVERNED,
      batch: M,
      async: true,
      fn: async () => {
        for (let i = 0; i < M; i++) sink += (await governed()).status.length;
      },
    },
    {
      name: "guard.call('ticket_lookup', args)",
      batch: M,
      async: true,
      fn: async () => {
        for (let i = 0; i < M; i++) sink += (await g.call('ticket_lookup', args)).ok ? 1 : 0;
      },
    },
    {
      name: DENIED,
      batch: M,
      async: true,
      fn: async () => {
        for (let i = 0; i < M; i++) sink += (await session.requestAction({ actionId: 'customer.delete', parameters: deleteArgs })).status.length;
      },
    },
  ]);
  const events = (await session.trace()).length;
  await rt.close();
  if (sink === 0) throw new Error('guard bench: nothing ran');
  const get = (n: string) => stats.get(n)!;
  const base = 'bare handler (no governance)';
  printRows(
    'governed',
    [
      { name: base, stats: get(base), isBaseline: true },
      { name: GOVERNED, stats: get(GOVERNED), baseline: base, target: atMost(15_000, '≤ 15 µs') },
      { name: "guard.call('ticket_lookup', args)", stats: get("guard.call('ticket_lookup', args)"), baseline: base },
      { name: DENIED, stats: get(DENIED), baseline: base, target: atMost(8_000, '≤ 8 µs') },
    ],
    [
      `per call; samples are batches of ${M} awaited calls; one session of the support atlas (${events} events kept by the default MemoryStore by the end)`,
      'the denied request answers an execution with status `denied` (it does not reject)',
    ],
  );
}
