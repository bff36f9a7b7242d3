/**
 * A support agent on the OpenAI Chat Completions API, every tool call governed by CRA.
 *
 *   node --import tsx examples/agents/openai/agent.ts
 *
 * runs it against the scripted model of `fake-model.ts` (a local HTTP server: offline, no key). With
 * `OPENAI_API_KEY` set it talks to OpenAI instead (`OPENAI_MODEL`, default gpt-4o-mini; not exercised by the tests).
 *
 * The governed part is `runAgent` between the `governed` markers: 13 lines, the agent loop included, of which 7
 * are CRA's (marked ◆). The handlers (the tools themselves), the approval step and the atlas
 * (`examples/atlases/support`) are what you had anyway. `agent.test.ts` counts the lines.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import OpenAI from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { createRuntime, guard, handleOpenAIToolCalls, toOpenAITools, type ToolHandler } from '../../../sdk/src/index.ts';
import { loadAtlasDir } from '../../../sdk/src/node.ts';

/** The example support atlas: actions, policies (refunds need approval and stay under 500), context. */
export const ATLAS = fileURLToPath(new URL('../../atlases/support', import.meta.url));

/** The tools, keyed by action id. They run only when CRA lets the call through. */
export const handlers: Record<string, ToolHandler> = {
  'ticket.lookup': ({ ticket_id }) => ({ ticket_id, status: 'open', subject: 'Charged twice for order #4411', customer_id: 'C-7' }),
  'refund.issue': ({ payment_id, amount, currency }) => ({ refund_id: `RF-${String(payment_id)}`, amount, currency }),
};

/** Refunds need a human (the atlas says so): a stand-in for your approval screen, which approves them. */
export const approve = async () => ({ approved: true as const, approver: 'lead@example.com' });

export async function runAgent(client: OpenAI, prompt: string, model = 'gpt-4o-mini') {
  // governed:start
  const runtime = await createRuntime(); // ◆
  await runtime.loadAtlas(await loadAtlasDir(ATLAS)); // ◆
  const session = await runtime.createSession({ agentId: 'support-bot', goal: prompt }); // ◆
  const g = guard(session, handlers, { approve }); // ◆
  const tools = toOpenAITools(await g.catalog()); // ◆ only the actions this session may use
  const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: prompt }];
  for (;;) {
    const { message } = (await client.chat.completions.create({ model, messages, tools })).choices[0]!;
    messages.push(message);
    if (!message.tool_calls?.length) break;
    messages.push(...(await handleOpenAIToolCalls(g, message))); // ◆ refusals go back to the model as tool messages
  }
  await session.end(); // ◆
  // governed:end
  return { session, messages };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { startFakeModel } = await import('./fake-model.ts');
  const fake = process.env.OPENAI_API_KEY ? undefined : await startFakeModel();
  const client = fake ? new OpenAI({ baseURL: fake.baseURL, apiKey: 'test' }) : new OpenAI();
  try {
    const { session, messages } = await runAgent(client, 'Customer C-7 on ticket T-10042 wants a refund of 900 USD.', process.env.OPENAI_MODEL);
    for (const m of messages) console.log(`${m.role}: ${typeof m.content === 'string' ? m.content : JSON.stringify('tool_calls' in m ? m.tool_calls : m.content)}`);
    console.log((await session.trace()).map((e) => e.event_type).join(' → '));
    console.log(await session.runtime.verify(session.id));
    await session.runtime.close();
  } finally {
    await fake?.close();
  }
}
