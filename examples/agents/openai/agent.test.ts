/**
 * The OpenAI example end to end: the official `openai` client over real loopback HTTP to the scripted model of
 * `fake-model.ts`, every tool call through the guard. Checks what the model was offered and told, the trace the run
 * recorded, its verification, and the size of the governing code.
 */
import { readFile } from 'node:fs/promises';
import OpenAI from 'openai';
import type { ChatCompletionToolMessageParam } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyTrace, type CraSession } from '../../../sdk/src/index.ts';
import type { TraceEvent } from '../../../sdk/src/types.ts';
import { runAgent } from './agent.ts';
import { OVER_LIMIT_REFUND, startFakeModel, type FakeModel } from './fake-model.ts';
import { SUPPORT_RESOLVE_EVENTS } from '../../../sdk/test/portable.ts';

/** The tools offered, as OpenAI tool names: the allowed actions of the support atlas that the agent has handlers for. */
const ALLOWED_TOOLS = ['ticket_lookup', 'refund_issue'];

describe('examples/agents/openai', () => {
  let fake: FakeModel;
  let session: CraSession;
  let messages: Awaited<ReturnType<typeof runAgent>>['messages'];
  let trace: TraceEvent[];

  beforeAll(async () => {
    fake = await startFakeModel();
    const client = new OpenAI({ baseURL: fake.baseURL, apiKey: 'test', maxRetries: 0 });
    ({ session, messages } = await runAgent(client, 'Customer C-7 on ticket T-10042 wants a refund of 900 USD.'));
    trace = await session.trace();
  });

  afterAll(async () => {
    await session?.runtime.close();
    await fake?.close();
  });

  it('talks to the model over HTTP with the official client: two requests, tools offered both times', () => {
    expect(fake.requests.map((r) => [r.path, r.authorization])).toEqual([
      ['/v1/chat/completions', 'Bearer test'],
      ['/v1/chat/completions', 'Bearer test'],
    ]);
    for (const r of fake.requests) expect(r.body.tools?.map((t) => (t.type === 'function' ? t.function.name : t.type))).toEqual(ALLOWED_TOOLS);
  });

  it('offers only the allowed actions, with their schemas; the approval-gated one says so', () => {
    const tools = fake.requests[0]!.body.tools ?? [];
    expect(tools.map((t) => t.type)).toEqual(ALLOWED_TOOLS.map(() => 'function'));
    const byName = new Map(tools.map((t) => (t.type === 'function' ? [t.function.name, t.function] : [t.type, undefined])));
    expect(byName.has('customer_delete')).toBe(false);
    expect(byName.get('ticket_lookup')?.parameters).toMatchObject({
      type: 'object',
      required: ['ticket_id'],
      properties: { ticket_id: { type: 'string', pattern: '^T-[0-9]{4,10}$' } },
    });
    expect(byName.get('refund_issue')?.description).toMatch(/A human approves each call/);
    expect(byName.get('ticket_lookup')?.description).not.toMatch(/human/);
  });

  it('answers each tool call with a tool message: the lookup result, and the refund refusal the model can read', () => {
    const second = fake.requests[1]!.body.messages;
    expect(second.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'tool']);
    const tool = second.filter((m): m is ChatCompletionToolMessageParam => m.role === 'tool');
    expect(tool.map((m) => m.tool_call_id)).toEqual(['call_lookup', 'call_refund']);
    expect(JSON.parse(tool[0]!.content as string)).toEqual({ ticket_id: 'T-10042', status: 'open', subject: 'Charged twice for order #4411', customer_id: 'C-7' });
    const { error } = JSON.parse(tool[1]!.content as string) as { error: { code: string; reason: string; details: unknown } };
    expect(Object.keys(error).sort()).toEqual(['code', 'details', 'reason']);
    expect(error.code).toBe('scope_violation');
    expect(error.reason).toBe('`amount` exceeds the maximum 500');
    expect((error.details as { violations: unknown }).violations).toMatchObject([{ parameter: 'amount', constraint: 'max', limit: 500, value: 900 }]);
  });

  it('ends on the model’s text answer, which quotes why the refund was refused', () => {
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'tool', 'assistant']);
    const last = messages.at(-1)!;
    expect(last.content).toMatch(/^Ticket T-10042 is open\. I could not refund 900 USD: .*(scope|exceeds|maximum).* \((scope_violation|violated)\)\.$/);
  });

  it('records the run: lookup requested → approved → executed, refund requested → policy.violated; the chain verifies', async () => {
    expect(trace.map((e) => e.event_type)).toEqual([
      ...SUPPORT_RESOLVE_EVENTS,
      'action.requested', // ticket.lookup
      'action.approved',
      'action.executed',
      'action.requested', // refund.issue, 900 USD
      'policy.violated',
      'session.ended',
    ]);
    const actions = trace.filter((e) => e.event_type.startsWith('action.') || e.event_type === 'policy.violated');
    expect(actions.map((e) => [e.event_type, e.payload.action_id])).toEqual([
      ['action.requested', 'ticket.lookup'],
      ['action.approved', 'ticket.lookup'],
      ['action.executed', 'ticket.lookup'],
      ['action.requested', 'refund.issue'],
      ['policy.violated', 'refund.issue'],
    ]);
    expect(trace[10]!.payload).toMatchObject({ policy_id: 'refund-limits' });
    expect(JSON.stringify(trace[10]!.payload)).toContain('`amount` exceeds the maximum 500');
    expect(trace[0]!.payload).toMatchObject({ agent_id: 'support-bot' });
    expect(await verifyTrace(trace)).toEqual({ valid: true, length: 12, head_hash: trace[11]!.event_hash });
    expect(OVER_LIMIT_REFUND.amount).toBeGreaterThan(500);
  });

  it('governs two tools in at most 15 lines beyond the handlers and the atlas (13, as agent.ts says)', async () => {
    const source = await readFile(new URL('./agent.ts', import.meta.url), 'utf8');
    const body = source.split('// governed:start\n')[1]?.split('  // governed:end')[0];
    expect(body).toBeDefined();
    const lines = body!.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('//'));
    expect(lines.length).toBeLessThanOrEqual(15);
    expect(lines.length).toBe(13);
    expect(lines.filter((l) => l.includes('// ◆'))).toHaveLength(7);
    expect(source).toContain('13 lines, the agent loop included, of which 7');
  });
});
