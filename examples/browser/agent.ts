/**
 * A small support agent whose every tool call is governed by CRA. Platform-neutral on purpose: the page
 * (`app.ts`) runs it in the browser with a human behind the Approve button, and the end-to-end test runs the same
 * loop in Node to check that both runtimes record the same trace (up to ids, times and hashes).
 *
 * The "model" is a fixed plan, so the demo needs no network: look the ticket up, try to erase the customer (a policy
 * forbids it), refund the double charge (a human must approve), then try an over-limit refund (outside the policy's
 * scope). Each step goes through the guard (`guard()` from the SDK): request → (a human's approval) → run the tool →
 * report the outcome; a refused call never reaches its tool.
 */
import { guard, type GuardResult } from '../../sdk/src/index.ts';
import type { CraRuntime, CraSession } from '../../sdk/src/interface.ts';
import type { Execution, JsonObject, Resolution } from '../../sdk/src/types.ts';

export interface PlannedCall {
  actionId: string;
  parameters: JsonObject;
  /** Why the agent wants to make this call (shown in the log). */
  intent: string;
}

/** What the agent plans to do for ticket T-10042. */
export const PLAN: readonly PlannedCall[] = [
  { actionId: 'ticket.lookup', parameters: { ticket_id: 'T-10042' }, intent: 'Read the ticket' },
  { actionId: 'customer.delete', parameters: { customer_id: 'C-7' }, intent: 'The customer asked to close the account: erase them' },
  {
    actionId: 'refund.issue',
    parameters: { customer_id: 'C-7', payment_id: 'P-19', amount: 25, currency: 'USD' },
    intent: 'Refund the duplicate charge of 25 USD',
  },
  {
    actionId: 'refund.issue',
    parameters: { customer_id: 'C-7', payment_id: 'P-20', amount: 900, currency: 'USD' },
    intent: 'Refund the whole order, 900 USD, "as a goodwill gesture"',
  },
];

/** The agent's tools. They run only once CRA has approved the call. */
export const TOOLS: Record<string, (parameters: JsonObject) => JsonObject> = {
  'ticket.lookup': (p) => ({ ticket_id: String(p.ticket_id), status: 'open', subject: 'Charged twice for order #4411', customer_id: 'C-7' }),
  'customer.delete': (p) => ({ deleted: String(p.customer_id) }),
  'refund.issue': (p) => ({ refund_id: `RF-${String(p.payment_id)}`, amount: p.amount ?? null, currency: p.currency ?? null }),
};

/** One line of the agent's log. */
export interface AgentStep {
  actionId: string;
  intent: string;
  /** The execution's final status as CRA recorded it: executed, denied, violated, failed (`refused`: the guard refused the call before CRA was asked). */
  outcome: string;
  reason: string | null;
  policyId: string | null;
  /** The execution CRA recorded for the call (null when the guard refused it before asking CRA). */
  executionId: string | null;
}

export interface AgentHooks {
  /** A call needs a human (the guard's `approve` callback asks this): answer true to approve it, false to deny it. */
  approve(execution: Execution, call: PlannedCall): Promise<boolean>;
  /** Called after each step (and after the resolution), e.g. to refresh a view. */
  onStep?(step: AgentStep | { resolution: Resolution }): void | Promise<void>;
  /** Who approves (recorded in the trace). */
  approver?: string;
}

export const AGENT_ID = 'support-bot';
export const GOAL = 'Handle ticket T-10042: the customer was charged twice';

/**
 * Runs the plan in a new session of `runtime` (which has the support atlas loaded) and ends the session. Every call
 * goes through a guard (`guard(session, TOOLS, { approve })`): it requests the action, asks `hooks.approve` when the
 * atlas wants a human, runs the tool only once the call is approved and reports its outcome (or failure).
 */
export async function runAgent(runtime: CraRuntime, hooks: AgentHooks): Promise<{ session: CraSession; steps: AgentStep[] }> {
  const session = await runtime.createSession({ agentId: AGENT_ID, goal: GOAL });
  const resolution = await session.resolve();
  await hooks.onStep?.({ resolution });
  const approver = hooks.approver ?? 'lead@example.com';
  let current: PlannedCall | undefined; // the call being made: what the human is asked about
  const g = guard(session, TOOLS, {
    resolution,
    approve: async (execution) =>
      current && (await hooks.approve(execution, current))
        ? { approved: true, approver }
        : { approved: false, approver, reason: 'declined by the approver' },
  });
  const steps: AgentStep[] = [];
  for (const call of PLAN) {
    current = call;
    const step = stepOf(call, await g.call(call.actionId, call.parameters));
    steps.push(step);
    await hooks.onStep?.(step);
  }
  await session.end('completed');
  return { session, steps };
}

/** A log line for one call: its execution's final status (denied, violated: the tool never ran) and why. */
function stepOf(call: PlannedCall, outcome: GuardResult): AgentStep {
  const execution = outcome.execution;
  return {
    actionId: call.actionId,
    intent: call.intent,
    outcome: execution?.status ?? 'refused',
    reason: outcome.ok ? (execution?.reason ?? null) : outcome.refusal.reason,
    policyId: execution?.policy_id ?? null,
    executionId: execution?.execution_id ?? null,
  };
}
