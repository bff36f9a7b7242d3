/** What the guard scenario must report, in every runtime and mode (Node, Deno, workerd, Chromium). */
import { expect } from 'vitest';
import type { GuardReport } from './scenario.ts';

export function expectScenarioReport(report: GuardReport): void {
  const byName = (i: number) => report.outcomes[i]!;
  expect(report.outcomes.map((o) => [o.name, o.ok, o.code ?? null])).toEqual([
    ['lookup_ticket', true, null],
    ['ticket_lookup', false, 'invalid_parameters'],
    ['ticket.reply', false, 'action_failed'],
    ['refund_issue', true, null],
    ['refund.issue', false, 'approval_denied'],
    ['refund_issue', false, 'scope_violation'],
    ['customer_delete', false, 'policy_denied'],
    ['tickets_lookup', false, 'unknown_action'],
    ['send email!', false, 'unknown_tool'],
    ['ticket_lookup', false, 'invalid_arguments'],
    ['ticket.close', false, 'no_handler'],
  ]);
  expect(byName(0).result).toEqual({ ticket_id: 'T-10042', status: 'open' });
  // Every schema error, with its JSON pointer.
  const errors = (byName(1).details as { errors: Array<{ path: string }> }).errors;
  expect(errors.map((e) => e.path).sort()).toEqual(['/extra', '/ticket_id']);
  expect(byName(2).reason).toBe('mail relay unavailable');
  expect(byName(2).details).toEqual({ error_code: 'smtp_down' });
  expect(byName(3).result).toEqual({ refunded: 25 });
  expect(byName(4).reason).toBe('over my limit');
  // Both scope problems: the field, the bound and the value.
  const violations = (byName(5).details as { violations: Array<{ parameter: string; value: unknown }> }).violations;
  expect(violations.map((v) => [v.parameter, v.value]).sort()).toEqual([
    ['amount', 900],
    ['currency', 'JPY'],
  ]);
  expect(byName(5).reason).toMatch(/amount|currency/);
  expect(byName(6).reason).toMatch(/privacy team/);
  expect((byName(7).details as { closest: string[] }).closest[0]).toBe('ticket.lookup');
  expect((byName(8).details as { tools: string[] }).tools).toEqual(['lookup_ticket', 'ticket_reply', 'refund_issue']);
  // Allowed, declared, but this agent has no handler for it: refused before the core, never offered.
  expect(byName(10).details).toEqual({ action_id: 'ticket.close', tools: ['lookup_ticket', 'ticket_reply', 'refund_issue'] });
  // Only allowed actions with a handler are tools; OpenAI gets the atlas's own name for ticket.lookup.
  expect(report.tools.openai).toEqual(['lookup_ticket', 'ticket_reply', 'refund_issue']);
  expect(report.tools.anthropic).toEqual(['ticket_lookup', 'ticket_reply', 'refund_issue']);
  expect(report.tools.mcp).toEqual(report.tools.anthropic);
  // The approver was asked twice (the over-scope refund never reached a human).
  expect(report.approvals).toEqual(['refund_issue 25 refund.issue', 'refund.issue 40 refund.issue']);
  expect(report.events.filter((t) => t === 'action.requested')).toHaveLength(8);
  expect(report.events.filter((t) => t === 'action.executed')).toHaveLength(2);
  expect(report.events.filter((t) => t === 'action.failed')).toHaveLength(1);
  expect(report.events.filter((t) => t === 'action.approved')).toHaveLength(3);
  expect(report.events.filter((t) => t === 'carp.resolution.completed')).toHaveLength(1);
  expect(report.events.at(-1)).toBe('session.ended');
  expect(report.verify).toEqual({ valid: true, length: report.events.length });
}

