/**
 * The embedded runtime: the core in-process, a trace store as the source of truth, and optional buffered
 * collection to sinks.
 *
 * Every operation runs synchronously inside the core; the events it emits are checked to continue the session's
 * chain, appended to the store, and only then handed to the collector and answered. When the core traps or
 * answers garbage, or the store fails to take events, the call throws, and a fresh instance is rebuilt from the
 * loaded atlases and the stored traces before the next call runs.
 *
 * @module
 */

import { BufferedCollector, type CollectorOptions, type TraceSink } from '../collector/collector.ts';
import { CraError, isCraError } from '../errors.ts';
import { type Clock, type IdSource, isoFromMicros, isUuid, systemClock, systemIds } from '../host.ts';
import type {
  CarpResult,
  CraRuntime,
  CreateSessionOptions,
  LoadAtlasOptions,
  ResolveOptions,
  ActionRequest,
} from '../interface.ts';
import { MemoryStore } from '../storage/memory.ts';
import type { StoreIssue, TraceStore } from '../storage/store.ts';
import type {
  AllowedAction,
  AtlasBundle,
  AtlasLoadResult,
  AtlasManifest,
  AtlasSummary,
  AtlasValidation,
  CarpRequest,
  ChainHead,
  CheckAnswer,
  CheckResult,
  CoreConfig,
  DiffResult,
  Execution,
  JsonObject,
  ReplayResult,
  Resolution,
  RuntimeStats,
  SchemaError,
  Session,
  TraceEvent,
  VerifyResult,
} from '../types.ts';
import { compact, deepFreeze, isObject, jsonClone } from '../util.ts';
import { CHECK_CODES, CHECK_RESULTS } from '../abi.ts';
import { Core, type CoreExports } from './core.ts';
import { compileCore, type CoreSource } from './load.ts';
import { validateParameters } from './params.ts';
import { bundleOf } from '../atlas/bundle.ts';
import { buildRequest, pointedBack, requestedSession } from '../carp/request.ts';
import { EmbeddedSession } from './session.ts';

export interface RuntimeOptions {
  /** Where the core module comes from (default: the module shipped with the package). */
  wasm?: CoreSource;
  /** Host time in integral microseconds since the Unix epoch. Default {@link systemClock}. */
  clock?: Clock;
  /** Fresh lowercase UUIDs. Default: UUIDv7 from `crypto.getRandomValues`. */
  ids?: IdSource;
  /** Where traces are kept (default: in memory). Sessions found in it are restored on start. */
  storage?: TraceStore;
  /** Buffered collection: every recorded event also goes to these sinks, in batches. */
  sinks?: TraceSink[];
  collector?: CollectorOptions;
  /** Atlases to load before stored sessions are restored (so that their resolutions can be rebuilt). */
  atlases?: Array<AtlasManifest | AtlasBundle>;
  /** `deny` (the protocol's rule, default) or `allow` for actions no policy matched. */
  defaultDecision?: 'deny' | 'allow';
  /** Context budget of a resolution when the request names none. Default 8000. */
  maxContextTokens?: number;
  /** Accepted skew of request timestamps. Default 300. */
  clockSkewSeconds?: number;
  /** Lifetime of resolutions. Default 3600. */
  defaultTtlSeconds?: number;
  /**
   * Damaged stored traces found on start: `throw` (default) fails `createRuntime` with `storage_corrupt`;
   * `skip` starts without them and lists them in {@link EmbeddedRuntime.storageIssues}.
   */
  onCorruptTrace?: 'throw' | 'skip';
  /** @internal fault injection for tests. */
  instrument?: (exports: CoreExports) => CoreExports;
}

/** @internal per-session state held by the host. */
export interface SessionState {
  id: string;
  agentId: string;
  goal: string;
  handle: number;
  /** The core's chain head (advances when the core answers). */
  head: ChainHead;
  /** The head of what the store holds (advances when the append completes). */
  stored: ChainHead;
  /** Recent resolutions, for parameter schemas and the default resolution of requestAction. */
  resolutions: Map<string, Resolution>;
  lastResolutionId: string | null;
  /** The core could not rebuild some resolutions (atlases missing when restored). */
  stale: boolean;
}

interface PendingRecord {
  item: { event_type: string; payload: JsonObject };
  resolve: (events: TraceEvent[]) => void;
  reject: (err: unknown) => void;
}

interface Step<T> {
  value: T;
  commit?: { state: SessionState; events: TraceEvent[] };
}

const GENESIS: ChainHead = Object.freeze({ length: 0, head_hash: '0'.repeat(64) });
const HASH = /^[0-9a-f]{64}$/;
const RECENT_RESOLUTIONS = 32;
const DECISIONS = new Set(['allow', 'deny', 'partial', 'requires_approval']);
const STATUSES = new Set(['pending_approval', 'approved', 'denied', 'violated', 'executed', 'failed']);

/**
 * Creates an embedded runtime: compiles (once per process) and instantiates the core, applies the options, loads
 * `options.atlases` and restores the sessions found in `options.storage`.
 */
export async function createRuntime(options: RuntimeOptions = {}): Promise<EmbeddedRuntime> {
  checkOptions(options);
  const module = await compileCore(options.wasm);
  const runtime = new EmbeddedRuntime(module, options);
  try {
    await runtime.init(options.atlases ?? []);
  } catch (err) {
    await runtime.close().catch(() => undefined);
    throw err;
  }
  return runtime;
}

export class EmbeddedRuntime implements CraRuntime {
  readonly mode = 'embedded' as const;
  private readonly module: WebAssembly.Module;
  private readonly clock: Clock;
  private readonly ids: IdSource;
  private readonly store: TraceStore;
  private readonly collector: BufferedCollector | null;
  private readonly instrument: RuntimeOptions['instrument'];
  private readonly onCorrupt: 'throw' | 'skip';
  /** The configuration asked for (what a rebuild applies again). */
  private readonly requested: CoreConfig;
  /** The effective configuration the core answered. */
  private config: CoreConfig;
  private core!: Core;
  /** Loaded atlases in load order, as loaded: what a rebuild loads again. */
  private readonly atlases = new Map<string, AtlasBundle>();
  private readonly sessions = new Map<string, SessionState>();
  /** Sessions whose stored trace could not be restored after a rebuild. */
  private readonly lost = new Map<string, CraError>();
  private readonly actionHandles = new Map<string, number>();
  /**
   * What the core said about each loaded action when its atlas was loaded (the static part of an allowed action),
   * by action id, and the action ids of each atlas. Resolutions come back with only what they decided per action
   * (compact) and are completed from here, so the schemas cross the ABI once per load, not once per resolve.
   */
  private readonly descriptors = new Map<string, Readonly<AllowedAction>>();
  private readonly atlasActions = new Map<string, string[]>();
  /** Host events waiting for the end of the tick, per session (see {@link EmbeddedRuntime.recordIn}). */
  private readonly pendingRecords = new Map<string, PendingRecord[]>();
  private broken = false;
  private rebuilding: Promise<void> | null = null;
  private closed = false;
  /** Appends under way; close() waits for them so that sinks get every event. */
  private readonly inflight = new Set<Promise<void>>();
  private readonly issues: StoreIssue[] = [];

  /** @internal use {@link createRuntime}. */
  constructor(module: WebAssembly.Module, options: RuntimeOptions) {
    this.module = module;
    this.clock = options.clock ?? systemClock;
    this.ids = options.ids ?? systemIds;
    this.store = options.storage ?? new MemoryStore();
    this.collector = options.sinks && options.sinks.length > 0 ? new BufferedCollector(options.sinks, options.collector) : null;
    this.instrument = options.instrument;
    this.onCorrupt = options.onCorruptTrace ?? 'throw';
    this.requested = compact({
      default_decision: options.defaultDecision,
      max_context_tokens: options.maxContextTokens,
      clock_skew_seconds: options.clockSkewSeconds,
      default_ttl_seconds: options.defaultTtlSeconds,
    });
    this.config = this.requested;
  }

  /** Damaged stored traces that were found on start and left out (with `onCorruptTrace: 'skip'`). */
  get storageIssues(): readonly StoreIssue[] {
    return this.issues;
  }

  /** The effective configuration of the core. */
  get configuration(): Readonly<CoreConfig> {
    return this.config;
  }

  /** @internal */
  async init(atlases: Array<AtlasManifest | AtlasBundle>): Promise<void> {
    this.core = await this.newCore();
    const now = this.now();
    this.config = deepFreeze(this.core.call<CoreConfig>('runtime.configure', this.requested, now));
    for (const a of atlases) await this.loadAtlas(a);
    const { traces, issues } = await this.store.open();
    const found: StoreIssue[] = [...issues];
    // Parents before children: restore in creation order.
    const ordered = traces
      .filter((t) => t.events.length > 0)
      .sort((a, b) => (a.events[0]!.timestamp < b.events[0]!.timestamp ? -1 : a.events[0]!.timestamp > b.events[0]!.timestamp ? 1 : 0));
    for (const t of ordered) {
      const issue = this.restoreStored(t.session_id, t.events, t.synced_head ?? null);
      if (issue) found.push(issue);
    }
    this.issues.push(...found);
    if (found.length > 0 && this.onCorrupt === 'throw') {
      throw new CraError(
        'storage_corrupt',
        `${found.length} stored trace(s) are damaged: ${found.map((i) => `${i.location ?? i.session_id}: ${i.message}`).join('; ')}`,
        { details: found },
      );
    }
  }

  // --- atlases -------------------------------------------------------------------------------------------------

  async loadAtlas(atlas: AtlasManifest | AtlasBundle, options: LoadAtlasOptions = {}): Promise<AtlasLoadResult> {
    const bundle = toBundle(atlas, options.files);
    const result = await this.run((core, now) => {
      const r = core.call<AtlasLoadResult & { actions?: unknown }>('atlas.load', { ...bundle, replace: options.replace === true }, now);
      if (!isObject(r) || typeof r.atlas_id !== 'string') throw core.reject('atlas.load answered without atlas_id', 'atlas.load');
      this.atlases.set(r.atlas_id, bundle);
      const { actions, ...result } = r;
      this.rememberDescriptors(core, r.atlas_id, actions);
      return { value: result };
    });
    await this.refreshStale();
    return result;
  }

  async validateAtlas(atlas: AtlasManifest | AtlasBundle, options: Pick<LoadAtlasOptions, 'files'> = {}): Promise<AtlasValidation> {
    const bundle = toBundle(atlas, options.files);
    return this.run((core, now) => ({ value: core.call<AtlasValidation>('atlas.validate', bundle, now) }));
  }

  async unloadAtlas(atlasId: string): Promise<void> {
    await this.run((core, now) => {
      core.call('atlas.unload', { atlas_id: atlasId }, now);
      this.atlases.delete(atlasId);
      this.forgetDescriptors(atlasId);
      return { value: undefined };
    });
  }

  async listAtlases(): Promise<AtlasSummary[]> {
    return this.run((core, now) => ({ value: core.call<{ atlases: AtlasSummary[] }>('atlas.list', {}, now).atlases }));
  }

  async getAtlas(atlasId: string): Promise<AtlasManifest> {
    return this.run((core, now) => ({ value: core.call<{ manifest: AtlasManifest }>('atlas.get', { atlas_id: atlasId }, now).manifest }));
  }

  // --- sessions ------------------------------------------------------------------------------------------------

  async createSession(options: CreateSessionOptions): Promise<EmbeddedSession> {
    if (!isObject(options)) throw new CraError('invalid_request', 'session options must be an object', { path: '' });
    const input = compact({
      agent_id: options.agentId,
      goal: options.goal,
      session_id: options.sessionId,
      parent_session_id: options.parentSessionId,
      metadata: options.metadata,
    });
    const state = await this.run((core, now) => {
      const r = core.call<{ session: Session; handle: number; events: TraceEvent[] }>('session.create', input, now);
      const session = r?.session;
      if (!isObject(session) || typeof session.session_id !== 'string' || !Number.isInteger(r.handle)) {
        throw core.reject('session.create answered without a session and handle', 'session.create');
      }
      if (this.sessions.has(session.session_id)) throw core.reject('session.create reused a live session id', 'session.create');
      const st: SessionState = {
        id: session.session_id,
        agentId: session.agent_id,
        goal: session.goal,
        handle: r.handle,
        head: GENESIS,
        stored: GENESIS,
        resolutions: new Map(),
        lastResolutionId: null,
        stale: false,
      };
      const events = this.accept(core, st, r.events, 'session.create');
      this.sessions.set(st.id, st);
      this.lost.delete(st.id);
      return { value: st, commit: { state: st, events } };
    });
    return new EmbeddedSession(this, state.id, state.agentId, state.goal);
  }

  async getSession(sessionId: string): Promise<EmbeddedSession> {
    const st = this.state(sessionId);
    return new EmbeddedSession(this, st.id, st.agentId, st.goal);
  }

  async listSessions(): Promise<Session[]> {
    return this.run((core, now) => ({ value: core.call<{ sessions: Session[] }>('session.list', {}, now).sessions }));
  }

  /** @internal */
  async sessionInfo(sessionId: string): Promise<Session> {
    this.state(sessionId);
    return this.run((core, now) => ({ value: core.call<{ session: Session }>('session.get', { session_id: sessionId }, now).session }));
  }

  /** @internal */
  async executionIn(sessionId: string, executionId: string): Promise<Execution> {
    this.state(sessionId);
    return this.run((core, now) => {
      const r = core.call<{ execution: Execution }>('action.get', { session_id: sessionId, execution_id: executionId }, now);
      if (!isObject(r?.execution) || !STATUSES.has(r.execution.status)) throw core.reject('action.get answered without a valid execution', 'action.get');
      return { value: deepFreeze(r.execution) };
    });
  }

  /**
   * @internal A resolve or validate: `request` is SDK options, their wire form (the HTTP body), or a CARP request for
   * this session; an error points into it.
   */
  async resolveIn(
    sessionId: string,
    request: ResolveOptions | CarpRequest | JsonObject | undefined,
    operation: 'resolve' | 'validate',
    form: 'options' | 'wire' = 'options',
  ): Promise<Resolution> {
    const st = this.state(sessionId);
    return this.run((core, now) => {
      const built = buildRequest(st, request, form, operation, { requestId: () => this.freshId(), timestamp: () => isoFromMicros(now) });
      const ask = <R>(op: string) => pointedBack('/request', built.callerPath, () => core.call<R>(op, { request: built.request, compact_actions: true }, now));
      if (operation === 'validate') {
        const r = ask<{ resolution: Resolution; events?: unknown[] }>('carp.request');
        // A dry run records nothing; events here would advance a chain that nothing stores.
        if (Array.isArray(r?.events) && r.events.length > 0) throw core.reject('a validate request emitted events', 'carp.request');
        return { value: this.checkResolution(core, r?.resolution, 'carp.request') };
      }
      const r = ask<{ resolution: Resolution; events: TraceEvent[] }>('session.resolve');
      const resolution = this.checkResolution(core, r?.resolution, 'session.resolve');
      const events = this.accept(core, st, r.events, 'session.resolve');
      this.remember(st, resolution);
      return { value: resolution, commit: { state: st, events } };
    });
  }

  /** @internal */
  async checkIn(sessionId: string, actionId: string): Promise<CheckAnswer> {
    const st = this.state(sessionId);
    return this.run((core, now) => {
      let handle = this.actionHandles.get(actionId);
      if (handle === undefined) {
        const r = core.call<{ handle: number }>('action.handle', { action_id: actionId }, now);
        if (!isObject(r) || !Number.isInteger(r.handle)) throw core.reject('action.handle answered without a handle', 'action.handle');
        handle = r.handle;
        this.actionHandles.set(actionId, handle);
      }
      const code = core.check(st.handle, handle, now);
      const result = CHECK_RESULTS.get(code)!;
      return { value: { result, code, allowed: code === CHECK_CODES.allow } };
    });
  }

  /** @internal */
  async requestIn(sessionId: string, request: ActionRequest): Promise<Execution> {
    const st = this.state(sessionId);
    if (!isObject(request)) throw new CraError('invalid_request', 'the action request must be an object', { path: '' });
    const resolutionId = request.resolutionId ?? st.lastResolutionId;
    if (resolutionId == null) {
      throw new CraError('resolution_not_found', 'the session has no resolution yet: resolve first or pass resolutionId', {
        path: '/resolution_id',
      });
    }
    const parameters = request.parameters ?? {};
    const schemaErrors = this.schemaErrors(st, resolutionId, request.actionId, parameters);
    const input = compact({
      session_id: sessionId,
      resolution_id: resolutionId,
      action_id: request.actionId,
      parameters,
      idempotency_key: request.idempotencyKey,
      schema_errors: schemaErrors.length > 0 ? schemaErrors : undefined,
    });
    return this.executionOp(st, 'action.request', input);
  }

  /** @internal */
  async executionOp(st: SessionState, op: string, input: JsonObject | Record<string, unknown>): Promise<Execution> {
    this.state(st.id);
    return this.run((core, now) => {
      const r = core.call<{ execution: Execution; events: TraceEvent[] }>(op, input, now);
      const execution = r?.execution;
      if (!isObject(execution) || typeof execution.execution_id !== 'string' || !STATUSES.has(execution.status)) {
        throw core.reject(`${op} answered without a valid execution`, op);
      }
      const events = this.accept(core, st, r.events, op);
      return { value: deepFreeze(execution), commit: { state: st, events } };
    });
  }

  /**
   * @internal Host events are queued and appended in one `trace.append` batch per session and tick: records that
   * are in flight together cost one crossing of the ABI and one store append. Any other call flushes the queue
   * first, so the chain keeps the order of the calls.
   */
  recordIn(sessionId: string, eventType: string, payload: JsonObject): Promise<TraceEvent[]> {
    try {
      this.state(sessionId);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      let batch = this.pendingRecords.get(sessionId);
      if (!batch) {
        batch = [];
        this.pendingRecords.set(sessionId, batch);
        queueMicrotask(() => this.flushRecords());
      }
      // Detached now: the caller may change its object before the batch goes out.
      batch.push({ item: { event_type: eventType, payload: jsonClone(payload) }, resolve, reject });
    });
  }

  /** Sends every queued host event, one batch per session (one by one when a batch is refused). */
  private flushRecords(): void {
    for (const [sessionId, records] of [...this.pendingRecords]) {
      this.pendingRecords.delete(sessionId);
      const done = this.run((core, now) => {
        const st = this.state(sessionId);
        const one = (item: PendingRecord['item']): TraceEvent => {
          const r = core.call<{ events: TraceEvent[] }>('trace.append', { session_id: sessionId, ...item }, now);
          const events = this.accept(core, st, r?.events, 'trace.append');
          if (events.length !== 1) throw core.reject('trace.append answered another number of events', 'trace.append');
          return events[0]!;
        };
        let results: Array<TraceEvent | CraError>;
        if (records.length === 1) {
          results = [one(records[0]!.item)];
        } else {
          try {
            const r = core.call<{ events: TraceEvent[] }>('trace.append', { session_id: sessionId, events: records.map((x) => x.item) }, now);
            results = this.accept(core, st, r?.events, 'trace.append');
            if (results.length !== records.length) throw core.reject('trace.append answered another number of events', 'trace.append');
          } catch (err) {
            // A refused batch changed nothing: each record then gets its own answer, in the same step and order.
            if (!(err instanceof CraError) || err.code === 'core_failure') throw err;
            results = records.map((x) => {
              try {
                return one(x.item);
              } catch (e) {
                if (!(e instanceof CraError) || e.code === 'core_failure') throw e;
                return e;
              }
            });
          }
        }
        const events = results.filter((x): x is TraceEvent => !(x instanceof CraError));
        return { value: results, commit: { state: st, events } };
      });
      done.then(
        (results) => records.forEach((r, i) => (results[i] instanceof CraError ? r.reject(results[i]) : r.resolve([results[i] as TraceEvent]))),
        (err) => records.forEach((r) => r.reject(err)),
      );
    }
  }

  /** @internal */
  async endIn(sessionId: string, reason: string | undefined): Promise<Session> {
    const st = this.state(sessionId);
    const session = await this.run((core, now) => {
      const r = core.call<{ session: Session; events: TraceEvent[] }>('session.end', compact({ session_id: sessionId, reason }), now);
      if (!isObject(r?.session) || r.session.status !== 'ended') throw core.reject('session.end answered without an ended session', 'session.end');
      const events = this.accept(core, st, r.events, 'session.end');
      return { value: r.session, commit: { state: st, events } };
    });
    try {
      await this.store.sync(sessionId, { release: true });
    } catch (err) {
      throw asStorageError(err, `the session ended but its trace could not be synced`);
    }
    return session;
  }

  /** @internal the session of `sessionId`, or a rejection. */
  state(sessionId: string): SessionState {
    if (this.closed) throw new CraError('closed', 'the runtime is closed');
    const st = typeof sessionId === 'string' ? this.sessions.get(sessionId) : undefined;
    if (st) return st;
    const lost = typeof sessionId === 'string' ? this.lost.get(sessionId) : undefined;
    if (lost) throw lost;
    throw new CraError('session_not_found', `unknown session: ${String(sessionId)}`, { path: '/session_id' });
  }

  // --- CARP ----------------------------------------------------------------------------------------------------

  async carp(request: CarpRequest | JsonObject): Promise<CarpResult> {
    if (!isObject(request)) throw new CraError('invalid_request', 'the request must be an object', { path: '' });
    const named = requestedSession(request).sessionId;
    const sessionId = typeof named === 'string' ? named.toLowerCase() : undefined;
    const st = sessionId !== undefined ? this.sessions.get(sessionId) : undefined;
    let schemaErrors: SchemaError[] = [];
    if (request.operation === 'execute' && st && isObject(request.execution)) {
      const ex = request.execution;
      if (typeof ex.resolution_id === 'string' && typeof ex.action_id === 'string') {
        schemaErrors = this.schemaErrors(st, ex.resolution_id, ex.action_id, ex.parameters);
      }
    }
    return this.run((core, now) => {
      const input = schemaErrors.length > 0 ? { request, schema_errors: schemaErrors, compact_actions: true } : { request, compact_actions: true };
      const r = pointedBack('/request', (p) => p, () => core.call<CarpResult & { events?: TraceEvent[] }>('carp.request', input, now));
      if (!isObject(r)) throw core.reject('carp.request answered a non-object', 'carp.request');
      const out: CarpResult = {};
      if (r.resolution !== undefined) out.resolution = this.checkResolution(core, r.resolution, 'carp.request');
      if (r.execution !== undefined) {
        if (!isObject(r.execution) || !STATUSES.has(r.execution.status as string)) throw core.reject('carp.request answered an invalid execution', 'carp.request');
        out.execution = deepFreeze(r.execution as unknown as Execution);
      }
      if (out.resolution === undefined && out.execution === undefined) {
        throw core.reject('carp.request answered neither a resolution nor an execution', 'carp.request');
      }
      const emitted: unknown = r.events ?? [];
      if (!Array.isArray(emitted)) throw core.reject('carp.request answered events that are not a list', 'carp.request');
      if (emitted.length === 0) return { value: out };
      if (!st) throw core.reject('carp.request emitted events for a session the host does not hold', 'carp.request');
      const events = this.accept(core, st, emitted, 'carp.request');
      if (out.resolution && request.operation !== 'validate') this.remember(st, out.resolution);
      return { value: out, commit: { state: st, events } };
    });
  }

  // --- traces --------------------------------------------------------------------------------------------------

  async trace(sessionId: string): Promise<TraceEvent[]> {
    if (this.closed) throw new CraError('closed', 'the runtime is closed');
    const lost = this.lost.get(sessionId);
    if (lost) throw lost;
    const events = await this.store.read(sessionId).catch((err) => {
      throw asStorageError(err, `cannot read the trace of ${sessionId}`);
    });
    if (events.length === 0 && !this.sessions.has(sessionId)) {
      throw new CraError('session_not_found', `unknown session: ${sessionId}`, { path: '/session_id' });
    }
    return events;
  }

  async verify(sessionId: string): Promise<VerifyResult> {
    const events = await this.trace(sessionId);
    const st = this.sessions.get(sessionId);
    const expected = st && st.stored.length > 0 ? st.stored : undefined;
    return this.run((core, now) => ({
      value: core.call<VerifyResult>('trace.verify', compact({ events, expected_head: expected }), now),
    }));
  }

  async replay(sessionId: string): Promise<ReplayResult> {
    const events = await this.trace(sessionId);
    const scratch = await this.newCore();
    const now = this.now();
    scratch.call('runtime.configure', this.requested, now);
    for (const bundle of this.atlases.values()) scratch.call('atlas.load', bundle, now);
    return scratch.call<ReplayResult>('trace.replay', { events }, now);
  }

  async diff(a: readonly TraceEvent[], b: readonly TraceEvent[]): Promise<DiffResult> {
    return this.run((core, now) => ({ value: core.call<DiffResult>('trace.diff', { a, b }, now) }));
  }

  async stats(): Promise<RuntimeStats> {
    return this.run((core, now) => ({ value: core.call<RuntimeStats>('runtime.stats', {}, now) }));
  }

  async flush(): Promise<void> {
    await this.collector?.flush();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Host events still queued for this tick are appended first: nothing accepted is lost.
    if (this.pendingRecords.size > 0) this.flushRecords();
    this.closed = true;
    await Promise.allSettled([...this.inflight]);
    const errors: unknown[] = [];
    await this.collector?.close().catch((err) => errors.push(err));
    await this.store.close().catch((err) => errors.push(err));
    if (errors.length > 0) throw errors[0];
  }

  // --- internals -----------------------------------------------------------------------------------------------

  private async newCore(): Promise<Core> {
    return Core.instantiate(this.module, { ids: this.ids, ...(this.instrument ? { instrument: this.instrument } : {}) });
  }

  /** A request id from the host's id source, refused like the core refuses ids (fail closed). */
  private freshId(): string {
    let id: unknown;
    try {
      id = this.ids();
    } catch (err) {
      throw new CraError('host_id_invalid', 'the host id source failed', { cause: err });
    }
    if (!isUuid(id)) throw new CraError('host_id_invalid', `the host id source returned ${JSON.stringify(id)}, not a lowercase UUID`);
    return id;
  }

  private now(): number {
    let t: unknown;
    try {
      t = this.clock();
    } catch (err) {
      throw new CraError('invalid_request', `the host clock failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 0) {
      throw new CraError('invalid_request', `the host clock returned ${String(t)}; expected integral microseconds since the epoch`);
    }
    return t;
  }

  /**
   * Runs one step against a healthy core. A `core_failure` schedules a rebuild before it is rethrown; the events
   * of a step are stored before the step's value is answered.
   */
  private async run<T>(step: (core: Core, now: number) => Step<T>): Promise<T> {
    if (this.closed) throw new CraError('closed', 'the runtime is closed');
    // Queued host events go first: the chain keeps the order of the calls.
    if (this.pendingRecords.size > 0) this.flushRecords();
    while (this.broken) await this.healthy();
    const core = this.core;
    let out: Step<T>;
    try {
      out = step(core, this.now());
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
    }
    return out.value;
  }

  private async persist(st: SessionState, events: TraceEvent[]): Promise<void> {
    if (events.length === 0) return;
    try {
      await this.store.append(st.id, events);
    } catch (err) {
      // The core moved on but the store did not: bring the core back to what is stored.
      await this.recover();
      throw asStorageError(err, `the events of session ${st.id} could not be stored; nothing was recorded`);
    }
    const last = events[events.length - 1]!;
    if (last.sequence + 1 > st.stored.length) st.stored = { length: last.sequence + 1, head_hash: last.event_hash };
    try {
      this.collector?.record(events);
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
    core.call('runtime.configure', this.requested, this.now());
    for (const bundle of this.atlases.values()) {
      const r = core.call<{ atlas_id: string; actions?: unknown }>('atlas.load', bundle, this.now());
      this.rememberDescriptors(core, r.atlas_id, r.actions);
    }
    for (const st of [...this.sessions.values()]) {
      let events: TraceEvent[];
      try {
        events = await this.store.read(st.id);
      } catch (err) {
        this.loseSession(st, asStorageError(err, `the trace of session ${st.id} could not be read back`));
        continue;
      }
      if (events.length === 0) {
        // Created in a call whose events never reached the store: it never existed.
        this.sessions.delete(st.id);
        continue;
      }
      try {
        const expected = st.stored.length > 0 ? st.stored : undefined;
        const r = core.call<{ handle: number; stale_resolutions?: unknown[] }>('session.restore', compact({ events, expected_head: expected }), this.now());
        if (!isObject(r) || !Number.isInteger(r.handle)) throw core.reject('session.restore answered without a handle', 'session.restore');
        st.handle = r.handle;
        st.stale = Array.isArray(r.stale_resolutions) && r.stale_resolutions.length > 0;
        st.head = st.stored = headOf(events);
      } catch (err) {
        if (core.poisoned) throw err;
        this.loseSession(st, new CraError('storage_corrupt', `session ${st.id} could not be restored: ${(err as Error).message}`, { cause: err }));
      }
    }
    this.actionHandles.clear();
    this.core = core;
  }

  private loseSession(st: SessionState, err: CraError): void {
    this.sessions.delete(st.id);
    this.lost.set(st.id, err);
  }

  /** Restores one stored trace on start; answers the issue when it is damaged. */
  private restoreStored(sessionId: string, events: TraceEvent[], synced: ChainHead | null): StoreIssue | null {
    const now = this.now();
    const v = this.core.call<VerifyResult>('trace.verify', { events }, now);
    if (!v.valid) {
      return { session_id: sessionId, kind: 'invalid_chain', message: `event ${v.index}: ${v.reason}`, intact_events: v.index };
    }
    if (events[0]!.session_id !== sessionId) {
      return { session_id: sessionId, kind: 'session_mismatch', message: `the trace belongs to session ${events[0]!.session_id}` };
    }
    if (synced && synced.length > 0 && events[synced.length - 1]?.event_hash !== synced.head_hash) {
      return { session_id: sessionId, kind: 'truncated', message: `shorter than its synced head (${synced.length} events)`, intact_events: events.length };
    }
    let r: { session: Session; handle: number; stale_resolutions?: unknown[] };
    try {
      r = this.core.call('session.restore', { events }, now);
    } catch (err) {
      if (isCraError(err, 'core_failure')) throw err;
      return { session_id: sessionId, kind: 'invalid_chain', message: `cannot be restored: ${(err as Error).message}` };
    }
    if (!isObject(r) || !isObject(r.session) || !Number.isInteger(r.handle)) {
      throw this.core.reject('session.restore answered without a session and handle', 'session.restore');
    }
    const head = headOf(events);
    const st: SessionState = {
      id: sessionId,
      agentId: r.session.agent_id,
      goal: r.session.goal,
      handle: r.handle,
      head,
      stored: head,
      resolutions: new Map(),
      lastResolutionId: lastResolutionOf(events),
      stale: Array.isArray(r.stale_resolutions) && r.stale_resolutions.length > 0,
    };
    this.sessions.set(sessionId, st);
    return null;
  }

  /** Restores again the sessions whose resolutions could not be rebuilt, now that more atlases are loaded. */
  private async refreshStale(): Promise<void> {
    for (const st of [...this.sessions.values()]) {
      if (!st.stale) continue;
      let events: TraceEvent[];
      try {
        events = await this.store.read(st.id);
      } catch {
        continue;
      }
      // A call on the session may have run meanwhile: only swap when the stored trace is still the core's.
      if (events.length !== st.head.length || this.broken || this.closed) continue;
      try {
        const now = this.now();
        this.core.call('session.forget', { session_id: st.id }, now);
        const r = this.core.call<{ handle: number; stale_resolutions?: unknown[] }>('session.restore', { events, expected_head: st.stored }, now);
        if (!isObject(r) || !Number.isInteger(r.handle)) throw this.core.reject('session.restore answered without a handle', 'session.restore');
        st.handle = r.handle;
        st.stale = Array.isArray(r.stale_resolutions) && r.stale_resolutions.length > 0;
      } catch {
        // The session may now be missing from the core: a rebuild restores every session from the store.
        await this.recover();
      }
    }
  }

  /** Checks that `events` continue the session's chain, then advances the core-side head. */
  private accept(core: Core, st: SessionState, events: unknown, op: string): TraceEvent[] {
    if (!Array.isArray(events)) throw core.reject(`${op} answered without events`, op);
    let prev = st.head;
    for (const [i, e] of events.entries()) {
      if (
        !isObject(e) ||
        e.trace_version !== '1.0' ||
        e.session_id !== st.id ||
        e.sequence !== prev.length ||
        e.previous_event_hash !== prev.head_hash ||
        typeof e.event_hash !== 'string' ||
        !HASH.test(e.event_hash) ||
        typeof e.event_type !== 'string' ||
        !isObject(e.payload)
      ) {
        throw core.reject(`${op} emitted event ${i}, which does not continue the chain of session ${st.id}`, op);
      }
      prev = { length: prev.length + 1, head_hash: e.event_hash };
    }
    st.head = prev;
    return deepFreeze(events as TraceEvent[]);
  }

  /** Checks a (compact) resolution the core answered and completes its allowed actions from the descriptors. */
  private checkResolution(core: Core, resolution: unknown, op: string): Resolution {
    if (
      !isObject(resolution) ||
      typeof resolution.resolution_id !== 'string' ||
      !isObject(resolution.decision) ||
      !DECISIONS.has(resolution.decision.type as string) ||
      !Array.isArray(resolution.allowed_actions) ||
      !Array.isArray(resolution.denied_actions)
    ) {
      throw core.reject(`${op} answered without a valid resolution`, op);
    }
    resolution.allowed_actions = resolution.allowed_actions.map((a: unknown) => {
      const decided = isObject(a) ? a : {};
      const descriptor = typeof decided.action_id === 'string' ? this.descriptors.get(decided.action_id) : undefined;
      if (!descriptor || typeof decided.requires_confirmation !== 'boolean') {
        throw core.reject(`${op} allowed an action the host holds no descriptor for`, op);
      }
      const full: AllowedAction = { ...descriptor, requires_confirmation: decided.requires_confirmation };
      if (decided.rate_limit !== undefined) full.rate_limit = decided.rate_limit as AllowedAction['rate_limit'];
      return full;
    });
    return deepFreeze(resolution as unknown as Resolution);
  }

  /** Keeps the action descriptors `atlas.load` answered for `atlasId` (replacing a previous version's). */
  private rememberDescriptors(core: Core, atlasId: string, actions: unknown): void {
    if (!Array.isArray(actions) || !actions.every((a) => isObject(a) && typeof a.action_id === 'string')) {
      throw core.reject('atlas.load answered without action descriptors', 'atlas.load');
    }
    this.forgetDescriptors(atlasId);
    for (const a of actions as AllowedAction[]) this.descriptors.set(a.action_id, deepFreeze(a));
    this.atlasActions.set(atlasId, (actions as AllowedAction[]).map((a) => a.action_id));
  }

  private forgetDescriptors(atlasId: string): void {
    for (const id of this.atlasActions.get(atlasId) ?? []) this.descriptors.delete(id);
    this.atlasActions.delete(atlasId);
  }

  private remember(st: SessionState, resolution: Resolution): void {
    st.resolutions.set(resolution.resolution_id, resolution);
    st.lastResolutionId = resolution.resolution_id;
    if (st.resolutions.size > RECENT_RESOLUTIONS) st.resolutions.delete(st.resolutions.keys().next().value!);
  }

  /** Validates parameters against the action's schema: the resolution's copy first, else the loaded atlas's. */
  private schemaErrors(st: SessionState, resolutionId: string, actionId: unknown, parameters: unknown): SchemaError[] {
    if (typeof actionId !== 'string') return [];
    const fromResolution = st.resolutions.get(resolutionId)?.allowed_actions.find((a) => a.action_id === actionId);
    let schema = fromResolution?.parameters_schema;
    if (!fromResolution) {
      for (const bundle of this.atlases.values()) {
        const action = bundle.manifest.actions?.find((a) => a.action_id === actionId);
        if (action) {
          schema = action.parameters_schema;
          break;
        }
      }
    }
    return validateParameters(schema, parameters);
  }
}

// ---------------------------------------------------------------------------------------------------------------

function checkOptions(options: RuntimeOptions): void {
  if (!isObject(options)) throw new CraError('invalid_request', 'runtime options must be an object', { path: '' });
  for (const key of ['clock', 'ids', 'instrument'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'function') {
      throw new CraError('invalid_request', `${key} must be a function`, { path: `/${key}` });
    }
  }
  if (options.storage !== undefined) {
    for (const m of ['open', 'append', 'read', 'sync', 'close'] as const) {
      if (typeof (options.storage as unknown as Record<string, unknown>)?.[m] !== 'function') {
        throw new CraError('invalid_request', `storage must implement ${m}()`, { path: '/storage' });
      }
    }
  }
  if (options.onCorruptTrace !== undefined && options.onCorruptTrace !== 'throw' && options.onCorruptTrace !== 'skip') {
    throw new CraError('invalid_request', 'onCorruptTrace must be "throw" or "skip"', { path: '/onCorruptTrace' });
  }
}

function toBundle(atlas: AtlasManifest | AtlasBundle, files?: Record<string, string>): AtlasBundle {
  if (!isObject(atlas)) throw new CraError('invalid_request', 'an atlas must be a manifest or {manifest, files}', { path: '' });
  // A detached copy: what a rebuild loads again must be what was loaded, whatever the caller mutates later.
  return jsonClone(bundleOf(atlas, files));
}

function headOf(events: readonly TraceEvent[]): ChainHead {
  const last = events[events.length - 1];
  return last ? { length: last.sequence + 1, head_hash: last.event_hash } : GENESIS;
}

function lastResolutionOf(events: readonly TraceEvent[]): string | null {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    if (e.event_type === 'carp.resolution.completed' && typeof e.payload.resolution_id === 'string') return e.payload.resolution_id;
  }
  return null;
}

function asStorageError(err: unknown, message: string): CraError {
  if (err instanceof CraError) return err;
  return new CraError('storage_failure', `${message}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
