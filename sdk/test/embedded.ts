/**
 * Shared set-up of the embedded runtime's own tests (`runtime*.test.ts`): runtimes on a test clock and ids, closed
 * after each test, and the checks they share.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import { EXAMPLES, simpleAtlas, tempDir, testClock, testIds } from './helpers.ts';
import { loadAtlasDir } from '../src/atlas/dir.ts';
import { CraError } from '../src/errors.ts';
import type { CraSession } from '../src/interface.ts';
import type { AtlasBundle, AtlasManifest, TraceEvent } from '../src/types.ts';
import { createRuntime, type EmbeddedRuntime, type RuntimeOptions } from '../src/runtime/runtime.ts';
import { JsonlStore } from '../src/storage/jsonl.ts';

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

/**
 * Call inside a `describe`: runtimes started (and restarted) on one JSONL folder — a fresh temporary folder per test,
 * fsynced on every write — on one test clock, each start with its own ids (`<prefix><n>`), closed after each test.
 * `folder.dir` is the current test's folder.
 */
export function jsonlRestarts(idPrefix: string, defaults: RuntimeOptions = {}) {
  const folder = { dir: '' };
  let cleanup: () => Promise<void> = async () => undefined;
  const runtimes: EmbeddedRuntime[] = [];
  beforeEach(async () => {
    ({ dir: folder.dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    for (const rt of runtimes.splice(0)) await rt.close().catch(() => undefined);
    await cleanup();
  });
  const clock = testClock();
  let starts = 0;
  const start = async (options: RuntimeOptions = {}) => {
    const rt = await createRuntime({
      clock,
      ids: testIds(`${idPrefix}${(starts++).toString(16).padStart(7, '0')}`),
      storage: new JsonlStore({ dir: folder.dir, fsyncIntervalMs: 0 }),
      ...defaults,
      ...options,
    });
    runtimes.push(rt);
    return rt;
  };
  /** Closes `rt` now (a clean stop), rather than after the test. */
  const stop = async (rt: EmbeddedRuntime) => {
    runtimes.splice(runtimes.indexOf(rt), 1);
    await rt.close();
  };
  /** Forgets `rt` without closing it: as if its process died. */
  const abandon = (rt: EmbeddedRuntime) => {
    runtimes.splice(runtimes.indexOf(rt), 1);
  };
  return { folder, clock, start, stop, abandon };
}
