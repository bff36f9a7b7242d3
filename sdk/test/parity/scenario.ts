/**
 * The parity scenario: one fixed script of atlas load, session, resolves and actions, run with a deterministic
 * clock and ids. Every runtime (Node, Deno, workerd, Chromium) runs this same module against its own way of loading
 * the core and must produce the same trace, byte for byte (`expected.trace.jsonl`). Platform-neutral on purpose:
 * no `node:` imports, the atlas comes in as data.
 */
import type { CraRuntime } from '../../src/interface.ts';
import type { AtlasBundle } from '../../src/types.ts';

/** 2024-12-28T12:00:00Z in microseconds. */
export const PARITY_T0_US = 1_735_387_200_000_000;

/** Options that make a runtime deterministic: pass them to `createRuntime` (or the platform's equivalent). */
export function parityHost(): { clock: () => number; ids: () => string } {
  let t = PARITY_T0_US;
  let n = 0;
  return {
    clock: () => (t += 1000),
    ids: () => `a0000000-0000-7000-8000-${(++n).toString(16).padStart(12, '0')}`,
  };
}

/** Runs the scenario on `runtime` (created with {@link parityHost}) and answers the session's trace as JSONL. */
export async function runParityScenario(runtime: CraRuntime, atlas: AtlasBundle): Promise<string> {
  await runtime.loadAtlas(atlas);
  const session = await runtime.createSession({
    agentId: 'support-bot',
    goal: 'Handle ticket T-10042',
    sessionId: '00000000-0000-7000-8000-000000000100',
  });
  await session.resolve({ requiredCapabilities: ['tickets.read', 'tickets.write', 'billing.refund'] });
  const lookup = await session.requestAction({ actionId: 'ticket.lookup', parameters: { ticket_id: 'T-10042' } });
  await session.complete(lookup, { result: { status: 'open', subject: 'Refund für Bestellung €42' }, durationMs: 12 });
  await session.requestAction({ actionId: 'customer.delete', parameters: { customer_id: 'C-7' } });
  const refund = await session.requestAction({
    actionId: 'refund.issue',
    parameters: { customer_id: 'C-7', payment_id: 'P-19', amount: 25, currency: 'USD' },
  });
  await session.approve(refund, { approver: 'lead@example.com' });
  await session.fail(refund, { errorCode: 'psp_down', errorMessage: 'payment provider unavailable' });
  await session.requestAction({
    actionId: 'refund.issue',
    parameters: { customer_id: 'C-7', payment_id: 'P-20', amount: 900, currency: 'USD' },
  });
  await session.end('completed');
  const events = await session.trace();
  return events.map((e) => JSON.stringify(e)).join('\n') + '\n';
}
