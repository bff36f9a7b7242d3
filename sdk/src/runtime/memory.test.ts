/**
 * The core must not grow its memory under a steady load (issue: "memory does not grow over 100 000 calls"). After a
 * warm-up (the allocator reaches its working set), 100 000 more calls of the everyday operations — the hot-path
 * check, resolves in sessions that end and are forgotten, appends, verification, errors — leave the module's
 * linear memory exactly as large as it was. WebAssembly memory never shrinks, so any leak shows as growth.
 */
import { describe, expect, it } from 'vitest';
import { simpleAtlas, T0_US, testIds } from '../../test/helpers.ts';
import { Core } from './core.ts';
import { compileCore } from './load.ts';

type Created = { session: { session_id: string }; handle: number; events: unknown[] };

describe('core memory under load', () => {
  it('stays flat over 100 000 calls after warm-up', async () => {
    const core = await Core.instantiate(await compileCore(), { ids: testIds('c0000000') });
    core.call('atlas.load', await simpleAtlas(), T0_US);
    const action = core.call<{ handle: number }>('action.handle', { action_id: 'resource.get' }, T0_US).handle;
    let calls = 0;
    let now = T0_US;

    // One round: a session with a few resolves, checks, actions and appends, verified, ended and forgotten.
    const round = () => {
      now += 1000;
      const s = core.call<Created>('session.create', { agent_id: 'agent', goal: 'steady load' }, now);
      const sid = s.session.session_id;
      const events: unknown[] = [...s.events];
      for (let i = 0; i < 3; i++) {
        const r = core.call<{ resolution: { resolution_id: string }; events: unknown[] }>(
          'session.resolve', { request: { session_id: sid, agent_id: 'agent', goal: 'steady load' } }, now);
        events.push(...r.events);
        const x = core.call<{ execution: { execution_id: string }; events: unknown[] }>('action.request',
          { session_id: sid, resolution_id: r.resolution.resolution_id, action_id: 'resource.get', parameters: { resource_id: `r${i}` } }, now);
        events.push(...x.events);
        events.push(...core.call<{ events: unknown[] }>('action.complete', { session_id: sid, execution_id: x.execution.execution_id, result: { ok: true } }, now).events);
        calls += 3;
      }
      for (let i = 0; i < 50; i++) expect(core.check(s.handle, action, now)).toBe(1);
      calls += 50;
      events.push(...core.call<{ events: unknown[] }>('trace.append', { session_id: sid, event_type: 'error.occurred', payload: { code: 'x', message: 'y' } }, now).events);
      expect(() => core.call('session.resolve', { request: { session_id: sid, agent_id: 'intruder', goal: 'g' } }, now)).toThrow();
      events.push(...core.call<{ events: unknown[] }>('session.end', { session_id: sid }, now).events);
      expect(core.call<{ valid: boolean }>('trace.verify', { events }, now).valid).toBe(true);
      core.call('session.forget', { session_id: sid }, now);
      calls += 7;
    };

    for (let i = 0; i < 200; i++) round();
    const warm = core.memoryBytes;
    calls = 0;
    while (calls < 100_000) round();
    expect(calls).toBeGreaterThanOrEqual(100_000);
    expect(core.memoryBytes).toBe(warm);
  }, 120_000);
});
