/**
 * Sessions leave the core and come back without changing anything: the same calls give the same decisions and
 * byte-identical traces whether every session stays live or every session leaves the core after every call (and
 * is restored from its JSONL trace on the next). Rate limits of every scope, budgets of calls and of cost, an
 * approval gate and host events are all in play, across two owners. Start-up reads no trace, listing restores none,
 * and an ended session leaves the core at once.
 */

import { describe, expect, it } from 'vitest';
import { T0_US, tempDir, testClock, testIds } from '../../test/helpers.ts';
import { JsonlStore } from '../storage/jsonl.ts';
import type { TraceStore } from '../storage/store.ts';
import type { AtlasManifest, Execution } from '../types.ts';
import { createRuntime, type EmbeddedRuntime, type RuntimeOptions } from './runtime.ts';

const limit = (id: string, scope: 'session' | 'agent' | 'global', max: number) => ({
  policy_id: id,
  type: 'rate_limit' as const,
  actions: ['note.write'],
  parameters: { max_calls: max, window_seconds: 60, scope },
});

/** Notes under limits of every scope and a calls budget; a paid call behind an approval and a cost budget. */
const atlas: AtlasManifest = {
  atlas_version: '1.0',
  atlas_id: 'org.test.evict',
  version: '1.0.0',
  name: 'Eviction',
  description: 'Every kind of counted state',
  actions: [
    { action_id: 'note.write', name: 'Write', description: 'Write a note', parameters_schema: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } } },
    { action_id: 'note.read', name: 'Read', description: 'Read a note' },
    { action_id: 'llm.call', name: 'Call', description: 'A paid call', parameters_schema: { type: 'object', required: ['tokens'], properties: { tokens: { type: 'number' } } } },
  ],
  policies: [
    limit('per-session', 'session', 3),
    limit('per-agent', 'agent', 4),
    limit('per-owner', 'global', 5),
    { policy_id: 'writes', type: 'budget', actions: ['note.write'], parameters: { max_calls: 6 } },
    { policy_id: 'gate', type: 'require_approval', actions: ['llm.call'] },
    { policy_id: 'spend', type: 'budget', actions: ['llm.call'], parameters: { max_cost: 100, cost_param: 'tokens' } },
    { policy_id: 'open', type: 'allow', actions: ['note.*', 'llm.*'] },
  ],
};

interface Run {
  decisions: string[];
  traces: string[];
  stats: Awaited<ReturnType<EmbeddedRuntime['stats']>>;
}

/** The script: three sessions (two of one owner), every call's answer reduced to what it decided. */
async function script(options: RuntimeOptions, between: (rt: EmbeddedRuntime) => void): Promise<Run> {
  const { dir, cleanup } = await tempDir();
  try {
    const rt = await createRuntime({
      clock: testClock(T0_US, 250_000), // a quarter of a second per reading: windows move during the script
      ids: testIds('e1000000'),
      atlases: [atlas],
      storage: new JsonlStore({ dir, fsyncIntervalMs: 0 }),
      ...options,
    });
    const decisions: string[] = [];
    const note = (label: string, x: Execution | { status: string; details?: unknown }) => decisions.push(`${label}:${x.status}:${JSON.stringify((x as Execution).details ?? null)}`);
    const step = async <T>(label: string, call: () => Promise<T>): Promise<T | undefined> => {
      try {
        const out = await call();
        between(rt);
        return out;
      } catch (err) {
        decisions.push(`${label}:error:${(err as { code?: string }).code}`);
        between(rt);
        return undefined;
      }
    };
    const a1 = (await step('a1', () => rt.createSession({ agentId: 'bot', goal: 'A1', owner: 'tenant-a' })))!;
    const a2 = (await step('a2', () => rt.createSession({ agentId: 'bot', goal: 'A2', owner: 'tenant-a' })))!;
    const b = (await step('b', () => rt.createSession({ agentId: 'bot', goal: 'B', owner: 'tenant-b' })))!;
    for (const s of [a1, a2, b]) await step('resolve', () => s.resolve());
    const write = async (label: string, s: typeof a1) => {
      const x = await step(label, () => s.requestAction({ actionId: 'note.write', parameters: { text: label } }));
      if (x) note(label, x);
      if (x?.status === 'approved') await step(`${label}.complete`, () => s.complete(x, { result: { ok: true } }));
    };
    // Session, agent, global windows and the calls budget, in turn.
    for (let i = 0; i < 4; i++) await write(`a1.w${i}`, a1);
    for (let i = 0; i < 3; i++) await write(`a2.w${i}`, a2);
    for (let i = 0; i < 2; i++) await write(`b.w${i}`, b);
    decisions.push(`check:${(await step('check', () => a2.check('note.write')))?.result}`);
    await step('record', () => a2.record('error.occurred', { code: 'e', message: 'host event' }));
    // The approval gate and the cost budget: two pending calls that together overspend.
    const p1 = await step('p1', () => b.requestAction({ actionId: 'llm.call', parameters: { tokens: 70 } }));
    const p2 = await step('p2', () => b.requestAction({ actionId: 'llm.call', parameters: { tokens: 60 } }));
    for (const [label, x] of [['p1', p1], ['p2', p2]] as const) if (x) note(label, x);
    if (p1) note('p1.approve', (await step('p1.approve', () => b.approve(p1)))!);
    if (p2) note('p2.approve', (await step('p2.approve', () => b.approve(p2)))!);
    // Later: the minute passes for some windows, an ended session's approvals still count for its agent.
    await step('a1.end', () => a1.end('completed'));
    for (let i = 0; i < 2; i++) await write(`a2.late${i}`, a2);
    await write('a1.after-end', a1);
    const a3 = (await step('a3', () => rt.createSession({ agentId: 'bot', goal: 'A3', owner: 'tenant-a' })))!;
    await step('a3.resolve', () => a3.resolve());
    await write('a3.w0', a3);
    for (const s of [a2, b, a3]) await step('end', () => s.end('completed'));
    const traces: string[] = [];
    for (const s of [a1, a2, b, a3]) traces.push(JSON.stringify(await rt.trace(s.id)));
    const stats = await rt.stats();
    await rt.close();
    return { decisions, traces, stats };
  } finally {
    await cleanup();
  }
}

/** A store's methods bound to it (to wrap one of them). */
const bind = (store: JsonlStore): TraceStore => ({
  open: () => store.open(),
  append: (id, events) => store.append(id, events),
  read: (id) => store.read(id),
  readText: (id) => store.readText(id),
  sync: (id, o) => store.sync(id, o),
  close: () => store.close(),
});

describe('sessions leaving the core', () => {
  it('give the same decisions and byte-identical traces whether they stay live or leave after every call', async () => {
    const live = await script({ sessions: { maxLiveSessions: 100, idleSeconds: 3600 } }, () => undefined);
    const evicted = await script({ sessions: { maxLiveSessions: 1, idleSeconds: 0 } }, (rt) => rt.evictSessions());
    expect(evicted.decisions).toEqual(live.decisions);
    expect(evicted.traces).toEqual(live.traces);
    // The script reaches every limit, so the comparison means something.
    const said = live.decisions.join('\n');
    for (const code of ['rate_limited', 'budget_exhausted', 'pending_approval', 'session_ended']) expect(said).toContain(code);
    // Without the evictions nothing was restored; with them, nearly every call restored its session.
    // (a1 is used once after it ended: one restore without evictions.)
    expect(live.stats).toMatchObject({ restores: 1, known_sessions: 4, sessions: 0 });
    expect(evicted.stats.restores).toBeGreaterThan(20);
    expect(evicted.stats.evictions).toBeGreaterThan(20);
  }, 60_000);

  it('start-up reads no trace; listing restores nothing; a session is restored on first use and leaves when it ends', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const clock = testClock();
      const first = await createRuntime({ clock, ids: testIds('e2000000'), atlases: [atlas], storage: new JsonlStore({ dir, fsyncIntervalMs: 0 }) });
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const s = await first.createSession({ agentId: i % 2 ? 'odd' : 'even', goal: `g${i}` });
        await s.resolve();
        if (i < 3) await s.end('completed');
        ids.push(s.id);
      }
      expect(await first.stats()).toMatchObject({ sessions: 2, known_sessions: 5 }); // ended ones left at once
      await first.close();

      const reads: string[] = [];
      const store = new JsonlStore({ dir, fsyncIntervalMs: 0 });
      const counting: TraceStore = {
        open: () => store.open(),
        append: (id, events) => store.append(id, events),
        read: (id) => (reads.push(id), store.read(id)),
        readText: (id) => (reads.push(id), store.readText(id)),
        sync: (id, o) => store.sync(id, o),
        close: () => store.close(),
      };
      // Two minutes later: no session was active within the atlas's longest shared window (a minute), so start-up
      // reads no trace at all. (Within it, it reads those sessions' traces: see the next test.)
      clock.advance(120_000_000);
      const rt = await createRuntime({ clock, ids: testIds('e3000000'), atlases: [atlas], storage: counting });
      expect(reads).toEqual([]);
      expect(await rt.stats()).toMatchObject({ sessions: 0, known_sessions: 5, restores: 0 });

      const page = await rt.listSessions({ status: 'active', limit: 1, order: 'newest' });
      expect(page).toEqual({ total: 2, items: [expect.objectContaining({ session_id: ids[4], status: 'active', agent_id: 'even', goal: 'g4', event_count: 4 })] });
      expect((await rt.listSessions({ agentId: 'odd' })).items.map((s) => s.session_id)).toEqual([ids[1], ids[3]]);
      expect((await rt.listSessions({ offset: 1, limit: 2 })).items.map((s) => s.session_id)).toEqual([ids[1], ids[2]]);
      expect((await rt.listSessions({ status: 'ended' })).total).toBe(3);
      await expect(rt.listSessions({ limit: 0 })).rejects.toMatchObject({ code: 'invalid_request', path: '/limit' });
      await expect(rt.listSessions({ agent_id: 'odd' } as never)).rejects.toMatchObject({ code: 'invalid_request', path: '/agent_id' });
      expect(reads).toEqual([]);

      // A handle reads nothing; the first use restores; an ended session answers and leaves the core again.
      const active = await rt.getSession(ids[4]!);
      expect(reads).toEqual([]);
      expect(await active.check('note.read')).toMatchObject({ result: 'allow' });
      expect(reads).toEqual([ids[4]]);
      expect((await (await rt.getSession(ids[0]!)).info()).status).toBe('ended');
      expect(await rt.stats()).toMatchObject({ sessions: 1, restores: 2 });
      // trace, verify and replay read the store and bring nothing back.
      expect((await rt.verify(ids[1]!)).valid).toBe(true);
      expect((await rt.replay(ids[1]!)).identical).toBe(true);
      expect(await rt.stats()).toMatchObject({ sessions: 1, restores: 2 });
      await active.end('completed');
      expect(await rt.stats()).toMatchObject({ sessions: 0 });
      await rt.close();
    } finally {
      await cleanup();
    }
  });

  it('a fresh runtime reads the sessions active within the longest shared window, and only those', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const clock = testClock();
      const first = await createRuntime({ clock, ids: testIds('e5000000'), atlases: [atlas], storage: new JsonlStore({ dir, fsyncIntervalMs: 0 }) });
      const old = await first.createSession({ agentId: 'bot', goal: 'old' });
      await old.resolve();
      clock.advance(90_000_000); // past the minute of the shared windows
      const recent = await first.createSession({ agentId: 'bot', goal: 'recent' });
      await recent.resolve();
      for (let i = 0; i < 3; i++) await recent.requestAction({ actionId: 'note.write', parameters: { text: `${i}` } });
      await first.close();

      const reads: string[] = [];
      const store = new JsonlStore({ dir, fsyncIntervalMs: 0 });
      const rt = await createRuntime({
        clock,
        ids: testIds('e6000000'),
        atlases: [atlas],
        storage: { ...bind(store), readText: (id: string) => (reads.push(id), store.readText(id)) },
      });
      expect(reads).toEqual([recent.id]);
      expect(await rt.stats()).toMatchObject({ sessions: 0, shared_window_seconds: 60 });
      // Its three writes still count for its agent (4 a minute): a new session of the same agent has one left.
      const next = await rt.createSession({ agentId: 'bot', goal: 'next' });
      await next.resolve();
      expect(await next.requestAction({ actionId: 'note.write', parameters: { text: 'x' } })).toMatchObject({ status: 'approved' });
      expect(await next.requestAction({ actionId: 'note.write', parameters: { text: 'y' } })).toMatchObject({ status: 'denied', details: { code: 'rate_limited', policy_id: 'per-agent' } });
      await rt.close();
    } finally {
      await cleanup();
    }
  });

  it('idle sessions leave after idleSeconds, the least recently used first beyond maxLiveSessions', async () => {
    const clock = testClock();
    const rt = await createRuntime({ clock, ids: testIds('e4000000'), atlases: [atlas], sessions: { maxLiveSessions: 2, idleSeconds: 60 } });
    try {
      const [s1, s2, s3] = [await rt.createSession({ agentId: 'x', goal: '1' }), await rt.createSession({ agentId: 'x', goal: '2' }), await rt.createSession({ agentId: 'x', goal: '3' })];
      expect(await rt.stats()).toMatchObject({ sessions: 2, evictions: 1 }); // s1, the least recently used, left
      await s1.resolve(); // restored; s2 leaves now
      expect(await rt.stats()).toMatchObject({ sessions: 2, evictions: 2, restores: 1 });
      clock.advance(61_000_000);
      await s3.resolve(); // s1 was idle past a minute
      expect(await rt.stats()).toMatchObject({ sessions: 1, evictions: 3 });

      expect((await s2.info()).event_count).toBe(1); // state intact
      await expect(rt.createSession({ agentId: 'x', goal: 'again', sessionId: s1.id })).rejects.toMatchObject({ code: 'session_exists' });
    } finally {
      await rt.close();
    }
  });

  it('a session restored for waiting calls stays until they ran, however tight the cap', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const rt = await createRuntime({ ids: testIds('e7000000'), atlases: [atlas], storage: new JsonlStore({ dir, fsyncIntervalMs: 0 }), sessions: { maxLiveSessions: 1 } });
      const sessions: Array<Awaited<ReturnType<typeof rt.createSession>>> = [];
      for (let i = 0; i < 4; i++) {
        const s = await rt.createSession({ agentId: `a${i}`, goal: `g${i}` });
        await s.resolve();
        sessions.push(s);
      }
      // Calls on four sessions at once, with room for one in the core: each is restored, used, and pushed out.
      for (let round = 0; round < 5; round++) {
        const answers = await Promise.all(
          sessions.flatMap((s, i) => [
            s.check('note.read').then((x) => x.result),
            s.requestAction({ actionId: 'note.read', parameters: {} }).then((x) => x.status),
            (i % 2 ? s.info() : sessions[(i + 1) % 4]!.info()).then((x) => x.status),
          ]),
        );
        expect(answers).toEqual(Array(4).fill(['allow', 'approved', 'active']).flat());
      }
      expect((await rt.stats()).sessions).toBeLessThanOrEqual(1);
      await rt.close();
    } finally {
      await cleanup();
    }
  });

  it('refuses residency options of the wrong shape', async () => {
    for (const [sessions, path] of [
      [{ maxLiveSessions: 0 }, '/sessions/maxLiveSessions'],
      [{ idleSeconds: -1 }, '/sessions/idleSeconds'],
      [{ maxLiveSession: 5 }, '/sessions/maxLiveSession'],
      ['many', '/sessions'],
    ] as const) {
      await expect(createRuntime({ sessions: sessions as never })).rejects.toMatchObject({ code: 'invalid_request', path });
    }
  });
});
