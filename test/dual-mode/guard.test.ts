/**
 * The guard in both modes (embedded, and the HTTP client against the real server over loopback): the shared scenario
 * (`sdk/test/guard/scenario.ts`, also run in Deno, workerd and Chromium) and the approval edge cases. Here, not
 * under `sdk/`, because it needs the server.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadAtlasDir } from '../../sdk/src/atlas/dir.ts';
import { guard } from '../../sdk/src/guard/guard.ts';
import type { CraRuntime } from '../../sdk/src/interface.ts';
import { createRuntime } from '../../sdk/src/runtime/runtime.ts';
import { verifyTrace } from '../../sdk/src/runtime/tools.ts';
import { expectScenarioReport } from '../../sdk/test/guard/expectations.ts';
import { runGuardScenario } from '../../sdk/test/guard/scenario.ts';
import { EXAMPLES } from '../../sdk/test/helpers.ts';
import { testServerClient } from '../../server/src/testing.ts';

const support = await loadAtlasDir(join(EXAMPLES, 'atlases/support'));

const modes: Array<[string, () => Promise<CraRuntime>]> = [
  ['embedded', () => createRuntime()],
  ['http', () => testServerClient()],
];

describe.each(modes)('guard (%s)', (_mode, make) => {
  const open: CraRuntime[] = [];
  const start = async () => {
    const rt = await make();
    open.push(rt);
    await rt.loadAtlas(support);
    return rt;
  };
  afterEach(async () => {
    for (const rt of open.splice(0)) await rt.close().catch(() => undefined);
  });

  it('runs the guard scenario', async () => {
    const rt = await make();
    open.push(rt);
    expectScenarioReport(await runGuardScenario(rt, support));
  });

  it('traces only the hash of a result, and the outcome of each step', async () => {
    const rt = await start();
    const session = await rt.createSession({ agentId: 'a', goal: 'g' });
    const g = guard(session, { 'ticket.lookup': () => ({ secret: 'only its hash is traced' }) });
    expect(await g.call('ticket.lookup', { ticket_id: 'T-10042' })).toMatchObject({ ok: true, execution: { status: 'executed' } });
    const trace = await session.trace();
    expect(JSON.stringify(trace)).not.toContain('only its hash');
    const executed = trace.find((e) => e.event_type === 'action.executed')!;
    expect(executed.payload.result_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(await verifyTrace(trace)).toMatchObject({ valid: true });
  });

  it('uses the resolution it is given, and resolves again when it has expired', async () => {
    const rt = await start();
    const session = await rt.createSession({ agentId: 'a', goal: 'g' });
    const resolution = await session.resolve({ requiredCapabilities: ['tickets.read'] });
    const g = guard(session, { 'ticket.reply': () => 'sent', 'ticket.lookup': () => 'found' }, { resolution });
    // Outside the given resolution (only tickets.read): refused, even though a fresh resolve would allow it.
    expect(await g.call('ticket_reply', { ticket_id: 'T-10042', body: 'x' })).toMatchObject({ ok: false });
    expect((await g.catalog()).resolution.resolution_id).toBe(resolution.resolution_id);
    expect((await session.info()).resolution_count).toBe(1);
    expect(await g.call('ticket_lookup', { ticket_id: 'T-10042' })).toMatchObject({ ok: true, result: 'found' });
  });

  it('denies an approval that does not come in time, and one with no approver', async () => {
    const rt = await start();
    const session = await rt.createSession({ agentId: 'a', goal: 'g' });
    const refund = { customer_id: 'C-7', payment_id: 'P-19', amount: 10, currency: 'USD' };
    let ran = 0;
    const handlers = { 'refund.issue': () => ++ran };
    const slow = guard(session, handlers, { approve: () => new Promise(() => undefined), approvalTimeoutMs: 50 });
    const late = await slow.call('refund_issue', refund);
    expect(late).toMatchObject({ ok: false, refusal: { reason: expect.stringMatching(/timed out/) }, execution: { status: 'denied' } });
    // Without an approver an approval-gated action is not offered; called anyway, it is denied.
    expect((await guard(session, handlers).catalog()).actionIds).toEqual([]);
    expect((await slow.catalog()).actionIds).toEqual(['refund.issue']);
    const nobody = await guard(session, handlers).call('refund_issue', refund);
    expect(nobody).toMatchObject({ ok: false, refusal: { reason: expect.stringMatching(/no approver/) } });
    const failing = await guard(session, handlers, { approve: () => Promise.reject(new Error('pager down')) }).call('refund_issue', refund);
    expect(failing).toMatchObject({ ok: false, refusal: { reason: 'approval failed: pager down' } });
    expect(ran).toBe(0);
    const denied = (await session.trace()).filter((e) => e.event_type === 'action.denied');
    expect(denied.map((e) => e.payload.reason)).toEqual([
      'approval timed out after 0 s',
      'approval required and no approver is configured',
      'approval failed: pager down',
    ]);
  });

  it('binds the approval to the exact call', async () => {
    const rt = await start();
    const session = await rt.createSession({ agentId: 'a', goal: 'g' });
    let asked: string | null = null;
    const g = guard(session, { 'refund.issue': () => 'ok' }, {
      approve: (execution) => {
        asked = execution.approval_hash;
        return { approved: true, approver: 'lead@example.com' };
      },
    });
    const r = await g.call('refund_issue', { customer_id: 'C-7', payment_id: 'P-19', amount: 10, currency: 'USD' });
    expect(r).toMatchObject({ ok: true, result: 'ok' });
    expect(asked).toMatch(/^[0-9a-f]{64}$/);
    const approved = (await session.trace()).find((e) => e.event_type === 'action.approved')!;
    expect(approved.payload.approver).toBe('lead@example.com');
  });

  it('answers an ended session as a refusal, and throws for what is not one', async () => {
    const rt = await start();
    const session = await rt.createSession({ agentId: 'a', goal: 'g' });
    const g = guard(session, { 'ticket.lookup': () => 'x' });
    await session.end();
    expect(await g.call('ticket_lookup', { ticket_id: 'T-10042' })).toMatchObject({ ok: false, refusal: { code: 'session_ended' } });
    expect(() => guard(null as never, {})).toThrow(/needs a session/);
    expect(() => guard(session, { 'ticket.lookup': 'nope' as never })).toThrow(/not a function/);
  });
});
