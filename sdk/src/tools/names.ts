/**
 * Tool names for model APIs. OpenAI and Anthropic accept tool names matching `^[a-zA-Z0-9_-]{1,64}$`, and MCP
 * clients forward names to those APIs, so every platform gets names of that form. Action ids are dotted and never
 * contain `_` (`^[a-z][a-z0-9]*(\.[a-z][a-z0-9]*)+$`, see `docs/protocol.md`), so the default name — the id with
 * `.` → `_` — is reversible and cannot collide with another action's. Ids longer than 64 characters keep a prefix
 * and a hash.
 *
 * An atlas may name a tool itself, per platform, in `adapters.<platform>.settings.tool_names` (`{action_id: name}`;
 * the core validates those settings at atlas load). This module is the one place that turns atlases into names and
 * names back into action ids.
 *
 * @module
 */

import { CraError } from '../errors.ts';
import type { AtlasManifest } from '../types.ts';
import { isObject, kindOf } from '../util.ts';

/** The platforms whose tool names an atlas may set in `adapters.<platform>.settings.tool_names`. */
export const TOOL_PLATFORMS = ['openai', 'anthropic', 'mcp', 'ai_sdk'] as const;
/** A platform whose tool names an atlas may set: one of {@link TOOL_PLATFORMS}. */
export type ToolPlatform = (typeof TOOL_PLATFORMS)[number];

const ACTION_ID = /^[a-z][a-z0-9]*(\.[a-z][a-z0-9]*)+$/;
const MAX_NAME = 64;

/** The name of `actionId` when no atlas names it: dots become underscores (ids over 64 characters are hashed). */
export function defaultToolName(actionId: string): string {
  if (typeof actionId !== 'string') throw new CraError('invalid_request', `an action id is a string, not ${kindOf(actionId)}`, { path: '' });
  const name = actionId.replace(/\./g, '_');
  if (name.length <= MAX_NAME) return name;
  const hash = fnv1a32(actionId).toString(16).padStart(8, '0');
  return `${name.slice(0, MAX_NAME - hash.length - 1)}_${hash}`;
}

/** The action a default name stands for, when the name is one (the reverse of {@link defaultToolName}). */
function decodeDefaultName(name: string): string | undefined {
  const id = name.replace(/_/g, '.');
  return ACTION_ID.test(id) ? id : undefined;
}

/** A two-way table between action ids and tool names, per platform. */
export class ToolNames {
  private readonly byAction = new Map<ToolPlatform, Map<string, string>>();
  private readonly byName = new Map<ToolPlatform, Map<string, string>>();

  /**
   * The names of every action of `atlases`: an atlas's own `tool_names` first, then the default names. A default
   * name that an atlas gave to another action is suffixed (`_2`, `_3`…), so that no two actions share a name.
   */
  static fromAtlases(atlases: readonly AtlasManifest[]): ToolNames {
    if (!Array.isArray(atlases)) throw new CraError('invalid_request', `atlases must be an array of manifests, not ${kindOf(atlases)}`, { path: '' });
    for (const [i, atlas] of atlases.entries()) {
      if (!isObject(atlas)) throw new CraError('invalid_request', `an atlas manifest is an object, not ${kindOf(atlas)}`, { path: `/${i}` });
    }
    const table = new ToolNames();
    for (const platform of TOOL_PLATFORMS) {
      for (const atlas of atlases) {
        const adapter: unknown = isObject(atlas.adapters) ? atlas.adapters[platform] : undefined;
        const settings: unknown = isObject(adapter) ? adapter.settings : undefined;
        const named = isObject(settings) ? settings.tool_names : undefined;
        if (!isObject(named)) continue;
        for (const [actionId, name] of Object.entries(named)) {
          if (typeof name === 'string') table.bind(platform, actionId, name);
        }
      }
      for (const atlas of atlases) {
        for (const a of Array.isArray(atlas.actions) ? atlas.actions : []) {
          if (isObject(a) && typeof a.action_id === 'string') table.nameOf(a.action_id, platform);
        }
      }
    }
    return table;
  }

  /** The tool name of `actionId` on `platform` (a default name is assigned on first use). */
  nameOf(actionId: string, platform: ToolPlatform = 'openai'): string {
    checkPlatform(platform);
    if (typeof actionId !== 'string') throw new CraError('invalid_request', `an action id is a string, not ${kindOf(actionId)}`, { path: '' });
    const known = this.byAction.get(platform)?.get(actionId);
    if (known !== undefined) return known;
    const base = defaultToolName(actionId);
    let name = base;
    for (let n = 2; this.byName.get(platform)?.has(name); n++) name = `${base.slice(0, MAX_NAME - String(n).length - 1)}_${n}`;
    this.bind(platform, actionId, name);
    return name;
  }

  /**
   * The action a tool name stands for: a named or assigned tool on `platform` (every platform when omitted), else
   * an action id given as is, else a default name decoded. `undefined` when `name` can stand for no action id.
   */
  actionOf(name: string, platform?: ToolPlatform): string | undefined {
    if (platform !== undefined) checkPlatform(platform);
    if (typeof name !== 'string') return undefined;
    for (const p of platform ? [platform] : TOOL_PLATFORMS) {
      const id = this.byName.get(p)?.get(name);
      if (id !== undefined) return id;
    }
    if (ACTION_ID.test(name)) return name;
    return decodeDefaultName(name);
  }

  private bind(platform: ToolPlatform, actionId: string, name: string): void {
    let names = this.byAction.get(platform);
    let actions = this.byName.get(platform);
    if (!names || !actions) {
      names = new Map();
      actions = new Map();
      this.byAction.set(platform, names);
      this.byName.set(platform, actions);
    }
    if (names.has(actionId) || actions.has(name)) return;
    names.set(actionId, name);
    actions.set(name, actionId);
  }
}

/** Refuses a platform that is not one of {@link TOOL_PLATFORMS}. */
export function checkPlatform(platform: unknown, path = '/platform'): asserts platform is ToolPlatform {
  if (!(TOOL_PLATFORMS as readonly unknown[]).includes(platform)) {
    throw new CraError('invalid_request', `platform must be one of ${TOOL_PLATFORMS.join(', ')}`, { path });
  }
}

/** 32-bit FNV-1a of the UTF-16 code units: a short, stable suffix for over-long ids (not a security hash). */
function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
