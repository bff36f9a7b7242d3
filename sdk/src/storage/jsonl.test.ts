import { appendFile, mkdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readJsonl, tempDir } from '../../test/helpers.ts';
import { CraError } from '../errors.ts';
import type { TraceEvent } from '../types.ts';
import { createRuntime } from '../runtime/runtime.ts';
import { JsonlStore, parseTrace } from './jsonl.ts';
import { INDEX_FILE } from './jsonl-index.ts';

const chain = await readJsonl('vectors/reference-branch-simple-resolve.trace.jsonl'); // 8 events
const other = await readJsonl('vectors/reference-simple-resolve.trace.jsonl'); // 5 events, another session
const sid = chain[0]!.session_id;
const lines = (events: TraceEvent[]) => events.map((e) => `${JSON.stringify(e)}\n`).join('');

/** The session index lines of `id`, merged (the store's durable head of that session and what it recorded). */
const indexed = async (dir: string, id: string): Promise<Record<string, unknown> | undefined> => {
  const text = await readFile(join(dir, 'sessions.index.jsonl'), 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.session_id === id).reduce<Record<string, unknown> | undefined>((merged, e) => ({ ...merged, ...e }), undefined);
};

describe('JsonlStore', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const stores: JsonlStore[] = [];
  const make = (opts: Partial<ConstructorParameters<typeof JsonlStore>[0]> = {}) => {
    const s = new JsonlStore({ dir, fsyncIntervalMs: 0, ...opts });
    stores.push(s);
    return s;
  };
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close().catch(() => undefined);
    await cleanup();
  });

  it('appends events as JSONL, one file per session, and reads them back in order', async () => {
    const store = make();
    await store.open();
    // Not awaited one by one: appends of a session still land in call order.
    await Promise.all([store.append(sid, chain.slice(0, 3)), store.append(sid, chain.slice(3)), store.append(other[0]!.session_id, other)]);
    expect(await store.read(sid)).toEqual(chain);
    expect(await store.read(other[0]!.session_id)).toEqual(other);
    const text = await readFile(store.pathOf(sid), 'utf8');
    expect(text).toBe(lines(chain));
    expect(await store.read('11111111-1111-1111-1111-111111111111')).toEqual([]);
  });

  it('refuses a gap or an overlap in the sequence, writing nothing', async () => {
    const store = make();
    await store.open();
    await store.append(sid, chain.slice(0, 3));
    await expect(store.append(sid, chain.slice(4))).rejects.toMatchObject({ code: 'storage_failure' });
    await expect(store.append(sid, chain.slice(2))).rejects.toMatchObject({ code: 'storage_failure' });
    expect(await store.read(sid)).toEqual(chain.slice(0, 3));
    await store.append(sid, chain.slice(3));
    expect(await store.read(sid)).toEqual(chain);
  });

  it('refuses invalid session ids', async () => {
    const store = make();
    await expect(store.append('../etc/passwd', chain)).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(store.read('ABC')).rejects.toBeInstanceOf(CraError);
  });

  it('reopens what it wrote, with the head synced at session end', async () => {
    const first = make();
    await first.open();
    await first.append(sid, chain);
    await first.sync(sid, { release: true });
    expect(await indexed(dir, sid)).toMatchObject({ length: 8, head_hash: chain[7]!.event_hash });
    await first.close();

    const second = make();
    const { traces, issues } = await second.check();
    expect(issues).toEqual([]);
    expect(traces).toEqual([{ session_id: sid, events: chain, synced_head: { length: 8, head_hash: chain[7]!.event_hash } }]);
  });

  it('reports a torn last line and never accepts it, even when it parses', async () => {
    await writeFile(join(dir, `${sid}.trace.jsonl`), lines(chain.slice(0, 4)) + JSON.stringify(chain[4]).slice(0, 40));
    await writeFile(join(dir, `${other[0]!.session_id}.trace.jsonl`), lines(other).slice(0, -1)); // only the newline missing
    const store = make();
    const { traces, issues } = await store.check();
    expect(traces).toEqual([]);
    const torn = issues.find((i) => i.session_id === sid)!;
    expect(torn).toMatchObject({ kind: 'torn_line', line: 5, intact_events: 4 });
    expect(torn.location).toBe(store.pathOf(sid));
    expect(issues.find((i) => i.session_id === other[0]!.session_id)).toMatchObject({ kind: 'torn_line', line: 5 });
    // A damaged trace takes no more events and cannot be read as if it were whole.
    await expect(store.append(sid, chain.slice(4))).rejects.toMatchObject({ code: 'storage_corrupt' });
    await expect(store.read(sid)).rejects.toMatchObject({ code: 'storage_corrupt' });
  });

  it('reports a malformed line and events of another session', async () => {
    await writeFile(join(dir, `${sid}.trace.jsonl`), lines(chain.slice(0, 2)) + 'not json\n' + lines(chain.slice(2)));
    const foreign = '22222222-2222-2222-2222-222222222222';
    await writeFile(join(dir, `${foreign}.trace.jsonl`), lines(other));
    const { traces, issues } = await make().check();
    expect(traces).toEqual([]);
    expect(issues.find((i) => i.session_id === sid)).toMatchObject({ kind: 'malformed_line', line: 3, intact_events: 2 });
    expect(issues.find((i) => i.session_id === foreign)).toMatchObject({ kind: 'session_mismatch', line: 1 });
  });

  it('a file cut at a line boundary below its synced head is handed on with that head, and the runtime refuses it', async () => {
    const store = make();
    await store.open();
    await store.append(sid, chain);
    await store.sync(sid);
    await store.close();
    const cut = Buffer.byteLength(lines(chain.slice(0, 5)));
    await truncate(join(dir, `${sid}.trace.jsonl`), cut);
    const { traces, issues } = await make().check();
    expect(issues).toEqual([]);
    expect(traces).toEqual([{ session_id: sid, events: chain.slice(0, 5), synced_head: { length: chain.length, head_hash: chain.at(-1)!.event_hash } }]);
    const reopened = make();
    expect((await reopened.open()).sessions).toEqual([expect.objectContaining({ session_id: sid, length: chain.length })]);
    await reopened.close();
    const rt = await createRuntime({ storage: make() });
    await expect(rt.trace(sid)).rejects.toMatchObject({ code: 'storage_corrupt' });
    expect(rt.storageIssues).toEqual([expect.objectContaining({ session_id: sid, kind: 'truncated', intact_events: 5 })]);
    await rt.close();
  });

  it('events written after the last sync are kept (the chain extends the synced head)', async () => {
    const store = make();
    await store.open();
    await store.append(sid, chain.slice(0, 3));
    await store.sync(sid);
    await store.append(sid, chain.slice(3)); // not synced: a crash now keeps these in the page cache
    const reopened = make();
    const { traces, issues } = await reopened.check();
    expect(issues).toEqual([]);
    expect(traces[0]!.events).toEqual(chain);
    expect(traces[0]!.synced_head).toEqual({ length: 3, head_hash: chain[2]!.event_hash });
  });

  it('repair() cuts a torn tail explicitly, keeping every complete event', async () => {
    const path = join(dir, `${sid}.trace.jsonl`);
    await writeFile(join(dir, INDEX_FILE), ''); // a folder this version has opened (else the missing index is reported too)
    await writeFile(path, lines(chain.slice(0, 6)) + '{"trace_version":"1.0","ev');
    const store = make();
    expect((await store.open()).issues).toHaveLength(1);
    const result = await store.repair(sid);
    expect(result).toEqual({ events: 6, removedBytes: 26 });
    expect(await readFile(path, 'utf8')).toBe(lines(chain.slice(0, 6)));
    await store.append(sid, chain.slice(6));
    expect(await store.read(sid)).toEqual(chain);
  });

  it('repair() refuses damage that is not a torn tail', async () => {
    await writeFile(join(dir, `${sid}.trace.jsonl`), lines(chain.slice(0, 2)) + '{oops}\n' + lines(chain.slice(2)));
    const store = make();
    await store.open();
    await expect(store.repair(sid)).rejects.toMatchObject({ code: 'storage_corrupt' });
  });

  it('never appends a new session to a file that already exists', async () => {
    const store = make();
    await store.open(); // the folder is empty now
    await writeFile(join(dir, `${sid}.trace.jsonl`), lines(chain)); // appears afterwards (another writer)
    await expect(store.append(sid, chain.slice(0, 1))).rejects.toMatchObject({ code: 'storage_failure' });
    expect(await readFile(join(dir, `${sid}.trace.jsonl`), 'utf8')).toBe(lines(chain));
  });

  it('syncs on its interval: the synced head appears without an explicit sync', async () => {
    const store = make({ fsyncIntervalMs: 20 });
    await store.open();
    await store.append(sid, chain.slice(0, 4));
    await vi.waitFor(async () => {
      expect(await indexed(dir, sid)).toMatchObject({ length: 4, head_hash: chain[3]!.event_hash });
    });
  });

  it('with the interval off, nothing is synced until sync() or close()', async () => {
    const store = make({ fsyncIntervalMs: 0 });
    await store.open();
    await store.append(sid, chain);
    await new Promise((r) => setTimeout(r, 30));
    expect(await indexed(dir, sid)).toBeUndefined();
    await store.close();
    expect(await indexed(dir, sid)).toMatchObject({ length: chain.length });
  });

  it('keeps at most maxOpenFiles open and reopens evicted files for appending', async () => {
    const store = make({ maxOpenFiles: 1 });
    await store.open();
    const ids = ['10000000-0000-7000-8000-000000000001', '10000000-0000-7000-8000-000000000002', '10000000-0000-7000-8000-000000000003'];
    // Same events under three session ids: the store checks sequence continuity, not hashes.
    const as = (id: string, evs: TraceEvent[]) => evs.map((e) => ({ ...e, session_id: id }));
    for (const id of ids) await store.append(id, as(id, chain.slice(0, 4)));
    for (const id of ids) await store.append(id, as(id, chain.slice(4)));
    for (const id of ids) expect(await store.read(id)).toEqual(as(id, chain));
  });

  it('rejects bad options', () => {
    expect(() => new JsonlStore({ dir: '' })).toThrow(expect.objectContaining({ code: 'invalid_request', path: '/dir' }));
    expect(() => new JsonlStore({ dir, fsyncIntervalMs: -5 })).toThrow(expect.objectContaining({ path: '/fsyncIntervalMs' }));
  });

  it('ignores files that are not traces', async () => {
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'notes.txt'), 'hello');
    await writeFile(join(dir, INDEX_FILE), '');
    await appendFile(join(dir, `${sid}.trace.jsonl`), lines(chain));
    const { traces, issues } = await make().check();
    expect(issues).toEqual([]);
    expect(traces.map((t) => t.session_id)).toEqual([sid]);
  });
});

describe('parseTrace', () => {
  it('parses complete lines and reports the first bad one', () => {
    expect(parseTrace(lines(chain), sid).issue).toBeNull();
    expect(parseTrace('', sid)).toEqual({ events: [], size: 0, issue: null });
    const bad = parseTrace(`${lines(chain.slice(0, 1))}\n`, sid);
    expect(bad.issue).toMatchObject({ kind: 'malformed_line', line: 2 });
    expect(bad.size).toBe(Buffer.byteLength(lines(chain.slice(0, 1))));
  });
});
