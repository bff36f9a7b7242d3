/**
 * A resolution's allowed actions as the tool definitions of model APIs: OpenAI (Chat Completions and Responses),
 * Anthropic Messages and MCP. Only allowed actions become tools (denied and unknown ones never appear); an action
 * that needs approval does, and its description tells the model that a human approves each call. The shapes are
 * plain objects typed to match the official SDKs' own types (checked in the tests), so no SDK is imported here.
 *
 * @module
 */

import { CraError } from '../errors.ts';
import type { AllowedAction, JsonSchema, Resolution } from '../types.ts';
import { isObject, kindOf, readOptions } from '../util.ts';
import { checkPlatform, type ToolPlatform, ToolNames } from './names.ts';

/**
 * A resolution (every allowed action, default names), or a guard's catalog (`await g.catalog()`: the resolution,
 * the atlases' tool names, and `actionIds`, the allowed actions the guard has handlers for).
 */
export type ToolSource =
  | Resolution
  | {
      /** The resolution whose allowed actions become tools. */
      resolution: Resolution;
      /** The atlases' tool names; default names when absent. */
      names?: ToolNames;
      /** Only these allowed actions become tools (the ones a guard can run); every allowed action when absent. */
      actionIds?: readonly string[];
    };

/** A JSON Schema whose top level is an object, as every tool API requires. */
export type ToolInputSchema = {
  /** Always `object`: tool APIs take named arguments. */
  type: 'object';
  /** The schema of each argument, by name. */
  properties?: { [name: string]: object };
  /** The arguments a call must give. */
  required?: string[];
  /** Any other JSON Schema keyword of the action's parameters schema, kept as is. */
  [key: string]: unknown;
};

/** OpenAI Chat Completions: `ChatCompletionFunctionTool`. */
export interface OpenAIChatTool {
  /** Always `function`. */
  type: 'function';
  /** The function the model may call. */
  function: {
    /** The tool name on OpenAI (see {@link ToolNames}). */
    name: string;
    /** The action's description, with a note when a human approves each call. */
    description: string;
    /** The arguments' schema. */
    parameters: ToolInputSchema;
    /** Never strict: strict mode needs schemas shaped in ways an action's parameters schema need not be. */
    strict: false;
  };
}

/** OpenAI Responses: `FunctionTool`. */
export interface OpenAIResponsesTool {
  /** Always `function`. */
  type: 'function';
  /** The tool name on OpenAI (see {@link ToolNames}). */
  name: string;
  /** The action's description, with a note when a human approves each call. */
  description: string;
  /** The arguments' schema. */
  parameters: ToolInputSchema;
  /** Never strict: strict mode needs schemas shaped in ways an action's parameters schema need not be. */
  strict: false;
}

/** Anthropic Messages: `Tool`. */
export interface AnthropicTool {
  /** The tool name on Anthropic (see {@link ToolNames}). */
  name: string;
  /** The action's description, with a note when a human approves each call. */
  description: string;
  /** The arguments' schema. */
  input_schema: ToolInputSchema;
}

/** MCP: `Tool` of `tools/list`. */
export interface McpTool {
  /** The tool name on MCP (see {@link ToolNames}). */
  name: string;
  /** The action's human-readable name. */
  title: string;
  /** The action's description, with a note when a human approves each call. */
  description: string;
  /** The arguments' schema. */
  inputSchema: ToolInputSchema;
  /** Hints for clients, from the action itself. */
  annotations: {
    /** The action's human-readable name. */
    title: string;
    /** The action declares itself idempotent: repeating a call changes nothing more. */
    idempotentHint: boolean;
    /** The action's risk tier is `high` or `critical`. */
    destructiveHint: boolean;
  };
}

const APPROVAL_NOTE = 'A human approves each call before it runs; the call waits for that decision.';

/** One allowed action, ready for a tool list: its name on the platform, description and input schema. */
export interface ToolSpec {
  /** The action's id. */
  actionId: string;
  /** Its tool name on the platform. */
  name: string;
  /** Its description, with a note when a human approves each call. */
  description: string;
  /** Its parameters schema, with an object top level. */
  inputSchema: ToolInputSchema;
  /** The allowed action itself, as the resolution lists it. */
  action: AllowedAction;
}

/** The tools of `source` for `platform`, in the resolution's order. */
export function toolSpecs(source: ToolSource, platform: ToolPlatform): ToolSpec[] {
  checkPlatform(platform);
  const { resolution, names, actionIds } = sourceParts(source);
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
export function toOpenAITools(source: ToolSource, options?: { api?: 'chat' | 'responses' }): OpenAIChatTool[] | OpenAIResponsesTool[] {
  const { api } = readOptions(options, '/options');
  if (api !== undefined && api !== 'chat' && api !== 'responses') {
    throw new CraError('invalid_request', 'api must be "chat" or "responses"', { path: '/options/api' });
  }
  const specs = toolSpecs(source, 'openai');
  if (api === 'responses') {
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

/**
 * The parts of a tool source, refused (`invalid_request`, pointing into the source) when it is not a resolution
 * or a catalog whose allowed actions carry an id and a description.
 */
function sourceParts(source: ToolSource): { resolution: Resolution; names: ToolNames | undefined; actionIds: readonly string[] | undefined } {
  if (!isObject(source)) throw new CraError('invalid_request', `a tool source is a resolution or a catalog, not ${kindOf(source)}`, { path: '' });
  const catalog = 'resolution' in source;
  const at = catalog ? '/resolution' : '';
  const { resolution, names, actionIds } = catalog ? (source as Exclude<ToolSource, Resolution>) : { resolution: source as Resolution, names: undefined, actionIds: undefined };
  if (!isObject(resolution) || !Array.isArray(resolution.allowed_actions)) {
    throw new CraError('invalid_request', 'a resolution lists its allowed_actions', { path: `${at}/allowed_actions` });
  }
  for (const [i, a] of (resolution.allowed_actions as unknown[]).entries()) {
    const ok = isObject(a) && typeof a.action_id === 'string' && typeof a.description === 'string' && typeof a.name === 'string';
    if (!ok) throw new CraError('invalid_request', 'an allowed action has an action_id, a name and a description', { path: `${at}/allowed_actions/${i}` });
  }
  if (names !== undefined && !(names instanceof ToolNames)) throw new CraError('invalid_request', 'names must be a ToolNames', { path: '/names' });
  if (actionIds !== undefined && (!Array.isArray(actionIds) || !actionIds.every((id) => typeof id === 'string'))) {
    throw new CraError('invalid_request', 'actionIds must be an array of action ids', { path: '/actionIds' });
  }
  return { resolution, names, actionIds };
}

function describe(action: AllowedAction): string {
  if (!action.requires_confirmation) return action.description;
  const text = action.description.trimEnd();
  return `${text}${/[.!?]$/.test(text) ? '' : '.'} ${APPROVAL_NOTE}`;
}

/** The action's parameters schema with an object top level (an action without one takes an empty object). */
function inputSchema(schema: JsonSchema | undefined): ToolInputSchema {
  if (!isObject(schema)) return { type: 'object', properties: {} };
  // Spread copies own members as data (a property named `__proto__` stays a property).
  return { ...schema, type: 'object' } as ToolInputSchema;
}
