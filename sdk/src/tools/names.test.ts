import { describe, expect, it } from 'vitest';
import type { AtlasManifest } from '../types.ts';
import { defaultToolName, ToolNames } from './names.ts';

const atlas = (actions: string[], adapters?: AtlasManifest['adapters']): AtlasManifest => ({
  atlas_version: '1.0',
  atlas_id: 'com.example.names',
  version: '1.0.0',
  name: 'n',
  description: 'd',
  actions: actions.map((action_id) => ({ action_id, name: action_id, description: action_id })),
  adapters,
});

const VALID = /^[a-zA-Z0-9_-]{1,64}$/;

describe('tool names', () => {
  it('maps dotted ids to valid names and back', () => {
    const names = ToolNames.fromAtlases([atlas(['ticket.lookup', 'billing.refund.issue'])]);
    expect(names.nameOf('ticket.lookup')).toBe('ticket_lookup');
    expect(names.nameOf('billing.refund.issue', 'anthropic')).toBe('billing_refund_issue');
    expect(names.actionOf('billing_refund_issue')).toBe('billing.refund.issue');
    expect(names.actionOf('ticket.lookup')).toBe('ticket.lookup');
    // A default name decodes even for an action no atlas declares (the core then says it is unknown).
    expect(names.actionOf('tickets_lookup')).toBe('tickets.lookup');
    expect(names.actionOf('send email!')).toBeUndefined();
    expect(names.actionOf('lookup')).toBeUndefined();
  });

  it('hashes ids over 64 characters into distinct valid names that map back', () => {
    const long = (tail: string) => `a${'b'.repeat(40)}.c${'d'.repeat(30)}.${tail}`;
    const ids = [long('one'), long('two')];
    const names = ToolNames.fromAtlases([atlas(ids)]);
    const [a, b] = ids.map((id) => names.nameOf(id));
    expect(a).toMatch(VALID);
    expect(b).toMatch(VALID);
    expect(a).not.toBe(b);
    expect(names.actionOf(a!)).toBe(ids[0]);
    expect(names.actionOf(b!)).toBe(ids[1]);
    expect(defaultToolName(ids[0]!)).toBe(a);
  });

  it("takes an atlas's own names per platform, and keeps every name unique", () => {
    const manifest = atlas(['ticket.lookup', 'ticket.close'], {
      openai: { settings: { tool_names: { 'ticket.lookup': 'lookup_ticket', 'ticket.close': 'ticket_lookup' } } },
      mcp: { enabled: true, settings: { tool_names: { 'ticket.close': 'close' } } },
    });
    const names = ToolNames.fromAtlases([manifest]);
    expect(names.nameOf('ticket.lookup', 'openai')).toBe('lookup_ticket');
    // ticket.close took the name that would have been ticket.lookup's default: no clash, both map back.
    expect(names.nameOf('ticket.close', 'openai')).toBe('ticket_lookup');
    expect(names.actionOf('ticket_lookup', 'openai')).toBe('ticket.close');
    expect(names.actionOf('lookup_ticket', 'openai')).toBe('ticket.lookup');
    expect(names.nameOf('ticket.close', 'mcp')).toBe('close');
    expect(names.nameOf('ticket.lookup', 'mcp')).toBe('ticket_lookup');
    expect(names.actionOf('ticket_lookup', 'mcp')).toBe('ticket.lookup');
    expect(names.nameOf('ticket.close', 'anthropic')).toBe('ticket_close');
  });

  it("suffixes a default name that another atlas's action was given (within one atlas, the core refuses that)", () => {
    const first = atlas(['a.b']);
    const second = { ...atlas(['c.d'], { anthropic: { settings: { tool_names: { 'c.d': 'a_b' } } } }), atlas_id: 'com.example.other' };
    const names = ToolNames.fromAtlases([first, second]);
    expect(names.nameOf('c.d', 'anthropic')).toBe('a_b');
    expect(names.nameOf('a.b', 'anthropic')).toBe('a_b_2');
    expect(names.actionOf('a_b_2', 'anthropic')).toBe('a.b');
  });
});
