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

  it('open() lists every stored session with what its events recorded, reading no trace', async () => {
    const store = new MemoryStore();
    await store.append(sid, chain.slice(0, 2));
    await store.append(sid, chain.slice(2));
    const { sessions, issues } = await store.open();
    expect(issues).toEqual([]);
    const started = chain[0]!;
    expect(sessions).toEqual([
      {
        session_id: sid,
        length: chain.length,
        head_hash: chain.at(-1)!.event_hash,
        agent_id: (started.payload as { agent_id: string }).agent_id,
        goal: (started.payload as { goal: string }).goal,
        trace_id: started.trace_id,
        parent_session_id: null,
        created_at: started.timestamp,
        status: chain.some((e) => e.event_type === 'session.ended') ? 'ended' : 'active',
        ended_at: chain.find((e) => e.event_type === 'session.ended')?.timestamp ?? null,
        last_event_at: chain.at(-1)!.timestamp,
      },
    ]);
  });
});
