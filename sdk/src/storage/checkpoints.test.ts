/**
 * Signed checkpoints kept beside each trace: `MemoryStore` and `JsonlStore` (both durabilities) keep them in call
 * order, per session, and the JSONL store orders them after the events they cover. Real files in temporary folders;
 * writes and fdatasyncs are observed (and made to fail) by wrapping the `FileHandle` methods the store calls.
 */

import { fstatSync } from 'node:fs';
import { appendFile, mkdir, open, readFile, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readJsonl, tempDir } from '../../test/helpers.ts';
import { JsonlStore, type JsonlDurability } from './jsonl.ts';
import { MemoryStore } from './memory.ts';
import { MAX_NOTE_BYTES, type TraceStore } from './store.ts';

const chain = await readJsonl('vectors/reference-branch-simple-resolve.trace.jsonl'); // 8 events
const other = await readJsonl('vectors/reference-simple-resolve.trace.jsonl'); // another session
const sid = chain[0]!.session_id;
const oid = other[0]!.session_id;
const unknown = '11111111-1111-1111-1111-111111111111';

/** A note shaped as the runtime signs them: several lines, each ended by a newline, non-ASCII in the signature. */
const note = (id: string, size: number) => `cra/${id}\n${size}\nq6Zk${size}Q0VTVA==\ntime 2026-01-02T03:04:05Z\n\n\u2014 cra AbCd${size}==\n`;

const probe = await open(new URL(import.meta.url), 'r');
const FileHandleProto = Object.getPrototypeOf(probe) as FileHandle;
await probe.close();
const realWrite = FileHandleProto.write;
const realDatasync = FileHandleProto.datasync;

/**
 * Logs every write and fdatasync with the file it went to (by inode, read from the descriptor when the call is
 * made, so that the log is in call order); `failDatasync` fails that many fdatasyncs of files named in `failOn`.
 */
function watchFiles(options: { failDatasync?: number; failOn?: () => Promise<number> } = {}) {
  const log: { op: 'write' | 'datasync'; ino: number }[] = [];
  let failing = options.failDatasync ?? 0;
  vi.spyOn(FileHandleProto, 'write').mockImplementation(function (this: FileHandle, ...args: unknown[]) {
    log.push({ op: 'write', ino: fstatSync(this.fd).ino });
    return (realWrite as (...a: unknown[]) => unknown).apply(this, args) as never;
  });
  vi.spyOn(FileHandleProto, 'datasync').mockImplementation(async function (this: FileHandle) {
    const ino = fstatSync(this.fd).ino;
    log.push({ op: 'datasync', ino });
    if (failing > 0 && options.failOn && (await options.failOn()) === ino) {
      failing--;
      throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    }
    await realDatasync.call(this);
  });
  return log;
}

const inode = async (path: string) => (await stat(path)).ino;

describe('MemoryStore checkpoints', () => {
  it('keeps each session’s checkpoints in call order and hands out copies', async () => {
    const store: TraceStore = new MemoryStore();
    expect(await store.readCheckpoints!(sid)).toEqual([]);
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.appendCheckpoint!(sid, note(sid, i))));
    await store.appendCheckpoint!(oid, note(oid, 1));
    const read = await store.readCheckpoints!(sid);
    expect(read).toEqual(Array.from({ length: 20 }, (_, i) => note(sid, i)));
    read.pop();
    expect(await store.readCheckpoints!(sid)).toHaveLength(20);
    expect(await store.readCheckpoints!(oid)).toEqual([note(oid, 1)]);
  });

  it('refuses a note that is not a string or is longer than 16 KB, at /note', async () => {
    const store = new MemoryStore();
    await expect(store.appendCheckpoint(sid, 42 as never)).rejects.toMatchObject({ code: 'invalid_request', path: '/note' });
    await expect(store.appendCheckpoint(sid, '\u00e9'.repeat(MAX_NOTE_BYTES / 2 + 1))).rejects.toMatchObject({ code: 'invalid_request', path: '/note' });
    await store.appendCheckpoint(sid, 'x'.repeat(MAX_NOTE_BYTES));
    expect(await store.readCheckpoints(sid)).toHaveLength(1);
  });
});

describe.each<JsonlDurability>(['fsync', 'interval'])('JsonlStore checkpoints, durability %s', (durability) => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const stores: JsonlStore[] = [];
  const make = () => {
    const s = new JsonlStore({ dir, durability, fsyncIntervalMs: 0 });
    stores.push(s);
    return s;
  };
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    for (const s of stores.splice(0)) await s.close().catch(() => undefined);
    await cleanup();
  });

  it('keeps them beside the trace, one JSON string per line, and a second store over the folder reads them back', async () => {
    const store = make();
    await store.open();
    expect(await store.readCheckpoints(sid)).toEqual([]);
    await store.append(sid, chain);
    await store.appendCheckpoint(sid, note(sid, 8));
    await store.append(oid, other);
    await store.appendCheckpoint(oid, note(oid, other.length));
    expect(await store.readCheckpoints(sid)).toEqual([note(sid, 8)]);
    expect(store.checkpointsPathOf(sid)).toBe(store.pathOf(sid).replace(/\.trace\.jsonl$/, '.checkpoints.jsonl'));
    expect(await readFile(store.checkpointsPathOf(sid), 'utf8')).toBe(`${JSON.stringify(note(sid, 8))}\n`);
    await store.close();

    const again = make();
    const { sessions, issues } = await again.open();
    expect(issues).toEqual([]);
    expect(sessions.map((s) => s.session_id).sort()).toEqual([sid, oid].sort());
    expect(await again.readCheckpoints(sid)).toEqual([note(sid, 8)]);
    expect(await again.readCheckpoints(oid)).toEqual([note(oid, other.length)]);
    expect(await again.readCheckpoints(unknown)).toEqual([]);
    // Appending again continues the file.
    await again.appendCheckpoint(sid, note(sid, 9));
    expect(await again.readCheckpoints(sid)).toEqual([note(sid, 8), note(sid, 9)]);
    expect((await again.check()).issues).toEqual([]);
  });

  it('keeps call order under many concurrent appends, interleaved with events', async () => {
    const store = make();
    await store.open();
    const calls: Promise<void>[] = [];
    for (let i = 0; i < chain.length; i++) {
      calls.push(store.append(sid, [chain[i]!]));
      for (let k = 0; k < 5; k++) calls.push(store.appendCheckpoint(sid, note(sid, i * 5 + k)));
    }
    await Promise.all(calls);
    expect(await store.readCheckpoints(sid)).toEqual(Array.from({ length: chain.length * 5 }, (_, i) => note(sid, i)));
    expect(await store.read(sid)).toEqual(chain);
  });

  it('refuses an invalid note at /note and an invalid session id, writing nothing', async () => {
    const store = make();
    await store.open();
    await expect(store.appendCheckpoint(sid, null as never)).rejects.toMatchObject({ code: 'invalid_request', path: '/note' });
    await expect(store.appendCheckpoint(sid, 'x'.repeat(MAX_NOTE_BYTES + 1))).rejects.toMatchObject({ code: 'invalid_request', path: '/note' });
    await expect(store.appendCheckpoint('../etc/passwd', note(sid, 1))).rejects.toMatchObject({ code: 'invalid_request', path: '/session_id' });
    await expect(store.readCheckpoints('ABC')).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(stat(store.checkpointsPathOf(sid))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('drops a torn last line on read, and cuts it off before the next append', async () => {
    const store = make();
    await store.open();
    await store.append(sid, chain);
    await store.appendCheckpoint(sid, note(sid, 7));
    await store.close();
    const path = store.checkpointsPathOf(sid);
    await appendFile(path, JSON.stringify(note(sid, 8)).slice(0, 30)); // the process died mid-write

    const again = make();
    await again.open();
    expect(await again.readCheckpoints(sid)).toEqual([note(sid, 7)]);
    await again.appendCheckpoint(sid, note(sid, 8));
    expect(await again.readCheckpoints(sid)).toEqual([note(sid, 7), note(sid, 8)]);
    expect(await readFile(path, 'utf8')).toBe(`${JSON.stringify(note(sid, 7))}\n${JSON.stringify(note(sid, 8))}\n`);
  });

  it('refuses a malformed line before the last, naming the file and the line, and appends nothing to it', async () => {
    const store = make();
    await store.open();
    const path = store.checkpointsPathOf(sid);
    const text = `${JSON.stringify(note(sid, 1))}\n{"not":"a note"}\n${JSON.stringify(note(sid, 3))}\n`;
    await writeFile(path, text);
    const refused = expect.objectContaining({
      code: 'storage_corrupt',
      message: expect.stringMatching(new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*line 2`)),
      details: [expect.objectContaining({ session_id: sid, kind: 'malformed_line', location: path, line: 2 })],
    });
    await expect(store.readCheckpoints(sid)).rejects.toEqual(refused);
    await expect(store.appendCheckpoint(sid, note(sid, 4))).rejects.toEqual(refused);
    expect(await readFile(path, 'utf8')).toBe(text);
    expect((await store.check()).issues).toEqual([expect.objectContaining({ session_id: sid, kind: 'malformed_line', location: path, line: 2 })]);
  });

  it('open reads no checkpoint file, and ignores those of sessions that do not exist', async () => {
    const first = make();
    await first.open();
    await first.append(sid, chain);
    await first.appendCheckpoint(sid, note(sid, 8));
    await first.close();
    // The session's checkpoint file cannot be read (a folder in its place); another's is damaged; a third belongs
    // to no session.
    await rm(first.checkpointsPathOf(sid));
    await mkdir(first.checkpointsPathOf(sid));
    await writeFile(first.checkpointsPathOf(oid), `{"not":"a note"}\n${JSON.stringify(note(oid, 1))}\n`);
    await writeFile(first.checkpointsPathOf(unknown), `${JSON.stringify(note(unknown, 1))}\n`);

    const store = make();
    const { sessions, issues } = await store.open();
    expect(issues).toEqual([]);
    expect(sessions.map((s) => s.session_id)).toEqual([sid]);
    expect(await store.read(sid)).toEqual(chain);
    await expect(store.readCheckpoints(sid)).rejects.toMatchObject({ code: 'storage_failure' });
    await expect(store.readCheckpoints(oid)).rejects.toMatchObject({ code: 'storage_corrupt' });
    expect(await store.readCheckpoints(unknown)).toEqual([note(unknown, 1)]);
    // The full check reads them (in the order of file names).
    expect((await store.check()).issues).toEqual([
      expect.objectContaining({ session_id: oid, kind: 'malformed_line', line: 1 }),
      expect.objectContaining({ session_id: sid, kind: 'unreadable', location: first.checkpointsPathOf(sid) }),
    ]);
  });

  it('writes a checkpoint called in the same tick as an append only once the events are fdatasynced', async () => {
    const store = make();
    await store.open();
    await store.append(sid, chain.slice(0, 4));
    await store.sync(sid);
    const log = watchFiles();
    const settled: string[] = [];
    await Promise.all([
      store.append(sid, chain.slice(4)).then(() => settled.push('events')),
      store.appendCheckpoint(sid, note(sid, 8)).then(() => settled.push('checkpoint')),
    ]);
    expect(settled).toEqual(['events', 'checkpoint']);
    const trace = await inode(store.pathOf(sid));
    const notes = await inode(store.checkpointsPathOf(sid));
    const named = log.map((e) => `${e.op} ${e.ino === trace ? 'trace' : e.ino === notes ? 'checkpoints' : 'other'}`);
    // fsync: the note is acknowledged once synced; interval: it is written after the events are synced, and synced
    // with the session's next sync.
    expect(named).toEqual(
      durability === 'fsync'
        ? ['write trace', 'datasync trace', 'write checkpoints', 'datasync checkpoints']
        : ['write trace', 'datasync trace', 'write checkpoints'],
    );
    log.length = 0;
    await store.sync(sid, { release: true });
    expect(log.filter((e) => e.ino === notes).map((e) => e.op)).toEqual(durability === 'fsync' ? [] : ['datasync']);
  });

  it('syncs the checkpoint file on close', async () => {
    const store = make();
    await store.open();
    await store.append(sid, chain);
    await store.appendCheckpoint(sid, note(sid, 8));
    const log = watchFiles();
    await store.close();
    const notes = await inode(store.checkpointsPathOf(sid));
    expect(log.filter((e) => e.ino === notes && e.op === 'datasync')).toHaveLength(durability === 'fsync' ? 0 : 1);
  });

  it('refuses a checkpoint queued behind an append of its session that failed', async () => {
    const store = make();
    await store.open();
    await store.append(sid, chain.slice(0, 4));
    await store.sync(sid);
    // fsync: the events' fdatasync fails; interval: the append does not continue the chain.
    if (durability === 'fsync') watchFiles({ failDatasync: 1, failOn: () => inode(store.pathOf(sid)) });
    const [events, checkpoint] = await Promise.allSettled([
      store.append(sid, durability === 'fsync' ? chain.slice(4) : chain.slice(5)),
      store.appendCheckpoint(sid, note(sid, 8)),
    ]);
    expect(events.status).toBe('rejected');
    expect(checkpoint).toMatchObject({ status: 'rejected', reason: { code: 'storage_failure', message: expect.stringContaining('append of its events') } });
    expect(await store.readCheckpoints(sid)).toEqual([]);
    // Later checkpoints, after events that are stored, are kept.
    await store.append(sid, chain.slice(4));
    await store.appendCheckpoint(sid, note(sid, 8));
    expect(await store.readCheckpoints(sid)).toEqual([note(sid, 8)]);
  });

  // Only 'fsync' acknowledges a checkpoint after its own fdatasync: the test is registered for that store alone.
  if (durability === 'fsync') it('rejects a checkpoint whose fdatasync failed, keeps what was acknowledged, and goes on', async () => {
    const store = make();
    await store.open();
    await store.append(sid, chain);
    await store.appendCheckpoint(sid, note(sid, 7));
    const path = store.checkpointsPathOf(sid);
    watchFiles({ failDatasync: 1, failOn: () => inode(path) });
    await expect(store.appendCheckpoint(sid, note(sid, 8))).rejects.toMatchObject({ code: 'storage_failure', message: expect.stringContaining(path) });
    expect(await readFile(path, 'utf8')).toBe(`${JSON.stringify(note(sid, 7))}\n`);
    await store.appendCheckpoint(sid, note(sid, 9));
    expect(await store.readCheckpoints(sid)).toEqual([note(sid, 7), note(sid, 9)]);
  });
});
