/**
 * The engine under the embedded runtime: one core instance, and what the host holds beside it (loaded atlases, the
 * host's session states). Every operation runs as a step against a healthy core; the events a step emits are stored
 * before its answer is handed out. A core that traps or answers garbage, or a store that fails to take events, marks
 * the engine broken: the next step waits for a fresh instance rebuilt from the loaded atlases and the stored traces.
 *
 * @module
 */

import type { BufferedCollector } from '../collector/collector.ts';
import { CraError } from '../errors.ts';
import { type Clock, type IdSource, readClock } from '../host.ts';
import type { TraceStore } from '../storage/store.ts';
import type { AtlasBundle, CoreConfig, ReplayResult, TraceEvent } from '../types.ts';
import { Descriptors } from './answers.ts';
import { Core, type CoreExports } from './core.ts';
import type { WasmModule } from './host-types.ts';
import { replayInScratch } from './replay.ts';
import { restoreSession, type SessionState } from './restore.ts';

/** One unit of work against the core: its answer, and the events to store before the answer is handed out. */
export interface Step<T> {
  value: T;
  commit?: { state: SessionState; events: TraceEvent[] };
}

export interface EngineOptions {
  module: WasmModule;
  clock: Clock;
  ids: IdSource;
  store: TraceStore;
  collector: BufferedCollector | null;
  /** The configuration asked for (what a rebuild applies again). */
  config: CoreConfig;
  instrument?: ((exports: CoreExports) => CoreExports) | undefined;
  /** Called after each append, with the events the store took. */
  onStored?: (st: SessionState, events: readonly TraceEvent[]) => void;
  /**
   * Called right after a step that commits events, on the same core and before any other step: what it answers runs
   * once the events are stored, before the step's value is answered (checkpoints, `checkpoints.ts`).
   */
  afterCommit?: (core: Core, st: SessionState, events: readonly TraceEvent[], now: number) => (() => Promise<void>) | undefined;
  /** Called on a rebuilt core once its live sessions are restored, before any step runs on it. */
  rebuilt?: (core: Core, now: number) => Promise<void>;
}

export class Engine {
  /** Loaded atlases in load order, as loaded: what a rebuild loads again. */
  readonly atlases = new Map<string, AtlasBundle>();
  readonly descriptors = new Descriptors();
  /** The sessions live in the core (see `residency.ts`). */
  readonly sessions = new Map<string, SessionState>();
  /** Sessions whose stored trace could not be restored after a rebuild. */
  readonly lost = new Map<string, CraError>();
  /** Interned action handles of the current instance (a rebuild starts over). */
  readonly actionHandles = new Map<string, number>();
  closed = false;
  private core!: Core;
  /** The latest clock reading: the time of steps that only read (they never move a host's clock). */
  private lastNow = 0;
  /** The core failed: steps wait for a rebuilt one. */
  broken = false;
  private rebuilding: Promise<void> | null = null;
  /** Appends under way; close() waits for them so that sinks get every event. */
  private readonly inflight = new Set<Promise<void>>();

  constructor(private readonly options: EngineOptions) {}

  /** Instantiates the first core and applies the configuration; answers the effective configuration. */
  async start(): Promise<CoreConfig> {
    this.core = await this.newCore();
    return this.core.call<CoreConfig>('runtime.configure', this.options.config, this.now());
  }

  now(): number {
    this.lastNow = readClock(this.options.clock);
    return this.lastNow;
  }

  /** The latest clock reading (host microseconds), without reading the clock again. */
  lastReading(): number {
    return this.lastNow;
  }

  /**
   * Drops a live session from the core (its trace stays the store's); false when the core cannot be asked now
   * (rebuilding, or closed). One synchronous core call: no step can run in between.
   */
  forget(sessionId: string): boolean {
    if (this.broken || this.closed || !this.sessions.has(sessionId)) return false;
    try {
      this.core.call('session.forget', { session_id: sessionId }, this.lastNow);
    } catch (err) {
      if (err instanceof CraError && err.code !== 'core_failure' && !this.core.poisoned) return false;
      void this.recover();
      return false;
    }
    this.sessions.delete(sessionId);
    return true;
  }

  /** Replays `events` in a scratch instance with the same configuration and atlases, away from live sessions. */
  replay(events: readonly TraceEvent[]): Promise<ReplayResult> {
    const { module, ids, config } = this.options;
    return replayInScratch(module, ids, config, this.atlases.values(), events, this.now());
  }

  /**
   * Runs one step against a healthy core. A `core_failure` schedules a rebuild before it is rethrown; the events
   * of a step are stored before the step's value is answered.
   */
  run<T>(step: (core: Core, now: number) => Step<T>): Promise<T> {
    return this.step(step, () => this.now());
  }

  /**
   * Runs a step that reads state and records nothing, at the latest clock reading rather than a new one: reading
   * never moves the host's clock, so the same calls give the same trace whether or not something also reads.
   */
  read<T>(query: (core: Core, now: number) => T): Promise<T> {
    return this.step((core, now) => ({ value: query(core, now) }), () => this.lastNow);
  }

  private async step<T>(step: (core: Core, now: number) => Step<T>, time: () => number): Promise<T> {
    if (this.closed) throw new CraError('closed', 'the runtime is closed');
    while (this.broken) await this.healthy();
    const core = this.core;
    let out: Step<T>;
    let after: (() => Promise<void>) | undefined;
    try {
      const now = time();
      out = step(core, now);
      if (out.commit && this.options.afterCommit) after = this.options.afterCommit(core, out.commit.state, out.commit.events, now);
    } catch (err) {
      // Anything but a CraError here comes from reading an answer of unexpected shape: the core answered garbage.
      const failure = err instanceof CraError ? err : core.reject(`unexpected answer: ${err instanceof Error ? err.message : String(err)}`, 'call');
      if (failure.code === 'core_failure' || core.poisoned) await this.recover();
      throw failure;
    }
    if (out.commit) {
      const persisted = this.persist(out.commit.state, out.commit.events);
      this.inflight.add(persisted);
      try {
        await persisted;
      } finally {
        this.inflight.delete(persisted);
      }
      if (after) await after();
    }
    return out.value;
  }

  /** Waits for the appends under way (their events then reach the sinks too). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
  }

  /** Restores again the sessions whose resolutions could not be rebuilt, now that more atlases are loaded. */
  async refreshStale(): Promise<void> {
    for (const st of [...this.sessions.values()]) {
      if (!st.stale) continue;
      let events: TraceEvent[];
      try {
        events = await this.options.store.read(st.id);
      } catch {
        continue;
      }
      // A call on the session may have run meanwhile: only swap when the stored trace is still the core's.
      if (events.length !== st.head.length || this.broken || this.closed) continue;
      try {
        const now = this.now();
        this.core.call('session.forget', { session_id: st.id }, now);
        adopt(st, restoreSession(this.core, st.id, { events }, { expected: st.stored }, st.owner, now));
      } catch {
        // The session may now be missing from the core: a rebuild restores every session from the store.
        await this.recover();
      }
    }
  }

  private async newCore(): Promise<Core> {
    const { module, ids, instrument } = this.options;
    return Core.instantiate(module, { ids, ...(instrument ? { instrument } : {}) });
  }

  private async persist(st: SessionState, events: TraceEvent[]): Promise<void> {
    if (events.length === 0) return;
    try {
      await this.options.store.append(st.id, events);
    } catch (err) {
      // The core moved on but the store did not: bring the core back to what is stored.
      await this.recover();
      throw asStorageError(err, `the events of session ${st.id} could not be stored; nothing was recorded`);
    }
    const last = events[events.length - 1]!;
    if (last.sequence + 1 > st.stored.length) st.stored = { length: last.sequence + 1, head_hash: last.event_hash };
    this.options.onStored?.(st, events);
    try {
      this.options.collector?.record(events);
    } catch {
      // Only a closed collector throws, and closing the runtime closes it last.
    }
  }

  private async recover(): Promise<void> {
    this.broken = true;
    await this.healthy().catch(() => {
      // Stays broken: the next call tries again.
    });
  }

  private healthy(): Promise<void> {
    if (!this.broken) return Promise.resolve();
    this.rebuilding ??= this.rebuild()
      .then(() => {
        this.broken = false;
      })
      .finally(() => {
        this.rebuilding = null;
      });
    return this.rebuilding;
  }

  /** A fresh instance with the same configuration, atlases and sessions, from the stored traces. */
  private async rebuild(): Promise<void> {
    const core = await this.newCore();
    core.call('runtime.configure', this.options.config, this.now());
    for (const bundle of this.atlases.values()) {
      const r = core.call<{ atlas_id: string; actions?: unknown }>('atlas.load', bundle, this.now());
      this.descriptors.remember(core, r.atlas_id, r.actions);
    }
    for (const st of [...this.sessions.values()]) {
      let events: TraceEvent[];
      try {
        events = await this.options.store.read(st.id);
      } catch (err) {
        this.lose(st, asStorageError(err, `the trace of session ${st.id} could not be read back`));
        continue;
      }
      if (events.length === 0) {
        // Created in a call whose events never reached the store: it never existed.
        this.sessions.delete(st.id);
        continue;
      }
      try {
        adopt(st, restoreSession(core, st.id, { events }, { expected: st.stored }, st.owner, this.now()));
      } catch (err) {
        if (core.poisoned) throw err;
        this.lose(st, new CraError('storage_corrupt', `session ${st.id} could not be restored: ${(err as Error).message}`, { cause: err }));
      }
    }
    await this.options.rebuilt?.(core, this.now());
    this.actionHandles.clear();
    this.core = core;
  }

  private lose(st: SessionState, err: CraError): void {
    this.sessions.delete(st.id);
    this.lost.set(st.id, err);
  }
}

/** Takes over what a restore answered, keeping the state object (calls in flight hold it). */
function adopt(st: SessionState, restored: SessionState): void {
  st.handle = restored.handle;
  st.stale = restored.stale;
  st.head = st.stored = restored.head;
  st.lastResolutionId = restored.lastResolutionId ?? st.lastResolutionId;
}

/** A store's failure as a CraError (`storage_failure`), unless it is one already. */
export function asStorageError(err: unknown, message: string): CraError {
  if (err instanceof CraError) return err;
  return new CraError('storage_failure', `${message}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
