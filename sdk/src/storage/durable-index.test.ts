/**
 * The session index of the JSONL store makes damage a trace file cannot reveal about itself visible on restart:
 * a cut tail (whatever happened beside it), a file that is gone, a line lost or repeated inside the chain. Real
 * files in a temp folder, real restarts of a runtime on the real core.
 */

import { appendFile, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonlRestarts } from '../../test/embedded.ts';
import { readJsonl, simpleAtlas } from '../../test/helpers.ts';
import type { EmbeddedRuntime } from '../runtime/runtime.ts';
import type { TraceEvent } from '../types.ts';
import { JsonlStore } from './jsonl.ts';

const simple = await simpleAtlas();
const INDEX = 'sessions.index.jsonl';

describe('the session index of a JSONL store', () => {
  const { folder, start, stop } = jsonlRestarts('d', { atlases: [simple], onCorruptTrace: 'skip' });
  const tracePath = (id: string) => join(folder.dir, `${id}.trace.jsonl`);
  const traceLines = async (id: string) => (await readFile(tracePath(id), 'utf8')).trimEnd().split('\n');
  const writeLines = (id: string, lines: string[]) => writeFile(tracePath(id), lines.map((l) => `${l}\n`).join(''));
  const indexLines = async () => (await readFile(join(folder.dir, INDEX), 'utf8')).split('\n').filter(Boolean);

  /** Two sessions with a few events each, synced and closed; answers them and the events of the first. */
  const recorded = async () => {
    const rt = await start();
    const damaged = await rt.createSession({ agentId: 'agent-d', goal: 'to be damaged' });
    await damaged.resolve();
    await damaged.end('completed');
    const intact = await rt.createSession({ agentId: 'agent-i', goal: 'left alone' });
    await intact.resolve();
    const events = await rt.trace(damaged.id);
    const intactEvents = await rt.trace(intact.id);
    await stop(rt);
    expect(events.length).toBeGreaterThanOrEqual(5);
    return { damaged: damaged.id, intact: intact.id, events, intactEvents };
  };

  /**
   * The first use of `id` finds the damage (start-up reads no trace); from then on every call answers
   * `storage_corrupt` naming `kind`, and the intact session is still served.
   */
  const refusedAs = async (rt: EmbeddedRuntime, id: string, kind: string, intact: string, intactEvents: TraceEvent[]) => {
    for (const call of [() => rt.getSession(id).then((s) => s.info()), () => rt.getSession(id), () => rt.trace(id), () => rt.verify(id)]) {
      await expect(call()).rejects.toMatchObject({
        code: 'storage_corrupt',
        message: expect.stringContaining(`(${kind})`),
        details: [expect.objectContaining({ session_id: id, kind })],
      });
    }
    expect(await rt.trace(intact)).toEqual(intactEvents);
    expect(await rt.verify(intact)).toEqual({ valid: true, length: intactEvents.length, head_hash: intactEvents.at(-1)!.event_hash });
    expect((await rt.listSessions()).items.map((s) => s.session_id)).toContain(intact);
  };

  it('a trace whose last line is deleted (its head file too, if any) is truncated, not a shorter valid session', async () => {
    const { damaged, intact, events, intactEvents } = await recorded();
    await rm(join(folder.dir, `${damaged}.head.json`), { force: true });
    await writeLines(damaged, (await traceLines(damaged)).slice(0, -1));

    const rt = await start();
    expect(rt.storageIssues).toEqual([]);
    await refusedAs(rt, damaged, 'truncated', intact, intactEvents);
    expect(rt.storageIssues).toEqual([
      expect.objectContaining({ session_id: damaged, kind: 'truncated', intact_events: events.length - 1, synced_events: events.length }),
    ]);
  });

  it('a session whose trace file is gone answers missing from its first use, with the length that was synced', async () => {
    const { damaged, intact, events, intactEvents } = await recorded();
    await rm(join(folder.dir, `${damaged}.head.json`), { force: true });
    await unlink(tracePath(damaged));

    const rt = await start();
    expect(rt.storageIssues).toEqual([]);
    await refusedAs(rt, damaged, 'missing', intact, intactEvents);
    expect(rt.storageIssues).toEqual([
      expect.objectContaining({ session_id: damaged, kind: 'missing', synced_events: events.length, location: tracePath(damaged) }),
    ]);
    // The id is not free for a new session: what was there is gone, not forgotten.
    await expect(rt.createSession({ agentId: 'x', goal: 'reuse', sessionId: damaged })).rejects.toMatchObject({ code: 'storage_corrupt' });
  });

  it('a line deleted in the middle is missing_events at the event after the gap', async () => {
    const { damaged, intact, intactEvents } = await recorded();
    const lines = await traceLines(damaged);
    await writeLines(damaged, [...lines.slice(0, 2), ...lines.slice(3)]);

    const rt = await start();
    expect(rt.storageIssues).toEqual([]);
    await refusedAs(rt, damaged, 'missing_events', intact, intactEvents);
    expect(rt.storageIssues).toEqual([
      expect.objectContaining({ session_id: damaged, kind: 'missing_events', intact_events: 2, message: expect.stringMatching(/sequence 2 is missing/) }),
    ]);
  });

  it('a line written twice is duplicated_events at the copy', async () => {
    const { damaged, intact, intactEvents } = await recorded();
    const lines = await traceLines(damaged);
    await writeLines(damaged, [...lines.slice(0, 4), lines[3]!, ...lines.slice(4)]);

    const rt = await start();
    expect(rt.storageIssues).toEqual([]);
    await refusedAs(rt, damaged, 'duplicated_events', intact, intactEvents);
    expect(rt.storageIssues).toEqual([
      expect.objectContaining({ session_id: damaged, kind: 'duplicated_events', intact_events: 4, message: expect.stringMatching(/duplicate.*sequence 3/) }),
    ]);
  });

  it('a torn last line of the index is ignored, reported nowhere, and cut before the next append', async () => {
    const { damaged, intact } = await recorded();
    const before = await indexLines();
    await appendFile(join(folder.dir, INDEX), '{"session_id":"'); // a crash while appending a line

    const rt = await start();
    expect(rt.storageIssues).toEqual([]);
    expect((await rt.listSessions()).items.map((s) => s.session_id).sort()).toEqual([damaged, intact].sort());
    await (await rt.getSession(intact)).end('completed');
    const after = await indexLines();
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.length).toBe(before.length + 1);
    expect(JSON.parse(after.at(-1)!)).toMatchObject({ session_id: intact, status: 'ended' });
    await stop(rt);
    expect((await start()).storageIssues).toEqual([]);
  });

  it('a folder of an earlier version (head files, no index) gets its index on open, with no issue', async () => {
    const { damaged, intact, events, intactEvents } = await recorded();
    // As an earlier version left it: a head file per synced session, no index.
    const text = await readFile(join(folder.dir, INDEX), 'utf8');
    await unlink(join(folder.dir, INDEX));
    const last = new Map(text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { session_id: string; length: number; head_hash: string }).map((e) => [e.session_id, e]));
    for (const [id, e] of last) await writeFile(join(folder.dir, `${id}.head.json`), JSON.stringify({ length: e.length, head_hash: e.head_hash }));

    const rt = await start();
    expect(rt.storageIssues).toEqual([]);
    expect(await rt.trace(damaged)).toEqual(events);
    expect(await rt.trace(intact)).toEqual(intactEvents);
    expect((await readdir(folder.dir)).sort()).toEqual([`${damaged}.trace.jsonl`, `${intact}.trace.jsonl`, INDEX].sort());
    const built = (await indexLines()).map((l) => JSON.parse(l));
    expect(built).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          session_id: damaged,
          length: events.length,
          head_hash: events.at(-1)!.event_hash,
          agent_id: 'agent-d',
          status: 'ended',
          created_at: events[0]!.timestamp,
          ended_at: events.at(-1)!.timestamp,
          last_event_at: events.at(-1)!.timestamp,
        }),
        expect.objectContaining({ session_id: intact, length: intactEvents.length, status: 'active' }),
      ]),
    );
    await stop(rt);
    // The heads it kept still hold: a deleted trace is now missing (found when it is read).
    await unlink(tracePath(damaged));
    const after = await start();
    await expect(after.trace(damaged)).rejects.toMatchObject({ code: 'storage_corrupt', details: [expect.objectContaining({ kind: 'missing' })] });
    expect(after.storageIssues).toEqual([expect.objectContaining({ session_id: damaged, kind: 'missing' })]);
  });

  it('an index of the previous version (heads without identity) is completed once from the traces, then listed whole', async () => {
    const { damaged, intact, events } = await recorded();
    // As the previous version wrote it: head, agent, status and last time only.
    const merged = new Map<string, Record<string, unknown>>();
    for (const l of await indexLines()) {
      const e = JSON.parse(l) as Record<string, unknown>;
      merged.set(e.session_id as string, { ...merged.get(e.session_id as string), ...e });
    }
    const earlier = [...merged.values()].map(({ session_id, length, head_hash, agent_id, status, last_event_at }) => ({ session_id, length, head_hash, agent_id, status, last_event_at }));
    await writeFile(join(folder.dir, INDEX), earlier.map((e) => `${JSON.stringify(e)}\n`).join(''));

    const rt = await start();
    expect(rt.storageIssues).toEqual([]);
    const listed = (await rt.listSessions()).items;
    expect(listed.map((s) => s.session_id)).toEqual([damaged, intact]);
    expect(listed[0]).toMatchObject({ goal: 'to be damaged', created_at: events[0]!.timestamp, status: 'ended', ended_at: events.at(-1)!.timestamp, trace_id: events[0]!.trace_id });
    expect(listed[1]).toMatchObject({ goal: 'left alone', status: 'active', ended_at: null });
    // Written back: the next start reads it from the index alone.
    expect((await indexLines()).map((l) => JSON.parse(l))).toEqual(expect.arrayContaining([expect.objectContaining({ session_id: damaged, goal: 'to be damaged' })]));
    expect(await rt.stats()).toMatchObject({ restores: 0 });
  });

  it('an index deleted while traces remain is rebuilt from them and reported (a cut end cannot be told that time)', async () => {
    const { damaged, intact, events, intactEvents } = await recorded();
    await unlink(join(folder.dir, INDEX));

    const rt = await start();
    expect(rt.storageIssues).toEqual([expect.objectContaining({ session_id: null, kind: 'index_missing', location: join(folder.dir, INDEX) })]);
    expect(await rt.trace(damaged)).toEqual(events);
    expect(await rt.trace(intact)).toEqual(intactEvents);
    await stop(rt);
    // Rebuilt: the next start is clean, and the heads it recorded hold again.
    expect((await start()).storageIssues).toEqual([]);
  });

  it('a new folder gets its index on first open, so that a later deletion can be told from an earlier version', async () => {
    await stop(await start());
    expect(await readdir(folder.dir)).toEqual([INDEX]);
  });

  it('compaction rewrites the index to one line per session, keeping the last state of each', async () => {
    const chain = await readJsonl('vectors/reference-branch-simple-resolve.trace.jsonl'); // 8 events
    // The store checks sequence continuity, not hashes: the same events serve under three session ids.
    const ids = ['20000000-0000-7000-8000-000000000001', '20000000-0000-7000-8000-000000000002', '20000000-0000-7000-8000-000000000003'];
    const as = (id: string, evs: TraceEvent[]) => evs.map((e) => ({ ...e, session_id: id }));
    const store = new JsonlStore({ dir: folder.dir, fsyncIntervalMs: 0, indexSlack: 4 });
    await store.open();
    for (let seq = 0; seq < chain.length; seq++) {
      for (const [n, id] of ids.entries()) {
        if (seq > chain.length - 1 - n) continue; // each session stops at another length
        await store.append(id, as(id, chain.slice(seq, seq + 1)));
        await store.sync(id);
      }
    }
    await store.close();
    const lines = (await indexLines()).map((l) => JSON.parse(l) as { session_id: string; length: number; head_hash: string });
    expect(lines.length).toBeLessThanOrEqual(2 * ids.length + 4); // 21 syncs, compacted on the way

    const reopened = new JsonlStore({ dir: folder.dir, fsyncIntervalMs: 0, indexSlack: 4 });
    const { traces, issues } = await reopened.check();
    expect(issues).toEqual([]);
    for (const [n, id] of ids.entries()) {
      const length = chain.length - n;
      expect(lines.filter((e) => e.session_id === id).at(-1)).toMatchObject({ length, head_hash: chain[length - 1]!.event_hash });
      expect(traces.find((t) => t.session_id === id)).toEqual({
        session_id: id,
        events: as(id, chain.slice(0, length)),
        synced_head: { length, head_hash: chain[length - 1]!.event_hash },
      });
    }
    await reopened.close();
    // Every session's last state survived: deleting any trace now is still noticed.
    await unlink(tracePath(ids[2]!));
    const { issues: after } = await new JsonlStore({ dir: folder.dir, fsyncIntervalMs: 0 }).check();
    expect(after).toEqual([expect.objectContaining({ session_id: ids[2], kind: 'missing', synced_events: chain.length - 2 })]);
  });
});
