/**
 * Sessions survive a restart of the process: a new runtime on the same JSONL folder knows them from the session index
 * and restores each when it is used, chain intact; damage is found then, and the session answers why.
 */

import { appendFile, readFile, readdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonlRestarts } from '../../test/embedded.ts';
import { notesAtlas, simpleAtlas } from '../../test/helpers.ts';
import { CraError } from '../errors.ts';
import type { TraceEvent } from '../types.ts';
import { JsonlStore } from './jsonl.ts';

const simple = await simpleAtlas();

/** The session index lines of `id`, merged (the store's durable head of that session and what it recorded). */
const indexed = async (dir: string, id: string): Promise<Record<string, unknown> | undefined> => {
  const text = await readFile(join(dir, 'sessions.index.jsonl'), 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.session_id === id).reduce<Record<string, unknown> | undefined>((merged, e) => ({ ...merged, ...e }), undefined);
};

describe('restart with a JSONL store', () => {
  const { folder, start, abandon } = jsonlRestarts('b', { atlases: [simple, notesAtlas()] });
  const lines = async (sessionId: string) => (await readFile(join(folder.dir, `${sessionId}.trace.jsonl`), 'utf8')).trimEnd().split('\n');

  it('restores sessions with their chains, resolutions and limits, and continues them', async () => {
    const first = await start();
    const session = await first.createSession({ agentId: 'agent-1', goal: 'Work on notes' });
    const resolution = await session.resolve({ atlasIds: ['org.test.notes'] });
    for (const text of ['a', 'b']) {
      const ex = await session.requestAction({ actionId: 'note.write', parameters: { text } });
      await session.complete(ex);
    }
    const ended = await first.createSession({ agentId: 'agent-2', goal: 'Done already' });
    await ended.end('completed');
    const before = await first.trace(session.id);
    await first.close(); // a clean stop; a crash is below

    const second = await start();
    expect(second.storageIssues).toEqual([]);
    const again = await second.getSession(session.id);
    expect(again.agentId).toBe('agent-1');
    expect(await again.trace()).toEqual(before);
    expect(await second.verify(session.id)).toEqual({ valid: true, length: before.length, head_hash: before.at(-1)!.event_hash });
    expect(await again.info()).toMatchObject({ status: 'active', event_count: before.length, head_hash: before.at(-1)!.event_hash });
    expect((await (await second.getSession(ended.id)).info()).status).toBe('ended');

    // The restored resolution still governs: the rate limit counted before the restart still applies.
    expect(await again.check('note.read')).toMatchObject({ result: 'allow' });
    expect(await again.check('note.write')).toMatchObject({ result: 'rate_limited' });
    const third = await again.requestAction({ actionId: 'note.write', parameters: { text: 'c' } });
    expect(third.status).toBe('denied');
    expect(third.resolution_id).toBe(resolution.resolution_id);

    const read = await again.requestAction({ actionId: 'note.read', parameters: { id: 'n1' } });
    expect(read.status).toBe('approved');
    await again.end('completed');
    const after = await second.trace(session.id);
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after[before.length]!.previous_event_hash).toBe(before.at(-1)!.event_hash);
    expect((await lines(session.id)).map((l) => JSON.parse(l) as TraceEvent)).toEqual(after);
    expect(await indexed(folder.dir, session.id)).toMatchObject({ length: after.length, head_hash: after.at(-1)!.event_hash, agent_id: 'agent-1', status: 'ended' });
  });

  it('survives a crash without close(): what reached the file is restored', async () => {
    const first = await start();
    const session = await first.createSession({ agentId: 'agent-1', goal: 'g' });
    await session.resolve({ atlasIds: ['com.cra.conformance.simple'] });
    const before = await first.trace(session.id);
    abandon(first); // never closed: as if the process died

    const second = await start();
    expect(await (await second.getSession(session.id)).trace()).toEqual(before);
    expect(await (await second.getSession(session.id)).check('resource.get')).toMatchObject({ result: 'allow' });
  });

  it('a torn last line is found when its session is used, and is never silently accepted', async () => {
    const first = await start();
    const good = await first.createSession({ agentId: 'a', goal: 'good' });
    const torn = await first.createSession({ agentId: 'b', goal: 'torn' });
    await torn.resolve();
    const intact = (await torn.trace()).length;
    await first.close();
    const path = join(folder.dir, `${torn.id}.trace.jsonl`);
    await appendFile(path, '{"trace_version":"1.0","event_id":"c0ffee'); // the process died mid-write

    // Start-up reads no trace: the damage is found when the session is used, and the session answers why.
    const rt = await start();
    expect(rt.storageIssues).toEqual([]);
    const err = await (await rt.getSession(torn.id)).info().then(
      () => null,
      (e: unknown) => e as CraError,
    );
    expect(err).toBeInstanceOf(CraError);
    expect(err!.code).toBe('storage_corrupt');
    expect(err!.details).toEqual([expect.objectContaining({ session_id: torn.id, kind: 'torn_line', line: intact + 1, intact_events: intact })]);
    expect(rt.storageIssues).toEqual([expect.objectContaining({ session_id: torn.id, kind: 'torn_line' })]);
    await expect(rt.getSession(torn.id)).rejects.toMatchObject({ code: 'storage_corrupt', details: [expect.objectContaining({ kind: 'torn_line' })] });
    await expect(rt.trace(torn.id)).rejects.toMatchObject({ code: 'storage_corrupt' });
    expect((await (await rt.getSession(good.id)).info()).session_id).toBe(good.id);
    await expect(rt.createSession({ agentId: 'b', goal: 'again', sessionId: torn.id })).rejects.toBeInstanceOf(CraError);
    await rt.close();

    // A full check of the folder finds it without any session being used.
    const checker = new JsonlStore({ dir: folder.dir, fsyncIntervalMs: 0 });
    expect((await checker.check()).issues).toEqual([expect.objectContaining({ session_id: torn.id, kind: 'torn_line' })]);
    await checker.close();

    // Cutting the torn tail is an explicit act; afterwards the session restores.
    const store = new JsonlStore({ dir: folder.dir, fsyncIntervalMs: 0 });
    expect(await store.repair(torn.id)).toMatchObject({ events: intact });
    await store.close();
    const repaired = await start();
    expect(await (await repaired.getSession(torn.id)).trace()).toHaveLength(intact);
    expect((await repaired.verify(torn.id)).valid).toBe(true);
  });

  it('reports a tampered event and a file cut below its synced head', async () => {
    const first = await start();
    const tampered = await first.createSession({ agentId: 'a', goal: 'tampered' });
    await tampered.resolve();
    const cut = await first.createSession({ agentId: 'b', goal: 'cut' });
    await cut.resolve();
    await cut.end('completed');
    await first.close();

    const path = join(folder.dir, `${tampered.id}.trace.jsonl`);
    const text = await readFile(path, 'utf8');
    await writeFile(path, text.replace('"goal":"tampered"', '"goal":"innocent"'));
    const cutLines = await lines(cut.id);
    await truncate(join(folder.dir, `${cut.id}.trace.jsonl`), Buffer.byteLength(cutLines.slice(0, 3).join('\n') + '\n'));

    const rt = await start();
    expect(rt.storageIssues).toEqual([]);
    for (const id of [tampered.id, cut.id]) await expect((await rt.getSession(id)).resolve()).rejects.toMatchObject({ code: 'storage_corrupt' });
    const issues = [...rt.storageIssues].sort((a, b) => (a.kind < b.kind ? -1 : 1));
    expect(issues).toEqual([
      expect.objectContaining({ session_id: tampered.id, kind: 'invalid_chain', message: expect.stringMatching(/hash_mismatch/) }),
      expect.objectContaining({ session_id: cut.id, kind: 'truncated' }),
    ]);
    // Still listed (the index knows them); every use answers why.
    expect((await rt.listSessions()).items.map((s) => s.session_id).sort()).toEqual([tampered.id, cut.id].sort());
  });

  it('a trace cut below its synced head stays refused: its head is never lowered, its session answers why', async () => {
    const first = await start();
    const cut = await first.createSession({ agentId: 'b', goal: 'cut' });
    await cut.resolve();
    await cut.end('completed');
    await first.close();
    const head = await indexed(folder.dir, cut.id);
    expect(head?.length).toBe((await lines(cut.id)).length);
    const kept = await lines(cut.id);
    await truncate(join(folder.dir, `${cut.id}.trace.jsonl`), Buffer.byteLength(kept.slice(0, 3).join('\n') + '\n'));

    for (let round = 0; round < 2; round++) {
      const rt = await start({ storage: new JsonlStore({ dir: folder.dir, fsyncIntervalMs: 5 }) });
      const uses = [() => rt.trace(cut.id), () => rt.verify(cut.id), () => rt.replay(cut.id), () => rt.getSession(cut.id).then((s) => s.info())];
      for (const call of round === 0 ? uses : uses.reverse()) {
        await expect(call()).rejects.toMatchObject({ code: 'storage_corrupt', details: [expect.objectContaining({ kind: 'truncated' })] });
      }
      expect(rt.storageIssues).toEqual([expect.objectContaining({ session_id: cut.id, kind: 'truncated', intact_events: 3 })]);
      await new Promise((r) => setTimeout(r, 20)); // the store's sync timer runs
      await rt.close();
      expect(await indexed(folder.dir, cut.id)).toEqual(head);
    }
  });

  it('repair refuses to cut a torn line when the cut would go below the synced head', async () => {
    const first = await start();
    const s = await first.createSession({ agentId: 'b', goal: 'torn below the head' });
    await s.resolve();
    await s.end('completed');
    await first.close();
    const path = join(folder.dir, `${s.id}.trace.jsonl`);
    const text = await readFile(path, 'utf8');
    await writeFile(path, text.slice(0, text.length - 20));
    await expect(new JsonlStore({ dir: folder.dir }).repair(s.id)).rejects.toMatchObject({
      code: 'storage_corrupt',
      details: [expect.objectContaining({ kind: 'truncated' })],
    });
    expect((await readFile(path, 'utf8')).length).toBe(text.length - 20);
  });

  it('writes one file per session and nothing else beside the session index', async () => {
    const rt = await start();
    const a = await rt.createSession({ agentId: 'a', goal: 'g' });
    const b = await rt.createSession({ agentId: 'b', goal: 'g' });
    await a.end();
    await b.end();
    expect((await readdir(folder.dir)).sort()).toEqual(
      [`${a.id}.trace.jsonl`, `${b.id}.trace.jsonl`, 'sessions.index.jsonl'].sort(),
    );
  });
});
