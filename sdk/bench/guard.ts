/**
 * A governed tool call end to end: `guard.call` (name → action, schema validation, request, handler, complete: two
 * core calls and four traced events) against the same steps written by hand with the session API, and against the
 * bare handler call (the floor: what a tool call costs with no governance at all).
 */

import { guard } from '../src/guard/guard.ts';
import { createRuntime } from '../src/runtime/runtime.ts';
import { measure, nullStore, printRows, supportAtlas } from './harness.ts';

const M = 20; // awaited calls per sample

export async function run(module: WebAssembly.Module): Promise<void> {
  const rt = await createRuntime({ wasm: module, storage: nullStore, atlases: [await supportAtlas()] });
  const session = await rt.createSession({ agentId: 'bench', goal: 'Answer ticket T-10042' });
  await session.resolve();
  const handler = async (p: { ticket_id: string }) => ({ ticket_id: p.ticket_id, status: 'open' });
  const g = guard(session, { 'ticket.lookup': (p) => handler(p) });
  const args = { ticket_id: 'T-10042' };
  const first = await g.call('ticket_lookup', args);
  if (!first.ok) throw new Error(`guard bench: the call was refused: ${first.refusal.reason}`);

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
      name: 'by hand: requestAction + complete',
      batch: M,
      async: true,
      fn: async () => {
        for (let i = 0; i < M; i++) {
          const execution = await session.requestAction({ actionId: 'ticket.lookup', parameters: args });
          const result = await handler(args);
          sink += (await session.complete(execution, { result })).status.length;
        }
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
  ]);
  await rt.close();
  if (sink === 0) throw new Error('guard bench: nothing ran');
  const get = (n: string) => stats.get(n)!;
  printRows(
    'guard',
    [
      { name: 'bare handler (no governance)', stats: get('bare handler (no governance)'), isBaseline: true },
      { name: 'by hand: requestAction + complete', stats: get('by hand: requestAction + complete'), baseline: 'bare handler (no governance)' },
      { name: "guard.call('ticket_lookup', args)", stats: get("guard.call('ticket_lookup', args)"), baseline: 'bare handler (no governance)' },
    ],
    [`per call; samples are batches of ${M} awaited calls; embedded runtime, no storage`],
  );
}
