/**
 * `durability: 'fsync'`: an append is acknowledged only once its events are written and fdatasynced, and the appends
 * that meet at a file share one write and one fsync. Real files; fdatasync is observed (and made to fail) by
 * wrapping the `FileHandle` method that the store calls.
 */

import { open, readFile, type FileHandle } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readJsonl, tempDir } from '../../test/helpers.ts';
import type { TraceEvent } from '../types.ts';
import { JsonlStore } from './jsonl.ts';

const chain = await readJsonl('vectors/reference-branch-simple-resolve.trace.jsonl'); // 8 events
const sid = chain[0]!.session_id;
const lines = (events: TraceEvent[]) => events.map((e) => `${JSON.stringify(e)}\n`).join('');
/** Where event `i` of the chain ends in the file. */
const endOf = (i: number) => Buffer.byteLength(lines(chain.slice(0, i + 1)));

const probe = await open(new URL(import.meta.url), 'r');
const FileHandleProto = Object.getPrototypeOf(probe) as FileHandle;
await probe.close();
const realDatasync = FileHandleProto.datasync;

/** Wraps `FileHandle.datasync`: counts calls, records the bytes each completed sync covered, can delay or fail. */
function watchDatasync(options: { delayMs?: number; failNext?: number } = {}) {
  const seen = { calls: 0, covered: 0, failNext: options.failNext ?? 0 };
  vi.spyOn(FileHandleProto, 'datasync').mockImplementation(async function (this: FileHandle) {
    seen.calls++;
    const size = (await this.stat()).size; // written before the sync started: covered once it completes
    if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
    if (seen.failNext > 0) {
      seen.failNext--;
      throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    }
    await realDatasync.call(this);
    seen.covered = Math.max(seen.covered, size);
  });
  return seen;
}

describe('JsonlStore, durability fsync (group commit)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const stores: JsonlStore[] = [];
  const make = () => {
    // No interval: nothing but the appends fsyncs while a test counts.
    const s = new JsonlStore({ dir, durability: 'fsync', fsyncIntervalMs: 0 });
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

  it('shares one write and one fsync among the appends of one tick', async () => {
    const store = make();
    await store.open();
    const seen = watchDatasync();
    await Promise.all(chain.map((e) => store.append(sid, [e])));
    expect(seen.calls).toBe(1);
    expect(await readFile(store.pathOf(sid), 'utf8')).toBe(lines(chain));
  });

  it('gathers the appends that arrive during a write and fsync into the next one; acknowledges each only once synced, in file order', async () => {
    const store = make();
    await store.open();
    const seen = watchDatasync({ delayMs: 30 });
    const acked: number[] = [];
    const ack = (i: number) => () => {
      // Its events were on disk when it was acknowledged, and no later event was acknowledged before it.
      expect(seen.covered).toBeGreaterThanOrEqual(endOf(i));
      acked.push(i);
    };
    const first = store.append(sid, [chain[0]!]).then(ack(0));
    await vi.waitFor(() => expect(seen.calls).toBe(1)); // the first round is syncing
    // The others arrive in order, some in the same tick, some a little later, while rounds are syncing.
    const rest: Promise<void>[] = [];
    for (let i = 1; i < chain.length; i++) {
      if (i % 3 === 0) await new Promise((r) => setTimeout(r, 10));
      rest.push(store.append(sid, [chain[i]!]).then(ack(i)));
    }
    await Promise.all([first, ...rest]);
    expect(acked).toEqual(chain.map((_, i) => i));
    expect(seen.calls).toBeGreaterThanOrEqual(2);
    expect(seen.calls).toBeLessThan(chain.length);
    expect(await readFile(store.pathOf(sid), 'utf8')).toBe(lines(chain));
  });

  it('rejects every append of a group whose fsync failed, keeps what was acknowledged, and goes on from there', async () => {
    const store = make();
    await store.open();
    await store.append(sid, chain.slice(0, 3));
    const seen = watchDatasync({ failNext: 1 });
    const group = [store.append(sid, [chain[3]!]), store.append(sid, [chain[4]!]), store.append(sid, chain.slice(5, 7))];
    const results = await Promise.allSettled(group);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    for (const r of results) expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'storage_failure', message: expect.stringContaining('cannot sync') });
    expect(seen.calls).toBe(1);
    expect(await readFile(store.pathOf(sid), 'utf8')).toBe(lines(chain.slice(0, 3)));
    expect(await store.read(sid)).toEqual(chain.slice(0, 3));
    // The chain continues from the acknowledged head.
    await store.append(sid, chain.slice(3));
    expect(await store.read(sid)).toEqual(chain);
    await store.close();
    const reopened = make();
    await reopened.open();
    expect(await reopened.read(sid)).toEqual(chain);
  });

  it('refuses an append of a group that does not continue the chain, alone', async () => {
    const store = make();
    await store.open();
    const results = await Promise.allSettled([store.append(sid, chain.slice(0, 2)), store.append(sid, chain.slice(3, 4)), store.append(sid, chain.slice(2, 3))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await store.read(sid)).toEqual(chain.slice(0, 3));
  });

  it('keeps an append called after a read behind it', async () => {
    const store = make();
    await store.open();
    const a = store.append(sid, chain.slice(0, 2));
    const read = store.read(sid);
    const b = store.append(sid, chain.slice(2));
    expect(await read).toEqual(chain.slice(0, 2));
    await Promise.all([a, b]);
    expect(await store.read(sid)).toEqual(chain);
  });

  it('is refused with its path when the durability is unknown', () => {
    expect(() => new JsonlStore({ dir, durability: 'sometimes' as never })).toThrow(expect.objectContaining({ code: 'invalid_request', path: '/durability' }));
  });
});
