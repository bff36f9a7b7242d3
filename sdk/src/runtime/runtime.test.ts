import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXAMPLES, notesAtlas, readJson, simpleAtlas, T0_US, testClock, testIds } from '../../test/helpers.ts';
import { loadAtlasDir } from '../atlas/dir.ts';
import { memorySink } from '../collector/sinks.ts';
import { CraError } from '../errors.ts';
import { isoFromMicros, isUuid } from '../host.ts';
import type { CraSession } from '../interface.ts';
import type { AtlasBundle, AtlasManifest, CarpRequest, TraceEvent } from '../types.ts';
import { MemoryStore } from '../storage/memory.ts';
import { createRuntime, type EmbeddedRuntime, type RuntimeOptions } from './runtime.ts';

const simple = await simpleAtlas();
const support = await loadAtlasDir(join(EXAMPLES, 'atlases/support'));

/** Runs `fn`, expects a CraError of `code`, and returns it. */
async function rejects(fn: () => Promise<unknown>, code: string): Promise<CraError> {
  const err = await fn().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected ${code}`).toBeInstanceOf(CraError);
  expect((err as CraError).code).toBe(code);
  return err as CraError;
}

const types = (events: readonly TraceEvent[]) => events.map((e) => e.event_type);

describe('EmbeddedRuntime', () => {
  const runtimes: EmbeddedRuntime[] = [];
  let clock: ReturnType<typeof testClock>;
  const make = async (options: RuntimeOptions = {}) => {
    clock = testClock();
    const rt = await createRuntime({ clock, ids: testIds(), ...options });
    runtimes.push(rt);
    return rt;
  };
  afterEach(async () => {
    for (const rt of runtimes.splice(0)) await rt.close().catch(() => undefined);
  });

  /** A runtime with `atlas` loaded and one session. */
  const withSession = async (atlas: AtlasManifest | AtlasBundle = simple, options: RuntimeOptions = {}) => {
    const rt = await make(options);
    await rt.loadAtlas(atlas);
    const session = await rt.createSession({ agentId: 'agent-1', goal: 'Manage resources in the test environment' });
    return { rt, session };
  };

  /** Expects `fn` to fail with `code` and the session's trace not to change. */
  const unchanged = async (rt: EmbeddedRuntime, session: CraSession, fn: () => Promise<unknown>, code: string) => {
    const before = await rt.trace(session.id);
    const info = await session.info();
    const err = await rejects(fn, code);
    expect(await rt.trace(session.id)).toEqual(before);
    expect((await session.info()).event_count).toBe(info.event_count);
    return err;
  };

  describe('atlases', () => {
    it('loads, lists, gets, replaces and unloads', async () => {
      const rt = await make();
      const loaded = await rt.loadAtlas(simple);
      expect(loaded).toMatchObject({ atlas_id: 'com.cra.conformance.simple', version: '1.0.0', action_count: 5 });
      expect(loaded.warnings).toEqual([]);
      expect(await rt.listAtlases()).toEqual([
        expect.objectContaining({ atlas_id: 'com.cra.conformance.simple', version: '1.0.0', name: 'Simple Conformance Atlas', action_count: 5 }),
      ]);
      const manifest = await rt.getAtlas('com.cra.conformance.simple');
      expect(manifest.atlas_id).toBe('com.cra.conformance.simple');
      expect(manifest.actions?.map((a) => a.action_id)).toEqual(['resource.get', 'resource.list', 'resource.create', 'resource.update', 'resource.delete']);

      await rejects(() => rt.loadAtlas(simple), 'atlas_exists');
      const next = { ...simple, manifest: { ...simple.manifest, version: '1.1.0' } };
      expect(await rt.loadAtlas(next, { replace: true })).toMatchObject({ version: '1.1.0' });
      expect((await rt.listAtlases()).map((a) => a.version)).toEqual(['1.1.0']);

      await rt.unloadAtlas('com.cra.conformance.simple');
      expect(await rt.listAtlases()).toEqual([]);
      await rejects(() => rt.unloadAtlas('com.cra.conformance.simple'), 'atlas_not_found');
      await rejects(() => rt.getAtlas('com.cra.conformance.simple'), 'atlas_not_found');
    });

    it('takes a manifest with files passed separately', async () => {
      const rt = await make();
      await rt.loadAtlas(simple.manifest, { files: simple.files! });
      expect((await rt.listAtlases()).map((a) => a.atlas_id)).toEqual(['com.cra.conformance.simple']);
    });

    it('rejects an invalid manifest with the path of the bad field and loads nothing', async () => {
      const rt = await make();
      const bad = structuredClone(simple);
      bad.manifest.actions![2]!.action_id = 'Resource Create';
      const err = await rejects(() => rt.loadAtlas(bad), 'atlas_invalid');
      expect(err.path).toMatch(/\/actions\/2\/action_id$/);
      expect(err.status).toBe(400);
      expect(await rt.listAtlases()).toEqual([]);
      await rejects(() => rt.loadAtlas('nope' as never), 'invalid_request');
    });

    it('validates without loading', async () => {
      const rt = await make();
      expect(await rt.validateAtlas(support)).toMatchObject({ valid: true, errors: [] });
      const bad = structuredClone(support);
      bad.manifest.policies![0]!.type = 'forbid' as never;
      const report = await rt.validateAtlas(bad);
      expect(report.valid).toBe(false);
      expect(report.errors[0]!.path).toMatch(/\/policies\/0\/type$/);
      expect(await rt.listAtlases()).toEqual([]);
    });

    it('keeps what it loaded even if the caller mutates the manifest afterwards', async () => {
      const rt = await make();
      const mine = structuredClone(simple);
      await rt.loadAtlas(mine);
      mine.manifest.name = 'changed';
      expect((await rt.getAtlas('com.cra.conformance.simple')).name).toBe('Simple Conformance Atlas');
    });
  });

  describe('sessions', () => {
    it('creates a session with host ids and time, and reports its state', async () => {
      const rt = await make();
      const session = await rt.createSession({ agentId: 'agent-1', goal: 'g', metadata: { team: 'support' } });
      expect(isUuid(session.id)).toBe(true);
      expect(session.id).toMatch(/^a0000000-0000-7000-8000-/);
      expect(session.agentId).toBe('agent-1');
      const info = await session.info();
      expect(info).toMatchObject({ session_id: session.id, agent_id: 'agent-1', goal: 'g', status: 'active', event_count: 1, ended_at: null });
      const [started] = await session.trace();
      expect(info.created_at).toBe(started!.timestamp);
      expect(started).toMatchObject({ event_type: 'session.started', sequence: 0, payload: { agent_id: 'agent-1', goal: 'g' } });
      expect(started!.previous_event_hash).toBe('0'.repeat(64));
      expect(info.head_hash).toBe(started!.event_hash);
      expect((await rt.listSessions()).map((s) => s.session_id)).toEqual([session.id]);
      expect((await rt.getSession(session.id)).id).toBe(session.id);
    });

    it('uses the host clock for event times', async () => {
      const rt = await make();
      const session = await rt.createSession({ agentId: 'a', goal: 'g' });
      const [started] = await session.trace();
      const t = Date.parse(started!.timestamp) * 1000 + Number(started!.timestamp.slice(23, 26));
      expect(t).toBeGreaterThanOrEqual(T0_US);
      expect(t).toBeLessThan(T0_US + 100_000);
      expect(started!.timestamp).toMatch(/^2024-12-28T12:00:00\.\d{6}Z$/);
    });

    it('accepts a caller-chosen session id and refuses it twice', async () => {
      const rt = await make();
      const id = '00000000-0000-0000-0000-000000000100';
      const session = await rt.createSession({ agentId: 'a', goal: 'g', sessionId: id });
      expect(session.id).toBe(id);
      await rejects(() => rt.createSession({ agentId: 'b', goal: 'h', sessionId: id }), 'session_exists');
      expect(await rt.trace(id)).toHaveLength(1);
    });

    it('rejects bad session input with the path of the field', async () => {
      const rt = await make();
      const err = await rejects(() => rt.createSession({ agentId: '', goal: 'g' }), 'invalid_request');
      expect(err.path).toBe('/agentId');
      expect((await rejects(() => rt.createSession({ agentId: 'a', goal: 'g', sessionId: 'nope' }), 'invalid_request')).path).toBe('/sessionId');
      await rejects(() => rt.createSession(null as never), 'invalid_request');
      expect(await rt.listSessions()).toEqual([]);
      await rejects(() => rt.getSession('00000000-0000-0000-0000-000000000999'), 'session_not_found');
      await rejects(() => rt.trace('00000000-0000-0000-0000-000000000999'), 'session_not_found');
    });

    it('ends a session; an ended session refuses every request', async () => {
      const { rt, session } = await withSession();
      await session.resolve();
      const ended = await session.end('completed');
      expect(ended).toMatchObject({ status: 'ended' });
      expect(ended.ended_at).not.toBeNull();
      const trace = await session.trace();
      expect(trace.at(-1)).toMatchObject({ event_type: 'session.ended', payload: { reason: 'completed' } });
      expect(typeof trace.at(-1)!.payload.duration_ms).toBe('number');
      await unchanged(rt, session, () => session.resolve(), 'session_ended');
      await unchanged(rt, session, () => session.requestAction({ actionId: 'resource.get', parameters: { resource_id: 'r' } }), 'session_ended');
      await unchanged(rt, session, () => session.end(), 'session_ended');
      expect(await session.check('resource.get')).toEqual({ result: 'session_ended', code: 6, allowed: false });
    });

    it('rejects an unknown end reason', async () => {
      const { rt, session } = await withSession();
      const err = await unchanged(rt, session, () => session.end('bored' as never), 'invalid_request');
      expect(err.path).toBe('/reason');
    });
  });

  describe('resolve', () => {
    it('resolves context and actions, and traces it', async () => {
      const { session } = await withSession();
      const r = await session.resolve();
      expect(r.carp_version).toBe('1.0');
      expect(r.decision).toEqual({ type: 'allow', reason: null, approval_id: null, expires_at: null });
      expect(r.allowed_actions.map((a) => a.action_id)).toEqual(['resource.get', 'resource.list', 'resource.create', 'resource.update']);
      expect(r.denied_actions).toEqual([
        { action_id: 'resource.delete', reason: 'Deletion not permitted in test environment', policy_id: 'deny-delete' },
      ]);
      expect(r.context_blocks).toHaveLength(1);
      expect(r.context_blocks[0]).toMatchObject({
        block_id: 'com.cra.conformance.simple/overview/context/overview.md',
        source: 'com.cra.conformance.simple',
        content_type: 'text/markdown',
        content: simple.files!['context/overview.md'],
        priority: 100,
        token_estimate: Math.ceil([...simple.files!['context/overview.md']!].length / 4),
      });
      expect(r.ttl_seconds).toBe(3600);
      expect(types(await session.trace())).toEqual([
        'session.started',
        'carp.request.received',
        'context.injected',
        'policy.evaluated',
        'carp.resolution.completed',
      ]);
      expect(Object.isFrozen(r)).toBe(true);
    });

    it('narrows to required capabilities and honours the context budget', async () => {
      const { session } = await withSession(support);
      const r = await session.resolve({ requiredCapabilities: ['tickets.read'] });
      expect(r.allowed_actions.map((a) => a.action_id)).toEqual(['ticket.lookup', 'customer.lookup']);
      expect(r.decision.type).toBe('allow');
      expect(r.context_blocks.map((b) => b.block_id)).toEqual(['com.example.support/support-playbook/context/playbook.md']);
      const small = await session.resolve({ requiredCapabilities: ['tickets.read'], context: { max_context_tokens: 5 } });
      expect(small.context_blocks).toEqual([]);
    });

    it('puts approval-gated actions in allowed_actions with requires_confirmation', async () => {
      const { session } = await withSession(support);
      const r = await session.resolve({ requiredCapabilities: ['billing.refund'] });
      expect(r.decision.type).toBe('requires_approval');
      expect(r.allowed_actions).toEqual([expect.objectContaining({ action_id: 'refund.issue', requires_confirmation: true })]);
      expect(r.constraints.map((c) => c.type)).toContain('require_approval');
      expect(r.context_blocks.map((b) => b.block_id)).toEqual(['com.example.support/refund-policy/context/refunds.md']);
    });

    it('denies by default what no policy allows', async () => {
      const atlas = notesAtlas({ policies: [{ policy_id: 'reads', type: 'allow', actions: ['note.read'] }] });
      const { session } = await withSession(atlas);
      const r = await session.resolve();
      expect(r.allowed_actions.map((a) => a.action_id)).toEqual(['note.read']);
      expect(r.denied_actions.map((d) => [d.action_id, d.policy_id])).toEqual([
        ['note.write', 'default'],
        ['note.purge', 'default'],
      ]);
      const evaluated = (await session.trace()).filter((e) => e.event_type === 'policy.evaluated').map((e) => e.payload);
      expect(evaluated).toEqual([
        expect.objectContaining({ action_id: 'note.write', policy_id: 'default', result: 'default_deny' }),
        expect.objectContaining({ action_id: 'note.purge', policy_id: 'default', result: 'default_deny' }),
      ]);
    });

    it('allows unmatched actions when the runtime is configured with defaultDecision allow', async () => {
      const atlas = notesAtlas({ policies: [{ policy_id: 'reads', type: 'allow', actions: ['note.read'] }] });
      const { rt, session } = await withSession(atlas, { defaultDecision: 'allow' });
      expect(rt.configuration.default_decision).toBe('allow');
      const r = await session.resolve();
      expect(r.allowed_actions.map((a) => a.action_id)).toEqual(['note.read', 'note.write', 'note.purge']);
    });

    it('evaluates time windows in named zones on host time', async () => {
      const windowed = (timezone: string) =>
        notesAtlas({
          atlas_id: 'org.test.hours',
          policies: [
            {
              policy_id: 'office-hours',
              type: 'allow',
              actions: ['note.read'],
              conditions: { time_window: { start: '09:00', end: '17:00', timezone, days: ['mon', 'tue', 'wed', 'thu', 'fri'] } },
            },
          ],
        });
      // T0 is Saturday 2024-12-28 12:00Z.
      const { rt, session } = await withSession(windowed('America/New_York'));
      expect((await session.resolve()).allowed_actions).toEqual([]);
      // Monday 2024-12-30 15:00Z is 10:00 in New York (EST), 16:00 in Paris.
      clock.advance(2 * 86_400_000_000 + 3 * 3_600_000_000);
      expect((await session.resolve()).allowed_actions.map((a) => a.action_id)).toEqual(['note.read']);
      // 23:00Z is 18:00 in New York: after hours.
      clock.advance(8 * 3_600_000_000);
      expect((await session.resolve()).allowed_actions).toEqual([]);
      // A zone the host does not know never opens the window (refused at load, or never matching).
      clock.advance(-8 * 3_600_000_000);
      const loaded = await rt.loadAtlas(windowed('Mars/Olympus_Mons'), { replace: true }).catch((e: CraError) => e);
      if (loaded instanceof CraError) expect(loaded.code).toBe('atlas_invalid');
      else expect((await session.resolve()).allowed_actions).toEqual([]);
    });

    it('accepts a full CARP request and refuses a mismatched operation', async () => {
      const { rt, session } = await withSession();
      const request: CarpRequest = {
        carp_version: '1.0',
        request_id: '00000000-0000-0000-0000-00000000abcd',
        timestamp: isoFromMicros(clock.peek()),
        operation: 'resolve',
        requester: { agent_id: 'agent-1', session_id: session.id },
        task: { goal: 'Read resources', required_capabilities: ['resource.read'] },
      };
      const r = await session.resolve(request);
      expect(r.request_id).toBe(request.request_id);
      expect(r.allowed_actions.map((a) => a.action_id)).toEqual(['resource.get', 'resource.list']);
      const err = await unchanged(rt, session, () => session.resolve({ ...request, operation: 'validate' }), 'invalid_request');
      expect(err.path).toBe('/operation');
    });

    it('refuses a replayed request id, a skewed timestamp and an unknown atlas, recording nothing', async () => {
      const { rt, session } = await withSession();
      await session.resolve({ requestId: '00000000-0000-0000-0000-000000000001' });
      await unchanged(rt, session, () => session.resolve({ requestId: '00000000-0000-0000-0000-000000000001' }), 'duplicate_request');
      await unchanged(rt, session, () => session.resolve({ timestamp: isoFromMicros(clock.peek() + 3_600_000_000) }), 'clock_skew');
      const err = await unchanged(rt, session, () => session.resolve({ atlasIds: ['com.example.nothing'] }), 'atlas_not_found');
      expect(err.path).toBe('/atlasIds/0');
      await unchanged(rt, session, () => session.resolve({ riskTier: 'extreme' as never }), 'invalid_request');
    });

    it('validate() computes the same resolution and records nothing', async () => {
      const { rt, session } = await withSession();
      const before = await rt.trace(session.id);
      const v = await session.validate();
      expect(v.decision.type).toBe('allow');
      expect(v.allowed_actions).toHaveLength(4);
      expect(await rt.trace(session.id)).toEqual(before);
    });
  });

  describe('check', () => {
    it('answers from the current resolution and records nothing', async () => {
      const { rt, session } = await withSession();
      expect(await session.check('resource.get')).toEqual({ result: 'no_resolution', code: -1, allowed: false });
      await session.resolve();
      const before = await rt.trace(session.id);
      expect(await session.check('resource.get')).toEqual({ result: 'allow', code: 1, allowed: true });
      expect(await session.check('resource.delete')).toMatchObject({ result: 'deny', allowed: false });
      expect(await session.check('widget.spin')).toMatchObject({ allowed: false });
      expect(await rt.trace(session.id)).toEqual(before);
      await rejects(() => session.check('Not An Id'), 'invalid_request');
    });

    it('answers requires_approval, rate_limited and expired', async () => {
      const { session } = await withSession(support, { defaultTtlSeconds: 600 });
      await session.resolve();
      expect(await session.check('refund.issue')).toMatchObject({ result: 'requires_approval', code: 2, allowed: false });
      clock.advance(601 * 1_000_000);
      expect(await session.check('ticket.lookup')).toMatchObject({ result: 'expired', code: 5, allowed: false });

      const notes = await withSession(notesAtlas());
      await notes.session.resolve();
      for (let i = 0; i < 2; i++) {
        const ex = await notes.session.requestAction({ actionId: 'note.write', parameters: { text: `n${i}` } });
        expect(ex.status).toBe('approved');
      }
      expect(await notes.session.check('note.write')).toMatchObject({ result: 'rate_limited', code: 3, allowed: false });
      expect(await notes.session.check('note.read')).toMatchObject({ result: 'allow' });
    });
  });

  describe('actions', () => {
    it('runs an allowed action: requested, approved, executed', async () => {
      const { session } = await withSession();
      const resolution = await session.resolve();
      const ex = await session.requestAction({ actionId: 'resource.get', parameters: { resource_id: 'r-1' } });
      expect(ex).toMatchObject({ action_id: 'resource.get', status: 'approved', resolution_id: resolution.resolution_id, session_id: session.id });
      expect(ex.parameters_hash).toMatch(/^[0-9a-f]{64}$/);
      const done = await session.complete(ex, { result: { id: 'r-1', name: 'one' }, durationMs: 12 });
      expect(done.status).toBe('executed');
      const trace = await session.trace();
      expect(types(trace).slice(-3)).toEqual(['action.requested', 'action.approved', 'action.executed']);
      expect(trace.at(-1)!.payload).toMatchObject({ action_id: 'resource.get', execution_id: ex.execution_id, duration_ms: 12 });
      expect(trace.at(-1)!.payload.result_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(trace.at(-3)!.payload.parameters_hash).toBe(ex.parameters_hash);
    });

    it('reports a failed action', async () => {
      const { session } = await withSession();
      await session.resolve();
      const ex = await session.requestAction({ actionId: 'resource.create', parameters: { name: 'n' } });
      const failed = await session.fail(ex.execution_id, { errorCode: 'upstream_timeout', errorMessage: 'the API did not answer', durationMs: 30_000 });
      expect(failed.status).toBe('failed');
      expect((await session.trace()).at(-1)).toMatchObject({
        event_type: 'action.failed',
        payload: { error_code: 'upstream_timeout', error_message: 'the API did not answer' },
      });
    });

    it('refuses parameters that violate the action schema (validated by the host, decided by the core)', async () => {
      const { session } = await withSession();
      await session.resolve();
      const ex = await session.requestAction({ actionId: 'resource.get', parameters: { resource_id: 42 } });
      expect(['denied', 'violated']).toContain(ex.status);
      const last = (await session.trace()).at(-1)!;
      expect(['action.denied', 'policy.violated']).toContain(last.event_type);
      expect(JSON.stringify(last.payload)).toMatch(/resource_id/);
    });

    it('refuses an action outside the resolution', async () => {
      const { session } = await withSession();
      await session.resolve({ requiredCapabilities: ['resource.read'] });
      const ex = await session.requestAction({ actionId: 'resource.create', parameters: { name: 'n' } });
      expect(ex.status).toBe('denied');
      const denied = await session.requestAction({ actionId: 'resource.delete', parameters: { resource_id: 'r' } });
      expect(denied.status).toBe('denied');
      expect((await session.trace()).at(-1)).toMatchObject({ event_type: 'action.denied' });
    });

    it('needs a resolution: before resolve, and for an unknown resolution id', async () => {
      const { rt, session } = await withSession();
      const err = await unchanged(rt, session, () => session.requestAction({ actionId: 'resource.get', parameters: { resource_id: 'r' } }), 'resolution_not_found');
      expect(err.path).toBe('/resolutionId');
      await session.resolve();
      await unchanged(
        rt,
        session,
        () => session.requestAction({ actionId: 'resource.get', parameters: { resource_id: 'r' }, resolutionId: '00000000-0000-0000-0000-00000000dead' }),
        'resolution_not_found',
      );
    });

    it('refuses to execute against an expired resolution', async () => {
      const { session } = await withSession(simple, { defaultTtlSeconds: 60 });
      await session.resolve();
      clock.advance(61 * 1_000_000);
      const ex = await session.requestAction({ actionId: 'resource.get', parameters: { resource_id: 'r' } }).catch((e: CraError) => e);
      if (ex instanceof CraError) expect(ex.code).toBe('invalid_state');
      else expect(ex.status).toBe('denied');
    });

    it('gates approvals on the exact execution; an approval is used once', async () => {
      const { rt, session } = await withSession(support);
      await session.resolve({ requiredCapabilities: ['billing.refund'] });
      const params = { customer_id: 'c-1', payment_id: 'p-1', amount: 25, currency: 'EUR', reason: 'double charge' };
      const pending = await session.requestAction({ actionId: 'refund.issue', parameters: params });
      expect(pending.status).toBe('pending_approval');
      expect(pending.approval_hash).toMatch(/^[0-9a-f]{64}$/);
      await unchanged(rt, session, () => session.complete(pending), 'invalid_state');
      await unchanged(rt, session, () => session.approve(pending.execution_id, { approvalHash: 'f'.repeat(64) }), 'approval_mismatch');
      const approved = await session.approve(pending, { approver: 'lead@example.com' });
      expect(approved.status).toBe('approved');
      expect((await session.trace()).at(-1)).toMatchObject({ event_type: 'action.approved', payload: { approver: 'lead@example.com' } });
      await unchanged(rt, session, () => session.approve(pending), 'invalid_state');
      expect((await session.complete(approved, { result: { refund_id: 'rf-1' } })).status).toBe('executed');

      const other = await session.requestAction({ actionId: 'refund.issue', parameters: { ...params, amount: 30 } });
      expect(other.approval_hash).not.toBe(pending.approval_hash);
      const refused = await session.deny(other, { reason: 'not eligible', approver: 'lead@example.com' });
      expect(refused.status).toBe('denied');
      await unchanged(rt, session, () => session.approve(other), 'invalid_state');
      await unchanged(rt, session, () => session.approve('00000000-0000-0000-0000-00000000beef'), 'execution_not_found');
    });

    it('enforces scope policies at execute time and traces the violation', async () => {
      const { session } = await withSession(support);
      await session.resolve({ requiredCapabilities: ['billing.refund'] });
      const ex = await session.requestAction({
        actionId: 'refund.issue',
        parameters: { customer_id: 'c-1', payment_id: 'p-1', amount: 900, currency: 'EUR' },
      });
      expect(ex.status).toBe('violated');
      expect(ex.policy_id).toBe('refund-limits');
      expect((await session.trace()).some((e) => e.event_type === 'policy.violated' && e.payload.policy_id === 'refund-limits')).toBe(true);
    });

    it('counts executions against rate limits in a sliding window of host time', async () => {
      const { session } = await withSession(notesAtlas());
      await session.resolve();
      await session.resolve(); // resolutions do not consume the limit
      expect((await session.requestAction({ actionId: 'note.write', parameters: { text: 'a' } })).status).toBe('approved');
      expect((await session.requestAction({ actionId: 'note.write', parameters: { text: 'b' } })).status).toBe('approved');
      const third = await session.requestAction({ actionId: 'note.write', parameters: { text: 'c' } });
      expect(third.status).toBe('denied');
      expect(third.reason).toMatch(/rate_limited/);
      clock.advance(61 * 1_000_000);
      expect(await session.check('note.write')).toMatchObject({ result: 'allow' });
      expect((await session.requestAction({ actionId: 'note.write', parameters: { text: 'd' } })).status).toBe('approved');
    });

    it('honours idempotency keys', async () => {
      const { rt, session } = await withSession();
      await session.resolve();
      const a = await session.requestAction({ actionId: 'resource.create', parameters: { name: 'x' }, idempotencyKey: 'k-1' });
      const b = await session.requestAction({ actionId: 'resource.create', parameters: { name: 'x' }, idempotencyKey: 'k-1' });
      expect(b.execution_id).toBe(a.execution_id);
      await unchanged(rt, session, () => session.requestAction({ actionId: 'resource.create', parameters: { name: 'y' }, idempotencyKey: 'k-1' }), 'idempotency_conflict');
    });

    it('rejects malformed action calls without recording', async () => {
      const { rt, session } = await withSession();
      await session.resolve();
      await unchanged(rt, session, () => session.requestAction(null as never), 'invalid_request');
      await unchanged(rt, session, () => session.requestAction({ actionId: 'Bad Id' }), 'invalid_request');
      await unchanged(rt, session, () => session.complete({} as never), 'invalid_request');
      await unchanged(rt, session, () => session.fail('00000000-0000-0000-0000-00000000beef', null as never), 'invalid_request');
    });
  });

  describe('record', () => {
    it('appends host-emitted events and refuses core-emitted types', async () => {
      const { rt, session } = await withSession();
      const [e] = await session.record('error.occurred', { code: 'tool_crash', message: 'the CRM returned 500' });
      expect(e).toMatchObject({ event_type: 'error.occurred', sequence: 1, payload: { code: 'tool_crash' } });
      await unchanged(rt, session, () => session.record('session.started', { agent_id: 'x', goal: 'y' }), 'invalid_request');
    });

    /** A runtime whose `cra_call`s of `op` are counted. */
    const counting = async (op: string) => {
      const calls = { n: 0 };
      const decoder = new TextDecoder();
      const { rt, session } = await withSession(simple, {
        instrument: (ex) => ({
          ...ex,
          memory: ex.memory,
          cra_call: (opPtr: number, opLen: number, inPtr: number, inLen: number, now: number) => {
            if (decoder.decode(new Uint8Array(ex.memory.buffer, opPtr, opLen)) === op) calls.n++;
            return ex.cra_call(opPtr, opLen, inPtr, inLen, now);
          },
        }),
      });
      return { rt, session, calls };
    };

    it('appends records in flight together in one call, each answered with its own event, in call order', async () => {
      const { rt, session, calls } = await counting('trace.append');
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) => session.record('error.occurred', { code: `e${i}`, message: 'm' })),
      );
      expect(calls.n).toBe(1);
      expect(answers.map((a) => a.length)).toEqual(Array(50).fill(1));
      expect(answers.map((a) => a[0]!.payload.code)).toEqual(Array.from({ length: 50 }, (_, i) => `e${i}`));
      expect(answers.map((a) => a[0]!.sequence)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      const trace = await rt.trace(session.id);
      expect(trace.slice(1).map((e) => e.payload.code)).toEqual(Array.from({ length: 50 }, (_, i) => `e${i}`));
      expect((await rt.verify(session.id)).valid).toBe(true);
    });

    it('records a refused batch one by one: the bad record fails alone, the others keep their order', async () => {
      const { rt, session } = await withSession();
      const results = await Promise.allSettled([
        session.record('error.occurred', { code: 'a', message: 'm' }),
        session.record('error.occurred', { code: 'b' } as never),
        session.record('error.occurred', { code: 'c', message: 'm' }),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      const err = (results[1] as PromiseRejectedResult).reason as CraError;
      expect(err.code).toBe('invalid_request');
      expect(err.path).toBe('/payload/message');
      expect((await rt.trace(session.id)).slice(1).map((e) => e.payload.code)).toEqual(['a', 'c']);
    });

    it('keeps the order of calls: a queued record lands before a call made after it', async () => {
      const { rt, session } = await withSession();
      const recorded = session.record('error.occurred', { code: 'first', message: 'm' });
      const resolved = session.resolve();
      await Promise.all([recorded, resolved]);
      expect(types(await rt.trace(session.id)).slice(0, 3)).toEqual(['session.started', 'error.occurred', 'carp.request.received']);
    });

    it('detaches the payload at record time and stores queued records on close', async () => {
      const store = new MemoryStore();
      const { rt, session } = await withSession(simple, { storage: store });
      const payload = { code: 'kept', message: 'm' };
      const recorded = session.record('error.occurred', payload);
      payload.code = 'changed';
      await rt.close();
      expect((await recorded)[0]!.payload.code).toBe('kept');
      expect((await store.read(session.id)).map((e) => e.payload.code)).toContain('kept');
    });
  });

  describe('session.resolve(request)', () => {
    it('refuses a full CARP request that names another session, without touching the core', async () => {
      const { rt, session } = await withSession();
      const other = await rt.createSession({ agentId: 'agent-1', goal: 'Another' });
      const request = {
        carp_version: '1.0',
        request_id: 'c0000000-0000-7000-8000-00000000aaaa',
        timestamp: isoFromMicros(clock.peek()),
        operation: 'resolve',
        requester: { agent_id: 'agent-1', session_id: other.id },
        task: { goal: 'x' },
      } as CarpRequest;
      const err = await unchanged(rt, session, () => session.resolve(request), 'invalid_request');
      expect(err.path).toBe('/requester/session_id');
      expect((await session.resolve({ ...request, requester: { agent_id: 'agent-1', session_id: session.id } })).request_id).toBe(request.request_id);
    });
  });

  describe('carp()', () => {
    it('runs raw requests in nested and flat form', async () => {
      const rt = await make();
      await rt.loadAtlas(simple);
      const request = await readJson<CarpRequest>('simple-resolve/request.json');
      await rt.createSession({ agentId: request.requester.agent_id, goal: request.task!.goal, sessionId: request.requester.session_id });
      const { resolution } = await rt.carp({ ...request, timestamp: isoFromMicros(clock.peek()) });
      expect(resolution!.request_id).toBe(request.request_id);
      expect(resolution!.decision.type).toBe('allow');

      const flat = await rt.carp({
        carp_version: '1.0',
        request_id: '00000000-0000-0000-0000-000000000002',
        timestamp: isoFromMicros(clock.peek()),
        operation: 'resolve',
        session_id: request.requester.session_id,
        agent_id: request.requester.agent_id,
        goal: 'Read only',
      });
      expect(flat.resolution!.decision.type).toBe('allow');
      const session = await rt.getSession(request.requester.session_id);
      expect(types(await session.trace()).filter((t) => t === 'carp.resolution.completed')).toHaveLength(2);

      const exec = await rt.carp({
        carp_version: '1.0',
        request_id: '00000000-0000-0000-0000-000000000003',
        timestamp: isoFromMicros(clock.peek()),
        operation: 'execute',
        requester: request.requester,
        execution: { resolution_id: flat.resolution!.resolution_id, action_id: 'resource.list', parameters: { limit: 500 } },
      });
      expect(['denied', 'violated']).toContain(exec.execution!.status); // limit > maximum: schema error found by the host
    });

    it('refuses a request from another agent', async () => {
      const { rt, session } = await withSession();
      await unchanged(
        rt,
        session,
        () =>
          rt.carp({
            carp_version: '1.0',
            request_id: '00000000-0000-0000-0000-000000000004',
            timestamp: isoFromMicros(clock.peek()),
            operation: 'resolve',
            requester: { agent_id: 'intruder', session_id: session.id },
            task: { goal: 'steal' },
          }),
        'agent_mismatch',
      );
      await rejects(() => rt.carp('x' as never), 'invalid_request');
    });
  });

  describe('traces', () => {
    it('verifies, replays and diffs a session trace', async () => {
      const { rt, session } = await withSession();
      await session.resolve();
      const ex = await session.requestAction({ actionId: 'resource.get', parameters: { resource_id: 'r' } });
      await session.complete(ex);
      const trace = await rt.trace(session.id);
      expect(trace.map((e) => e.sequence)).toEqual(trace.map((_, i) => i));
      expect(await rt.verify(session.id)).toEqual({ valid: true, length: trace.length, head_hash: trace.at(-1)!.event_hash });
      const replay = await rt.replay(session.id);
      expect(replay).toMatchObject({ identical: true, original_length: trace.length, replayed_length: trace.length });
      expect(await rt.diff(trace, trace)).toEqual({ identical: true, differences: [] });
      const diff = await rt.diff(trace, trace.slice(0, -1));
      expect(diff.identical).toBe(false);
      expect(diff.differences).toEqual([expect.objectContaining({ index: trace.length - 1, kind: 'removed' })]);
    });

    it('hands every recorded event to the sinks, in order, and drains on flush', async () => {
      const sink = memorySink();
      const { rt, session } = await withSession(simple, { sinks: [sink], collector: { bufferSize: 1000, flushIntervalMs: 0 } });
      await session.resolve();
      await rejects(() => session.resolve({ atlasIds: ['com.example.none'] }), 'atlas_not_found');
      expect(sink.events).toHaveLength(0);
      await rt.flush();
      expect(sink.events).toEqual(await rt.trace(session.id));
    });

    it('stats count atlases and sessions', async () => {
      const { rt } = await withSession();
      await rt.createSession({ agentId: 'b', goal: 'g' });
      expect(await rt.stats()).toMatchObject({ atlases: 1, sessions: 2 });
    });
  });

  describe('options and lifecycle', () => {
    it('rejects bad options with a path', async () => {
      await rejects(() => createRuntime({ clock: 5 as never }), 'invalid_request');
      await rejects(() => createRuntime({ storage: {} as never }), 'invalid_request');
      await rejects(() => createRuntime({ onCorruptTrace: 'ignore' as never }), 'invalid_request');
      await rejects(() => createRuntime({ maxContextTokens: -1 }), 'invalid_request');
      await rejects(() => createRuntime({ wasm: new Uint8Array([0, 1, 2]) }), 'core_unavailable');
    });

    it('fails calls whose host clock is broken, without recording', async () => {
      let broken = false;
      const base = testClock();
      const rt = await createRuntime({ clock: () => (broken ? Number.NaN : base()), ids: testIds() });
      runtimes.push(rt);
      const session = await rt.createSession({ agentId: 'a', goal: 'g' });
      broken = true;
      await rejects(() => session.record('error.occurred', { code: 'x', message: 'y' }), 'invalid_request');
      broken = false;
      expect(await session.trace()).toHaveLength(1);
    });

    it('loads atlases given as options before anything else', async () => {
      const rt = await make({ atlases: [simple, support] });
      expect((await rt.listAtlases()).map((a) => a.atlas_id)).toEqual(['com.cra.conformance.simple', 'com.example.support']);
    });

    it('refuses every call once closed', async () => {
      const { rt, session } = await withSession();
      await rt.close();
      await rejects(() => session.resolve(), 'closed');
      await rejects(() => rt.listAtlases(), 'closed');
      await rejects(() => rt.trace(session.id), 'closed');
      await rt.close(); // idempotent
    });

    it('several runtimes share the compiled module but not their state', async () => {
      const a = await make();
      const b = await make();
      await a.loadAtlas(simple);
      expect(await b.listAtlases()).toEqual([]);
    });
  });
});
