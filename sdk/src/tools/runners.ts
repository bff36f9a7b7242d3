/**
 * Runners for a model's reply: every tool call in it goes through the guard, in order, and comes back as the
 * message the API expects next. A refusal is answered to the model as a readable error (code, reason, details), so
 * that it can correct its arguments, choose another tool, or wait; nothing here throws for a refusal.
 *
 * @module
 */

import { CraError } from '../errors.ts';
import type { Guard, GuardResult } from '../guard/guard.ts';
import { toJson } from '../json-value.ts';
import { isObject } from '../util.ts';

/** A Chat Completions assistant message (`ChatCompletionMessage`), as far as tool calls go. */
export interface OpenAIAssistantMessage {
  /** The calls the model asks for; only `function` calls are run. */
  tool_calls?: Array<{
    /** The call's id, echoed in the answering `tool` message. */
    id: string;
    /** `function` for a function call. */
    type: string;
    /** The function called. */
    function?: {
      /** The tool name. */
      name: string;
      /** The arguments, as JSON text. */
      arguments: string;
    };
  }> | null;
}

/** An item of a Responses API `output` (only `function_call` items are acted on). */
export interface OpenAIResponseItem {
  /** The item's type; `function_call` for a tool call. */
  type: string;
  /** The call's id, echoed in the answering `function_call_output`. */
  call_id?: string | null;
  /** The tool name. */
  name?: string | null;
  /** JSON text for `function_call` items (other item types carry other things). */
  arguments?: unknown;
}

/** Chat Completions: `ChatCompletionToolMessageParam`. */
export interface OpenAIToolMessage {
  /** Always `tool`. */
  role: 'tool';
  /** The id of the call answered. */
  tool_call_id: string;
  /** The outcome as text (see {@link toolResultText}). */
  content: string;
}

/** Responses: `ResponseInputItem.FunctionCallOutput`. */
export interface OpenAIFunctionCallOutput {
  /** Always `function_call_output`. */
  type: 'function_call_output';
  /** The id of the call answered. */
  call_id: string;
  /** The outcome as text (see {@link toolResultText}). */
  output: string;
}

/** Anthropic: a content block of the assistant's message (`ContentBlock`), as far as tool use goes. */
export interface AnthropicContentBlock {
  /** The block's type; `tool_use` for a tool call. */
  type: string;
  /** The call's id, echoed in the answering `tool_result`. */
  id?: string;
  /** The tool name. */
  name?: string;
  /** The arguments, already parsed. */
  input?: unknown;
}

/** Anthropic: `ToolResultBlockParam`. */
export interface AnthropicToolResult {
  /** Always `tool_result`. */
  type: 'tool_result';
  /** The id of the `tool_use` block answered. */
  tool_use_id: string;
  /** The outcome as text (see {@link toolResultText}). */
  content: string;
  /** Set when the call was refused, so that the model reads `content` as an error. */
  is_error?: boolean;
}

/** The text a model reads for a call's outcome: the result itself, or `{"error": refusal}`. */
export function toolResultText(outcome: GuardResult): string {
  if (!isObject(outcome)) throw new CraError('invalid_request', 'toolResultText() needs the outcome of guard.call()', { path: '' });
  // toJson never recurses on a deep or cyclic value, and turns what JSON cannot carry into something it can.
  if (!outcome.ok) return JSON.stringify({ error: toJson(outcome.refusal) });
  if (typeof outcome.result === 'string') return toJson(outcome.result) as string;
  return JSON.stringify(toJson(outcome.result ?? null));
}

/** Refuses a `guard` argument that is not a guard (anything with a `call` method will do). */
function checkGuard(guard: Guard): void {
  if (!isObject(guard) || typeof guard.call !== 'function') throw new CraError('invalid_request', 'a guard is needed', { path: '/guard' });
}

/**
 * Runs the tool calls of an OpenAI reply: a Chat Completions message answers `role: "tool"` messages; a Responses
 * `output` array answers `function_call_output` items.
 */
export function handleOpenAIToolCalls(guard: Guard, message: OpenAIAssistantMessage): Promise<OpenAIToolMessage[]>;
export function handleOpenAIToolCalls(guard: Guard, output: readonly OpenAIResponseItem[]): Promise<OpenAIFunctionCallOutput[]>;
export async function handleOpenAIToolCalls(
  guard: Guard,
  reply: OpenAIAssistantMessage | readonly OpenAIResponseItem[],
): Promise<OpenAIToolMessage[] | OpenAIFunctionCallOutput[]> {
  checkGuard(guard);
  if (Array.isArray(reply)) {
    const out: OpenAIFunctionCallOutput[] = [];
    for (const item of reply as readonly OpenAIResponseItem[]) {
      if (!isObject(item) || item.type !== 'function_call' || typeof item.call_id !== 'string') continue;
      const outcome = await guard.call(item.name as string, item.arguments, { platform: 'openai' });
      out.push({ type: 'function_call_output', call_id: item.call_id, output: toolResultText(outcome) });
    }
    return out;
  }
  const out: OpenAIToolMessage[] = [];
  for (const call of (isObject(reply) && Array.isArray(reply.tool_calls) ? reply.tool_calls : [])) {
    if (!isObject(call) || call.type !== 'function' || !isObject(call.function)) continue;
    const outcome = await guard.call(call.function.name as string, call.function.arguments, { platform: 'openai' });
    out.push({ role: 'tool', tool_call_id: call.id as string, content: toolResultText(outcome) });
  }
  return out;
}

/** Runs the `tool_use` blocks of an Anthropic reply (its `content`, or the message) into `tool_result` blocks. */
export async function handleAnthropicToolUse(
  guard: Guard,
  content: readonly AnthropicContentBlock[] | { content: readonly AnthropicContentBlock[] },
): Promise<AnthropicToolResult[]> {
  checkGuard(guard);
  const blocks = Array.isArray(content) ? content : isObject(content) && Array.isArray(content.content) ? content.content : [];
  const out: AnthropicToolResult[] = [];
  for (const block of blocks as readonly AnthropicContentBlock[]) {
    if (!isObject(block) || block.type !== 'tool_use' || typeof block.id !== 'string') continue;
    const outcome = await guard.call(block.name as string, block.input, { platform: 'anthropic' });
    out.push(outcome.ok
      ? { type: 'tool_result', tool_use_id: block.id, content: toolResultText(outcome) }
      : { type: 'tool_result', tool_use_id: block.id, content: toolResultText(outcome), is_error: true });
  }
  return out;
}
