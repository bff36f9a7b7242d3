/**
 * Fail-closed behaviour: a core that traps or answers garbage makes the call throw, records nothing, and is
 * replaced by an instance rebuilt from the stored traces. No resolve or check answers "allow" on error.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { faults, simpleAtlas, testClock, testIds, type Fault } from '../../test/helpers.ts';
import { memorySink } from '../collector/sinks.ts';
import { CraError } from '../errors.ts';
import { MemoryStore } from '../storage/memory.ts';
import type { TraceEvent } from '../types.ts';
import { createRuntime, type EmbeddedRuntime, type RuntimeOptions } from './runtime.ts';

const simple = await simpleAtlas();

async function failure(fn: () => Promise<unknown>): Promise<CraError> {
  const err = await fn().then(
    (v) => v,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CraError);
  return err as CraError;
}

describe('fail closed', () => {
  const runtimes: EmbeddedRuntime[] = [];
  afterEach(async () => {
    for (const rt of runtimes.splice(0)) await rt.close().catch(() => undefined);
  });

  /** A runtime with a fault hook (disarmed), the simple atlas, and one resolved session. */
  const setup = async (options: RuntimeOptions = {}) => {
    const hook = faults();
    const sink = memorySink();
    const rt = await createRuntime({
      clock: testClock(),
      ids: testIds(),
      instrument: hook,
      sinks: [sink],
      collector: { flushIntervalMs: 0 },
      ...options,
    });
    runtimes.push(rt);
    await rt.loadAtlas(simple);
    const session = await rt.createSession({ agentId: 'agent-1', goal: 'Manage resources' });
    await session.resolve();
    const stored = await rt.trace(session.id);
    return { rt, session, hook, sink, stored };
  };

  /** After a failure: nothing recorded, the instance rebuilt with the session intact, the chain verifies. */
  const intact = async (rt: EmbeddedRuntime, sessionId: string, stored: TraceEvent[]) => {
    expect(await rt.trace(sessionId)).toEqual(stored);
    const session = await rt.getSession(sessionId);
    const info = await session.info();
    expect(info.event_count).toBe(stored.length);
    expect(info.head_hash).toBe(stored.at(-1)!.event_hash);
    expect(await rt.verify(sessionId)).toEqual({ valid: true, length: stored.length, head_hash: stored.at(-1)!.event_hash });
  };

  const cases: Array<[string, Fault]> = [
    ['traps before acting', { op: 'session.resolve', kind: 'trap-before' }],
    ['traps after acting (state changed inside the lost instance)', { op: 'session.resolve', kind: 'trap-after' }],
    ['answers non-JSON after acting', { op: 'session.resolve', kind: 'answer', after: true, text: '\u0000\u0001garbage' }],
    [
      'answers an allow resolution whose events do not continue the chain',
      {
        op: 'session.resolve',
        kind: 'answer',
        after: true,
        text: JSON.stringify({
          ok: {
            resolution: { resolution_id: 'x', decision: { type: 'allow' }, allowed_actions: [{ action_id: 'resource.delete' }], denied_actions: [] },
            events: [{ trace_version: '1.0', session_id: 'nope', sequence: 99, previous_event_hash: 'x', event_hash: 'y', event_type: 'carp.resolution.completed', payload: {} }],
          },
        }),
      },
    ],
    [
      'answers a resolution with a decision that does not exist',
      { op: 'session.resolve', kind: 'answer', text: JSON.stringify({ ok: { resolution: { resolution_id: 'x', decision: { type: 'sure' }, allowed_actions: [], denied_actions: [] }, events: [] } }) },
    ],
  ];

  for (const [what, fault] of cases) {
    it(`resolve throws when the core ${what}; nothing is recorded and the instance is rebuilt`, async () => {
      const { rt, session, hook, sink, stored } = await setup();
      hook.arm(fault);
      const err = await failure(() => session.resolve());
      expect(err.code).toBe('core_failure');
      expect(hook.state.fired).toBe(1);
      await intact(rt, session.id, stored);
      await rt.flush();
      expect(sink.events).toEqual(stored); // the collector saw only stored events
      // The rebuilt instance works: the chain continues from the stored head.
      await session.resolve();
      const after = await rt.trace(session.id);
      expect(after.slice(0, stored.length)).toEqual(stored);
      expect(after[stored.length]!.previous_event_hash).toBe(stored.at(-1)!.event_hash);
      expect((await rt.verify(session.id)).valid).toBe(true);
    });
  }

  it('check throws instead of answering when the core traps or answers an unknown code, and answers correctly after the rebuild', async () => {
    const { rt, session, hook, stored } = await setup();
    expect(await session.check('resource.get')).toMatchObject({ result: 'allow' });
    hook.arm({ op: 'check', kind: 'trap-before' });
    expect((await failure(() => session.check('resource.get'))).code).toBe('core_failure');
    hook.arm({ op: 'check', kind: 'pointer', value: 1_000 });
    expect((await failure(() => session.check('resource.get'))).code).toBe('core_failure');
    await intact(rt, session.id, stored);
    expect(await session.check('resource.delete')).toMatchObject({ result: 'deny', allowed: false });
    expect(await session.check('resource.get')).toMatchObject({ result: 'allow', allowed: true });
  });

  it('a trap while executing records nothing; the same request then runs once', async () => {
    const { rt, session, hook, stored } = await setup();
    hook.arm({ op: 'action.request', kind: 'trap-after' });
    const err = await failure(() => session.requestAction({ actionId: 'resource.get', parameters: { resource_id: 'r' } }));
    expect(err.code).toBe('core_failure');
    await intact(rt, session.id, stored);
    const ex = await session.requestAction({ actionId: 'resource.get', parameters: { resource_id: 'r' } });
    expect(ex.status).toBe('approved');
    const trace = await rt.trace(session.id);
    expect(trace.filter((e) => e.event_type === 'action.requested')).toHaveLength(1);
  });

  it('garbage from a read-only operation also rebuilds, and loses nothing', async () => {
    const { rt, session, hook, stored } = await setup();
    hook.arm({ op: 'atlas.list', kind: 'answer', text: '{"ok":' });
    expect((await failure(() => rt.listAtlases())).code).toBe('core_failure');
    expect((await rt.listAtlases()).map((a) => a.atlas_id)).toEqual(['com.cra.conformance.simple']);
    await intact(rt, session.id, stored);
  });

  it('every session and atlas survives a rebuild; ended sessions stay ended', async () => {
    const { rt, session, hook } = await setup();
    const other = await rt.createSession({ agentId: 'agent-2', goal: 'Other work' });
    await other.end('completed');
    hook.arm({ op: 'runtime.stats', kind: 'trap-before' });
    await failure(() => rt.stats());
    // The ended session left the core when it ended; it is still known, and restored to answer.
    expect(await rt.stats()).toMatchObject({ atlases: 1, sessions: 1, known_sessions: 2 });
    expect((await other.info()).status).toBe('ended');
    expect((await failure(() => other.resolve())).code).toBe('session_ended');
    expect((await session.info()).status).toBe('active');
  });

  it('while the rebuild itself keeps failing, every call fails closed; it recovers once the core behaves', async () => {
    const { rt, session, hook, stored } = await setup();
    // The call traps; then two rebuilds in a row trap while loading the atlas again.
    hook.arm(
      { op: 'session.resolve', kind: 'trap-before' },
      { op: 'atlas.load', kind: 'trap-before' },
      { op: 'atlas.load', kind: 'trap-before' },
    );
    expect((await failure(() => session.resolve())).code).toBe('core_failure');
    expect(hook.pending()).toBe(1);
    expect((await failure(() => session.check('resource.get'))).code).toBe('core_failure');
    expect(hook.pending()).toBe(0);
    await intact(rt, session.id, stored);
    expect(await session.check('resource.get')).toMatchObject({ result: 'allow' });
  });

  it('a store that fails to take events fails the call and brings the core back to what is stored', async () => {
    class FlakyStore extends MemoryStore {
      failNext = false;
      override async append(id: string, events: readonly TraceEvent[]) {
        if (this.failNext) {
          this.failNext = false;
          throw new Error('disk full');
        }
        return super.append(id, events);
      }
    }
    const store = new FlakyStore();
    const { rt, session, stored } = await setup({ storage: store });
    store.failNext = true;
    const err = await failure(() => session.requestAction({ actionId: 'resource.get', parameters: { resource_id: 'r' } }));
    expect(err.code).toBe('storage_failure');
    expect(err.message).toMatch(/disk full/);
    await intact(rt, session.id, stored);
    expect((await session.requestAction({ actionId: 'resource.get', parameters: { resource_id: 'r' } })).status).toBe('approved');
    expect((await rt.verify(session.id)).valid).toBe(true);
  });

  it('concurrent calls on one session all land in the chain, in order', async () => {
    const { rt, session } = await setup();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => session.requestAction({ actionId: 'resource.get', parameters: { resource_id: `r${i}` } })),
    );
    expect(results.every((r) => r.status === 'approved')).toBe(true);
    const trace = await rt.trace(session.id);
    expect(trace.map((e) => e.sequence)).toEqual(trace.map((_, i) => i));
    expect((await rt.verify(session.id)).valid).toBe(true);
  });
});
