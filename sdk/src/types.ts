/**
 * Protocol objects of Atlas/1.0, CARP/1.0 and TRACE/1.0, as they travel on the wire (snake_case field names, as in
 * the protocol's JSON Schemas shipped under `schemas/`). What each one means, and what this runtime does with it,
 * is told in [the protocol](../../docs/protocol.md); the comments below name the section.
 *
 * One file by choice: it is the wire vocabulary, declarations only, read top to bottom like the protocol itself
 * (atlas, CARP, execution, TRACE), which is why it runs long.
 *
 * @module
 */

import type { CheckResult, KnownEventType, KnownRefusalCode } from './abi.ts';

/** Any JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** A JSON object. */
export type JsonObject = { [key: string]: Json };
/** A JSON Schema (draft 2020-12) as a plain object. */
export type JsonSchema = { [key: string]: unknown };

/**
 * How risky an action or a task is. An action without one is `low`, and so is a request without one; policies and
 * context packs select by tier through {@link Conditions.risk_tiers}.
 */
export type RiskTier = 'low' | 'medium' | 'high' | 'critical';
/** A day of the week in a {@link Conditions.time_window}. */
export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

// ---------------------------------------------------------------------------------------------------------------
// Atlas/1.0

/**
 * When a policy or context pack applies; every clause present must hold
 * ([Conditions](../../docs/protocol.md#conditions)).
 */
export interface Conditions {
  /** Holds when the request's `risk_tier` (default `low`) is one of these. */
  risk_tiers?: RiskTier[];
  /** Globs on the agent id. */
  agents?: string[];
  /** Capabilities that the request must require. */
  capabilities?: string[];
  /** Key/value pairs that the request's `context` must contain. */
  context_matches?: Record<string, string>;
  /** Evaluated on the host-supplied time. */
  time_window?: {
    /** First instant inside the window: `HH:MM` or `HH:MM:SS`, optionally with its own offset (`09:00Z`). */
    start?: string;
    /** First instant past the window (exclusive), same form as `start`; before `start`, the window wraps midnight. */
    end?: string;
    /** An IANA zone (`Europe/Paris`) or a fixed offset; default UTC. A bound's own offset wins over it. */
    timezone?: string;
    /** The days on which the window is open; default every day. */
    days?: Weekday[];
  };
}

/**
 * An action an atlas declares: one tool an agent may be allowed to call
 * ([Actions](../../docs/protocol.md#actions)).
 */
export interface AtlasAction {
  /** Dotted id, unique across every loaded atlas (`refund.issue`). */
  action_id: string;
  /** Human-readable name. */
  name: string;
  /** What the action does; tool adapters hand it to the model. */
  description: string;
  /** JSON Schema of the parameters; every execution's parameters are validated against it before any policy. */
  parameters_schema?: JsonSchema;
  /** JSON Schema of the result; descriptive only. */
  returns_schema?: JsonSchema;
  /** Risk classification; default `low`. */
  risk_tier?: RiskTier;
  /** Safe to retry without side effects (descriptive; default false). */
  idempotent?: boolean;
  /** When true, every execution waits for a human approval, as under a `require_approval` policy. */
  requires_confirmation?: boolean;
  /** Executor identifier or endpoint (descriptive). */
  executor?: string;
  /** Execution timeout in seconds, 1–300 (descriptive). */
  timeout_seconds?: number;
  /** A per-session rate limit of this action's approved executions; it restricts, never allows. */
  rate_limit?: RateLimit;
  /** Example invocations (descriptive). */
  examples?: Array<{
    /** What the example shows. */
    name?: string;
    /** The parameters of the call. */
    parameters?: JsonObject;
    /** What the call returns. */
    expected_result?: JsonObject;
  }>;
}

/**
 * A group of actions and the context packs that go with them
 * ([Capabilities](../../docs/protocol.md#capabilities)). A request naming `required_capabilities` is narrowed to
 * their actions.
 */
export interface Capability {
  /** Capability identifier, as requests name it in `required_capabilities`. */
  capability_id: string;
  /** Human-readable name. */
  name: string;
  /** What this capability provides. */
  description?: string;
  /** Action ids or patterns (`refund.*`) of this capability. */
  actions?: string[];
  /** Ids of the context packs selected only when this capability is in scope. */
  context_packs?: string[];
}

/**
 * A collection of context documents, injected as context blocks when its conditions hold
 * ([Context packs](../../docs/protocol.md#context-packs), [Context](../../docs/protocol.md#context)).
 */
export interface ContextPack {
  /** Pack identifier, unique in its atlas; part of each block's `block_id`. */
  pack_id: string;
  /** Human-readable name. */
  name: string;
  /** What context this provides. */
  description?: string;
  /** Paths relative to the atlas folder; their text is passed as {@link AtlasBundle.files}. */
  files: string[];
  /** 0..1000, default 100. */
  priority?: number;
  /** When the pack is selected; always, when absent. */
  conditions?: Conditions;
  /** Most tokens (estimated as characters / 4) that the pack's files inject together. */
  max_tokens?: number;
}

/**
 * What a policy does ([Policies](../../docs/protocol.md#policies)); policies are read in the order `deny`,
 * `require_approval`, `rate_limit`, `budget`, `allow`, `scope` ([Policy order](../../docs/protocol.md#policy-order)).
 */
export type PolicyType = 'allow' | 'deny' | 'rate_limit' | 'require_approval' | 'budget' | 'scope';

/**
 * A governance rule of an atlas; it governs only the actions of its own atlas
 * ([Policies](../../docs/protocol.md#policies)).
 */
export interface Policy {
  /** Policy identifier; refusals and trace events name it. */
  policy_id: string;
  /** Human-readable name. */
  name?: string;
  /** What this policy does. */
  description?: string;
  /** What the policy does to the actions it matches. */
  type: PolicyType;
  /** Higher first; default 0. */
  priority?: number;
  /** When the policy applies; always, when absent. */
  conditions?: Conditions;
  /** Action patterns: exact id, `*`, `prefix.*`, `*.suffix`. */
  actions?: string[];
  /** The reason a denial by this policy gives (else `parameters.reason`). */
  reason?: string;
  /**
   * The type's settings: `max_calls`, `window_seconds`, `scope` for `rate_limit`; `max_calls` or `max_cost` with
   * `cost_param` for `budget`; `allowed_values`, `max` for `scope`.
   */
  parameters?: JsonObject;
}

/** An Atlas/1.0 manifest (`atlas.json`; [Atlas](../../docs/protocol.md#atlas)). */
export interface AtlasManifest {
  /** Atlas specification version: always `"1.0"`. */
  atlas_version: '1.0';
  /** Reverse-domain id, e.g. `com.example.support`. */
  atlas_id: string;
  /** Semver. */
  version: string;
  /** Human-readable name. */
  name: string;
  /** Brief description of the atlas (at most 1000 characters). */
  description: string;
  /** The atlas's authors. */
  authors?: string[];
  /** SPDX license identifier. */
  license?: string;
  /** Project homepage URL. */
  homepage?: string;
  /** Source repository URL. */
  repository?: string;
  /** Domain tags for discovery. */
  domains?: string[];
  /** Groups of actions and context packs. */
  capabilities?: Capability[];
  /** Context document collections. */
  context_packs?: ContextPack[];
  /** Governance policies over this atlas's actions. */
  policies?: Policy[];
  /** The actions the atlas declares. */
  actions?: AtlasAction[];
  /**
   * Per-platform settings, free-form except `adapters.{openai,anthropic,mcp,ai_sdk}.settings.tool_names`
   * (action id → tool name), checked at load ([Adapters](../../docs/protocol.md#adapters)).
   */
  adapters?: Record<
    string,
    {
      /** Whether the platform's adapter is used. */
      enabled?: boolean;
      /** The platform's settings (`tool_names`, …). */
      settings?: JsonObject;
      [key: string]: unknown;
    }
  >;
  /** `{atlas_id: semver range}`; dependencies must be loaded first. */
  dependencies?: Record<string, string>;
  /** Free-form additional metadata. */
  metadata?: JsonObject;
}

/** A manifest with the text of its context-pack files, keyed by their path in the manifest. */
export interface AtlasBundle {
  /** The atlas's `atlas.json`. */
  manifest: AtlasManifest;
  /** File path (as the manifest's packs name it) → its text. A file left out is a warning and an empty block. */
  files?: Record<string, string>;
}

/** One validation finding of an atlas. */
export interface ErrorInfo {
  /** An error code (`atlas_invalid`, …), or `atlas_warning` for a warning. */
  code: string;
  /** What is wrong, for a human. */
  message: string;
  /** JSON pointer into the manifest (`/actions/3/action_id`), or `null` when no single member is to blame. */
  path: string | null;
}

/** The answer of validating an atlas: every error and warning, collected rather than stopping at the first. */
export interface AtlasValidation {
  /** True when there is no error (warnings do not count). */
  valid: boolean;
  /** Every error; any one of them stops the atlas from loading. */
  errors: ErrorInfo[];
  /** Findings that do not stop it loading (a pattern that matches nothing, a context file not supplied). */
  warnings: ErrorInfo[];
}

/** The answer of loading an atlas. */
export interface AtlasLoadResult {
  /** The loaded atlas's id. */
  atlas_id: string;
  /** The loaded atlas's version (semver). */
  version: string;
  /** The loaded atlas's name. */
  name: string;
  /** How many actions it declares. */
  action_count: number;
  /** The warnings of its validation. */
  warnings: ErrorInfo[];
}

/** A loaded atlas as listed. */
export interface AtlasSummary {
  /** Reverse-domain atlas id. */
  atlas_id: string;
  /** Its version (semver). */
  version: string;
  /** Human-readable name. */
  name: string;
  /** Brief description. */
  description: string;
  /** How many actions it declares. */
  action_count: number;
}

// ---------------------------------------------------------------------------------------------------------------
// CARP/1.0

/**
 * What a CARP request asks ([Requests](../../docs/protocol.md#requests)): `resolve` a goal into context and actions,
 * `execute` an action against a resolution, or `validate` (a resolve that records nothing).
 */
export type CarpOperation = 'resolve' | 'execute' | 'validate';

/** Who sends a CARP request. */
export interface CarpRequester {
  /** Identifier of the requesting agent (what `agents` conditions match). */
  agent_id: string;
  /** The session the request belongs to (a UUID); it must exist and be active. */
  session_id: string;
  /** The parent session, for nested agents. */
  parent_session_id?: string | null;
}

/** What the agent means to do, for a `resolve` or `validate`. */
export interface CarpTask {
  /** Natural-language description of the intent. */
  goal: string;
  /** Risk classification of this task; default `low`. */
  risk_tier?: RiskTier;
  /** Hints for context selection; recorded in the trace, not used for selection. */
  context_hints?: string[];
  /** Capability ids the task needs; the resolution is narrowed to their actions. */
  required_capabilities?: string[];
}

/** The action an `execute` request asks to run. */
export interface CarpExecution {
  /** The resolution that authorizes the action. */
  resolution_id: string;
  /** The action to execute. */
  action_id: string;
  /** The action's parameters, validated against its `parameters_schema`. */
  parameters: JsonObject;
  /** Key for idempotent execution: the same key, action, resolution and parameters answer the same execution. */
  idempotency_key?: string | null;
}

/** A CARP/1.0 request (nested form; [Requests](../../docs/protocol.md#requests)). */
export interface CarpRequest {
  /** CARP protocol version: always `"1.0"`. */
  carp_version: '1.0';
  /** A UUID unique in the session; a reused one is refused. */
  request_id: string;
  /** RFC 3339 with a time zone. */
  timestamp: string;
  /** What the request asks. */
  operation: CarpOperation;
  /** Who asks. */
  requester: CarpRequester;
  /** The task, for `resolve` and `validate`. */
  task?: CarpTask;
  /** The action, for `execute` (required then). */
  execution?: CarpExecution;
  /** Default: every loaded atlas. */
  atlas_ids?: string[];
  /** Request context: `context_matches` conditions read it; `max_context_tokens` sets the context budget. */
  context?: JsonObject;
}

/** The outcome of a resolution ([Decisions](../../docs/protocol.md#decisions)). */
export type DecisionType = 'allow' | 'deny' | 'partial' | 'requires_approval';

/** A resolution's overall decision. */
export interface Decision {
  /** The outcome. */
  type: DecisionType;
  /** Null for `allow`; else what was denied, needs approval or is unknown (`Approval required for: refund.issue`). */
  reason: string | null;
  /** Set only for `requires_approval`: an id for the approval workflow. */
  approval_id: string | null;
  /** Set only for `requires_approval`: when the resolution expires (RFC 3339, UTC). */
  expires_at: string | null;
}

/** One piece of context for the agent: one file of a selected pack ([Context](../../docs/protocol.md#context)). */
export interface ContextBlock {
  /** `<atlas_id>/<pack_id>/<file>`. */
  block_id: string;
  /** Atlas id. */
  source: string;
  /** From the file's extension: `.md` markdown, `.json` JSON, anything else plain text. */
  content_type: 'text/markdown' | 'text/plain' | 'application/json';
  /** The file's text, cut to what is left of its pack's `max_tokens`. */
  content: string;
  /** The pack's priority (0..1000, higher first). */
  priority: number;
  /** `ceil(characters / 4)` of the content. */
  token_estimate?: number;
  /** Additional metadata. */
  metadata?: JsonObject;
}

/** At most `max_calls` approved executions in any sliding window of `window_seconds`. */
export interface RateLimit {
  /** Most approved executions allowed in the window. */
  max_calls: number;
  /** The window's length, in seconds. */
  window_seconds: number;
}

/** An action a resolution allows: the action's own fields, plus the gate and limit in force. */
export interface AllowedAction {
  /** Action identifier. */
  action_id: string;
  /** Human-readable name. */
  name: string;
  /** What the action does. */
  description: string;
  /** JSON Schema of the parameters. */
  parameters_schema?: JsonSchema;
  /** JSON Schema of the result. */
  returns_schema?: JsonSchema;
  /** The action's risk tier. */
  risk_tier?: RiskTier;
  /** True when each execution waits for a human approval. */
  requires_confirmation?: boolean;
  /** Safe to retry. */
  idempotent?: boolean;
  /** The rate limit in force on it, when one applies. */
  rate_limit?: RateLimit;
}

/** An action a resolution denies, with why. */
export interface DeniedAction {
  /** The denied action. */
  action_id: string;
  /** Why it was denied. */
  reason: string;
  /** The policy that denied it (`default` for a default deny). */
  policy_id?: string;
}

/**
 * A restriction in force on allowed actions, one per policy ([Resolutions](../../docs/protocol.md#resolutions)):
 * a `time_window` is an `allow` policy that holds only inside a window.
 */
export interface Constraint {
  /** Constraint identifier (the policy's id). */
  constraint_id: string;
  /** What kind of restriction. */
  type: 'rate_limit' | 'budget' | 'time_window' | 'require_approval' | 'scope';
  /** Its settings and state: the actions it restricts, limits, `remaining` per action, the window as written. */
  parameters?: JsonObject;
}

/** A CARP/1.0 resolution ([Resolutions](../../docs/protocol.md#resolutions)). */
export interface Resolution {
  /** CARP protocol version: always `"1.0"`. */
  carp_version: '1.0';
  /** A UUID; executions name it. */
  resolution_id: string;
  /** The request this resolves. */
  request_id: string;
  /** When it was made (RFC 3339, UTC); it expires `ttl_seconds` later. */
  timestamp: string;
  /** The overall decision. */
  decision: Decision;
  /** Context to inject into the agent, in selection order. */
  context_blocks: ContextBlock[];
  /** The actions the agent may request. */
  allowed_actions: AllowedAction[];
  /** The actions denied, with the policy and reason. */
  denied_actions: DeniedAction[];
  /** Restrictions in force on the allowed actions. */
  constraints: Constraint[];
  /** How long the resolution is valid, in seconds (default 3600). */
  ttl_seconds: number;
  /** The trace id of the session. */
  trace_id: string;
}

/** Where an execution stands ([Executions](../../docs/protocol.md#executions)). */
export type ExecutionStatus = 'pending_approval' | 'approved' | 'denied' | 'violated' | 'executed' | 'failed';

/** The state of one requested action. */
export interface Execution {
  /** A UUID that approvals, outcomes and trace events name. */
  execution_id: string;
  /** The session it belongs to. */
  session_id: string;
  /** The resolution it was requested against. */
  resolution_id: string;
  /** The requested action. */
  action_id: string;
  /** Where it stands. */
  status: ExecutionStatus;
  /** SHA-256 hex of the canonical JSON of the parameters (the trace keeps this, never the parameters). */
  parameters_hash: string;
  /** Set while approval is pending: the hash an approval must name. */
  approval_hash: string | null;
  /** Why it was refused (the first problem), or null. */
  reason: string | null;
  /** The policy that refused it, or null. */
  policy_id: string | null;
  /** When it was requested (RFC 3339, UTC). */
  created_at: string;
  /** Set on a rate-limited denial: whole seconds until a call may succeed (also in {@link RefusalDetails}). */
  retry_after_seconds?: number;
  /** Why a `denied` or `violated` execution was refused, as data a model can act on; null for other statuses. */
  details: RefusalDetails | null;
}

/** A schema violation of action parameters, found by the host and passed to the core. */
export interface SchemaError {
  /** JSON pointer into the parameters. */
  path: string;
  /** What is wrong there. */
  message: string;
}

/**
 * The code of a refusal ({@link RefusalDetails.code}):
 * - `unknown_action`: no loaded atlas declares the action id (see `closest`);
 * - `not_in_resolution`: a known action that the resolution does not include (resolve for it);
 * - `resolution_expired`, `resolution_stale` (restored, no longer reproducible), `atlas_unloaded`: resolve again;
 * - `policy_denied`, `default_deny` (no policy allows it), `rate_limited` (see `retry_after_seconds`),
 *   `budget_exhausted`: decided by the policy `policy_id`;
 * - `approval_denied`: a human (or approval service) refused it;
 * - `invalid_parameters` (see `errors`, maybe `violations` too), `scope_violation` (see `violations`): fix the
 *   parameters and call again.
 */
export type RefusalCode = KnownRefusalCode | (string & {});

/** One parameter outside the bounds of a `scope` policy. */
export interface ScopeViolation {
  /** The scope policy. */
  policy_id: string;
  /** The parameter's name. */
  parameter: string;
  /** JSON pointer of the parameter (`/amount`). */
  path: string;
  /** `max`: over the limit; `allowed_values`: not one of `allowed`; `number`: a bounded parameter that is no number. */
  constraint: 'max' | 'allowed_values' | 'number' | (string & {});
  /** The maximum (`max`, `number`). Live answers only: not in the trace, so absent after a restore. */
  limit?: number;
  /** The allowed values (`allowed_values`). Live answers only. */
  allowed?: Json[];
  /** The offending value. Live answers only: the trace keeps the parameters' hash, never the parameters. */
  value?: Json;
  /** E.g. "`amount` exceeds the maximum 500". */
  message: string;
}

/**
 * Why an execution was refused ({@link Execution.details}): a stable `code` plus what a model needs to correct
 * the call. Members appear only where they apply; `errors` and `violations` list every problem, not only the first.
 */
export interface RefusalDetails {
  /** Why, as a stable code. */
  code: RefusalCode;
  /** `unknown_action`, `not_in_resolution`: the action id asked for. */
  action_id?: string;
  /** `unknown_action`: up to three known action ids near the one asked for, nearest first (maybe none). */
  closest?: string[];
  /** The policy that refused (`policy_denied`, `default_deny` as `default`, `rate_limited`, `budget_exhausted`, `approval_denied`). */
  policy_id?: string;
  /** `rate_limited`: whole seconds until a call may succeed. */
  retry_after_seconds?: number;
  /** `approval_denied`: who refused, when the host said. */
  approver?: string;
  /** Every schema error of the parameters (and an invalid budget cost parameter, at `/<param>`). */
  errors?: SchemaError[];
  /** Every scope problem, of every scope policy. */
  violations?: ScopeViolation[];
}

// ---------------------------------------------------------------------------------------------------------------
// Sessions

/** `active` until the session ends; an ended session refuses every request. */
export type SessionStatus = 'active' | 'ended';
/** Why a session ended, as recorded in `session.ended`. */
export type EndReason = 'completed' | 'timeout' | 'error' | 'cancelled';

/** A session as the core holds it: what listing answers (but the last event's time), with live counts and metadata. */
export interface Session extends Omit<SessionSummary, 'last_event_at'> {
  /** How many resolutions the session has made. */
  resolution_count: number;
  /** How many executions it has requested. */
  action_count: number;
  /** The metadata given when the session was created, or null. */
  metadata: JsonObject | null;
  /**
   * Who the session belongs to, when the host said (the server: the hash of the API key that created it). Rate
   * limits of scope `agent` and `global` are counted per owner. Recorded in `session.started`.
   */
  owner?: string;
}

/**
 * A session as listed: what its stored events recorded, kept for every session the runtime knows without its trace
 * being read (listing never restores a session). {@link Session} adds the live counts and metadata.
 */
export interface SessionSummary {
  /** The session's id (a UUID). */
  session_id: string;
  /** The agent it was created for. */
  agent_id: string;
  /** Its goal, as given at creation. */
  goal: string;
  /** Active or ended. */
  status: SessionStatus;
  /** When it started (RFC 3339, UTC). */
  created_at: string;
  /** When it ended, or null while active. */
  ended_at: string | null;
  /** The timestamp of the session's last stored event. */
  last_event_at: string;
  /** How many events its trace holds. */
  event_count: number;
  /** The `event_hash` of its last event (64 lowercase hex). */
  head_hash: string;
  /** The trace id shared by all its events. */
  trace_id: string;
  /** The parent session, for nested agents, or null. */
  parent_session_id: string | null;
}

/** One page of a session listing. */
export interface SessionList {
  /** The sessions of this page, in the order asked. */
  items: SessionSummary[];
  /** How many sessions match the filters (before `limit` and `offset`). */
  total: number;
}

/** The answer of the hot-path check (names and codes: `CHECK_CODES` of the ABI contract). */
export type { CheckResult } from './abi.ts';

/** The answer of {@link CraSession.check}: whether the session may request an action now, recording nothing. */
export interface CheckAnswer {
  /** The verdict's name. */
  result: CheckResult;
  /** The numeric code of `cra_check`. */
  code: number;
  /** True only for `allow`. */
  allowed: boolean;
  /**
   * `unknown_action`: up to three known action ids near the one asked for, nearest first (maybe none), as an
   * `unknown_action` refusal names them ({@link RefusalDetails.closest}).
   */
  closest?: string[];
}

// ---------------------------------------------------------------------------------------------------------------
// TRACE/1.0

/** The type of a TRACE event; the payload of each is listed in [Trace format](../../docs/protocol.md#trace-format). */
export type TraceEventType = KnownEventType;

/**
 * One TRACE/1.0 event: a link of a session's SHA-256 hash chain
 * ([Trace format](../../docs/protocol.md#trace-format)).
 */
export interface TraceEvent {
  /** TRACE protocol version: always `"1.0"`. */
  trace_version: '1.0';
  /** A UUID unique to this event. */
  event_id: string;
  /** A UUID shared by every event of the session. */
  trace_id: string;
  /** A UUID for this event's operation span. */
  span_id: string;
  /** The parent span (`session.started` is the root, with null). */
  parent_span_id: string | null;
  /** The session this event belongs to. */
  session_id: string;
  /** 0, 1, 2… per session. */
  sequence: number;
  /** UTC, six fractional digits and `Z`. */
  timestamp: string;
  /** What happened. */
  event_type: TraceEventType;
  /** Event-specific data: keys `[a-z0-9_]+`, integer numbers, stored in canonical form. */
  payload: JsonObject;
  /** SHA-256 of this event, 64 lowercase hex ([The hash](../../docs/protocol.md#the-hash)). */
  event_hash: string;
  /** The previous event's `event_hash`; 64 zeros for the first event. */
  previous_event_hash: string;
}

/** The head of a chain: how many events it has and the hash of the last one. */
export interface ChainHead {
  /** How many events the chain has. */
  length: number;
  /** The `event_hash` of its last event. */
  head_hash: string;
}

/** Why a trace failed verification ([Verification](../../docs/protocol.md#verification)). */
export type VerifyFailure =
  | 'malformed_event'
  | 'bad_genesis'
  | 'sequence_gap'
  | 'broken_link'
  | 'hash_mismatch'
  | 'session_mismatch'
  | (string & {});

/** The answer of verifying a trace: the chain's head, or the first event at fault and why. */
export type VerifyResult =
  | {
      /** The chain is intact. */
      valid: true;
      /** How many events it has. */
      length: number;
      /** The `event_hash` of its last event. */
      head_hash: string;
    }
  | {
      /** The chain is broken. */
      valid: false;
      /** The 0-based position of the first event at fault. */
      index: number;
      /** What is wrong with it. */
      reason: VerifyFailure;
      /** For a `sequence_gap`, what kind: events missing before `index`, `index` repeating the previous event, or neither. */
      detail?: 'missing_events' | 'duplicated_event' | 'out_of_order';
    };

/** One difference between two traces, ignoring ids, timestamps and hashes. */
export interface TraceDifference {
  /** The event's position: in the first trace, or in the second for an `added` event. */
  index: number;
  /** Only in the second trace, only in the first, or in both with a different payload. */
  kind: 'added' | 'removed' | 'changed';
  /** The event's type. */
  event_type: string;
  /** For `changed`: JSON pointers of what differs in the event (`/payload/goal`). */
  paths: string[];
}

/** The answer of comparing two traces. */
export interface DiffResult {
  /** True when no difference was found. */
  identical: boolean;
  /** The differences, in trace order. */
  differences: TraceDifference[];
}

/** The answer of replaying a session's trace against the loaded atlases. */
export interface ReplayResult {
  /** True when the replay produced the same events (ignoring ids, timestamps and hashes). */
  identical: boolean;
  /** Each difference ({@link TraceDifference}), and each event the replay could not re-run (`kind: "error"`). */
  divergences: unknown[];
  /** How many events the original trace has. */
  original_length: number;
  /** How many events the replay produced. */
  replayed_length: number;
  /** The replayed events. */
  events: TraceEvent[];
}

// ---------------------------------------------------------------------------------------------------------------
// Runtime

/** Configuration of the core (`runtime.configure`). */
export interface CoreConfig {
  /** What an action that no policy allows gets; default `deny` (`defaultDecision`). */
  default_decision?: 'deny' | 'allow';
  /** The context budget in estimated tokens when a request sets none; default 8000 (`maxContextTokens`). */
  max_context_tokens?: number;
  /** Most seconds a request's `timestamp` may differ from the host's time; default 300 (`clockSkewSeconds`). */
  clock_skew_seconds?: number;
  /** How long resolutions are valid, in seconds (at most 86 400); default 3600 (`defaultTtlSeconds`). */
  default_ttl_seconds?: number;
  /** Whether sessions keep the Merkle tree their checkpoints are made from; on with `signing`. */
  merkle_trees?: boolean;
}

/** Figures of a running runtime. */
export interface RuntimeStats {
  /** How many atlases are loaded. */
  atlases: number;
  /** Sessions live in the core (the others are restored from their traces when used). */
  sessions: number;
  /** The core's linear memory, in bytes. */
  memory_bytes: number;
  /** Action ids the core holds a handle for: only ids a loaded (or once loaded) atlas declares. */
  action_handles: number;
  /** The longest window of a loaded rate limit of scope `agent` or `global` (0 for none). */
  shared_window_seconds?: number;
  /** Every session the runtime knows, live or not (the embedded runtime's directory). */
  known_sessions?: number;
  /** Sessions restored into the core from their traces since start. */
  restores?: number;
  /** Sessions that left the core since start (their state stays in their traces). */
  evictions?: number;
}
