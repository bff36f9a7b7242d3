/**
 * Type-level check (compiled by `sdk-types.test.ts`): what the tool formats and runners produce is assignable to
 * the official SDKs' own types, and what those SDKs hand back is accepted by the runners. Never run.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { Tool as McpTool, CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type OpenAI from 'openai';
import type { Guard } from '../guard/guard.ts';
import type { ToolCatalog } from '../guard/guard.ts';
import { toAnthropicTools, toMcpTools, toOpenAITools } from './formats.ts';
import { handleAnthropicToolUse, handleOpenAIToolCalls } from './runners.ts';

declare const catalog: ToolCatalog;
declare const g: Guard;
declare const chatMessage: OpenAI.Chat.Completions.ChatCompletionMessage;
declare const response: OpenAI.Responses.Response;
declare const anthropicMessage: Anthropic.Messages.Message;

export const chatTools: OpenAI.Chat.Completions.ChatCompletionTool[] = toOpenAITools(catalog);
export const chatFunctionTools: OpenAI.Chat.Completions.ChatCompletionFunctionTool[] = toOpenAITools(catalog, { api: 'chat' });
export const responsesTools: OpenAI.Responses.FunctionTool[] = toOpenAITools(catalog, { api: 'responses' });
export const responsesToolParams: OpenAI.Responses.Tool[] = toOpenAITools(catalog, { api: 'responses' });
export const anthropicTools: Anthropic.Messages.Tool[] = toAnthropicTools(catalog);
export const anthropicToolUnion: Anthropic.Messages.ToolUnion[] = toAnthropicTools(catalog);
export const mcpTools: McpTool[] = toMcpTools(catalog);

export async function replies(): Promise<void> {
  const toolMessages: OpenAI.Chat.Completions.ChatCompletionToolMessageParam[] = await handleOpenAIToolCalls(g, chatMessage);
  const next: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [chatMessage, ...toolMessages];
  const outputs: OpenAI.Responses.ResponseInputItem.FunctionCallOutput[] = await handleOpenAIToolCalls(g, response.output);
  const input: OpenAI.Responses.ResponseInput = [...outputs];
  const results: Anthropic.Messages.ToolResultBlockParam[] = await handleAnthropicToolUse(g, anthropicMessage.content);
  const user: Anthropic.Messages.MessageParam = { role: 'user', content: results };
  const fromMessage: Anthropic.Messages.ToolResultBlockParam[] = await handleAnthropicToolUse(g, anthropicMessage);
  const unused: unknown[] = [next, input, user, fromMessage];
  void unused;
}

export function mcpResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}
