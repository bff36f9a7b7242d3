/**
 * `cra-runtime/ai-sdk`: a guard's tools for the AI SDK (`ai`, an optional peer dependency of this package). Each
 * allowed action becomes an AI SDK `tool()` with its parameters schema (`jsonSchema()`) and an `execute` bound to
 * the guard. A refusal is the tool's output (`{error: {code, reason, details}}`), not an exception, so the model
 * reads why and can correct itself.
 *
 * ```ts
 * const tools = await toAiSdkTools(g);
 * const { text } = await generateText({ model, tools, stopWhen: stepCountIs(5), prompt });
 * ```
 *
 * @module
 */

import { jsonSchema, tool, type Tool } from 'ai';
import { CraError } from './errors.ts';
import type { Guard } from './guard/guard.ts';
import { toolSpecs } from './tools/formats.ts';

/** The guard's allowed actions as an AI SDK tool set, keyed by tool name. */
export async function toAiSdkTools(guard: Guard): Promise<Record<string, Tool>> {
  if (typeof guard !== 'object' || guard === null || typeof (guard as Partial<Guard>).catalog !== 'function') {
    throw new CraError('invalid_request', 'toAiSdkTools takes a guard (from `guard(session, handlers)`)', { path: '' });
  }
  const specs = toolSpecs(await guard.catalog(), 'ai_sdk');
  const tools: Record<string, Tool> = {};
  for (const spec of specs) {
    tools[spec.name] = tool({
      description: spec.description,
      inputSchema: jsonSchema<Record<string, unknown>>(spec.inputSchema),
      execute: async (input: Record<string, unknown>) => {
        const outcome = await guard.call(spec.actionId, input);
        return outcome.ok ? outcome.result : { error: outcome.refusal };
      },
    });
  }
  return tools;
}
