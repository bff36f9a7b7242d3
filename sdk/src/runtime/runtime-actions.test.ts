/** The embedded runtime, continued: actions, host events, CARP requests, traces, options and lifecycle. */
import { describe, expect, it } from 'vitest';
import { notesAtlas, readJson, testClock, testIds } from '../../test/helpers.ts';
import { memorySink } from '../collector/sinks.ts';
import { CraError } from '../errors.ts';
import { isoFromMicros } from '../host.ts';
import type { CarpRequest } from '../types.ts';
import { MemoryStore } from '../storage/memory.ts';
import { createRuntime } from './runtime.ts';
import { embeddedRuntimes, rejects, simple, support, types } from '../../test/embedded.ts';

describe('EmbeddedRuntime', () => {
  const h = embeddedRuntimes();
  const { make, withSession, unchanged } = h;
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
      h.clock.advance(61 * 1_000_000);
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
      h.clock.advance(61 * 1_000_000);
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
        timestamp: isoFromMicros(h.clock.peek()),
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
      const { resolution } = await rt.carp({ ...request, timestamp: isoFromMicros(h.clock.peek()) });
      expect(resolution!.request_id).toBe(request.request_id);
      expect(resolution!.decision.type).toBe('allow');

      const flat = await rt.carp({
        carp_version: '1.0',
        request_id: '00000000-0000-0000-0000-000000000002',
        timestamp: isoFromMicros(h.clock.peek()),
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
        timestamp: isoFromMicros(h.clock.peek()),
        operation: 'execute',
        requester: request.requester,
        execution: { resolution_id: flat.resolution!.resolution_id, action_id: 'resource.list', parameters: { limit: 500 } },
      });
      expect(['denied', 'violated']).toContain(exec.execution!.status); // limit > maximum: schema error found by the host
    });

    it('refuses null where the request schema gives a type, and points execute errors into the execution block', async () => {
      const { rt, session } = await withSession();
      const base = {
        carp_version: '1.0' as const,
        timestamp: isoFromMicros(h.clock.peek()),
        requester: { agent_id: 'agent-1', session_id: session.id, parent_session_id: null },
      };
      const err = await unchanged(
        rt,
        session,
        () => rt.carp({ ...base, request_id: '00000000-0000-0000-0000-000000000005', operation: 'resolve', task: { goal: 'g', risk_tier: null } } as never),
        'invalid_request',
      );
      expect([err.path, err.message]).toEqual(['/task/risk_tier', 'expected a string, found null']);
      const missing = await unchanged(
        rt,
        session,
        () =>
          rt.carp({
            ...base,
            request_id: '00000000-0000-0000-0000-000000000006',
            operation: 'execute',
            execution: { resolution_id: '00000000-0000-4000-8000-000000000000', action_id: 'resource.get', parameters: {}, idempotency_key: null },
          }),
        'resolution_not_found',
      );
      expect(missing.path).toBe('/execution/resolution_id');
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
            timestamp: isoFromMicros(h.clock.peek()),
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
      h.track(rt);
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
