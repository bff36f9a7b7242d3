/**
 * The Anthropic example end to end: the official `@anthropic-ai/sdk` client over real loopback HTTP to the scripted
 * model of `fake-model.ts`, every `tool_use` block through the guard, a refund approved (then, in a second run,
 * declined) by the `approve` callback. Checks what the model was offered and told, the approvals asked, the trace
 * and its verification.
 */
import Anthropic from '@anthropic-ai/sdk';
import type { MessageParam, ToolResultBlockParam } from '@anthropic-ai/sdk/resources/messages';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyTrace, type CraSession } from '../../../sdk/src/index.ts';
import type { Execution, TraceEvent } from '../../../sdk/src/types.ts';
import { runAgent } from './agent.ts';
import { DUPLICATE_CHARGE, startFakeModel, type FakeModel } from './fake-model.ts';
import { SUPPORT_RESOLVE_EVENTS } from '../../../sdk/test/portable.ts';

const PROMPT = 'Customer C-7 was charged twice for order #4411 (ticket T-10042). Refund the order.';
/** The tools offered, as Anthropic tool names: the allowed actions of the support atlas that the agent has handlers for. */
const ALLOWED_TOOLS = ['ticket_lookup', 'refund_issue'];

/** The `tool_result` blocks of a user message. */
function toolResults(message: MessageParam | undefined): ToolResultBlockParam[] {
  if (!message || typeof message.content === 'string') return [];
  return message.content.filter((b) => b.type === 'tool_result') as ToolResultBlockParam[];
}

/** `[event_type, action_id]` of the action events (and violations) of a trace. */
const actionEvents = (trace: TraceEvent[]) =>
  trace.filter((e) => e.event_type.startsWith('action.') || e.event_type === 'policy.violated').map((e) => [e.event_type, e.payload.action_id]);

async function run(answer: 'approve' | 'decline') {
  const fake = await startFakeModel();
  const asked: Execution[] = [];
  try {
    const client = new Anthropic({ baseURL: fake.baseURL, apiKey: 'test', maxRetries: 0 });
    const { session, messages } = await runAgent(client, PROMPT, {
      approve: async (execution) => {
        asked.push(execution);
        return answer === 'approve' ? { approved: true, approver: 'lead@example.com' } : { approved: false, reason: 'not this one', approver: 'lead@example.com' };
      },
    });
    return { fake, session, messages, asked, trace: await session.trace() };
  } finally {
    await fake.close();
  }
}

describe('examples/agents/anthropic: the refund is approved', () => {
  let r: Awaited<ReturnType<typeof run>>;
  let session: CraSession | undefined;
  let fake: FakeModel;

  beforeAll(async () => {
    r = await run('approve');
    ({ session, fake } = r);
  });
  afterAll(async () => {
    await session?.runtime.close();
  });

  it('talks to the model over HTTP with the official client, offering only the allowed actions', () => {
    expect(fake.requests.map((q) => [q.path, q.apiKey])).toEqual([
      ['/v1/messages', 'test'],
      ['/v1/messages', 'test'],
      ['/v1/messages', 'test'],
    ]);
    expect(fake.requests[0]!.version).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const q of fake.requests) expect((q.body.tools as Anthropic.Tool[]).map((t) => t.name)).toEqual(ALLOWED_TOOLS);
    const refund = (fake.requests[0]!.body.tools as Anthropic.Tool[]).find((t) => t.name === 'refund_issue');
    expect(refund?.input_schema).toMatchObject({ type: 'object', required: ['customer_id', 'payment_id', 'amount', 'currency'] });
    expect(refund?.description).toMatch(/A human approves each call/);
  });

  it('answers the over-limit refund with is_error and the refusal; the lookup with its result', () => {
    const results = toolResults(fake.requests[1]!.body.messages.at(-1));
    expect(results.map((b) => [b.tool_use_id, b.is_error ?? false])).toEqual([
      ['toolu_lookup', false],
      ['toolu_refund_order', true],
    ]);
    expect(JSON.parse(results[0]!.content as string)).toMatchObject({ ticket_id: 'T-10042', status: 'open' });
    const { error } = JSON.parse(results[1]!.content as string) as { error: { code: string; reason: string; details: unknown } };
    expect(error.code).toBe('scope_violation');
    expect(error.reason).toBe('`amount` exceeds the maximum 500');
    expect((error.details as { violations: unknown }).violations).toMatchObject([{ parameter: 'amount', constraint: 'max', limit: 500, value: 900 }]);
  });

  it('asks the approve callback once, for the refund within limits, bound to its approval_hash; the refund runs', () => {
    expect(r.asked).toHaveLength(1);
    expect(r.asked[0]).toMatchObject({ action_id: 'refund.issue', status: 'pending_approval', policy_id: 'refund-approval' });
    expect(r.asked[0]!.approval_hash).toMatch(/^[0-9a-f]{64}$/);
    const results = toolResults(fake.requests[2]!.body.messages.at(-1));
    expect(results.map((b) => [b.tool_use_id, b.is_error ?? false])).toEqual([['toolu_refund_duplicate', false]]);
    expect(JSON.parse(results[0]!.content as string)).toEqual({ refund_id: 'RF-P-19', amount: DUPLICATE_CHARGE.amount, currency: 'USD' });
    const last = r.messages.at(-1)!;
    expect(last.role).toBe('assistant');
    expect(last.content).toEqual([{ type: 'text', text: 'Refund RF-P-19 of 25 USD issued for the duplicate charge; 900 USD is over what I may refund.' }]);
  });

  it('records lookup executed, refund violated, refund approved → executed; the chain verifies', async () => {
    expect(r.trace.map((e) => e.event_type)).toEqual([
      ...SUPPORT_RESOLVE_EVENTS,
      'action.requested', // ticket.lookup
      'action.approved',
      'action.executed',
      'action.requested', // refund.issue 900 USD
      'policy.violated',
      'action.requested', // refund.issue 25 USD: waits for the approve callback
      'action.approved',
      'action.executed',
      'session.ended',
    ]);
    expect(actionEvents(r.trace)).toEqual([
      ['action.requested', 'ticket.lookup'],
      ['action.approved', 'ticket.lookup'],
      ['action.executed', 'ticket.lookup'],
      ['action.requested', 'refund.issue'],
      ['policy.violated', 'refund.issue'],
      ['action.requested', 'refund.issue'],
      ['action.approved', 'refund.issue'],
      ['action.executed', 'refund.issue'],
    ]);
    expect(r.trace[10]!.payload).toMatchObject({ policy_id: 'refund-limits' });
    expect(r.trace[12]!.payload).toMatchObject({ action_id: 'refund.issue', approver: 'lead@example.com' });
    expect(await verifyTrace(r.trace)).toEqual({ valid: true, length: 15, head_hash: r.trace[14]!.event_hash });
  });
});

describe('examples/agents/anthropic: the approver declines', () => {
  it('the refund never runs: action.denied, and the model gets is_error with the approver’s reason', async () => {
    const r = await run('decline');
    try {
      expect(r.asked.map((e) => e.action_id)).toEqual(['refund.issue']);
      const results = toolResults(r.fake.requests[2]!.body.messages.at(-1));
      expect(results.map((b) => [b.tool_use_id, b.is_error])).toEqual([['toolu_refund_duplicate', true]]);
      const { error } = JSON.parse(results[0]!.content as string) as { error: { code: string; reason: string } };
      expect(error.code).toBe('approval_denied');
      expect(error.reason).toBe('not this one');
      expect(r.messages.at(-1)!.content).toEqual([{ type: 'text', text: 'I could not refund anything: not this one.' }]);
      expect(r.trace.map((e) => e.event_type).slice(SUPPORT_RESOLVE_EVENTS.length)).toEqual([
        'action.requested',
        'action.approved',
        'action.executed',
        'action.requested',
        'policy.violated',
        'action.requested',
        'action.denied', // by the approver: no action.executed for the refund
        'session.ended',
      ]);
      expect(r.trace[12]!.payload).toMatchObject({ action_id: 'refund.issue', approver: 'lead@example.com', reason: 'not this one' });
      expect(await verifyTrace(r.trace)).toMatchObject({ valid: true, length: 14 });
    } finally {
      await r.session.runtime.close();
    }
  });
});
