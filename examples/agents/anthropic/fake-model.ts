/**
 * A stand-in for Anthropic's Messages endpoint, so that the example runs offline: a `node:http` server on loopback
 * that answers `POST /v1/messages` with scripted replies and records every request it received (the test reads
 * them: which tools the model was offered, which `tool_result` blocks came back).
 *
 * The script plays a support model for ticket T-10042, a customer charged twice:
 *
 * 1. it looks the ticket up and refunds the whole order, 900 USD (over the refund policy's 500 maximum);
 * 2. told that the refund was refused (`is_error`), it refunds only the duplicate charge, 25 USD — within limits,
 *    but every refund needs a human's approval;
 * 3. it answers in text, from the `tool_result` blocks it got.
 */
import type { IncomingMessage } from 'node:http';
import type { MessageCreateParamsNonStreaming, StopReason, ToolResultBlockParam } from '@anthropic-ai/sdk/resources/messages';
import { serveJson } from '../loopback.ts';

/** One request as the fake model received it. */
export interface RecordedRequest {
  path: string;
  /** The key the client sent (`x-api-key`, or `Authorization: Bearer …` as recent SDK versions send it). */
  apiKey: string | undefined;
  version: string | undefined;
  body: MessageCreateParamsNonStreaming;
}

/** The blocks the fake model answers with (what the Messages API returns, as far as this example goes). */
export type ReplyBlock = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

/** The assistant's next content, given the request (the whole conversation so far). */
export type Script = (request: MessageCreateParamsNonStreaming) => ReplyBlock[];

export interface FakeModel {
  /** What to pass as the client's `baseURL` (or `ANTHROPIC_BASE_URL`). */
  baseURL: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export const WHOLE_ORDER = { customer_id: 'C-7', payment_id: 'P-20', amount: 900, currency: 'USD' };
export const DUPLICATE_CHARGE = { customer_id: 'C-7', payment_id: 'P-19', amount: 25, currency: 'USD' };

/** The support script (see the module comment). */
export const supportScript: Script = (request) => {
  const results = toolResults(request);
  if (results.size === 0) {
    return [
      { type: 'text', text: 'Let me check the ticket and refund the order.' },
      { type: 'tool_use', id: 'toolu_lookup', name: 'ticket_lookup', input: { ticket_id: 'T-10042' } },
      { type: 'tool_use', id: 'toolu_refund_order', name: 'refund_issue', input: WHOLE_ORDER },
    ];
  }
  const order = results.get('toolu_refund_order');
  if (order?.is_error && !results.has('toolu_refund_duplicate')) {
    return [
      { type: 'text', text: `That refund was refused (${order.error?.reason ?? '?'}); I will refund only the duplicate charge.` },
      { type: 'tool_use', id: 'toolu_refund_duplicate', name: 'refund_issue', input: DUPLICATE_CHARGE },
    ];
  }
  const duplicate = results.get('toolu_refund_duplicate');
  const refund = duplicate?.value as { refund_id?: string } | undefined;
  return [
    {
      type: 'text',
      text: duplicate && !duplicate.is_error
        ? `Refund ${refund?.refund_id ?? '?'} of 25 USD issued for the duplicate charge; 900 USD is over what I may refund.`
        : `I could not refund anything: ${duplicate?.error?.reason ?? order?.error?.reason ?? 'no refund was attempted'}.`,
    },
  ];
};

/** The `tool_result` blocks of the conversation, by tool use id: parsed content, `is_error` and the refusal. */
export function toolResults(request: MessageCreateParamsNonStreaming): Map<string, { is_error: boolean; value: unknown; error?: { code: string; reason: string } }> {
  const out = new Map<string, { is_error: boolean; value: unknown; error?: { code: string; reason: string } }>();
  for (const m of request.messages) {
    if (m.role !== 'user' || typeof m.content === 'string') continue;
    for (const block of m.content) {
      if (block.type !== 'tool_result') continue;
      const { content } = block as ToolResultBlockParam;
      const text = typeof content === 'string' ? content : (content ?? []).map((c) => (c.type === 'text' ? c.text : '')).join('');
      let value: unknown = text;
      try {
        value = JSON.parse(text);
      } catch {
        // plain text
      }
      const error = (value as { error?: { code: string; reason: string } } | null)?.error;
      out.set(block.tool_use_id, { is_error: block.is_error === true, value, ...(error ? { error } : {}) });
    }
  }
  return out;
}

/** Starts the fake endpoint on a free loopback port. */
export async function startFakeModel(script: Script = supportScript): Promise<FakeModel> {
  const requests: RecordedRequest[] = [];
  let n = 0;
  const endpoint = await serveJson({
    path: '/v1/messages',
    record: (body, req) =>
      requests.push({
        path: req.url!,
        apiKey: header(req, 'x-api-key') ?? header(req, 'authorization')?.replace(/^Bearer /, ''),
        version: header(req, 'anthropic-version'),
        body: body as MessageCreateParamsNonStreaming,
      }),
    answer: (body) => {
      const request = body as MessageCreateParamsNonStreaming;
      const content = script(request);
      const stopReason: StopReason = content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn';
      return [
        200,
        { id: `msg_fake_${++n}`, type: 'message', role: 'assistant', model: request.model, content, stop_reason: stopReason, stop_sequence: null, usage: { input_tokens: 0, output_tokens: 0 } },
      ];
    },
    errorBody: (type, message) => ({
      type: 'error',
      error: { type: type === 'not_found' ? 'not_found_error' : type === 'invalid_request' ? 'invalid_request_error' : 'api_error', message },
    }),
  });
  return { baseURL: `http://127.0.0.1:${endpoint.port}`, requests, close: endpoint.close };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
