/** The embedded runtime: atlases, sessions, resolve and check (actions and the rest: `runtime-actions.test.ts`). */
import { describe, expect, it } from 'vitest';
import { notesAtlas, T0_US } from '../../test/helpers.ts';
import { CraError } from '../errors.ts';
import { isoFromMicros, isUuid } from '../host.ts';
import type { CarpRequest } from '../types.ts';
import { embeddedRuntimes, rejects, simple, support, types } from '../../test/embedded.ts';

describe('EmbeddedRuntime', () => {
  const h = embeddedRuntimes();
  const { make, withSession, unchanged } = h;
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
      expect((await rt.listSessions()).items.map((s) => s.session_id)).toEqual([session.id]);
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
      expect((await rt.listSessions()).items).toEqual([]);
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
      h.clock.advance(2 * 86_400_000_000 + 3 * 3_600_000_000);
      expect((await session.resolve()).allowed_actions.map((a) => a.action_id)).toEqual(['note.read']);
      // 23:00Z is 18:00 in New York: after hours.
      h.clock.advance(8 * 3_600_000_000);
      expect((await session.resolve()).allowed_actions).toEqual([]);
      // A zone the host does not know never opens the window (refused at load, or never matching).
      h.clock.advance(-8 * 3_600_000_000);
      const loaded = await rt.loadAtlas(windowed('Mars/Olympus_Mons'), { replace: true }).catch((e: CraError) => e);
      if (loaded instanceof CraError) expect(loaded.code).toBe('atlas_invalid');
      else expect((await session.resolve()).allowed_actions).toEqual([]);
    });

    it('accepts a full CARP request and refuses a mismatched operation', async () => {
      const { rt, session } = await withSession();
      const request: CarpRequest = {
        carp_version: '1.0',
        request_id: '00000000-0000-0000-0000-00000000abcd',
        timestamp: isoFromMicros(h.clock.peek()),
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
      await unchanged(rt, session, () => session.resolve({ timestamp: isoFromMicros(h.clock.peek() + 3_600_000_000) }), 'clock_skew');
      const err = await unchanged(rt, session, () => session.resolve({ atlasIds: ['com.example.nothing'] }), 'atlas_not_found');
      expect(err.path).toBe('/atlasIds/0');
      await unchanged(rt, session, () => session.resolve({ riskTier: 'extreme' as never }), 'invalid_request');
    });

    it('reads an option given as null as not given, in either form', async () => {
      const { session } = await withSession();
      const r = await session.resolve({ riskTier: null, contextHints: null, atlasIds: null, context: null, requestId: null } as never);
      expect(r.allowed_actions.length).toBeGreaterThan(0);
      const w = await session.resolve({ risk_tier: null, goal: null, required_capabilities: null } as never, { form: 'wire' });
      expect(w.allowed_actions.map((a) => a.action_id)).toEqual(r.allowed_actions.map((a) => a.action_id));
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
      h.clock.advance(601 * 1_000_000);
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

});
