/**
 * A support agent on the Anthropic Messages API, every tool call governed by CRA — including one that waits for a
 * human's approval.
 *
 *   node --import tsx examples/agents/anthropic/agent.ts
 *
 * runs it against the scripted model of `fake-model.ts` (a local HTTP server: offline, no key), asking you on the
 * terminal to approve the refund (approved automatically when stdin is not a terminal). With `ANTHROPIC_API_KEY`
 * set it talks to Anthropic instead (`ANTHROPIC_MODEL`, default claude-sonnet-4-5; not exercised by the tests).
 *
 * What CRA adds to an ordinary tool loop: a session and a guard, the allowed tools from the guard's catalog, and
 * `handleAnthropicToolUse`, which runs each `tool_use` block through the guard and answers a `tool_result` — with
 * `is_error: true` and the reason when CRA refused the call, so that the model can correct itself.
 */
import { createInterface } from 'node:readline/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Anthropic from '@anthropic-ai/sdk';
import type { MessageParam } from '@anthropic-ai/sdk/resources/messages';
import { createRuntime, guard, handleAnthropicToolUse, toAnthropicTools, type GuardOptions, type ToolHandler } from '../../../sdk/src/index.ts';
import { loadAtlasDir } from '../../../sdk/src/node.ts';

/** The example support atlas: actions, policies (refunds need approval and stay under 500), context. */
export const ATLAS = fileURLToPath(new URL('../../atlases/support', import.meta.url));

/** The tools, keyed by action id. They run only when CRA lets the call through. */
export const handlers: Record<string, ToolHandler> = {
  'ticket.lookup': ({ ticket_id }) => ({ ticket_id, status: 'open', subject: 'Charged twice for order #4411', customer_id: 'C-7' }),
  'refund.issue': ({ payment_id, amount, currency }) => ({ refund_id: `RF-${String(payment_id)}`, amount, currency }),
};

export interface AgentOptions {
  /** Answers approval requests (refunds): the approval is bound to `execution.approval_hash`. */
  approve: NonNullable<GuardOptions['approve']>;
  model?: string;
}

export async function runAgent(client: Anthropic, prompt: string, { approve, model = 'claude-sonnet-4-5' }: AgentOptions) {
  const runtime = await createRuntime();
  await runtime.loadAtlas(await loadAtlasDir(ATLAS));
  const session = await runtime.createSession({ agentId: 'support-bot', goal: prompt });
  const g = guard(session, handlers, { approve });
  const tools = toAnthropicTools(await g.catalog()); // only the actions this session may use
  const messages: MessageParam[] = [{ role: 'user', content: prompt }];
  for (;;) {
    const reply = await client.messages.create({ model, max_tokens: 1024, messages, tools });
    messages.push({ role: 'assistant', content: reply.content });
    if (reply.stop_reason !== 'tool_use') break;
    messages.push({ role: 'user', content: await handleAnthropicToolUse(g, reply.content) }); // refusals: is_error
  }
  await session.end();
  return { session, messages };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { startFakeModel } = await import('./fake-model.ts');
  const fake = process.env.ANTHROPIC_API_KEY ? undefined : await startFakeModel();
  const client = fake ? new Anthropic({ baseURL: fake.baseURL, apiKey: 'test' }) : new Anthropic();
  const approve: AgentOptions['approve'] = async (execution) => {
    const question = `${execution.action_id} needs approval (${execution.reason ?? execution.policy_id}). Approve? [y/N] `;
    let yes = true;
    if (process.stdin.isTTY) {
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      yes = /^y/i.test(await rl.question(question));
      rl.close();
    } else {
      console.log(`${question}y (stdin is not a terminal: approved)`);
    }
    return yes ? { approved: true, approver: 'lead@example.com' } : { approved: false, reason: 'declined on the terminal' };
  };
  try {
    const prompt = 'Customer C-7 was charged twice for order #4411 (ticket T-10042). Refund the order.';
    const { session, messages } = await runAgent(client, prompt, { approve, model: process.env.ANTHROPIC_MODEL });
    for (const m of messages) console.log(`${m.role}: ${typeof m.content === 'string' ? m.content : JSON.stringify(m.content)}`);
    console.log((await session.trace()).map((e) => e.event_type).join(' → '));
    console.log(await session.runtime.verify(session.id));
    await session.runtime.close();
  } finally {
    await fake?.close();
  }
}
