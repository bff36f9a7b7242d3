/**
 * The embedded runtime: the core in-process, a trace store as the source of truth, and optional buffered
 * collection to sinks.
 *
 * Every operation runs synchronously inside the core; the events it emits are checked to continue the session's
 * chain (`answers.ts`), appended to the store, and only then handed to the collector and answered. When the core
 * traps or answers garbage, or the store fails to take events, the call throws, and a fresh instance is rebuilt from
 * the loaded atlases and the stored traces (`restore.ts`) before the next call runs.
 *
 * The runtime knows every stored session (`directory.ts`, from the store's index: start-up reads no trace), and only
 * the sessions in use are live in the core: a session is restored when an operation needs it and leaves when it
 * ends, idles or is pushed out by newer ones (`residency.ts`). `trace`, `verify` and `replay` read the store.
 *
 * This file is the runtime's public surface, one short method per operation of `CraRuntime` and `CraSession`
 * (which is why it runs past 400 lines); what those methods share lives beside it: the engine that steps and
 * rebuilds the core (`engine.ts`), which sessions are live (`residency.ts`, `directory.ts`), answer checks
 * (`answers.ts`), restores (`restore.ts`), record batching (`records.ts`), options (`options.ts`) and the CARP
 * request forms (`../carp/request.ts`).
 *
 * @module
 */

import { atlasJson, atlasToValidate } from '../atlas/bundle.ts';
import { actionRequestBody, createSessionBody, inOptionTerms, recordBody } from '../carp/actions.ts';
import { buildRequest, pointedBack, type RequestForm, requestedSession } from '../carp/request.ts';
import { BufferedCollector } from '../collector/collector.ts';
import { CraError } from '../errors.ts';
import { freshId, type IdSource, isoFromMicros, systemClock, systemIds } from '../host.ts';
import { checkJsonValue, jsonValue } from '../json-value.ts';
import type { ActionRequest, CarpResult, CraRuntime, EmbeddedListOptions, EmbeddedSessionOptions, LoadAtlasOptions, ResolveOptions } from '../interface.ts';
import { MemoryStore } from '../storage/memory.ts';
import type { StoreIssue, TraceStore } from '../storage/store.ts';
import { Telemetry } from '../telemetry/telemetry.ts';
import type {
  AtlasBundle,
  AtlasLoadResult,
  AtlasManifest,
  AtlasSummary,
  AtlasValidation,
  CarpRequest,
  CheckAnswer,
  CoreConfig,
  DiffResult,
  Execution,
  Json,
  JsonObject,
  ReplayResult,
  Resolution,
  RuntimeStats,
  SchemaError,
  Session,
  SessionList,
  TraceEvent,
  VerifyResult,
} from '../types.ts';
import { compact, deepFreeze, isObject, readOptions } from '../util.ts';
import { checkExecution, continueChain, type Descriptors } from './answers.ts';
import { checkAnswer } from './check.ts';
import type { Core } from './core.ts';
import { asStorageError, Engine, type Step } from './engine.ts';
import { compileCore } from './load.ts';
import { Directory } from './directory.ts';
import type { WasmModule } from './host-types.ts';
import { checkOptions, requestedConfig, residencyOptions, type RuntimeOptions, signingOptions } from './options.ts';
import { Checkpoints, noSigningKey } from './checkpoints.ts';
import { Proofs } from './proofs.ts';
import type { SyncResult, SyncState, SyncUpload } from '../proof/sync.ts';
import type { Checkpoint, CheckpointVerdict, Proof, ProofVerdict, ProveQuery, Receipt, ReceiptVerdict } from '../proof/types.ts';
import { verifyCheckpoint, verifyProof, type VerifierKeys, type VerifyProofOptions, verifyReceipt } from '../proof/verify.ts';
import type { CoreSource } from './load.ts';
import { schemaErrorsFor } from './params.ts';
import { flushRecords, type HostEvent, RecordQueue } from './records.ts';
import { Residency } from './residency.ts';
import { checkCoreSession, GENESIS, issueOfVerdict, type SessionState, sessionState } from './restore.ts';
import { EmbeddedSession } from './session.ts';

export type { RuntimeOptions, SessionResidency } from './options.ts';

/** The embedded runtime's stats: the core's, with what the host knows of its sessions. */
export type EmbeddedStats = RuntimeStats & Required<Pick<RuntimeStats, 'shared_window_seconds' | 'known_sessions' | 'restores' | 'evictions'>>;
export type { SessionState } from './restore.ts';

const RECENT_RESOLUTIONS = 32;


/**
 * Creates an embedded runtime: compiles (once per process) and instantiates the core, applies the options, loads
 * `options.atlases` and reads what `options.storage` holds (its index: no trace is read; each session is restored
 * when it is used).
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
  /** @internal spans and metrics of this runtime's sessions (and of guards on them). */
  readonly telemetry: Telemetry;
  private readonly engine: Engine;
  private readonly ids: IdSource;
  private readonly store: TraceStore;
  private readonly collector: BufferedCollector | null;
  private readonly onCorrupt: 'throw' | 'skip';
  private readonly ownerOf: RuntimeOptions['ownerOf'];
  private readonly directory = new Directory();
  private readonly residency: Residency;
  /** The effective configuration the core answered. */
  private config: CoreConfig;
  private readonly records = new RecordQueue(() => queueMicrotask(() => this.flushRecords()));
  private readonly issues: StoreIssue[] = [];
  private readonly signing: ReturnType<typeof signingOptions>;
  private checkpointer: Checkpoints | null = null;
  private readonly proofs: Proofs;
  private readonly wasm: CoreSource | undefined;
  private readonly trustedKeys: readonly string[] | undefined;

  /** @internal use {@link createRuntime}. */
  constructor(module: WasmModule, options: RuntimeOptions) {
    this.ids = options.ids ?? systemIds;
    this.telemetry = options.telemetry === undefined ? Telemetry.global : new Telemetry(options.telemetry);
    this.store = options.storage ?? new MemoryStore();
    this.collector = options.sinks && options.sinks.length > 0 ? new BufferedCollector(options.sinks, options.collector) : null;
    this.onCorrupt = options.onCorruptTrace ?? 'throw';
    this.config = requestedConfig(options);
    this.ownerOf = options.ownerOf;
    this.engine = new Engine({
      module,
      clock: options.clock ?? systemClock,
      ids: this.ids,
      store: this.store,
      collector: this.collector,
      config: this.config,
      instrument: options.instrument,
      onStored: (st, events) => this.directory.appended(st.id, events, st.owner),
      afterCommit: (core, st, events, now) => {
        const cp = this.checkpointer;
        if (!cp || !cp.due(events)) return undefined;
        const write = cp.make(core, st.id, now);
        return async () => {
          await write();
        };
      },
      rebuilt: async (core, now) => {
        const { shared_window_seconds } = core.call<RuntimeStats>('runtime.stats', {}, now);
        await this.residency.warm(core, shared_window_seconds ?? 0, now);
      },
    });
    this.residency = new Residency(this.engine, this.directory, this.store, residencyOptions(options), (issue) => this.issues.push(issue));
    this.signing = signingOptions(options);
    this.wasm = options.wasm;
    this.trustedKeys = options.trustedKeys ? [...options.trustedKeys] : undefined;
    this.proofs = new Proofs({
      store: this.store,
      checkpoints: () => this.checkpointer,
      verifierKey: () => this.verifierKey,
      wasm: this.wasm,
      trace: (id) => this.trace(id),
      knows: (id) => this.sessions.has(id) || this.directory.has(id),
      live: (id) => this.sessions.has(id),
      checkpoint: (id) => this.checkpoint(id),
      read: (query) => this.read(query),
      appended: (id, events) => this.directory.appended(id, events, undefined),
    });
  }

  /**
   * Damaged stored traces found so far, left out: on start what the store sees without reading traces (with
   * `onCorruptTrace: 'skip'`), then each trace found damaged when its session is used.
   */
  get storageIssues(): readonly StoreIssue[] {
    return this.issues;
  }

  /** The effective configuration of the core. */
  get configuration(): Readonly<CoreConfig> {
    return this.config;
  }

  /** @internal */
  async init(atlases: Array<AtlasManifest | AtlasBundle>): Promise<void> {
    this.config = deepFreeze(await this.engine.start());
    if (this.signing) this.checkpointer = await Checkpoints.load(this.signing, await this.read((core) => core), this.store);
    for (const a of atlases) await this.loadAtlas(a);
    const { sessions, issues } = await this.store.open();
    this.directory.load(sessions, (id) => this.ownerOfStored(id));
    await this.warm();
    const found = [...issues];
    this.issues.push(...found);
    // A trace left out stays out: its session answers why, on every call, until the store is repaired.
    for (const issue of found) {
      if (issue.session_id === null) continue;
      const message = `the stored trace of session ${issue.session_id} is damaged (${issue.kind}): ${issue.message}`;
      this.engine.lost.set(issue.session_id, new CraError('storage_corrupt', message, { details: [issue] }));
    }
    if (found.length > 0 && this.onCorrupt === 'throw') {
      throw new CraError(
        'storage_corrupt',
        `${found.length} stored trace(s) are damaged: ${found.map((i) => `${i.location ?? i.session_id}: ${i.message}`).join('; ')}`,
        { details: found },
      );
    }
  }

  // --- atlases -------------------------------------------------------------------------------------------------

  async loadAtlas(atlas: AtlasManifest | AtlasBundle, options?: LoadAtlasOptions): Promise<AtlasLoadResult> {
    const o = readOptions(options, '');
    const bundle = atlasJson(atlas, o.files);
    const result = await this.run((core, now) => {
      const r = core.call<AtlasLoadResult & { actions?: unknown }>('atlas.load', { ...bundle, replace: o.replace === true }, now);
      if (!isObject(r) || typeof r.atlas_id !== 'string') throw core.reject('atlas.load answered without atlas_id', 'atlas.load');
      this.atlases.set(r.atlas_id, bundle);
      const { actions, ...result } = r;
      this.descriptors.remember(core, r.atlas_id, actions);
      return { value: result };
    });
    await this.engine.refreshStale();
    // A longer shared rate-limit window may now reach sessions that left the core.
    if (this.directory.size > 0) await this.warm();
    return result;
  }

  async validateAtlas(atlas: AtlasManifest | AtlasBundle, options?: Pick<LoadAtlasOptions, 'files'>): Promise<AtlasValidation> {
    const sent = atlasToValidate(atlas, readOptions(options, '').files);
    if ('report' in sent) return sent.report;
    const bundle = sent.bundle;
    return this.run((core, now) => ({ value: core.call<AtlasValidation>('atlas.validate', bundle, now) }));
  }

  async unloadAtlas(atlasId: string): Promise<void> {
    checkJsonValue(atlasId, '/atlas_id');
    await this.run((core, now) => {
      core.call('atlas.unload', { atlas_id: atlasId }, now);
      this.atlases.delete(atlasId);
      this.descriptors.forget(atlasId);
      return { value: undefined };
    });
  }

  async listAtlases(): Promise<AtlasSummary[]> {
    return this.read((core, now) => core.call<{ atlases: AtlasSummary[] }>('atlas.list', {}, now).atlases);
  }

  async getAtlas(atlasId: string): Promise<AtlasManifest> {
    checkJsonValue(atlasId, '/atlas_id');
    return this.read((core, now) => core.call<{ manifest: AtlasManifest }>('atlas.get', { atlas_id: atlasId }, now).manifest);
  }

  // --- sessions ------------------------------------------------------------------------------------------------

  async createSession(options: EmbeddedSessionOptions): Promise<EmbeddedSession> {
    const input = createSessionBody(options);
    // The core checks the owner; only the embedded host may name one (the HTTP body has no such member).
    if (options.owner !== undefined) {
      checkJsonValue(options.owner, '/owner');
      input.owner = options.owner as Json;
    }
    // An id the runtime knows but holds outside the core is brought back, for the core to refuse it as taken.
    const taken = typeof input.session_id === 'string' ? input.session_id.toLowerCase() : undefined;
    if (taken !== undefined && !this.sessions.has(taken) && this.directory.has(taken)) {
      return this.on(taken, () => this.createIn(input));
    }
    return this.createIn(input);
  }

  private async createIn(input: JsonObject): Promise<EmbeddedSession> {
    const state = await inOptionTerms(() => this.run((core, now) => {
      const r = core.call<{ events: unknown }>('session.create', input, now);
      const st = sessionState(checkCoreSession(core, r, 'session.create'), GENESIS);
      if (this.sessions.has(st.id)) throw core.reject('session.create reused a live session id', 'session.create');
      const events = continueChain(core, st, r.events, 'session.create');
      this.residency.adopt(st);
      this.engine.lost.delete(st.id);
      return { value: st, commit: { state: st, events } };
    }));
    this.residency.trim();
    return new EmbeddedSession(this, state.id, state.agentId, state.goal);
  }

  /** A handle on a session the runtime knows; it is restored into the core when it is used, not here. */
  async getSession(sessionId: string): Promise<EmbeddedSession> {
    const live = typeof sessionId === 'string' ? this.sessions.get(sessionId) : undefined;
    if (live) return new EmbeddedSession(this, live.id, live.agentId, live.goal);
    if (this.engine.closed) throw new CraError('closed', 'the runtime is closed');
    const { stored } = this.residency.known(sessionId);
    return new EmbeddedSession(this, stored.session_id, stored.agent_id ?? '', stored.goal ?? '');
  }

  /** A page of the sessions the runtime knows, live or not, from its directory (no session is restored). */
  async listSessions(options?: EmbeddedListOptions): Promise<SessionList> {
    if (this.engine.closed) throw new CraError('closed', 'the runtime is closed');
    return this.directory.list(options);
  }

  /** @internal */
  async sessionInfo(sessionId: string): Promise<Session> {
    return this.on(sessionId, () => this.read((core, now) => core.call<{ session: Session }>('session.get', { session_id: sessionId }, now).session));
  }

  /** @internal */
  async executionIn(sessionId: string, executionId: string): Promise<Execution> {
    checkJsonValue(executionId, '/execution_id');
    return this.on(sessionId, () =>
      this.read((core, now) => {
        const r = core.call<{ execution: unknown }>('action.get', { session_id: sessionId, execution_id: executionId }, now);
        return checkExecution(core, r?.execution, 'action.get');
      }),
    );
  }

  /**
   * @internal A resolve or validate: `request` is SDK options, their wire form (the HTTP body), or a CARP request for
   * this session; an error points into it.
   */
  async resolveIn(
    sessionId: string,
    request: ResolveOptions | CarpRequest | JsonObject | undefined,
    operation: 'resolve' | 'validate',
    form: RequestForm = 'options',
  ): Promise<Resolution> {
    return this.on(sessionId, (st) => this.run((core, now) => {
      const built = buildRequest(st, request, form, operation, { requestId: () => freshId(this.ids), timestamp: () => isoFromMicros(now) });
      const ask = <R>(op: string) => pointedBack('/request', built.callerPath, () => core.call<R>(op, { request: built.request, compact_actions: true }, now));
      if (operation === 'validate') {
        const r = ask<{ resolution: unknown; events?: unknown[] }>('carp.request');
        // A dry run records nothing; events here would advance a chain that nothing stores.
        if (Array.isArray(r?.events) && r.events.length > 0) throw core.reject('a validate request emitted events', 'carp.request');
        return { value: this.descriptors.complete(core, r?.resolution, 'carp.request') };
      }
      const r = ask<{ resolution: unknown; events: unknown }>('session.resolve');
      const resolution = this.descriptors.complete(core, r?.resolution, 'session.resolve');
      const events = continueChain(core, st, r.events, 'session.resolve');
      this.remember(st, resolution);
      return { value: resolution, commit: { state: st, events } };
    }));
  }

  /** @internal */
  async checkIn(sessionId: string, actionId: string): Promise<CheckAnswer> {
    checkJsonValue(actionId, '/action_id');
    return this.on(sessionId, (st) => this.run((core, now) => {
      let handle = this.engine.actionHandles.get(actionId);
      if (handle === undefined) {
        const r = core.call<{ handle: number }>('action.handle', { action_id: actionId }, now);
        if (!isObject(r) || !Number.isInteger(r.handle)) throw core.reject('action.handle answered without a handle', 'action.handle');
        handle = r.handle;
        // 0: no loaded atlas declares the id. Not cached, so that unknown ids leave no lasting state here either
        // and an atlas loaded later is seen on the next check.
        if (handle !== 0) this.engine.actionHandles.set(actionId, handle);
      }
      const code = core.check(st.handle, handle, now);
      return { value: checkAnswer(core, code, st.id, actionId, now) };
    }));
  }

  /** @internal */
  async requestIn(sessionId: string, request: ActionRequest): Promise<Execution> {
    const body = actionRequestBody(request);
    return this.on(sessionId, (st) => this.requestOn(st, body));
  }

  private requestOn(st: SessionState, body: ReturnType<typeof actionRequestBody>): Promise<Execution> {
    const resolutionId = (body.resolution_id as string | null | undefined) ?? st.lastResolutionId;
    if (resolutionId == null) {
      throw new CraError('resolution_not_found', 'the session has no resolution yet: resolve first or pass resolutionId', {
        path: '/resolution_id',
      });
    }
    const parameters = body.parameters ?? {};
    const schemaErrors = this.schemaErrors(st, resolutionId, body.action_id, parameters);
    const input = { ...body, session_id: st.id, resolution_id: resolutionId, parameters };
    return this.executionStep(st, 'action.request', schemaErrors.length > 0 ? { ...input, schema_errors: schemaErrors } : input);
  }

  /** @internal One step of an execution of a session (`action.approve` …). */
  async executionOp(sessionId: string, op: string, input: JsonObject | Record<string, unknown>): Promise<Execution> {
    return this.on(sessionId, (st) => this.executionStep(st, op, input));
  }

  private executionStep(st: SessionState, op: string, input: JsonObject | Record<string, unknown>): Promise<Execution> {
    return this.run((core, now) => {
      const r = core.call<{ execution: unknown; events: unknown }>(op, input, now);
      const execution = checkExecution(core, r?.execution, op);
      const events = continueChain(core, st, r.events, op);
      return { value: execution, commit: { state: st, events } };
    });
  }

  /** @internal Queued and appended in batches (see `records.ts`). */
  recordIn(sessionId: string, eventType: string, payload: JsonObject): Promise<TraceEvent[]> {
    let item: HostEvent;
    try {
      // Checked and detached now: the caller may change its object before the batch goes out.
      item = recordBody(eventType, payload) as unknown as HostEvent;
      // Queued at once when the session is live (so that the chain keeps the order of the calls), else once restored.
      return this.on(sessionId, () => this.records.push(sessionId, item));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Sends every queued host event, one batch per session. */
  private flushRecords(): void {
    flushRecords(this.records, this.engine, (id) => this.live(id));
  }

  /** @internal */
  async endIn(sessionId: string, reason: string | undefined): Promise<Session> {
    if (reason !== undefined) checkJsonValue(reason, '/reason');
    return this.on(sessionId, (st) => this.endOn(st, reason));
  }

  private async endOn(st: SessionState, reason: string | undefined): Promise<Session> {
    const sessionId = st.id;
    const session = await this.run((core, now) => {
      const r = core.call<{ session: Session; events: TraceEvent[] }>('session.end', compact({ session_id: sessionId, reason }), now);
      if (!isObject(r?.session) || r.session.status !== 'ended') throw core.reject('session.end answered without an ended session', 'session.end');
      const events = continueChain(core, st, r.events, 'session.end');
      return { value: r.session, commit: { state: st, events } };
    });
    try {
      await this.store.sync(sessionId, { release: true });
    } catch (err) {
      throw asStorageError(err, `the session ended but its trace could not be synced`);
    }
    return session;
  }

  /**
   * Runs `op` on the live state of a session, restoring it into the core first when it is not live. A live
   * session's `op` starts synchronously, so calls keep their order; the session stays in the core until `op` ends.
   */
  private on<T>(sessionId: string, op: (st: SessionState) => Promise<T>): Promise<T> {
    const got = this.residency.acquire(sessionId);
    return got instanceof Promise ? got.then((st) => this.holding(st, op)) : this.holding(got, op);
  }

  private async holding<T>(st: SessionState, op: (st: SessionState) => Promise<T>): Promise<T> {
    try {
      return await op(st);
    } finally {
      this.residency.release(st);
    }
  }

  /** The state of a session that must be live (pinned by the operation under way), or its rejection. */
  private live(sessionId: string): SessionState {
    const st = this.sessions.get(sessionId);
    if (st) return st;
    this.residency.known(sessionId);
    throw new CraError('session_not_found', `session ${sessionId} is not live`, { path: '/session_id' });
  }

  /**
   * Lets every live session that no operation is using leave the core now (an ended one leaves at once anyway):
   * their state stays in their traces, restored on their next use. Answers how many left.
   */
  evictSessions(): number {
    return this.residency.evictAll();
  }

  // --- CARP ----------------------------------------------------------------------------------------------------

  async carp(input: CarpRequest | JsonObject): Promise<CarpResult> {
    if (!isObject(input)) throw new CraError('invalid_request', 'the request must be an object', { path: '' });
    const request = jsonValue(input) as JsonObject;
    const named = requestedSession(request).sessionId;
    const id = typeof named === 'string' ? named.toLowerCase() : undefined;
    return this.telemetry.carp(request, id, () => {
      // A session the runtime knows is brought into the core first; any other id is the core's to refuse.
      if (id !== undefined && (this.sessions.has(id) || this.directory.has(id) || this.engine.lost.has(id))) {
        return this.on(id, (st) => this.carpOn(request, st));
      }
      return this.carpOn(request, undefined);
    });
  }

  private carpOn(request: JsonObject, st: SessionState | undefined): Promise<CarpResult> {
    let schemaErrors: SchemaError[] = [];
    if (request.operation === 'execute' && st && isObject(request.execution)) {
      const ex = request.execution;
      if (typeof ex.resolution_id === 'string' && typeof ex.action_id === 'string') {
        schemaErrors = this.schemaErrors(st, ex.resolution_id, ex.action_id, ex.parameters);
      }
    }
    return this.run((core, now) => {
      const input = schemaErrors.length > 0 ? { request, schema_errors: schemaErrors, compact_actions: true } : { request, compact_actions: true };
      const r = pointedBack('/request', (p) => p, () => core.call<{ resolution?: unknown; execution?: unknown; events?: unknown }>('carp.request', input, now));
      if (!isObject(r)) throw core.reject('carp.request answered a non-object', 'carp.request');
      const out: CarpResult = {};
      if (r.resolution !== undefined) out.resolution = this.descriptors.complete(core, r.resolution, 'carp.request');
      if (r.execution !== undefined) out.execution = checkExecution(core, r.execution, 'carp.request');
      if (out.resolution === undefined && out.execution === undefined) {
        throw core.reject('carp.request answered neither a resolution nor an execution', 'carp.request');
      }
      const emitted: unknown = r.events ?? [];
      if (!Array.isArray(emitted)) throw core.reject('carp.request answered events that are not a list', 'carp.request');
      if (emitted.length === 0) return { value: out };
      if (!st) throw core.reject('carp.request emitted events for a session the host does not hold', 'carp.request');
      const events = continueChain(core, st, emitted, 'carp.request');
      if (out.resolution && request.operation !== 'validate') this.remember(st, out.resolution);
      return { value: out, commit: { state: st, events } };
    });
  }

  // --- traces: read from storage, never bringing a session back into the core --------------------------------

  /**
   * A session's stored trace. A session that is not live is verified first (against the head the runtime holds for
   * it, see `verify`): a damaged trace is never answered as if it were the session's; the session then answers why.
   */
  async trace(sessionId: string): Promise<TraceEvent[]> {
    return (await this.checked(sessionId)).events;
  }

  /**
   * Verifies a session's stored trace against the head the runtime holds for it: the exact head of what it
   * appended, or, for a session not used since start, the head the store made durable (which the trace must
   * contain: events written after the store's last sync are kept). A session that is not live and whose trace is
   * damaged answers `storage_corrupt` (as every other call on it does from then on); a live session's trace
   * damaged since it was restored is answered as the verdict.
   */
  async verify(sessionId: string): Promise<VerifyResult> {
    const { events, verdict } = await this.checked(sessionId);
    return verdict ?? this.verifyAgainst(sessionId, events);
  }

  async replay(sessionId: string): Promise<ReplayResult> {
    return this.engine.replay(await this.trace(sessionId));
  }

  /** Reads a session's trace; one that is not live is verified, and marked damaged when the verdict says so. */
  private async checked(sessionId: string): Promise<{ events: TraceEvent[]; verdict?: VerifyResult }> {
    if (this.engine.closed) throw new CraError('closed', 'the runtime is closed');
    const live = typeof sessionId === 'string' && this.sessions.has(sessionId);
    if (!live) this.residency.known(sessionId);
    const events = await this.store.read(sessionId).catch((err) => {
      throw asStorageError(this.residency.damaged(sessionId, err), `cannot read the trace of ${sessionId}`);
    });
    if (live) return { events };
    const verdict = await this.verifyAgainst(sessionId, events);
    if (!verdict.valid && !this.sessions.has(sessionId)) {
      const k = this.directory.get(sessionId);
      throw this.engine.lost.get(sessionId) ?? this.residency.damage(sessionId, issueOfVerdict(sessionId, verdict, events.length, k && !k.exact ? this.directory.heads(k).synced : undefined));
    }
    return { events, verdict };
  }

  private verifyAgainst(sessionId: string, events: readonly TraceEvent[]): Promise<VerifyResult> {
    const st = this.sessions.get(sessionId);
    const k = this.directory.get(sessionId);
    const heads = k ? this.directory.heads(k) : st && st.stored.length > 0 ? { expected: st.stored } : {};
    const input = compact({
      events,
      expected_head: heads.expected && heads.expected.length > 0 ? heads.expected : undefined,
      synced_head: heads.synced && heads.synced.length > 0 ? heads.synced : undefined,
    });
    return this.read((core, now) => core.call<VerifyResult>('trace.verify', input, now));
  }

  // --- proofs ([Proofs](../../../docs/protocol.md#proofs)) ------------------------------------------------------

  /** The verifier key of this runtime's checkpoints (`null` without `signing`): what a reader of them needs. */
  get verifierKey(): string | null {
    return this.checkpointer?.signer.verifier ?? null;
  }

  /**
   * Signs and stores a checkpoint of a session's log as it stands now (`no_signing_key` without `signing`); when the
   * newest stored checkpoint already covers the whole log, answers it rather than storing another of the same tree.
   */
  async checkpoint(sessionId: string): Promise<Checkpoint> {
    const cp = this.checkpointer;
    if (!cp) throw noSigningKey();
    return this.on(sessionId, async (st) => {
      const newest = await this.proofs.newest(st.id);
      const write = await this.read((core, now) => {
        const length = core.call<{ session: Session }>('session.get', { session_id: st.id }, now).session.event_count;
        return newest !== undefined && newest.size === length ? null : cp.make(core, st.id, now);
      });
      return write === null ? newest! : write();
    });
  }

  /** The verifier key of this runtime's checkpoints, `null` when it signs none (what `GET /v1/checkpoint-key` answers). */
  async checkpointKey(): Promise<string | null> {
    return this.verifierKey;
  }

  /** The stored checkpoints of a session, oldest first. */
  checkpoints(sessionId: string): Promise<Checkpoint[]> {
    return this.proofs.list(sessionId);
  }

  /** An inclusion proof (`{ index, size? }`) or a consistency proof (`{ first, second? }`) over a session's log. */
  prove(sessionId: string, query: ProveQuery): Promise<Proof> {
    return this.proofs.prove(sessionId, query);
  }

  /** The receipt of an execution: its events, their inclusion proofs and a signed checkpoint covering them. */
  receipt(sessionId: string, executionId: string): Promise<Receipt> {
    return this.proofs.receipt(sessionId, executionId);
  }

  /** Checks a signed checkpoint with verifier key(s). */
  verifyCheckpoint(note: string, options: { keys: VerifierKeys }): Promise<CheckpointVerdict> {
    return verifyCheckpoint(note, { ...options, wasm: this.wasm });
  }

  /** Checks a proof, against an event and signed checkpoints when given. */
  verifyProof(proof: Proof, options?: Omit<VerifyProofOptions, 'wasm'>): Promise<ProofVerdict> {
    return verifyProof(proof, { ...options, wasm: this.wasm });
  }

  /** Checks a receipt offline with verifier key(s). */
  verifyReceipt(receipt: Receipt, options: { keys: VerifierKeys }): Promise<ReceiptVerdict> {
    return verifyReceipt(receipt, { ...options, wasm: this.wasm });
  }

  /** What this runtime holds of a session: where a sync of it starts. */
  syncState(sessionId: string): Promise<SyncState> {
    return this.proofs.state(sessionId);
  }

  /**
   * Takes a session's events and checkpoints from the runtime that governs it ([Sync](../../../docs/protocol.md#sync)).
   * The checkpoints must be signed by one of `trustedKeys`; without them, by the upload's `key`, which the session's
   * first sync pins.
   */
  sync(upload: SyncUpload): Promise<SyncResult> {
    return this.proofs.sync(upload, this.trustedKeys);
  }

  /**
   * What to send another runtime so that it holds a session as this one does: the events and checkpoints after
   * `state`, signing a checkpoint first when none covers the whole log (`no_signing_key` without `signing`).
   */
  async syncUpload(sessionId: string, state?: SyncState): Promise<SyncUpload> {
    const events = await this.trace(sessionId);
    let notes = await this.checkpoints(sessionId);
    if (events.length > (state?.length ?? 0) && (notes.at(-1)?.size ?? 0) < events.length) {
      await this.checkpoint(sessionId);
      notes = await this.checkpoints(sessionId);
    }
    const from = state?.length ?? 0;
    const heldSize = state?.checkpoint ? (await this.read((core, now) => core.call<{ size: number }>('checkpoint.open', { note: state.checkpoint }, now))).size : -1;
    return {
      session_id: sessionId,
      events: events.slice(from),
      checkpoints: notes.filter((c) => c.size > heldSize).map((c) => c.note),
      ...(this.verifierKey ? { key: this.verifierKey } : {}),
    };
  }

  async diff(a: readonly TraceEvent[], b: readonly TraceEvent[]): Promise<DiffResult> {
    checkJsonValue({ a, b });
    return this.read((core, now) => core.call<DiffResult>('trace.diff', { a, b }, now));
  }

  async stats(): Promise<EmbeddedStats> {
    const core = await this.read((c, now) => c.call<RuntimeStats>('runtime.stats', {}, now));
    return {
      ...core,
      shared_window_seconds: core.shared_window_seconds ?? 0,
      known_sessions: this.directory.size,
      restores: this.residency.restores,
      evictions: this.residency.evictions,
    };
  }

  async flush(): Promise<void> {
    await this.collector?.flush();
  }

  async close(): Promise<void> {
    if (this.engine.closed) return;
    // Host events still queued for this tick are appended first: nothing accepted is lost.
    if (this.records.size > 0) this.flushRecords();
    this.engine.closed = true;
    await this.engine.settled();
    await this.checkpointer?.settled();
    const errors: unknown[] = [];
    await this.collector?.close().catch((err) => errors.push(err));
    await this.store.close().catch((err) => errors.push(err));
    if (errors.length > 0) throw errors[0];
  }

  // --- internals -----------------------------------------------------------------------------------------------

  /** Brings the approvals of recently active sessions into the shared rate-limit windows (see `Residency.warm`). */
  private async warm(): Promise<void> {
    // At the latest clock reading: bringing counts back records nothing, so it never moves the host's clock.
    const { shared_window_seconds } = await this.stats();
    await this.residency.warm(null, shared_window_seconds ?? 0, this.engine.lastReading());
  }

  /** The host's owner of a stored session; a host function that throws or answers a non-string names none. */
  private ownerOfStored(sessionId: string): string | undefined {
    let owner: unknown;
    try {
      owner = this.ownerOf?.(sessionId);
    } catch (err) {
      throw new CraError('invalid_request', `ownerOf failed for session ${sessionId}: ${err instanceof Error ? err.message : String(err)}`, { path: '/ownerOf', cause: err });
    }
    return typeof owner === 'string' ? owner : undefined;
  }

  /** Runs a step on the engine; queued host events go first, so the chain keeps the order of the calls. */
  private run<T>(step: (core: Core, now: number) => Step<T>): Promise<T> {
    if (this.records.size > 0 && !this.engine.closed) this.flushRecords();
    return this.engine.run(step);
  }

  /** Runs a query that records nothing (see `Engine.read`), after the queued host events. */
  private read<T>(query: (core: Core, now: number) => T): Promise<T> {
    if (this.records.size > 0 && !this.engine.closed) this.flushRecords();
    return this.engine.read(query);
  }

  private get atlases(): Map<string, AtlasBundle> {
    return this.engine.atlases;
  }

  private get descriptors(): Descriptors {
    return this.engine.descriptors;
  }

  private get sessions(): Map<string, SessionState> {
    return this.engine.sessions;
  }

  private remember(st: SessionState, resolution: Resolution): void {
    st.resolutions.set(resolution.resolution_id, resolution);
    st.lastResolutionId = resolution.resolution_id;
    if (st.resolutions.size > RECENT_RESOLUTIONS) st.resolutions.delete(st.resolutions.keys().next().value!);
  }

  private schemaErrors(st: SessionState, resolutionId: string, actionId: unknown, parameters: unknown): SchemaError[] {
    return schemaErrorsFor(st.resolutions.get(resolutionId), this.atlases.values(), actionId, parameters);
  }
}

/** A detached bundle: what a rebuild loads again must be what was loaded, whatever the caller mutates later. */
