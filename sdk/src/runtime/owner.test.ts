/**
 * Owners in the embedded runtime: a host serving several tenants names each session's owner, and rate limits of
 * scope `agent` and `global` are counted per owner, so that one tenant never spends another's limits by using the
 * same agent id. Owners are host data, never in the trace: a restart hands them back (`ownerOf`), and the counts of
 * the restored sessions stay their owners'.
 */
import { describe, expect, it } from 'vitest';
import { notesAtlas, T0_US, tempDir, testClock, testIds } from '../../test/helpers.ts';
import { embeddedRuntimes, rejects } from '../../test/embedded.ts';
import { JsonlStore } from '../storage/jsonl.ts';
import type { AtlasManifest } from '../types.ts';

/** `note.write` limited to 2 calls a minute, counted per agent (or across every session, with `global`). */
const limited = (scope: 'agent' | 'global'): AtlasManifest =>
  notesAtlas({
    policies: [{ policy_id: 'write-rate', type: 'rate_limit', actions: ['note.write'], parameters: { max_calls: 2, window_seconds: 60, scope } }, { policy_id: 'open', type: 'allow', actions: ['note.*'] }],
  });

describe('session owners', () => {
  const { make } = embeddedRuntimes();
  const write = async (session: { requestAction: (r: { actionId: string; parameters: { text: string } }) => Promise<{ status: string }> }) =>
    (await session.requestAction({ actionId: 'note.write', parameters: { text: 'x' } })).status;

  for (const scope of ['agent', 'global'] as const) {
    it(`count ${scope}-scope rate limits apart: another owner with the same agent id spends nothing of A's`, async () => {
      const rt = await make({ atlases: [limited(scope)] });
      const a = await rt.createSession({ agentId: 'shared-agent', goal: 'A', owner: 'tenant-a' });
      const b = await rt.createSession({ agentId: 'shared-agent', goal: 'B', owner: 'tenant-b' });
      await a.resolve();
      await b.resolve();
      expect([await write(b), await write(b), await write(b)]).toEqual(['approved', 'approved', 'denied']);
      expect([await write(a), await write(a)]).toEqual(['approved', 'approved']);
      // The same owner shares its limit across its sessions.
      const a2 = await rt.createSession({ agentId: 'shared-agent', goal: 'A again', owner: 'tenant-a' });
      await a2.resolve();
      expect(await write(a2)).toBe('denied');
    });
  }

  it('are answered with the session, never recorded in the trace, and handed back with their counters across a restart', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const rt = await make({ atlases: [limited('agent')], storage: new JsonlStore({ dir, fsyncIntervalMs: 0 }) });
      const a = await rt.createSession({ agentId: 'shared-agent', goal: 'A', owner: 'tenant-a' });
      await a.resolve();
      expect([await write(a), await write(a)]).toEqual(['approved', 'approved']);
      expect((await a.trace())[0]!.payload).toEqual({ agent_id: 'shared-agent', goal: 'A' });
      expect(await a.info()).toMatchObject({ owner: 'tenant-a' });
      await rt.close();

      const owners = new Map([[a.id, 'tenant-a']]);
      const again = await make({
        atlases: [limited('agent')],
        // A second later (a restart), well inside the limit's minute.
        clock: testClock(T0_US + 1_000_000),
        ids: testIds('e0000000'),
        storage: new JsonlStore({ dir, fsyncIntervalMs: 0 }),
        ownerOf: (id) => owners.get(id),
      });
      expect((await again.listSessions({ owner: 'tenant-a' })).items.map((s) => s.session_id)).toEqual([a.id]);
      expect((await again.listSessions({ owner: 'tenant-b' })).items).toEqual([]);
      const a2 = await again.createSession({ agentId: 'shared-agent', goal: 'A again', owner: 'tenant-a' });
      await a2.resolve();
      expect(await write(a2)).toBe('denied'); // the restored session's two calls still count
      const b = await again.createSession({ agentId: 'shared-agent', goal: 'B', owner: 'tenant-b' });
      await b.resolve();
      expect(await write(b)).toBe('approved');
    } finally {
      await cleanup();
    }
  });

  it('without an owner, the session.started payload is what it always was', async () => {
    const rt = await make({ atlases: [limited('agent')] });
    const s = await rt.createSession({ agentId: 'agent', goal: 'plain' });
    expect((await s.trace())[0]!.payload).toEqual({ agent_id: 'agent', goal: 'plain' });
    expect(await s.info()).not.toHaveProperty('owner');
  });

  it.each([['', '/owner'], ['x'.repeat(201), '/owner'], [42, '/owner'], [{ deep: 1 }, '/owner']])('refuses owner %j', async (owner, path) => {
    const rt = await make({ atlases: [limited('agent')] });
    const err = await rejects(() => rt.createSession({ agentId: 'agent', goal: 'g', owner: owner as string }), 'invalid_request');
    expect(err.path).toBe(path);
    expect((await rt.listSessions()).items).toEqual([]);
  });
});
