/**
 * One suite, two transports: everything here runs against the embedded runtime and against the HTTP client talking
 * to a real server over loopback, and must pass identically (same answers, same CraError codes, paths and
 * statuses). `scenario()` is a fixed script whose traces must be byte-identical in both modes when the runtimes get
 * the same injected clock and ids. One file by design (past 400 lines): both modes must run exactly this script.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { CraError } from '../src/errors.ts';
import type { Clock, IdSource } from '../src/host.ts';
import type { CraRuntime, CraSession } from '../src/interface.ts';
import type { AtlasBundle, AtlasManifest, CarpRequest, Execution, JsonObject, Resolution, TraceEvent } from '../src/types.ts';
import { testClock, testIds, T0_US, withoutDynamic } from './helpers.ts';

export interface DualModeFixtures {
  simple: AtlasBundle;
  support: AtlasBundle;
  golden: { request: CarpRequest; resolution: Resolution; trace: TraceEvent[] };
}

/** Makes a runtime (with the given host time and ids); `close()` releases everything it made. */
export type RuntimeFactory = (options: { clock?: Clock; ids?: IdSource }) => Promise<CraRuntime>;

/** Rejects with a CraError: answers its code, status and path (what must agree across modes). */
async function failure(p: Promise<unknown>): Promise<{ code: string; status: number; path: string | null }> {
  const err = await p.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CraError);
  const e = err as CraError;
  return { code: e.code, status: e.status, path: e.path };
}

const REFUND = { customer_id: 'c-1', payment_id: 'p-1', amount: 10, currency: 'USD' };
const UNKNOWN = '00000000-0000-7000-8000-00000000ffff';

export function dualModeSuite(name: string, make: RuntimeFactory, fx: DualModeFixtures): void {
  describe(`dual mode: ${name}`, () => {
    const open: CraRuntime[] = [];
    const start = async (options: { clock?: Clock; ids?: IdSource; atlases?: boolean } = {}) => {
      const rt = await make({ clock: options.clock ?? testClock(T0_US), ids: options.ids ?? testIds() });
      open.push(rt);
      if (options.atlases !== false) {
        await rt.loadAtlas(fx.simple);
        await rt.loadAtlas(fx.support);
      }
      return rt;
    };
    afterEach(async () => {
      for (const rt of open.splice(0)) await rt.close().catch(() => undefined);
    });

    describe('atlases', () => {
      it('loads, lists, gets, validates, replaces and unloads', async () => {
        const rt = await start({ atlases: false });
        const loaded = await rt.loadAtlas(fx.simple);
        expect(loaded).toMatchObject({ atlas_id: 'com.cra.conformance.simple', warnings: [] });
        expect(loaded.action_count).toBe(fx.simple.manifest.actions!.length);
        // A manifest with its files passed as an option is the same atlas as the bundle.
        expect(await rt.loadAtlas(fx.support.manifest, { files: fx.support.files! })).toMatchObject({ atlas_id: 'com.example.support' });
        expect((await rt.listAtlases()).map((a) => [a.atlas_id, a.version])).toEqual([
          ['com.cra.conformance.simple', fx.simple.manifest.version],
          ['com.example.support', fx.support.manifest.version],
        ]);
        expect(await rt.getAtlas('com.example.support')).toEqual(fx.support.manifest);
        expect(await failure(rt.loadAtlas(fx.simple))).toEqual({ code: 'atlas_exists', status: 409, path: '/atlas_id' });
        expect(await rt.loadAtlas(fx.simple, { replace: true })).toMatchObject({ atlas_id: 'com.cra.conformance.simple' });

        const bad = { atlas_version: '1.0', atlas_id: 'com.example.bad' } as unknown as AtlasManifest;
        const verdict = await rt.validateAtlas(bad);
        expect(verdict.valid).toBe(false);
        expect(verdict.errors.map((e) => e.path)).toEqual(['/version', '/name', '/description']);
        expect((await failure(rt.loadAtlas(bad))).code).toBe('atlas_invalid');
        expect(await rt.validateAtlas(fx.support)).toEqual({ valid: true, errors: [], warnings: [] });

        await rt.unloadAtlas('com.example.support');
        expect((await rt.listAtlases()).map((a) => a.atlas_id)).toEqual(['com.cra.conformance.simple']);
        expect(await failure(rt.unloadAtlas('com.example.support'))).toEqual({ code: 'atlas_not_found', status: 404, path: '/atlas_id' });
        expect(await failure(rt.getAtlas('com.example.absent'))).toEqual({ code: 'atlas_not_found', status: 404, path: '/atlas_id' });
      });
    });

    describe('sessions', () => {
      it('creates, gets, lists and ends sessions', async () => {
        const rt = await start();
        const s = await rt.createSession({
          agentId: 'dual-agent',
          goal: 'Exercise sessions',
          sessionId: 'A0000000-0000-7000-8000-0000000000AA',
          metadata: { team: 'support', tier: 2 },
        });
        expect([s.id, s.agentId, s.goal]).toEqual(['a0000000-0000-7000-8000-0000000000aa', 'dual-agent', 'Exercise sessions']);
        const info = await s.info();
        expect(info).toMatchObject({
          session_id: s.id,
          agent_id: 'dual-agent',
          status: 'active',
          ended_at: null,
          event_count: 1,
          resolution_count: 0,
          action_count: 0,
          parent_session_id: null,
          metadata: { team: 'support', tier: 2 },
        });
        const child = await rt.createSession({ agentId: 'sub-agent', goal: 'Help', parentSessionId: s.id });
        expect((await child.info()).parent_session_id).toBe(s.id);
        expect((await rt.listSessions()).items.map((x) => x.session_id)).toEqual([s.id, child.id]);

        const again = await rt.getSession(s.id);
        expect([again.id, again.agentId, again.goal]).toEqual([s.id, s.agentId, s.goal]);
        expect(await again.info()).toEqual(info);

        const ended = await s.end('completed');
        expect(ended).toMatchObject({ status: 'ended', event_count: 2 });
        expect(ended.ended_at).not.toBeNull();
        expect((await rt.listSessions()).items.find((x) => x.session_id === s.id)?.status).toBe('ended');
        expect(await failure(s.end('completed'))).toEqual({ code: 'session_ended', status: 409, path: null });
        expect(await failure(s.resolve())).toEqual({ code: 'session_ended', status: 409, path: null });
        expect(await failure(s.requestAction({ actionId: 'resource.get', parameters: {} }))).toEqual({ code: 'resolution_not_found', status: 404, path: '/resolutionId' });
      });

      it('takes any JSON metadata and request context, recorded within the safe payload subset', async () => {
        const rt = await start();
        const metadata = { userId: 'u-1', 'ticket-ref': 'T-1', score: 0.5 };
        const s = await rt.createSession({ agentId: 'dual-agent', goal: 'Free-form metadata', metadata });
        expect((await s.info()).metadata).toEqual(metadata);
        const context = { userRole: 'lead', weight: 1.25 };
        const r = await s.resolve({ context });
        expect(r.decision.type).toBeDefined();
        const trace = await rt.trace(s.id);
        const started = trace[0]!.payload as Record<string, unknown>;
        expect(started.metadata).toBeUndefined();
        expect(JSON.parse(started.metadata_json as string)).toEqual(metadata);
        const received = trace[1]!.payload as Record<string, unknown>;
        expect(JSON.parse(received.context_json as string)).toEqual(context);
        expect((await rt.verify(s.id)).valid).toBe(true);
        expect((await rt.replay(s.id)).identical).toBe(true);
      });

      it('refuses bad sessions with the core’s codes and paths', async () => {
        const rt = await start();
        expect(await failure(rt.getSession(UNKNOWN))).toEqual({ code: 'session_not_found', status: 404, path: '/session_id' });
        expect(await failure(rt.trace(UNKNOWN))).toEqual({ code: 'session_not_found', status: 404, path: '/session_id' });
        expect(await failure(rt.verify(UNKNOWN))).toEqual({ code: 'session_not_found', status: 404, path: '/session_id' });
        expect(await failure(rt.createSession({ agentId: 5 as unknown as string, goal: 'x' }))).toEqual({
          code: 'invalid_request',
          status: 400,
          path: '/agentId',
        });
        expect(await failure(rt.createSession({ agentId: 'x' } as never))).toEqual({ code: 'invalid_request', status: 400, path: '/goal' });
        expect(await failure(rt.createSession({ agentId: 'x', goal: 'y', metadata: 'team' as never }))).toMatchObject({
          code: 'invalid_request',
          status: 400,
        });
        const s = await rt.createSession({ agentId: 'x', goal: 'y' });
        expect(await failure(rt.createSession({ agentId: 'x', goal: 'y', sessionId: s.id }))).toEqual({
          code: 'session_exists',
          status: 409,
          path: '/sessionId',
        });
        expect((await failure(s.end('bogus' as never))).code).toBe('invalid_request');
        expect((await rt.listSessions()).items).toHaveLength(1);
      });
    });

    describe('resolve', () => {
      it('reproduces the golden case simple-resolve', async () => {
        const rt = await start({ atlases: false });
        await rt.loadAtlas(fx.simple);
        const { request } = fx.golden;
        const session = await rt.createSession({
          agentId: request.requester.agent_id,
          goal: request.task!.goal,
          sessionId: request.requester.session_id,
        });
        const resolution = await session.resolve(request);
        expect(withoutDynamic(resolution, fx.golden.resolution)).toEqual(fx.golden.resolution);
        const trace = await session.trace();
        expect(trace.map((e, i) => withoutDynamic(e, fx.golden.trace[i]))).toEqual(fx.golden.trace);
        expect(trace[0]!.trace_id).toBe(resolution.trace_id);
      });

      it('resolves by options, validates without recording, and runs raw CARP requests (nested and flat)', async () => {
        const rt = await start();
        const s = await rt.createSession({ agentId: 'support-bot', goal: 'Handle ticket T-10042' });
        const dry = await s.validate({ requiredCapabilities: ['tickets.read', 'billing.refund'] });
        expect(await rt.trace(s.id)).toHaveLength(1);
        const r = await s.resolve({ requiredCapabilities: ['tickets.read', 'billing.refund'], context: { max_context_tokens: 4000 } });
        expect(r.decision.type).toBe(dry.decision.type);
        expect(r.allowed_actions.map((a) => a.action_id)).toEqual(dry.allowed_actions.map((a) => a.action_id));
        expect(r.allowed_actions.find((a) => a.action_id === 'refund.issue')?.requires_confirmation).toBe(true);

        const nested = await rt.carp({
          carp_version: '1.0',
          request_id: 'b0000000-0000-7000-8000-000000000001',
          timestamp: '2024-12-28T12:00:00Z',
          operation: 'resolve',
          requester: { agent_id: 'support-bot', session_id: s.id },
          task: { goal: 'Look up a ticket', required_capabilities: ['tickets.read'] },
        });
        expect(nested.resolution?.decision.type).toBe('allow');
        const flat = await rt.carp({ session_id: s.id, agent_id: 'support-bot', goal: 'Look up a ticket', atlas_ids: ['com.example.support'] });
        expect(flat.resolution?.request_id).toEqual(expect.any(String));
        const exec = await rt.carp({
          carp_version: '1.0',
          request_id: 'b0000000-0000-7000-8000-000000000002',
          timestamp: '2024-12-28T12:00:00Z',
          operation: 'execute',
          requester: { agent_id: 'support-bot', session_id: s.id },
          execution: { resolution_id: nested.resolution!.resolution_id, action_id: 'ticket.lookup', parameters: { ticket_id: 'T-10042' } },
        });
        expect(exec.execution).toMatchObject({ action_id: 'ticket.lookup', status: 'approved', session_id: s.id });
        expect((await s.info()).resolution_count).toBe(3);
      });

      it('answers resolve errors with the core’s codes and paths, recording nothing', async () => {
        const rt = await start();
        const s = await rt.createSession({ agentId: 'support-bot', goal: 'Errors' });
        const before = await rt.trace(s.id);
        expect(await failure(s.resolve({ atlasIds: ['com.example.absent'] }))).toEqual({ code: 'atlas_not_found', status: 404, path: '/atlasIds/0' });
        expect(await failure(s.resolve({ riskTier: 'extreme' as never }))).toEqual({ code: 'invalid_request', status: 400, path: '/riskTier' });
        const request = { carp_version: '1.0', request_id: UNKNOWN, timestamp: '2024-12-28T12:00:00Z', operation: 'resolve' } as const;
        expect(
          await failure(rt.carp({ ...request, requester: { agent_id: 'a', session_id: UNKNOWN }, task: { goal: 'x' } })),
        ).toEqual({ code: 'session_not_found', status: 404, path: '/requester/session_id' });
        expect((await failure(rt.carp({ session_id: UNKNOWN, agent_id: 'a', goal: 'flat' }))).path).toBe('/session_id');
        expect(
          await failure(rt.carp({ ...request, carp_version: '2.0', requester: { agent_id: 'support-bot', session_id: s.id }, task: { goal: 'x' } })),
        ).toEqual({ code: 'invalid_request', status: 400, path: '/carp_version' });
        expect(
          await failure(rt.carp({ ...request, requester: { agent_id: 'someone-else', session_id: s.id }, task: { goal: 'x' } })),
        ).toEqual({ code: 'agent_mismatch', status: 403, path: '/requester/agent_id' });
        expect(
          await failure(rt.carp({ ...request, timestamp: '2020-01-01T00:00:00Z', requester: { agent_id: 'support-bot', session_id: s.id }, task: { goal: 'x' } })),
        ).toEqual({ code: 'clock_skew', status: 400, path: '/timestamp' });
        expect(await rt.trace(s.id)).toEqual(before);
        await s.resolve({ requestId: 'c0000000-0000-7000-8000-000000000001' });
        expect(await failure(s.resolve({ requestId: 'c0000000-0000-7000-8000-000000000001' }))).toEqual({ code: 'duplicate_request', status: 409, path: '/requestId' });
      });
    });

    describe('check and actions', () => {
      it('checks actions on the hot path', async () => {
        const rt = await start();
        const s = await rt.createSession({ agentId: 'support-bot', goal: 'Check' });
        expect(await s.check('ticket.lookup')).toEqual({ result: 'no_resolution', code: expect.any(Number), allowed: false });
        await s.resolve({ requiredCapabilities: ['tickets.read', 'billing.refund'] });
        expect(await s.check('ticket.lookup')).toMatchObject({ result: 'allow', allowed: true });
        expect(await s.check('refund.issue')).toMatchObject({ result: 'requires_approval', allowed: false });
        expect(await s.check('customer.delete')).toMatchObject({ allowed: false });
        expect((await s.check('nothing.here')).allowed).toBe(false);
      });

      it('requests, approves, denies, completes and fails actions', async () => {
        const rt = await start();
        const s = await rt.createSession({ agentId: 'support-bot', goal: 'Work a ticket' });
        expect(await failure(s.requestAction({ actionId: 'ticket.lookup', parameters: { ticket_id: 'T-10042' } }))).toEqual({
          code: 'resolution_not_found',
          status: 404,
          path: '/resolutionId',
        });
        const r = await s.resolve({ requiredCapabilities: ['tickets.read', 'billing.refund'] });

        const a = await s.requestAction({ actionId: 'ticket.lookup', parameters: { ticket_id: 'T-10042' } });
        expect(a).toMatchObject({ status: 'approved', action_id: 'ticket.lookup', resolution_id: r.resolution_id });
        const done = await s.complete(a, { result: { status: 'open' }, durationMs: 12 });
        expect(done.status).toBe('executed');
        expect(await failure(s.complete(a))).toEqual({ code: 'invalid_state', status: 409, path: null });

        const b = await s.requestAction({ actionId: 'customer.lookup', parameters: { customer_id: 'c-1' }, resolutionId: r.resolution_id });
        expect((await s.fail(b.execution_id, { errorCode: 'timeout', errorMessage: 'slow upstream', durationMs: 3000 })).status).toBe('failed');

        const refund = await s.requestAction({ actionId: 'refund.issue', parameters: REFUND });
        expect(refund.status).toBe('pending_approval');
        expect(refund.approval_hash).toMatch(/^[0-9a-f]{64}$/);
        expect(await failure(s.approve(refund.execution_id, { approvalHash: '0'.repeat(64) }))).toEqual({ code: 'approval_mismatch', status: 409, path: '/approvalHash' });
        const approved = await s.approve(refund, { approver: 'lead@example.com' });
        expect(approved.status).toBe('approved');
        expect((await s.complete(approved, { result: { refund_id: 'rf-1' } })).status).toBe('executed');

        const second = await s.requestAction({ actionId: 'refund.issue', parameters: { ...REFUND, amount: 20 }, idempotencyKey: 'refund-2' });
        expect((await s.deny(second, { reason: 'duplicate refund', approver: 'lead@example.com' })).status).toBe('denied');
        expect(await failure(s.approve(second))).toEqual({ code: 'invalid_state', status: 409, path: null });

        const violated = await s.requestAction({ actionId: 'refund.issue', parameters: { ...REFUND, amount: 5000 } });
        expect(violated.status).toBe('violated');
        const invalid = await s.requestAction({ actionId: 'ticket.lookup', parameters: { nope: 1 } });
        expect(invalid.status).toBe('violated');

        // An execution as it stands now: what someone else's approval or denial made of it.
        expect(await s.execution(refund.execution_id)).toEqual({ ...approved, status: 'executed' });
        expect(await s.execution(second.execution_id.toUpperCase())).toMatchObject({ status: 'denied', reason: 'duplicate refund', details: { code: 'approval_denied' } });
        expect(await s.execution(violated.execution_id)).toEqual(violated);
        expect(await failure(s.execution(UNKNOWN))).toEqual({ code: 'execution_not_found', status: 404, path: '/executionId' });
        expect(await failure(s.approve(UNKNOWN))).toEqual({ code: 'execution_not_found', status: 404, path: '/executionId' });
        expect(await failure(s.approve({} as never))).toEqual({ code: 'invalid_request', status: 400, path: '/executionId' });
        expect(await failure(s.fail(a, null as never))).toEqual({ code: 'invalid_request', status: 400, path: '' });
        expect(await failure(s.fail(a, { errorCode: 'x' } as never))).toEqual({ code: 'invalid_request', status: 400, path: '/errorMessage' });

        const info = await s.info();
        expect(info.action_count).toBe(6);
        expect(info.event_count).toBe((await s.trace()).length);
      });

      it('answers refusals with details a model can act on', async () => {
        const rt = await start();
        await rt.loadAtlas({
          manifest: {
            atlas_version: '1.0',
            atlas_id: 'com.example.pings',
            version: '1.0.0',
            name: 'Pings',
            description: 'One call a minute',
            actions: [{ action_id: 'ping.send', name: 'Ping', description: 'Sends a ping' }],
            policies: [{ policy_id: 'ping-rate', type: 'rate_limit', actions: ['ping.send'], parameters: { max_calls: 1, window_seconds: 60 } }],
          },
        });
        const s = await rt.createSession({ agentId: 'support-bot', goal: 'Refusals' });
        await s.resolve();

        const invalid = await s.requestAction({ actionId: 'ticket.lookup', parameters: { ticket_id: 'nope' } });
        expect(invalid).toMatchObject({ status: 'violated', policy_id: 'parameters_schema' });
        expect(invalid.details).toEqual({ code: 'invalid_parameters', errors: [{ path: '/ticket_id', message: expect.any(String) }] });
        expect(invalid.reason).toBe(`invalid parameters: /ticket_id ${invalid.details!.errors![0]!.message}`);

        const scope = await s.requestAction({ actionId: 'refund.issue', parameters: { ...REFUND, amount: 900, currency: 'JPY' } });
        expect(scope).toMatchObject({ status: 'violated', policy_id: 'refund-limits' });
        expect(scope.details).toEqual({
          code: 'scope_violation',
          violations: [
            {
              policy_id: 'refund-limits',
              parameter: 'currency',
              path: '/currency',
              constraint: 'allowed_values',
              allowed: ['USD', 'EUR', 'GBP'],
              value: 'JPY',
              message: '`currency` is not one of the allowed values',
            },
            { policy_id: 'refund-limits', parameter: 'amount', path: '/amount', constraint: 'max', limit: 500, value: 900, message: '`amount` exceeds the maximum 500' },
          ],
        });
        expect(scope.reason).toBe('`currency` is not one of the allowed values (+1 more)');

        const unknown = await s.requestAction({ actionId: 'tickets.lookup', parameters: {} });
        expect(unknown).toMatchObject({ status: 'denied', reason: 'unknown action `tickets.lookup`; did you mean `ticket.lookup`?' });
        expect(unknown.details).toEqual({ code: 'unknown_action', action_id: 'tickets.lookup', closest: ['ticket.lookup'] });

        expect((await s.requestAction({ actionId: 'ping.send', parameters: {} })).details).toBeNull();
        const limited = await s.requestAction({ actionId: 'ping.send', parameters: {} });
        expect(limited).toMatchObject({ status: 'denied', reason: 'rate_limited' });
        expect(limited.details).toEqual({ code: 'rate_limited', policy_id: 'ping-rate', retry_after_seconds: limited.retry_after_seconds });
        expect(limited.retry_after_seconds).toBeGreaterThan(0);

        // The trace keeps the codes, never the offending values.
        const trace = await s.trace();
        const denied = trace.filter((e) => e.event_type === 'action.denied').map((e) => e.payload.code);
        expect(denied).toEqual(['unknown_action', 'rate_limited']);
        expect(JSON.stringify(trace)).not.toContain('JPY');
      });

      it('records host-emitted events', async () => {
        const rt = await start();
        const s = await rt.createSession({ agentId: 'support-bot', goal: 'Record' });
        const events = await s.record('error.occurred', { code: 'tool_crash', message: 'the CRM timed out' });
        expect(events).toHaveLength(1);
        expect(events[0]).toMatchObject({ event_type: 'error.occurred', sequence: 1, payload: { code: 'tool_crash' } });
        expect((await failure(s.record('session.started', { agent_id: 'x', goal: 'y' } as JsonObject))).code).toBe('invalid_request');
        expect(await s.trace()).toHaveLength(2);
      });
    });

    describe('traces', () => {
      it('reads, verifies, replays and diffs traces', async () => {
        const rt = await start();
        const trace = (await scenario(rt)).traces[0]!;
        const id = trace[0]!.session_id;
        expect(await rt.trace(id)).toEqual(trace);
        const last = trace.at(-1)!;
        expect(await rt.verify(id)).toEqual({ valid: true, length: trace.length, head_hash: last.event_hash });
        const replay = await rt.replay(id);
        expect(replay).toMatchObject({ identical: true, divergences: [], original_length: trace.length, replayed_length: trace.length });
        expect(await rt.diff(trace, trace)).toEqual({ identical: true, differences: [] });
        const altered = trace.map((e, i) => (i === 1 ? { ...e, payload: { ...e.payload, goal: 'something else' } } : e));
        const diff = await rt.diff(trace, altered);
        expect(diff.identical).toBe(false);
        expect(diff.differences[0]).toMatchObject({ index: 1, kind: 'changed', paths: ['/payload/goal'] });
        expect((await rt.diff(trace, trace.slice(0, -1))).differences.at(-1)).toMatchObject({ kind: 'removed' });
      });
    });

    describe('lifecycle', () => {
      it('refuses calls once closed', async () => {
        const rt = await start();
        await rt.close();
        expect((await failure(rt.listSessions())).code).toBe('closed');
        expect((await failure(rt.createSession({ agentId: 'a', goal: 'b' }))).code).toBe('closed');
      });
    });
  });
}

export interface ScenarioResult {
  resolutions: Resolution[];
  executions: Execution[];
  traces: TraceEvent[][];
}

/** A fixed script over the support atlas: what it answers and records must be identical in both modes. */
export async function scenario(rt: CraRuntime): Promise<ScenarioResult> {
  const resolutions: Resolution[] = [];
  const executions: Execution[] = [];
  const sessions: CraSession[] = [];
  const s = await rt.createSession({ agentId: 'support-bot', goal: 'Handle ticket T-10042', metadata: { ticket: 'T-10042' } });
  sessions.push(s);
  resolutions.push(await s.resolve({ requiredCapabilities: ['tickets.read', 'tickets.write', 'billing.refund'] }));
  await s.check('ticket.lookup');
  const lookup = await s.requestAction({ actionId: 'ticket.lookup', parameters: { ticket_id: 'T-10042' } });
  executions.push(lookup, await s.complete(lookup, { result: { status: 'open' }, durationMs: 40 }));
  const refund = await s.requestAction({ actionId: 'refund.issue', parameters: REFUND });
  executions.push(refund, await s.approve(refund, { approver: 'lead@example.com' }));
  executions.push(await s.fail(refund, { errorCode: 'psp_down', errorMessage: 'payment provider unavailable', durationMs: 900 }));
  const again = await s.requestAction({ actionId: 'refund.issue', parameters: { ...REFUND, amount: 11 } });
  executions.push(again, await s.deny(again, { reason: 'not twice' }));
  await s.record('context.redacted', { block_id: 'com.example.support/refund-policy/context/refunds.md', redaction_reason: 'pii' });
  const child = await rt.createSession({ agentId: 'billing-bot', goal: 'Check the refund', parentSessionId: s.id });
  sessions.push(child);
  resolutions.push(await child.resolve({ atlasIds: ['com.example.support'], riskTier: 'medium' }));
  await child.end('cancelled');
  await s.end('completed');
  const traces: TraceEvent[][] = [];
  for (const x of sessions) traces.push(await rt.trace(x.id));
  return { resolutions, executions, traces };
}

export interface ErrorCase {
  label: string;
  code: string;
  status: number;
  path: string | null;
  message: string;
}

/**
 * A fixed list of failing calls (runtime with the simple and support atlases loaded): what each rejects with. Both
 * modes must give the same list; messages too, except where the HTTP layer validates a body's types before the
 * runtime sees it (`zod` in the label).
 */
export async function errorCases(rt: CraRuntime): Promise<ErrorCase[]> {
  const out: ErrorCase[] = [];
  const t = async (label: string, p: Promise<unknown>) => {
    try {
      await p;
      out.push({ label, code: 'none', status: 0, path: null, message: 'resolved' });
    } catch (e) {
      const err = e as CraError;
      out.push({ label, code: err.code, status: err.status, path: err.path, message: err.message });
    }
  };
  const s = await rt.createSession({ agentId: 'support-bot', goal: 'Errors' });
  await t('getSession unknown', rt.getSession(UNKNOWN));
  await t('trace unknown', rt.trace(UNKNOWN));
  await t('verify unknown', rt.verify(UNKNOWN));
  await t('replay unknown', rt.replay(UNKNOWN));
  await t('getAtlas unknown', rt.getAtlas('com.example.absent'));
  await t('unloadAtlas unknown', rt.unloadAtlas('com.example.absent'));
  await t('loadAtlas duplicate', rt.loadAtlas(notesLike('com.example.support')));
  await t('loadAtlas invalid', rt.loadAtlas({ atlas_version: '1.0', atlas_id: 'com.example.x', version: 'one', name: 'x', description: 'x' } as AtlasManifest));
  await t('createSession goal missing (zod)', rt.createSession({ agentId: 'x' } as never));
  await t('createSession agent type (zod)', rt.createSession({ agentId: 7 as never, goal: 'g' }));
  await t('createSession metadata not an object (zod)', rt.createSession({ agentId: 'x', goal: 'g', metadata: [1] as never }));
  await t('createSession id format', rt.createSession({ agentId: 'x', goal: 'g', sessionId: 'not-a-uuid' }));
  await t('createSession id taken', rt.createSession({ agentId: 'x', goal: 'g', sessionId: s.id }));
  await t('resolve unknown atlas', s.resolve({ atlasIds: ['com.example.absent'] }));
  await t('resolve bad tier', s.resolve({ riskTier: 'extreme' as never }));
  await t('resolve bad timestamp', s.resolve({ timestamp: 'yesterday' }));
  await t('resolve skew', s.resolve({ timestamp: '2001-01-01T00:00:00Z' }));
  await t('requestAction no resolution', s.requestAction({ actionId: 'ticket.lookup', parameters: { ticket_id: 'T-10042' } }));
  await s.resolve({ requiredCapabilities: ['tickets.read', 'billing.refund'] });
  await t('requestAction unknown resolution', s.requestAction({ actionId: 'ticket.lookup', resolutionId: UNKNOWN }));
  await t('requestAction no action id', s.requestAction({} as never));
  await t('approve unknown', s.approve(UNKNOWN));
  await t('approve not an execution', s.approve(42 as never));
  await t('complete unknown', s.complete(UNKNOWN, { durationMs: 5 }));
  await t('fail without options', s.fail(UNKNOWN, undefined as never));
  await t('fail without message (zod)', s.fail(UNKNOWN, { errorCode: 'x' } as never));
  const ex = await s.requestAction({ actionId: 'ticket.lookup', parameters: { ticket_id: 'T-10042' } });
  await t('deny approved', s.deny(ex));
  await t('approve wrong hash', s.approve(ex, { approvalHash: 'f'.repeat(64) }));
  await t('complete negative duration', s.complete(ex, { durationMs: -1 }));
  await t('record reserved type', s.record('session.started', { agent_id: 'a', goal: 'b' } as JsonObject));
  await t('record bad payload', s.record('error.occurred', { code: 'x' }));
  await t('carp unknown session', rt.carp({ session_id: UNKNOWN, agent_id: 'a', goal: 'g' }));
  await t('carp agent mismatch', rt.carp({ session_id: s.id, agent_id: 'intruder', goal: 'g' }));
  await t('carp no session id', rt.carp({ carp_version: '1.0', operation: 'resolve' }));
  await t('carp bad operation', rt.carp({ session_id: s.id, agent_id: 'support-bot', goal: 'g', operation: 'destroy' }));
  await t('end bad reason', s.end('exploded' as never));
  await s.end();
  await t('resolve ended', s.resolve());
  await t('end ended', s.end());
  await t('check ended', s.check('ticket.lookup'));
  return out;
}

function notesLike(id: string): AtlasManifest {
  return { atlas_version: '1.0', atlas_id: id, version: '9.9.9', name: 'Dup', description: 'Duplicate id' };
}
