/**
 * The AI SDK example end to end: `generateText` with `toAiSdkTools(g)` and the scripted `MockLanguageModelV3`, over
 * three steps (`stopWhen: stepCountIs(5)`). Checks the tools the model was offered, each tool's output (a refusal
 * is the output `{error: {code, reason, details}}`, not an exception), the approval, the trace and its verification.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyTrace, type CraSession } from '../../../sdk/src/index.ts';
import type { Execution, TraceEvent } from '../../../sdk/src/types.ts';
import { runAgent } from './agent.ts';
import { DUPLICATE_CHARGE, scriptedModel, toolOutputs, WHOLE_ORDER } from './scripted-model.ts';
import { SUPPORT_RESOLVE_EVENTS } from '../../../sdk/test/portable.ts';

/** The tools offered, as AI SDK tool names: the allowed actions of the support atlas that the agent has handlers for. */
const ALLOWED_TOOLS = ['ticket_lookup', 'refund_issue'];

describe('examples/agents/ai-sdk', () => {
  const model = scriptedModel();
  const asked: Execution[] = [];
  let session: CraSession;
  let result: Awaited<ReturnType<typeof runAgent>>['result'];
  let trace: TraceEvent[];

  beforeAll(async () => {
    ({ session, result } = await runAgent(model, 'Customer C-7 was charged twice for order #4411 (ticket T-10042). Refund the order.', async (execution) => {
      asked.push(execution);
      return { approved: true, approver: 'lead@example.com' };
    }));
    trace = await session.trace();
  });
  afterAll(async () => {
    await session?.runtime.close();
  });

  it('offers the model only the allowed actions, with their JSON schemas', () => {
    expect(model.doGenerateCalls).toHaveLength(3);
    for (const call of model.doGenerateCalls) expect(call.tools?.map((t) => [t.type, t.name])).toEqual(ALLOWED_TOOLS.map((n) => ['function', n]));
    const refund = model.doGenerateCalls[0]!.tools?.find((t) => t.name === 'refund_issue');
    expect(refund).toMatchObject({
      description: expect.stringMatching(/A human approves each call/),
      inputSchema: { type: 'object', required: ['customer_id', 'payment_id', 'amount', 'currency'], additionalProperties: false },
    });
  });

  it('runs three steps: two tool calls, one corrected call, then the text answer', () => {
    expect(result.steps.map((s) => [s.finishReason, s.toolCalls.map((c) => c.toolName)])).toEqual([
      ['tool-calls', ['ticket_lookup', 'refund_issue']],
      ['tool-calls', ['refund_issue']],
      ['stop', []],
    ]);
    expect(result.text).toBe('Refund RF-P-19 of 25 USD issued for the duplicate charge; 900 USD is over what I may refund.');
  });

  it('gives each tool’s outcome as its output: results, and the refusal as {error: {code, reason, details}}', () => {
    const outputs = result.steps.flatMap((s) => s.toolResults.map((r) => [r.toolName, r.input, r.output]));
    expect(outputs).toHaveLength(3);
    expect(outputs[0]).toEqual(['ticket_lookup', { ticket_id: 'T-10042' }, { ticket_id: 'T-10042', status: 'open', subject: 'Charged twice for order #4411', customer_id: 'C-7' }]);
    expect(outputs[1]!.slice(0, 2)).toEqual(['refund_issue', WHOLE_ORDER]);
    const refusal = outputs[1]![2] as { error: { code: string; reason: string; details: unknown } };
    expect(Object.keys(refusal)).toEqual(['error']);
    expect(Object.keys(refusal.error).sort()).toEqual(['code', 'details', 'reason']);
    expect(refusal.error.code).toBe('scope_violation');
    expect(refusal.error.reason).toBe('`amount` exceeds the maximum 500');
    expect((refusal.error.details as { violations: unknown }).violations).toMatchObject([{ parameter: 'amount', constraint: 'max', limit: 500, value: 900 }]);
    expect(outputs[2]).toEqual(['refund_issue', DUPLICATE_CHARGE, { refund_id: 'RF-P-19', amount: 25, currency: 'USD' }]);
    // The tool error is not an AI SDK error: no tool-error parts, and the model got the refusal as the tool's output.
    expect(result.steps.flatMap((s) => s.content).filter((c) => c.type === 'tool-error')).toEqual([]);
    expect(toolOutputs(model.doGenerateCalls[1]!).get('call-refund-order')).toEqual(refusal);
  });

  it('asks the approve callback once: for the refund within limits', () => {
    expect(asked.map((e) => [e.action_id, e.status, e.policy_id])).toEqual([['refund.issue', 'pending_approval', 'refund-approval']]);
    expect(asked[0]!.approval_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('records every call in the trace, and the chain verifies', async () => {
    // The AI SDK runs a step's tool calls concurrently, so the events of the two first calls may interleave: check
    // each execution's own sequence, in order of request.
    const byExecution = new Map<string, string[]>();
    for (const e of trace) {
      const id = e.payload.execution_id;
      if (typeof id === 'string') byExecution.set(id, [...(byExecution.get(id) ?? []), `${String(e.payload.action_id)} ${e.event_type}`]);
    }
    expect([...byExecution.values()]).toEqual([
      ['ticket.lookup action.requested', 'ticket.lookup action.approved', 'ticket.lookup action.executed'],
      ['refund.issue action.requested', 'refund.issue policy.violated'],
      ['refund.issue action.requested', 'refund.issue action.approved', 'refund.issue action.executed'],
    ]);
    expect(trace.slice(0, 6).map((e) => e.event_type)).toEqual(SUPPORT_RESOLVE_EVENTS);
    expect(trace.at(-1)!.event_type).toBe('session.ended');
    expect(trace).toHaveLength(15);
    const approved = trace.filter((e) => e.event_type === 'action.approved' && e.payload.action_id === 'refund.issue');
    expect(approved.map((e) => e.payload.approver)).toEqual(['lead@example.com']);
    expect(trace.find((e) => e.event_type === 'policy.violated')!.payload).toMatchObject({ policy_id: 'refund-limits' });
    expect(await verifyTrace(trace)).toEqual({ valid: true, length: 15, head_hash: trace[14]!.event_hash });
  });
});
