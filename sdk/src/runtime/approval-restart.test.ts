/**
 * An execution waiting for approval keeps its cost across a restart: the trace records the cost of a pending
 * execution (it keeps no parameters), so a runtime restarted on the same JSONL folder checks an approval against
 * what is left of the budget and charges it, as the runtime that took the request would have.
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonlRestarts } from '../../test/embedded.ts';
import type { AtlasManifest } from '../node.ts';

/** `llm.call` behind an approval gate, with a budget of 100 spent through its `tokens` parameter. */
const spendAtlas: AtlasManifest = {
  atlas_version: '1.0',
  atlas_id: 'org.test.spend',
  version: '1.0.0',
  name: 'Spend',
  description: 'A paid call behind an approval and a cost budget',
  actions: [
    {
      action_id: 'llm.call',
      name: 'Call a model',
      description: 'Calls a paid model',
      parameters_schema: { type: 'object', required: ['tokens'], properties: { tokens: { type: 'number' } } },
    },
  ],
  policies: [
    { policy_id: 'gate', type: 'require_approval', actions: ['llm.call'] },
    { policy_id: 'spend', type: 'budget', actions: ['llm.call'], parameters: { max_cost: 100, cost_param: 'tokens' } },
  ],
};

describe('approvals after a restart with a JSONL store', () => {
  const { folder, start } = jsonlRestarts('c', { atlases: [spendAtlas] });

  it('checks and charges the cost of executions requested before the restart', async () => {
    const first = await start();
    const session = await first.createSession({ agentId: 'agent-1', goal: 'Spend carefully' });
    await session.resolve({ atlasIds: ['org.test.spend'] });
    const a = await session.requestAction({ actionId: 'llm.call', parameters: { tokens: 90 } });
    const b = await session.requestAction({ actionId: 'llm.call', parameters: { tokens: 90 } });
    expect([a.status, b.status]).toEqual(['pending_approval', 'pending_approval']);
    await first.close();

    // What the store holds: each request records the cost its approval will charge.
    const stored = (await readFile(join(folder.dir, `${session.id}.trace.jsonl`), 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { event_type: string; payload: Record<string, unknown> });
    expect(stored.filter((e) => e.event_type === 'action.requested').map((e) => e.payload.cost)).toEqual([90, 90]);

    const second = await start();
    expect(second.storageIssues).toEqual([]);
    const again = await second.getSession(session.id);
    expect(await again.approve(a)).toMatchObject({ status: 'approved' });
    // 10 is left: the second 90 would overspend the budget.
    expect(await again.approve(b)).toMatchObject({ status: 'denied', policy_id: 'spend', details: { code: 'budget_exhausted', policy_id: 'spend' } });
    expect(await again.requestAction({ actionId: 'llm.call', parameters: { tokens: 11 } })).toMatchObject({
      status: 'denied',
      details: { code: 'budget_exhausted' },
    });
    expect(await again.requestAction({ actionId: 'llm.call', parameters: { tokens: 10 } })).toMatchObject({ status: 'pending_approval' });

    const trace = await again.trace();
    const approved = trace.filter((e) => e.event_type === 'action.approved');
    expect(approved.map((e) => [e.payload.execution_id, e.payload.cost])).toEqual([[a.execution_id, 90]]);
    const replay = await second.replay(session.id);
    expect(replay).toMatchObject({ identical: true, divergences: [], original_length: trace.length, replayed_length: trace.length });
  });
});
