/**
 * The guard scenario: one script of governed tool calls — by tool name, by action id, with bad arguments, refused
 * by schema, scope and policy, approved and denied by a human, failing in the handler — run on any runtime and mode.
 * Node (embedded and HTTP), Deno, workerd and Chromium run this same module and must give the same report.
 * Platform-neutral on purpose: no `node:` imports, the atlas comes in as data.
 */
import { guard, type GuardResult } from '../../src/guard/guard.ts';
import type { CraRuntime } from '../../src/interface.ts';
import { verifyTrace } from '../../src/runtime/tools.ts';
import { toAnthropicTools, toMcpTools, toOpenAITools } from '../../src/tools/formats.ts';
import type { AtlasBundle, JsonObject, VerifyResult } from '../../src/types.ts';

export interface GuardReport {
  /** One line per call: the tool name used, and its outcome (result, or refusal code). */
  outcomes: Array<{ name: string; ok: boolean; code?: string; result?: unknown; reason?: string; details?: unknown }>;
  /** Tool names per format, in the resolution's order. */
  tools: { openai: string[]; anthropic: string[]; mcp: string[] };
  /** What the approver was asked about. */
  approvals: string[];
  /** The session's event types, in chain order. */
  events: string[];
  /** The chain's verdict, without its (run-specific) head hash. */
  verify: Omit<VerifyResult, 'head_hash'>;
}

/** The support atlas, naming one tool explicitly for OpenAI (the other platforms keep the default name). */
export function namedSupportAtlas(atlas: AtlasBundle): AtlasBundle {
  return {
    ...atlas,
    manifest: { ...atlas.manifest, adapters: { openai: { settings: { tool_names: { 'ticket.lookup': 'lookup_ticket' } } } } },
  };
}

export async function runGuardScenario(runtime: CraRuntime, atlas: AtlasBundle): Promise<GuardReport> {
  await runtime.loadAtlas(namedSupportAtlas(atlas));
  const session = await runtime.createSession({ agentId: 'support-bot', goal: 'Handle ticket T-10042' });
  const approvals: string[] = [];
  const g = guard(
    session,
    {
      'ticket.lookup': async ({ ticket_id }) => ({ ticket_id, status: 'open' }),
      'ticket.reply': async () => {
        throw Object.assign(new Error('mail relay unavailable'), { code: 'smtp_down' });
      },
      'refund.issue': async ({ amount }) => ({ refunded: amount }),
    },
    {
      // A human approves refunds up to 50.
      approve: (execution, request) => {
        approvals.push(`${request.toolName} ${String(request.parameters.amount)} ${execution.action_id}`);
        return approvals.length === 1 ? { approved: true, approver: 'lead@example.com' } : { approved: false, reason: 'over my limit', approver: 'lead@example.com' };
      },
    },
  );

  const outcomes: GuardReport['outcomes'] = [];
  const call = async (name: string, args: unknown) => {
    const r: GuardResult = await g.call(name, args);
    outcomes.push(r.ok ? { name, ok: true, result: r.result } : { name, ok: false, code: r.refusal.code, reason: r.refusal.reason, details: r.refusal.details });
  };
  const refund = (amount: number, currency = 'USD'): JsonObject => ({ customer_id: 'C-7', payment_id: 'P-19', amount, currency });

  await call('lookup_ticket', '{"ticket_id":"T-10042"}'); // OpenAI's explicit name, JSON text arguments; resolves first
  await call('ticket_lookup', { ticket_id: 'bad id', extra: true }); // default name; two schema errors
  await call('ticket.reply', { ticket_id: 'T-10042', body: 'On it.' }); // the handler throws
  await call('refund_issue', refund(25)); // approved by the human
  await call('refund.issue', refund(40)); // denied by the human
  await call('refund_issue', refund(900, 'JPY')); // outside the scope policy twice
  await call('customer_delete', { customer_id: 'C-7' }); // denied by policy
  await call('tickets_lookup', { ticket_id: 'T-10042' }); // no such action: the core names the closest
  await call('send email!', {}); // not a tool name at all
  await call('ticket_lookup', '{"ticket_id": '); // arguments that are not JSON
  await call('ticket.close', { ticket_id: 'T-10042', resolution: 'solved' }); // allowed, but this agent has no handler

  const catalog = await g.catalog();
  const tools = {
    openai: toOpenAITools(catalog).map((t) => t.function.name),
    anthropic: toAnthropicTools(catalog).map((t) => t.name),
    mcp: toMcpTools(catalog).map((t) => t.name),
  };
  await session.end('completed');
  const trace = await session.trace();
  const { head_hash: _head, ...verify } = (await verifyTrace(trace)) as VerifyResult & { head_hash?: string };
  return { outcomes, tools, approvals, events: trace.map((e) => e.event_type), verify };
}
