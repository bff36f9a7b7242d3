import { describe, expect, it } from 'vitest';
import { CraError } from '../../sdk/src/errors.ts';
import { createRuntime } from '../../sdk/src/runtime/runtime.ts';
import { memoryStore } from '../../sdk/src/storage/memory.ts';
import type { TraceStore } from '../../sdk/src/storage/store.ts';
import type { TraceEvent } from '../../sdk/src/types.ts';
import { observeStore, TraceEvents } from './events.ts';

describe('TraceEvents and observeStore', () => {
  it('publishes each stored batch to the session’s subscribers, in chain order', async () => {
    const events = new TraceEvents();
    const runtime = await createRuntime({ storage: observeStore(memoryStore(), events) });
    const s = await runtime.createSession({ agentId: 'a', goal: 'g' });
    const other = await runtime.createSession({ agentId: 'b', goal: 'h' });
    const got: TraceEvent[] = [];
    const closed: string[] = [];
    const off = events.subscribe(s.id, (batch) => got.push(...batch), () => closed.push('closed'));
    await s.resolve();
    await other.resolve();
    await s.end();
    expect(got).toEqual((await s.trace()).slice(1));
    off();
    await other.end();
    expect(events.size).toBe(0);
    expect(closed).toEqual([]);
    await runtime.close();
  });

  it('publishes nothing for an append that failed', async () => {
    const events = new TraceEvents();
    const inner = memoryStore();
    let fail = false;
    const flaky: TraceStore = {
      ...inner,
      open: () => inner.open(),
      read: (id) => inner.read(id),
      sync: () => inner.sync(),
      close: () => inner.close(),
      append: (id, batch) => (fail ? Promise.reject(new Error('disk full')) : inner.append(id, batch)),
    };
    const runtime = await createRuntime({ storage: observeStore(flaky, events) });
    const s = await runtime.createSession({ agentId: 'a', goal: 'g' });
    const got: TraceEvent[] = [];
    events.subscribe(s.id, (b) => got.push(...b));
    fail = true;
    await expect(s.resolve()).rejects.toBeInstanceOf(CraError);
    expect(got).toEqual([]);
    fail = false;
    await s.resolve();
    expect(got.map((e) => e.sequence)).toEqual((await s.trace()).slice(1).map((e) => e.sequence));
    await runtime.close();
  });

  it('ends every subscription on close, and refuses new ones after', () => {
    const events = new TraceEvents();
    const closed: number[] = [];
    events.subscribe('x', () => undefined, () => closed.push(1));
    events.subscribe('y', () => undefined, () => closed.push(2));
    events.close();
    expect(closed).toEqual([1, 2]);
    expect(events.size).toBe(0);
    events.subscribe('z', () => undefined, () => closed.push(3));
    expect(closed).toEqual([1, 2, 3]);
    expect(events.size).toBe(0);
  });

  it('keeps delivering to other listeners when one throws', () => {
    const events = new TraceEvents();
    const got: number[] = [];
    events.subscribe('s', () => {
      throw new Error('gone');
    });
    events.subscribe('s', (b) => got.push(b.length));
    events.publish('s', [{} as TraceEvent]);
    expect(got).toEqual([1]);
  });
});

describe('TraceEvents observers', () => {
  it('see every session’s appends, in order, whatever another observer does, and outlive close()', () => {
    const hub = new TraceEvents();
    const seen: string[] = [];
    hub.observe(() => {
      throw new Error('a failing observer');
    });
    const stop = hub.observe((session, batch) => seen.push(...batch.map((e) => `${session}:${e.sequence}`)));
    const event = (sequence: number) => ({ sequence }) as unknown as TraceEvent;
    hub.publish('s1', [event(0), event(1)]);
    hub.publish('s2', [event(0)]);
    hub.publish('s2', []);
    hub.close();
    hub.publish('s1', [event(2)]);
    stop();
    hub.publish('s1', [event(3)]);
    expect(seen).toEqual(['s1:0', 's1:1', 's2:0', 's1:2']);
  });
});
