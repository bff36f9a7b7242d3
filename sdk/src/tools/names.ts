/**
 * Tool names for model APIs. OpenAI and Anthropic accept tool names matching `^[a-zA-Z0-9_-]{1,64}$`, and MCP
 * clients forward names to those APIs, so every platform gets names of that form. Action ids are dotted and never
 * contain `_` (SPEC: `^[a-z][a-z0-9]*(\.[a-z][a-z0-9]*)+$`), so the default name — the id with `.` → `_` — is
 * reversible and cannot collide with another action's. Ids longer than 64 characters keep a prefix and a hash.
 *
 * An atlas may name a tool itself, per platform, in `adapters.<platform>.settings.tool_names` (`{action_id: name}`;
 * the core validates those settings at atlas load). This module is the one place that turns atlases into names and
 * names back into action ids.
 *
 * @module
 */

import type { AtlasManifest } from '../types.ts';
import { isObject } from '../util.ts';

/** The platforms whose tool names an atlas may set in `adapters.<platform>.settings.tool_names`. */
export const TOOL_PLATFORMS = ['openai', 'anthropic', 'mcp', 'ai_sdk'] as const;
export type ToolPlatform = (typeof TOOL_PLATFORMS)[number];

const ACTION_ID = /^[a-z][a-z0-9]*(\.[a-z][a-z0-9]*)+$/;
const MAX_NAME = 64;

/** The name of `actionId` when no atlas names it: dots become underscores (ids over 64 characters are hashed). */
export function defaultToolName(actionId: string): string {
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
    const table = new ToolNames();
    for (const platform of TOOL_PLATFORMS) {
      for (const atlas of atlases) {
        const named = atlas.adapters?.[platform]?.settings?.tool_names;
        if (!isObject(named)) continue;
        for (const [actionId, name] of Object.entries(named)) {
          if (typeof name === 'string') table.bind(platform, actionId, name);
        }
      }
      for (const atlas of atlases) for (const a of atlas.actions ?? []) table.nameOf(a.action_id, platform);
    }
    return table;
  }

  /** The tool name of `actionId` on `platform` (a default name is assigned on first use). */
  nameOf(actionId: string, platform: ToolPlatform = 'openai'): string {
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

/** 32-bit FNV-1a of the UTF-16 code units: a short, stable suffix for over-long ids (not a security hash). */
function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
