/**
 * Shared set-up of the embedded runtime's own tests (`runtime*.test.ts`): runtimes on a test clock and ids, closed
 * after each test, and the checks they share.
 */
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';
import { EXAMPLES, simpleAtlas, testClock, testIds } from './helpers.ts';
import { loadAtlasDir } from '../src/atlas/dir.ts';
import { CraError } from '../src/errors.ts';
import type { CraSession } from '../src/interface.ts';
import type { AtlasBundle, AtlasManifest, TraceEvent } from '../src/types.ts';
import { createRuntime, type EmbeddedRuntime, type RuntimeOptions } from '../src/runtime/runtime.ts';

export const simple = await simpleAtlas();
export const support = await loadAtlasDir(join(EXAMPLES, 'atlases/support'));

/** Runs `fn`, expects a CraError of `code`, and returns it. */
export async function rejects(fn: () => Promise<unknown>, code: string): Promise<CraError> {
  const err = await fn().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected ${code}`).toBeInstanceOf(CraError);
  expect((err as CraError).code).toBe(code);
  return err as CraError;
}

export const types = (events: readonly TraceEvent[]) => events.map((e) => e.event_type);

/** Call inside a `describe`: runtimes made there are closed after each test. */
export function embeddedRuntimes() {
  const runtimes: EmbeddedRuntime[] = [];
  const state = { clock: testClock() };
  const make = async (options: RuntimeOptions = {}) => {
    state.clock = testClock();
    const rt = await createRuntime({ clock: state.clock, ids: testIds(), ...options });
    runtimes.push(rt);
    return rt;
  };
  afterEach(async () => {
    for (const rt of runtimes.splice(0)) await rt.close().catch(() => undefined);
  });

  /** A runtime with `atlas` loaded and one session. */
  const withSession = async (atlas: AtlasManifest | AtlasBundle = simple, options: RuntimeOptions = {}) => {
    const rt = await make(options);
    await rt.loadAtlas(atlas);
    const session = await rt.createSession({ agentId: 'agent-1', goal: 'Manage resources in the test environment' });
    return { rt, session };
  };

  /** Expects `fn` to fail with `code` and the session's trace not to change. */
  const unchanged = async (rt: EmbeddedRuntime, session: CraSession, fn: () => Promise<unknown>, code: string) => {
    const before = await rt.trace(session.id);
    const info = await session.info();
    const err = await rejects(fn, code);
    expect(await rt.trace(session.id)).toEqual(before);
    expect((await session.info()).event_count).toBe(info.event_count);
    return err;
  };

  return {
    make,
    /** Closes `rt` after the test too (for runtimes made without `make`). */
    track: (rt: EmbeddedRuntime) => runtimes.push(rt),
    withSession,
    unchanged,
    /** The clock of the runtime made last. */
    get clock() {
      return state.clock;
    },
  };
}
