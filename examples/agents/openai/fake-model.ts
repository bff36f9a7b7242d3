/**
 * A stand-in for OpenAI's Chat Completions endpoint, so that the example runs offline: a `node:http` server on
 * loopback that answers `POST /v1/chat/completions` with scripted replies and records every request it received
 * (the test reads them: which tools the model was offered, what the tool messages told it).
 *
 * The script plays a support model for ticket T-10042: it first calls `ticket_lookup` (fine) and `refund_issue` for
 * 900 USD (over the refund policy's 500 maximum) in one reply; once it has the tool messages, it answers in text,
 * quoting what each tool message said — including why the refund was refused.
 */
import type {
  ChatCompletion,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessage,
  ChatCompletionToolMessageParam,
} from 'openai/resources/chat/completions';
import { serveJson } from '../loopback.ts';

/** One request as the fake model received it. */
export interface RecordedRequest {
  path: string;
  authorization: string | undefined;
  body: ChatCompletionCreateParamsNonStreaming;
}

/** The assistant's next message, given the request (the whole conversation so far). */
export type Script = (request: ChatCompletionCreateParamsNonStreaming) => ChatCompletionMessage;

export interface FakeModel {
  /** What to pass as the client's `baseURL` (or `OPENAI_BASE_URL`). */
  baseURL: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** The refund the scripted model asks for: 900 USD, over the atlas's `refund-limits` maximum of 500. */
export const OVER_LIMIT_REFUND = { customer_id: 'C-7', payment_id: 'P-20', amount: 900, currency: 'USD' };

/** The support script: tool calls first, then a text answer built from the tool messages. */
export const supportScript: Script = (request) => {
  const results = toolResults(request);
  if (results.size === 0) {
    return {
      role: 'assistant',
      content: null,
      refusal: null,
      tool_calls: [
        { id: 'call_lookup', type: 'function', function: { name: 'ticket_lookup', arguments: JSON.stringify({ ticket_id: 'T-10042' }) } },
        { id: 'call_refund', type: 'function', function: { name: 'refund_issue', arguments: JSON.stringify(OVER_LIMIT_REFUND) } },
      ],
    };
  }
  const ticket = results.get('call_lookup') as { ticket_id?: string; status?: string } | undefined;
  const refund = results.get('call_refund') as { error?: { code: string; reason: string }; refund_id?: string } | undefined;
  const lines = [`Ticket ${ticket?.ticket_id ?? '?'} is ${ticket?.status ?? 'unknown'}.`];
  lines.push(refund?.error ? `I could not refund 900 USD: ${refund.error.reason} (${refund.error.code}).` : `Refund ${refund?.refund_id ?? '?'} issued.`);
  return { role: 'assistant', content: lines.join(' '), refusal: null };
};

/** The tool messages of the conversation, by tool call id, parsed from JSON when they are JSON. */
export function toolResults(request: ChatCompletionCreateParamsNonStreaming): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const m of request.messages) {
    if (m.role !== 'tool') continue;
    const content = (m as ChatCompletionToolMessageParam).content;
    const text = typeof content === 'string' ? content : content.map((p) => p.text).join('');
    try {
      out.set(m.tool_call_id, JSON.parse(text));
    } catch {
      out.set(m.tool_call_id, text);
    }
  }
  return out;
}

/** Starts the fake endpoint on a free loopback port. */
export async function startFakeModel(script: Script = supportScript): Promise<FakeModel> {
  const requests: RecordedRequest[] = [];
  let n = 0;
  const endpoint = await serveJson({
    path: '/v1/chat/completions',
    record: (body, req) => requests.push({ path: req.url!, authorization: req.headers.authorization, body: body as ChatCompletionCreateParamsNonStreaming }),
    answer: (body) => {
      const request = body as ChatCompletionCreateParamsNonStreaming;
      const message = script(request);
      const completion: ChatCompletion = {
        id: `chatcmpl-fake-${++n}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: request.model,
        choices: [{ index: 0, message, finish_reason: message.tool_calls?.length ? 'tool_calls' : 'stop', logprobs: null }],
        usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
      };
      return [200, completion];
    },
    errorBody: (type, message) => ({ error: { message, type: type === 'server_error' ? 'fake_model_error' : 'invalid_request_error' } }),
  });
  return { baseURL: `http://127.0.0.1:${endpoint.port}/v1`, requests, close: endpoint.close };
}
