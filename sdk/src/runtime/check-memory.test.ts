/**
 * Checking made-up action ids keeps nothing in the core: `session.check(id)` for an id no loaded atlas declares is
 * looked up, not interned, so a caller cannot grow the core's memory one id at a time (the HTTP check route reaches
 * the same call). WebAssembly memory never shrinks, so anything kept per id would show as growth.
 */
import { describe, expect, it } from 'vitest';
import { embeddedRuntimes } from '../../test/embedded.ts';
import type { RuntimeStats } from '../types.ts';

describe('checks of unknown action ids', () => {
  const { withSession } = embeddedRuntimes();

  it('do not grow the core over 20 000 distinct ids', async () => {
    const { rt, session } = await withSession();
    await session.resolve();
    // Warm-up: the allocator reaches its working set for a check of an unknown id.
    for (let i = 0; i < 1000; i++) await session.check(`warmup.id${i}`);
    const before: RuntimeStats = await rt.stats();
    for (let i = 0; i < 20_000; i++) {
      const answer = await session.check(`probe.id${i}`);
      expect(answer.allowed).toBe(false);
    }
    const after: RuntimeStats = await rt.stats();
    expect(after.memory_bytes).toBe(before.memory_bytes);
    expect(after.action_handles).toBe(before.action_handles);
    expect(after.action_handles).toBe(5); // the loaded atlas's actions, nothing more
    expect(await session.check('resource.get')).toMatchObject({ result: 'allow', allowed: true });
    expect(await session.check('probe.id0')).toMatchObject({ result: 'unknown_action', allowed: false });
  }, 60_000);
});
