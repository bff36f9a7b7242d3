/**
 * A support agent on the AI SDK (`generateText` from `ai`), every tool call governed by CRA.
 *
 *   node --import tsx examples/agents/ai-sdk/agent.ts
 *
 * runs it with the scripted model of `scripted-model.ts` (the AI SDK's `MockLanguageModelV3`: offline). With a real
 * provider, pass its model instead (`openai('gpt-4o-mini')` from `@ai-sdk/openai`, …); nothing else changes.
 *
 * `toAiSdkTools(g)` turns the guard's allowed actions into AI SDK tools whose `execute` goes through the guard: a
 * refusal is the tool's output, `{error: {code, reason, details}}`, so the model reads why and can correct itself.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateText, stepCountIs, type LanguageModel } from 'ai';
import { toAiSdkTools } from '../../../sdk/src/ai-sdk.ts';
import { createRuntime, guard, type GuardOptions, type ToolHandler } from '../../../sdk/src/index.ts';
import { loadAtlasDir } from '../../../sdk/src/node.ts';

/** The example support atlas: actions, policies (refunds need approval and stay under 500), context. */
export const ATLAS = fileURLToPath(new URL('../../atlases/support', import.meta.url));

/** The tools, keyed by action id. They run only when CRA lets the call through. */
export const handlers: Record<string, ToolHandler> = {
  'ticket.lookup': ({ ticket_id }) => ({ ticket_id, status: 'open', subject: 'Charged twice for order #4411', customer_id: 'C-7' }),
  'refund.issue': ({ payment_id, amount, currency }) => ({ refund_id: `RF-${String(payment_id)}`, amount, currency }),
};

export async function runAgent(model: LanguageModel, prompt: string, approve: GuardOptions['approve']) {
  const runtime = await createRuntime();
  await runtime.loadAtlas(await loadAtlasDir(ATLAS));
  const session = await runtime.createSession({ agentId: 'support-bot', goal: prompt });
  const g = guard(session, handlers, { approve });
  const result = await generateText({ model, tools: await toAiSdkTools(g), stopWhen: stepCountIs(5), prompt });
  await session.end();
  return { session, result };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { scriptedModel } = await import('./scripted-model.ts');
  const { session, result } = await runAgent(scriptedModel(), 'Customer C-7 was charged twice for order #4411 (ticket T-10042). Refund the order.', async (execution) => {
    console.log(`approving ${execution.action_id} (approval_hash ${execution.approval_hash?.slice(0, 12)}…)`);
    return { approved: true, approver: 'lead@example.com' };
  });
  for (const step of result.steps) {
    for (const r of step.toolResults) console.log(`${r.toolName}(${JSON.stringify(r.input)}) → ${JSON.stringify(r.output)}`);
  }
  console.log(result.text);
  console.log((await session.trace()).map((e) => e.event_type).join(' → '));
  console.log(await session.runtime.verify(session.id));
  await session.runtime.close();
}
