/**
 * The MCP example end to end: the scripted agent (an official MCP client) through `cra mcp-proxy` to the fixture
 * upstream, both spawned over stdio. Checks what it was offered and answered, and the trace the proxy left on disk.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromJsonl, verifyTrace } from '../../../sdk/src/index.ts';
import type { TraceEvent } from '../../../sdk/src/types.ts';
import { type Outcome, runAgent, SCRIPT } from './agent.ts';

describe('examples/agents/mcp', () => {
  let tmp: string;
  let run: Awaited<ReturnType<typeof runAgent>>;
  let trace: TraceEvent[];
  const lines: string[] = [];

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'cra-mcp-example-'));
    run = await runAgent(join(tmp, 'data'), (line) => lines.push(line));
    trace = await fromJsonl(await readFile(run.traceFile, 'utf8'));
  }, 20_000);

  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('was offered only the allowed tools of the upstream', () => {
    expect(run.tools).toEqual(['ticket_lookup', 'ticket_reply']);
    expect(lines[0]).toBe('tools offered: ticket_lookup, ticket_reply');
  });

  it('got results for allowed calls and readable refusals for the rest', () => {
    const byStep = (i: number): Outcome => run.outcomes[i]!;
    expect(run.outcomes.map((o) => [o.tool, o.ok])).toEqual([
      ['ticket_lookup', true],
      ['ticket_lookup', false],
      ['ticket_reply', true],
      ['refund_issue', false],
      ['customer_delete', false],
    ]);
    expect(JSON.parse(byStep(0).says)).toMatchObject({ ticket_id: 'T-10042', status: 'open' });
    expect(byStep(1).says).toMatch(/^invalid parameters/);
    expect(byStep(3).says).toMatch(/^approval required, and the stdio MCP proxy has no approver/);
    expect(byStep(4).says).toMatch(/privacy team/);
    expect(run.outcomes).toHaveLength(SCRIPT.length);
  });

  it('left a JSONL trace that verifies: one session, every call, ended when the client closed', async () => {
    expect(await verifyTrace(trace)).toMatchObject({ valid: true, length: trace.length });
    expect(new Set(trace.map((e) => e.session_id))).toEqual(new Set([run.session]));
    expect(trace[0]!.payload).toMatchObject({ agent_id: 'support-bot', goal: 'Handle ticket T-10042' });
    const calls = trace
      .filter((e) => /^action\.(approved|denied|executed|failed)$|^policy\.violated$/.test(e.event_type))
      .map((e) => `${e.payload.action_id} ${e.event_type.split('.')[1]}`);
    expect(calls).toEqual([
      'ticket.lookup approved',
      'ticket.lookup executed',
      'ticket.lookup violated',
      'ticket.reply approved',
      'ticket.reply executed',
      'refund.issue denied',
      'customer.delete denied',
    ]);
    expect([trace.at(-1)!.event_type, trace.at(-1)!.payload.reason]).toEqual(['session.ended', 'completed']);
  });
});
