/** Tool lists from a real resolution of the example atlas; MCP tools checked with the MCP SDK's own schema. */
import { join } from 'node:path';
import { ListToolsResultSchema, ToolSchema } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { EXAMPLES } from '../../test/helpers.ts';
import { loadAtlasDir } from '../atlas/dir.ts';
import { guard } from '../guard/guard.ts';
import { createRuntime } from '../runtime/runtime.ts';
import { toAnthropicTools, toMcpTools, toOpenAITools } from './formats.ts';
import { handleAnthropicToolUse, handleOpenAIToolCalls } from './runners.ts';

const support = await loadAtlasDir(join(EXAMPLES, 'atlases/support'));

async function setup() {
  const runtime = await createRuntime();
  await runtime.loadAtlas(support);
  const session = await runtime.createSession({ agentId: 'support-bot', goal: 'Handle ticket T-10042' });
  const g = guard(session, { 'ticket.lookup': ({ ticket_id }) => ({ ticket_id, status: 'open' }) });
  return { runtime, session, g };
}

describe('tool formats', () => {
  it('lists allowed actions only; approval-gated ones say a human approves them', async () => {
    const { runtime, g } = await setup();
    const catalog = await g.catalog();
    expect(catalog.resolution.denied_actions.map((d) => d.action_id)).toContain('customer.delete');
    // The guard's catalog offers what it has handlers for; the resolution itself, every allowed action.
    expect(toOpenAITools(catalog).map((t) => t.function.name)).toEqual(['ticket_lookup']);
    const all = { resolution: catalog.resolution, names: catalog.names };
    const chat = toOpenAITools(all);
    expect(chat.map((t) => t.function.name)).toEqual(['ticket_lookup', 'customer_lookup', 'ticket_reply', 'ticket_close', 'refund_issue']);
    const refund = chat.find((t) => t.function.name === 'refund_issue')!;
    expect(refund.function.description).toMatch(/human approves each call/);
    expect(chat[0]!.function.description).not.toMatch(/human/);
    expect(refund.function.parameters).toMatchObject({ type: 'object', required: ['customer_id', 'payment_id', 'amount', 'currency'] });
    expect(chat[0]!.function.strict).toBe(false);

    const responses = toOpenAITools(all, { api: 'responses' });
    expect(responses[0]).toEqual({ type: 'function', name: 'ticket_lookup', description: chat[0]!.function.description, parameters: chat[0]!.function.parameters, strict: false });

    const anthropic = toAnthropicTools(catalog.resolution);
    expect(anthropic.map((t) => t.name)).toEqual(chat.map((t) => t.function.name));
    expect(anthropic[0]!.input_schema).toEqual(chat[0]!.function.parameters);

    const mcp = toMcpTools(all);
    for (const tool of mcp) expect(ToolSchema.safeParse(tool).success).toBe(true);
    expect(ListToolsResultSchema.safeParse({ tools: mcp }).success).toBe(true);
    expect(mcp.find((t) => t.name === 'refund_issue')!.annotations).toEqual({ title: 'Issue refund', idempotentHint: false, destructiveHint: true });
    await runtime.close();
  });

  it('gives an action without a parameters schema an empty object schema', async () => {
    const runtime = await createRuntime();
    await runtime.loadAtlas({
      atlas_version: '1.0',
      atlas_id: 'com.example.bare',
      version: '1.0.0',
      name: 'Bare',
      description: 'd',
      actions: [{ action_id: 'clock.now', name: 'Now', description: 'The time' }],
      policies: [{ policy_id: 'all', type: 'allow', actions: ['*'] }],
    });
    const session = await runtime.createSession({ agentId: 'a', goal: 'g' });
    const tools = toAnthropicTools(await session.resolve());
    expect(tools).toEqual([{ name: 'clock_now', description: 'The time', input_schema: { type: 'object', properties: {} } }]);
    await runtime.close();
  });
});

describe('runners', () => {
  it('answers every OpenAI tool call with a tool message, refusals included', async () => {
    const { runtime, g, session } = await setup();
    const messages = await handleOpenAIToolCalls(g, {
      tool_calls: [
        { id: 'call_1', type: 'function', function: { name: 'ticket_lookup', arguments: '{"ticket_id":"T-10042"}' } },
        { id: 'call_2', type: 'function', function: { name: 'customer_delete', arguments: '{"customer_id":"C-7"}' } },
        { id: 'call_3', type: 'function', function: { name: 'ticket_lookup', arguments: '{oops' } },
      ],
    });
    expect(messages.map((m) => [m.role, m.tool_call_id])).toEqual([
      ['tool', 'call_1'],
      ['tool', 'call_2'],
      ['tool', 'call_3'],
    ]);
    expect(JSON.parse(messages[0]!.content)).toEqual({ ticket_id: 'T-10042', status: 'open' });
    expect(JSON.parse(messages[1]!.content).error.reason).toMatch(/privacy team/);
    expect(JSON.parse(messages[2]!.content).error.code).toBe('invalid_arguments');

    const outputs = await handleOpenAIToolCalls(g, [
      { type: 'message' },
      { type: 'function_call', call_id: 'fc_1', name: 'ticket_lookup', arguments: '{"ticket_id":"T-10043"}' },
    ]);
    expect(outputs).toEqual([{ type: 'function_call_output', call_id: 'fc_1', output: '{"ticket_id":"T-10043","status":"open"}' }]);
    const executed = (await session.trace()).filter((e) => e.event_type === 'action.executed');
    expect(executed).toHaveLength(2);
    await runtime.close();
  });

  it('answers Anthropic tool_use blocks with tool_result blocks, is_error on a refusal', async () => {
    const { runtime, g } = await setup();
    const results = await handleAnthropicToolUse(g, {
      content: [
        { type: 'text' },
        { type: 'tool_use', id: 'tu_1', name: 'ticket_lookup', input: { ticket_id: 'T-10042' } },
        { type: 'tool_use', id: 'tu_2', name: 'ticket_lookup', input: { ticket_id: 'nope' } },
      ],
    });
    expect(results).toHaveLength(2);
    expect(results[0]).toEqual({ type: 'tool_result', tool_use_id: 'tu_1', content: '{"ticket_id":"T-10042","status":"open"}' });
    expect(results[1]).toMatchObject({ type: 'tool_result', tool_use_id: 'tu_2', is_error: true });
    expect(JSON.parse(results[1]!.content).error.reason).toMatch(/ticket_id/);
    await runtime.close();
  });
});
