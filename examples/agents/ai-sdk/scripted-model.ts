/**
 * A scripted language model for the AI SDK example, so that it runs offline: the AI SDK's own test model,
 * `MockLanguageModelV3` from `ai/test`, whose `doGenerate` answers from the conversation it is given (and records
 * every call: `model.doGenerateCalls`, which the test reads for the tools offered and the tool outputs returned).
 *
 * The script plays a support model for ticket T-10042, a customer charged twice:
 *
 * 1. it looks the ticket up and refunds the whole order, 900 USD (over the refund policy's 500 maximum);
 * 2. reading the refund tool's output — a refusal, `{error: {code, reason, details}}` — it refunds only the duplicate
 *    charge, 25 USD (within limits; a human approves it);
 * 3. it answers in text, from the tool outputs.
 */
import { MockLanguageModelV3 } from 'ai/test';

type CallOptions = Parameters<MockLanguageModelV3['doGenerate']>[0];
type GenerateResult = Awaited<ReturnType<MockLanguageModelV3['doGenerate']>>;
type Content = GenerateResult['content'][number];

export const WHOLE_ORDER = { customer_id: 'C-7', payment_id: 'P-20', amount: 900, currency: 'USD' };
export const DUPLICATE_CHARGE = { customer_id: 'C-7', payment_id: 'P-19', amount: 25, currency: 'USD' };

/** The tool outputs of the conversation so far, by tool call id. */
export function toolOutputs(options: CallOptions): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const message of options.prompt) {
    if (message.role !== 'tool') continue;
    for (const part of message.content) {
      if (part.type === 'tool-result') out.set(part.toolCallId, 'value' in part.output ? part.output.value : part.output);
    }
  }
  return out;
}

type Refusal = { error?: { code: string; reason: string } };

function script(options: CallOptions): Content[] {
  const outputs = toolOutputs(options);
  const call = (toolCallId: string, toolName: string, input: object): Content => ({ type: 'tool-call', toolCallId, toolName, input: JSON.stringify(input) });
  if (outputs.size === 0) {
    return [call('call-lookup', 'ticket_lookup', { ticket_id: 'T-10042' }), call('call-refund-order', 'refund_issue', WHOLE_ORDER)];
  }
  const order = outputs.get('call-refund-order') as Refusal | undefined;
  if (order?.error && !outputs.has('call-refund-duplicate')) {
    return [
      { type: 'text', text: `That refund was refused (${order.error.reason}); refunding only the duplicate charge.` },
      call('call-refund-duplicate', 'refund_issue', DUPLICATE_CHARGE),
    ];
  }
  const duplicate = outputs.get('call-refund-duplicate') as (Refusal & { refund_id?: string }) | undefined;
  const text = duplicate && !duplicate.error
    ? `Refund ${duplicate.refund_id ?? '?'} of 25 USD issued for the duplicate charge; 900 USD is over what I may refund.`
    : `I could not refund anything: ${duplicate?.error?.reason ?? order?.error?.reason ?? 'no refund was attempted'}.`;
  return [{ type: 'text', text }];
}

/** A fresh scripted model (each keeps its own record of calls). */
export function scriptedModel(): MockLanguageModelV3 {
  return new MockLanguageModelV3({
    provider: 'scripted',
    modelId: 'support-script',
    doGenerate: async (options): Promise<GenerateResult> => {
      const content = script(options);
      const toolCalls = content.some((c) => c.type === 'tool-call');
      return {
        content,
        finishReason: { unified: toolCalls ? 'tool-calls' : 'stop', raw: toolCalls ? 'tool_calls' : 'stop' },
        usage: {
          inputTokens: { total: 0, noCache: 0, cacheRead: 0, cacheWrite: 0 },
          outputTokens: { total: 0, text: 0, reasoning: 0 },
        },
        warnings: [],
      };
    },
  });
}
