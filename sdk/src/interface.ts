/**
 * The runtime interface shared by both modes: embedded (the core in-process, {@link createRuntime}) and HTTP (a
 * client of the CRA server). Application code written against {@link CraRuntime} runs unchanged on either; the
 * same request gives the same resolution and the same trace.
 *
 * Every method is async and rejects with a `CraError`. On a rejection nothing was recorded and no state changed.
 *
 * @module
 */

import type { SyncResult, SyncState, SyncUpload } from './proof/sync.ts';
import type { Checkpoint, CheckpointVerdict, Proof, ProofVerdict, ProveQuery, Receipt, ReceiptVerdict } from './proof/types.ts';
import type { VerifierKeys, VerifyProofOptions } from './proof/verify.ts';
import type { RequestForm } from './carp/request.ts';
import type {
  AtlasBundle,
  AtlasLoadResult,
  AtlasManifest,
  AtlasSummary,
  AtlasValidation,
  CarpRequest,
  CheckAnswer,
  DiffResult,
  EndReason,
  Execution,
  JsonObject,
  Json,
  ReplayResult,
  Resolution,
  RiskTier,
  RuntimeStats,
  Session,
  SessionList,
  TraceEvent,
  TraceEventType,
  VerifyResult,
} from './types.ts';

/** How {@link CraRuntime.loadAtlas} loads an atlas. */
export interface LoadAtlasOptions {
  /** Text of the context-pack files by manifest path (merged over a bundle's own `files`). */
  files?: Record<string, string>;
  /** Replace a loaded atlas with the same id (sessions keep the resolutions they had). */
  replace?: boolean;
}

/** A new session ({@link CraRuntime.createSession}); it starts its trace with `session.started`. */
export interface CreateSessionOptions {
  /** The agent the session is for: `agents` conditions match it, and rate limits of scope `agent` count by it. */
  agentId: string;
  /** What the agent sets out to do; a resolve without its own goal uses it. */
  goal: string;
  /** A lowercase UUID; generated when omitted. */
  sessionId?: string;
  /** The session that started this one, for nested agents. */
  parentSessionId?: string;
  /** Free-form JSON recorded in `session.started` (so keep secrets out of it). */
  metadata?: JsonObject;
}

/**
 * Creating a session in an embedded runtime: a host serving several tenants names the session's `owner` (at most
 * 200 characters), so that one tenant's sessions never spend another's rate limits (scopes `agent` and `global`
 * count per owner). Over HTTP the server sets it from the API key; a client cannot choose it.
 */
export interface EmbeddedSessionOptions extends CreateSessionOptions {
  /** The tenant the session belongs to (at most 200 characters). */
  owner?: string;
}

/** Which sessions `listSessions` answers: filters, then a page of them in creation order. */
export interface ListSessionsOptions {
  /** Default `all`. */
  status?: 'active' | 'ended' | 'all';
  /** Only the sessions of this agent. */
  agentId?: string;
  /** At most this many (default 100; over HTTP at most 1000). */
  limit?: number;
  /** Skip this many matching sessions (default 0). */
  offset?: number;
  /** `oldest` first (default) or `newest` first. */
  order?: 'oldest' | 'newest';
}

/** Embedded listing: a host serving several tenants lists one owner's sessions. */
export interface EmbeddedListOptions extends ListSessionsOptions {
  /** Only the sessions created for this owner (`createSession({ owner })`, or `ownerOf` for stored ones). */
  owner?: string;
  /** The host's own filter, applied before paging (the server: the sessions a key may see). */
  where?: (sessionId: string) => boolean;
}

/** A resolve request in SDK form; the session fills in requester, ids and time. */
export interface ResolveOptions {
  /** Default: the session's goal. */
  goal?: string;
  /** The task's risk tier (what `risk_tiers` conditions read); default `low`. */
  riskTier?: RiskTier;
  /** Hints for context selection; recorded in the trace, not used for selection. */
  contextHints?: string[];
  /** Capability ids the task needs: the resolution is narrowed to their actions and packs. */
  requiredCapabilities?: string[];
  /** Default: every loaded atlas. */
  atlasIds?: string[];
  /** Request context (`context_matches` conditions read it; `max_context_tokens` sets the context budget). */
  context?: JsonObject;
  /** Default: a fresh id. */
  requestId?: string;
  /** RFC 3339; default: the runtime clock. */
  timestamp?: string;
}

/**
 * @internal How a resolve request is written: SDK options (default) or their snake_case wire form, as the HTTP API
 * takes them (a server hands its body on as it came, and errors point into that body).
 */
export interface ResolveForm {
  /** `options` (default) or `wire`. */
  form?: RequestForm;
}

/** Asking to execute an action ({@link CraSession.requestAction}; [Executions](../../docs/protocol.md#executions)). */
export interface ActionRequest {
  /** The action to run, as the resolution lists it. */
  actionId: string;
  /** The action's parameters, validated against its `parameters_schema` (default `{}`). Only their hash is traced. */
  parameters?: JsonObject;
  /** Default: the session's latest resolution. */
  resolutionId?: string;
  /** The same key for the same call answers the existing execution; for another call, `idempotency_conflict`. */
  idempotencyKey?: string;
}

/** Granting a pending approval ([Approvals](../../docs/protocol.md#approvals)). */
export interface ApproveOptions {
  /** Who approves; recorded in `action.approved`. */
  approver?: string;
  /**
   * The approval hash of the exact execution being approved. Default: the `approval_hash` of the execution object
   * when one is passed to {@link CraSession.approve}.
   */
  approvalHash?: string;
}

/** Refusing a pending approval; the execution is denied with code `approval_denied`. */
export interface DenyOptions {
  /** Why; becomes the execution's `reason` (default "approval denied"). */
  reason?: string;
  /** Who refuses; recorded in `action.denied`. */
  approver?: string;
}

/** Reporting that an approved action ran; recorded as `action.executed`. */
export interface CompleteOptions {
  /** The tool's result; only its hash is traced. */
  result?: Json;
  /** How long the tool ran, in milliseconds (traced in whole milliseconds). */
  durationMs?: number;
}

/** Reporting that an approved action failed; recorded as `action.failed`. */
export interface FailOptions {
  /** The tool's error code. */
  errorCode: string;
  /** The tool's error message; traced, and the execution's `reason`. */
  errorMessage: string;
  /** How long the tool ran before failing, in milliseconds. */
  durationMs?: number;
}

/** What `carp()` answers: a resolution for `resolve` / `validate`, an execution for `execute`. */
export interface CarpResult {
  /** The resolution, for `resolve` and `validate`. */
  resolution?: Resolution;
  /** The execution, for `execute`. */
  execution?: Execution;
}

/** One agent session: its requests, actions and hash-chained trace. */
export interface CraSession {
  /** The session's id (a lowercase UUID). */
  readonly id: string;
  /** The agent the session was created for. */
  readonly agentId: string;
  /** The goal the session was created with. */
  readonly goal: string;
  /** The runtime the session lives in (its atlases, traces and other sessions). */
  readonly runtime: CraRuntime;
  /** Current state (status, counts, chain head). */
  info(): Promise<Session>;
  /** Resolves which context and actions the agent gets (traced). */
  resolve(request?: ResolveOptions | CarpRequest, how?: ResolveForm): Promise<Resolution>;
  /** Computes a resolution exactly as {@link resolve} would, recording nothing. */
  validate(request?: ResolveOptions | CarpRequest, how?: ResolveForm): Promise<Resolution>;
  /** The hot path: may this session run `actionId` now? Records nothing. Never answers `allow` on error. */
  check(actionId: string): Promise<CheckAnswer>;
  /** Asks to execute an action; the answer's status says whether it may run (`approved`) or why not. */
  requestAction(request: ActionRequest): Promise<Execution>;
  /** One execution as it stands now (e.g. after someone else approved or denied it); `execution_not_found` otherwise. */
  execution(executionId: string): Promise<Execution>;
  /** Grants a pending approval. */
  approve(execution: string | Execution, options?: ApproveOptions): Promise<Execution>;
  /** Refuses a pending approval. */
  deny(execution: string | Execution, options?: DenyOptions): Promise<Execution>;
  /** Reports that an approved action ran. */
  complete(execution: string | Execution, options?: CompleteOptions): Promise<Execution>;
  /** Reports that an approved action failed. */
  fail(execution: string | Execution, options: FailOptions): Promise<Execution>;
  /** Appends a host-emitted event (e.g. `error.occurred`, `context.redacted`). */
  record(eventType: TraceEventType, payload: JsonObject): Promise<TraceEvent[]>;
  /** Ends the session; every later request on it is refused. */
  end(reason?: EndReason): Promise<Session>;
  /** The session's trace, in chain order. */
  trace(): Promise<TraceEvent[]>;
  /** Signs and stores a checkpoint of the session's log now ({@link CraRuntime.checkpoint}). */
  checkpoint(): Promise<Checkpoint>;
  /** The session's stored checkpoints, oldest first. */
  checkpoints(): Promise<Checkpoint[]>;
  /** An inclusion or consistency proof over the session's log ({@link CraRuntime.prove}). */
  prove(query: ProveQuery): Promise<Proof>;
  /** The receipt of one of the session's executions ({@link CraRuntime.receipt}). */
  receipt(execution: string | Execution): Promise<Receipt>;
}

/** A CRA runtime: atlases, sessions and their traces. */
export interface CraRuntime {
  /** `embedded` (in-process core) or `http` (server client). */
  readonly mode: 'embedded' | 'http';
  /**
   * Validates and loads an atlas. Rejects with the first validation error (`atlas_invalid`, with its JSON pointer;
   * {@link validateAtlas} lists them all), or `atlas_exists` when the id is loaded and `replace` is not set.
   */
  loadAtlas(atlas: AtlasManifest | AtlasBundle, options?: LoadAtlasOptions): Promise<AtlasLoadResult>;
  /** Validates an atlas without loading it: every error and warning, each with its JSON pointer. */
  validateAtlas(atlas: AtlasManifest | AtlasBundle, options?: Pick<LoadAtlasOptions, 'files'>): Promise<AtlasValidation>;
  /** Unloads an atlas: resolutions made with it allow none of its actions any more (`atlas_unloaded`). */
  unloadAtlas(atlasId: string): Promise<void>;
  /** The loaded atlases. */
  listAtlases(): Promise<AtlasSummary[]>;
  /** The manifest of a loaded atlas (`atlas_not_found` otherwise). */
  getAtlas(atlasId: string): Promise<AtlasManifest>;
  /** Starts a session (traced as `session.started`). */
  createSession(options: CreateSessionOptions): Promise<CraSession>;
  /** A handle on an existing session (rejects with `session_not_found`). */
  getSession(sessionId: string): Promise<CraSession>;
  /** A page of the sessions the runtime knows, from its index: no session is restored to list it. */
  listSessions(options?: ListSessionsOptions): Promise<SessionList>;
  /** Runs a raw CARP/1.0 request (nested or flat form, any operation). */
  carp(request: CarpRequest | JsonObject): Promise<CarpResult>;
  /** A session's stored trace, in chain order. */
  trace(sessionId: string): Promise<TraceEvent[]>;
  /** Verifies a session's stored trace against the head the runtime holds for it. */
  verify(sessionId: string): Promise<VerifyResult>;
  /** Replays a session's trace against the loaded atlases in a scratch instance and reports divergences. */
  replay(sessionId: string): Promise<ReplayResult>;
  /** Compares two traces, ignoring ids, timestamps and hashes. */
  diff(a: readonly TraceEvent[], b: readonly TraceEvent[]): Promise<DiffResult>;
  /**
   * Signs and stores a checkpoint of a session's log as it stands: its size, Merkle root and time under the
   * runtime's key ([Proofs](../../docs/protocol.md#proofs)). `no_signing_key` when the runtime has none.
   */
  checkpoint(sessionId: string): Promise<Checkpoint>;
  /** A session's stored checkpoints, oldest first. */
  checkpoints(sessionId: string): Promise<Checkpoint[]>;
  /** The verifier key of the runtime's own checkpoints (`null` when it signs none): what readers of them need. */
  checkpointKey(): Promise<string | null>;
  /** That event `index` is in the log (`{ index, size? }`), or that the log's first `first` events are a prefix of its first `second` (`{ first, second? }`). */
  prove(sessionId: string, query: ProveQuery): Promise<Proof>;
  /** The receipt of an execution: its events, their inclusion proofs and a signed checkpoint covering them, checkable offline. */
  receipt(sessionId: string, executionId: string): Promise<Receipt>;
  /** Checks a signed checkpoint with the given verifier key(s). */
  verifyCheckpoint(note: string, options: { keys: VerifierKeys }): Promise<CheckpointVerdict>;
  /** Checks a proof, against its event and signed checkpoints when given. */
  verifyProof(proof: Proof, options?: Omit<VerifyProofOptions, 'wasm'>): Promise<ProofVerdict>;
  /** Checks a receipt with the given verifier key(s). */
  verifyReceipt(receipt: Receipt, options: { keys: VerifierKeys }): Promise<ReceiptVerdict>;
  /** What the runtime holds of a session governed elsewhere: where a sync of it starts ([Sync](../../docs/protocol.md#sync)). */
  syncState(sessionId: string): Promise<SyncState>;
  /** Takes a session's events and signed checkpoints from the runtime that governs it; a rewritten history is refused (`history_rewritten`). */
  sync(upload: SyncUpload): Promise<SyncResult>;
  /** Figures of the runtime: atlases, live sessions, memory. */
  stats(): Promise<RuntimeStats>;
  /** Drains buffered trace collection to every sink. */
  flush(): Promise<void>;
  /** Drains, syncs storage and refuses further calls. */
  close(): Promise<void>;
}
