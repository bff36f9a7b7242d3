import { describe, expect, it } from 'vitest';
import { readJsonl } from '../../test/helpers.ts';
import { MemoryStore } from './memory.ts';

const chain = await readJsonl('vectors/reference-branch-simple-resolve.trace.jsonl');
const sid = chain[0]!.session_id;

describe('MemoryStore', () => {
  it('keeps appended events and hands out copies', async () => {
    const store = new MemoryStore();
    await store.append(sid, chain.slice(0, 3));
    await store.append(sid, chain.slice(3));
    const read = await store.read(sid);
    expect(read).toEqual(chain);
    read.pop();
    expect(await store.read(sid)).toHaveLength(8);
    expect(await store.read('nope')).toEqual([]);
    expect(store.sessions()).toEqual([sid]);
  });

  it('refuses a gap or an overlap', async () => {
    const store = new MemoryStore();
    await expect(store.append(sid, chain.slice(1))).rejects.toMatchObject({ code: 'storage_failure' });
    await store.append(sid, chain.slice(0, 2));
    await expect(store.append(sid, chain.slice(1))).rejects.toMatchObject({ code: 'storage_failure' });
    expect(await store.read(sid)).toEqual(chain.slice(0, 2));
  });

  it('open() lists every stored trace', async () => {
    const store = new MemoryStore();
    await store.append(sid, chain);
    const { traces, issues } = await store.open();
    expect(issues).toEqual([]);
    expect(traces).toEqual([{ session_id: sid, events: chain }]);
  });
});
