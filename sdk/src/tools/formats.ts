/**
 * A resolution's allowed actions as the tool definitions of model APIs: OpenAI (Chat Completions and Responses),
 * Anthropic Messages and MCP. Only allowed actions become tools (denied and unknown ones never appear); an action
 * that needs approval does, and its description tells the model that a human approves each call. The shapes are
 * plain objects typed to match the official SDKs' own types (checked in the tests), so no SDK is imported here.
 *
 * @module
 */

import type { AllowedAction, JsonSchema, Resolution } from '../types.ts';
import { type ToolPlatform, ToolNames } from './names.ts';

/**
 * A resolution (every allowed action, default names), or a guard's catalog (`await g.catalog()`: the resolution,
 * the atlases' tool names, and `actionIds`, the allowed actions the guard has handlers for).
 */
export type ToolSource = Resolution | { resolution: Resolution; names?: ToolNames; actionIds?: readonly string[] };

/** A JSON Schema whose top level is an object, as every tool API requires. */
export type ToolInputSchema = { type: 'object'; properties?: { [name: string]: object }; required?: string[]; [key: string]: unknown };

/** OpenAI Chat Completions: `ChatCompletionFunctionTool`. */
export interface OpenAIChatTool {
  type: 'function';
  function: { name: string; description: string; parameters: ToolInputSchema; strict: false };
}

/** OpenAI Responses: `FunctionTool`. */
export interface OpenAIResponsesTool {
  type: 'function';
  name: string;
  description: string;
  parameters: ToolInputSchema;
  strict: false;
}

/** Anthropic Messages: `Tool`. */
export interface AnthropicTool {
  name: string;
  description: string;
  input_schema: ToolInputSchema;
}

/** MCP: `Tool` of `tools/list`. */
export interface McpTool {
  name: string;
  title: string;
  description: string;
  inputSchema: ToolInputSchema;
  annotations: { title: string; idempotentHint: boolean; destructiveHint: boolean };
}

const APPROVAL_NOTE = 'A human approves each call before it runs; the call waits for that decision.';

/** One allowed action, ready for a tool list: its name on the platform, description and input schema. */
export interface ToolSpec {
  actionId: string;
  name: string;
  description: string;
  inputSchema: ToolInputSchema;
  action: AllowedAction;
}

/** The tools of `source` for `platform`, in the resolution's order. */
export function toolSpecs(source: ToolSource, platform: ToolPlatform): ToolSpec[] {
  const { resolution, names, actionIds } = 'resolution' in source ? source : { resolution: source, names: undefined, actionIds: undefined };
  const table = names ?? new ToolNames();
  const offered = actionIds ? new Set(actionIds) : null;
  return resolution.allowed_actions.filter((a) => !offered || offered.has(a.action_id)).map((action) => ({
    actionId: action.action_id,
    name: table.nameOf(action.action_id, platform),
    description: describe(action),
    inputSchema: inputSchema(action.parameters_schema),
    action,
  }));
}

/** OpenAI function tools: Chat Completions shape by default, `{api: 'responses'}` for the Responses API. */
export function toOpenAITools(source: ToolSource): OpenAIChatTool[];
export function toOpenAITools(source: ToolSource, options: { api: 'chat' }): OpenAIChatTool[];
export function toOpenAITools(source: ToolSource, options: { api: 'responses' }): OpenAIResponsesTool[];
export function toOpenAITools(source: ToolSource, options: { api?: 'chat' | 'responses' } = {}): OpenAIChatTool[] | OpenAIResponsesTool[] {
  const specs = toolSpecs(source, 'openai');
  if (options.api === 'responses') {
    return specs.map((t): OpenAIResponsesTool => ({ type: 'function', name: t.name, description: t.description, parameters: t.inputSchema, strict: false }));
  }
  return specs.map((t): OpenAIChatTool => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.inputSchema, strict: false } }));
}

/** Anthropic Messages tools. */
export function toAnthropicTools(source: ToolSource): AnthropicTool[] {
  return toolSpecs(source, 'anthropic').map((t) => ({ name: t.name, description: t.description, input_schema: t.inputSchema }));
}

/** MCP tools (`tools/list`), with hints from the action's risk tier and idempotence. */
export function toMcpTools(source: ToolSource): McpTool[] {
  return toolSpecs(source, 'mcp').map((t) => ({
    name: t.name,
    title: t.action.name,
    description: t.description,
    inputSchema: t.inputSchema,
    annotations: {
      title: t.action.name,
      idempotentHint: t.action.idempotent === true,
      destructiveHint: t.action.risk_tier === 'high' || t.action.risk_tier === 'critical',
    },
  }));
}

function describe(action: AllowedAction): string {
  if (!action.requires_confirmation) return action.description;
  const text = action.description.trimEnd();
  return `${text}${/[.!?]$/.test(text) ? '' : '.'} ${APPROVAL_NOTE}`;
}

/** The action's parameters schema with an object top level (an action without one takes an empty object). */
function inputSchema(schema: JsonSchema | undefined): ToolInputSchema {
  if (!schema) return { type: 'object', properties: {} };
  return { ...schema, type: 'object' } as ToolInputSchema;
}
