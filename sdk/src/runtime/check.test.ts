/**
 * A check of an action id no loaded atlas declares answers `unknown_action` with the closest known ids, as
 * `requestAction` refuses it: for a made-up id, and for an action whose atlas was unloaded since.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { simpleAtlas, T0_US, testClock, testIds } from '../../test/helpers.ts';
import type { AtlasManifest } from '../types.ts';
import { checkAnswer } from './check.ts';
import { Core } from './core.ts';
import { compileCore } from './load.ts';
import { createRuntime, type EmbeddedRuntime } from './runtime.ts';

const simple = await simpleAtlas();
const GOAL = 'Manage resources in the test environment';

const mail: AtlasManifest = {
  atlas_version: '1.0',
  atlas_id: 'org.test.mail',
  version: '1.0.0',
  name: 'Mail',
  description: 'Sends mail',
  actions: [{ action_id: 'email.send', name: 'Send', description: 'Sends an email' }],
  policies: [{ policy_id: 'mail-allowed', type: 'allow', actions: ['email.send'] }],
};

describe('session.check of an unknown action id', () => {
  const open: EmbeddedRuntime[] = [];
  afterEach(async () => {
    for (const rt of open.splice(0)) await rt.close().catch(() => undefined);
  });

  it('is unknown_action once the atlas that declared it is unloaded, as requestAction says', async () => {
    const rt = await createRuntime({ clock: testClock(), ids: testIds() });
    open.push(rt);
    await rt.loadAtlas(simple);
    await rt.loadAtlas(mail);
    const session = await rt.createSession({ agentId: 'agent-1', goal: GOAL });
    await session.resolve();
    expect(await session.check('email.send')).toMatchObject({ result: 'allow' });
    await rt.unloadAtlas('org.test.mail');
    await session.resolve();
    expect(await session.check('email.send')).toMatchObject({ result: 'unknown_action', code: 8, allowed: false });
    const refused = await session.requestAction({ actionId: 'email.send', parameters: {} });
    expect(refused.details?.code).toBe('unknown_action');
    expect(await session.check('resource.get')).toMatchObject({ result: 'allow', allowed: true });
  });
});

describe('checkAnswer', () => {
  it('names the closest known ids of an unknown_action answer, the ids requestAction names', async () => {
    const core = await Core.instantiate(await compileCore(), { ids: testIds() });
    core.call('atlas.load', { manifest: simple.manifest }, T0_US);
    const { session, handle } = core.call<{ session: { session_id: string }; handle: number }>('session.create', { agent_id: 'agent-1', goal: GOAL }, T0_US);
    const sid = session.session_id;
    const request = { carp_version: '1.0', request_id: testIds()(), timestamp: new Date(T0_US / 1000).toISOString(), operation: 'resolve', requester: { agent_id: 'agent-1', session_id: sid }, task: { goal: GOAL } };
    const { resolution } = core.call<{ resolution: { resolution_id: string } }>('session.resolve', { request }, T0_US);
    const code = core.check(handle, 0, T0_US);
    const answer = checkAnswer(core, code, sid, 'resource.gte', T0_US);
    expect(answer).toMatchObject({ result: 'unknown_action', code: 8, allowed: false });
    expect(answer.closest?.[0]).toBe('resource.get');
    const refused = core.call<{ execution: { details: { closest: string[] } } }>(
      'action.request',
      { session_id: sid, resolution_id: resolution.resolution_id, action_id: 'resource.gte', parameters: {} },
      T0_US,
    );
    expect(answer.closest).toEqual(refused.execution.details.closest);
    const get = core.call<{ handle: number }>('action.handle', { action_id: 'resource.get' }, T0_US).handle;
    expect(checkAnswer(core, core.check(handle, get, T0_US), sid, 'resource.get', T0_US)).toEqual({ result: 'allow', code: 1, allowed: true });
  });
});
