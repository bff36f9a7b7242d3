/**
 * Protocol objects of Atlas/1.0, CARP/1.0 and TRACE/1.0, as they travel on the wire (snake_case field names, as in
 * SPEC and the JSON Schemas of `spec/schemas/`).
 *
 * One file by choice: it is the wire vocabulary, declarations only, read top to bottom like the protocol itself
 * (atlas, CARP, execution, TRACE), which is why it runs past 400 lines.
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

export type RiskTier = 'low' | 'medium' | 'high' | 'critical';
export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

// ---------------------------------------------------------------------------------------------------------------
// Atlas/1.0

/** When a policy or context pack applies; every clause present must hold. */
export interface Conditions {
  risk_tiers?: RiskTier[];
  /** Globs on the agent id. */
  agents?: string[];
  /** Capabilities that the request must require. */
  capabilities?: string[];
  /** Key/value pairs that the request's `context` must contain. */
  context_matches?: Record<string, string>;
  /** Evaluated on the host-supplied time. */
  time_window?: { start?: string; end?: string; timezone?: string; days?: Weekday[] };
}

export interface AtlasAction {
  action_id: string;
  name: string;
  description: string;
  parameters_schema?: JsonSchema;
  returns_schema?: JsonSchema;
  risk_tier?: RiskTier;
  idempotent?: boolean;
  requires_confirmation?: boolean;
  executor?: string;
  timeout_seconds?: number;
  rate_limit?: RateLimit;
  examples?: Array<{ name?: string; parameters?: JsonObject; expected_result?: JsonObject }>;
}

export interface Capability {
  capability_id: string;
  name: string;
  description?: string;
  actions?: string[];
  context_packs?: string[];
}

export interface ContextPack {
  pack_id: string;
  name: string;
  description?: string;
  /** Paths relative to the atlas folder; their text is passed as {@link AtlasBundle.files}. */
  files: string[];
  /** 0..1000, default 100. */
  priority?: number;
  conditions?: Conditions;
  max_tokens?: number;
}

export type PolicyType = 'allow' | 'deny' | 'rate_limit' | 'require_approval' | 'budget' | 'scope';

export interface Policy {
  policy_id: string;
  name?: string;
  description?: string;
  type: PolicyType;
  /** Higher first; default 0. */
  priority?: number;
  conditions?: Conditions;
  /** Action patterns: exact id, `*`, `prefix.*`, `*.suffix`. */
  actions?: string[];
  reason?: string;
  parameters?: JsonObject;
}

/** An Atlas/1.0 manifest (`atlas.json`). */
export interface AtlasManifest {
  atlas_version: '1.0';
  /** Reverse-domain id, e.g. `com.example.support`. */
  atlas_id: string;
  /** Semver. */
  version: string;
  name: string;
  description: string;
  authors?: string[];
  license?: string;
  homepage?: string;
  repository?: string;
  domains?: string[];
  capabilities?: Capability[];
  context_packs?: ContextPack[];
  policies?: Policy[];
  actions?: AtlasAction[];
  adapters?: Record<string, { enabled?: boolean; settings?: JsonObject; [key: string]: unknown }>;
  /** `{atlas_id: semver range}`; dependencies must be loaded first. */
  dependencies?: Record<string, string>;
  metadata?: JsonObject;
}

/** A manifest with the text of its context-pack files, keyed by their path in the manifest. */
export interface AtlasBundle {
  manifest: AtlasManifest;
  files?: Record<string, string>;
}

/** One validation finding of an atlas. */
export interface ErrorInfo {
  code: string;
  message: string;
  path: string | null;
}

export interface AtlasValidation {
  valid: boolean;
  errors: ErrorInfo[];
  warnings: ErrorInfo[];
}

export interface AtlasLoadResult {
  atlas_id: string;
  version: string;
  name: string;
  action_count: number;
  warnings: ErrorInfo[];
}

export interface AtlasSummary {
  atlas_id: string;
  version: string;
  name: string;
  description: string;
  action_count: number;
}

// ---------------------------------------------------------------------------------------------------------------
// CARP/1.0

export type CarpOperation = 'resolve' | 'execute' | 'validate';

export interface CarpRequester {
  agent_id: string;
  session_id: string;
  parent_session_id?: string | null;
}

export interface CarpTask {
  goal: string;
  risk_tier?: RiskTier;
  context_hints?: string[];
  required_capabilities?: string[];
}

export interface CarpExecution {
  resolution_id: string;
  action_id: string;
  parameters: JsonObject;
  idempotency_key?: string | null;
}

/** A CARP/1.0 request (nested form). */
export interface CarpRequest {
  carp_version: '1.0';
  request_id: string;
  /** RFC 3339 with a time zone. */
  timestamp: string;
  operation: CarpOperation;
  requester: CarpRequester;
  task?: CarpTask;
  execution?: CarpExecution;
  /** Default: every loaded atlas. */
  atlas_ids?: string[];
  context?: JsonObject;
}

export type DecisionType = 'allow' | 'deny' | 'partial' | 'requires_approval';

export interface Decision {
  type: DecisionType;
  reason: string | null;
  approval_id: string | null;
  expires_at: string | null;
}

export interface ContextBlock {
  /** `<atlas_id>/<pack_id>/<file>`. */
  block_id: string;
  /** Atlas id. */
  source: string;
  content_type: 'text/markdown' | 'text/plain' | 'application/json';
  content: string;
  priority: number;
  token_estimate?: number;
  metadata?: JsonObject;
}

export interface RateLimit {
  max_calls: number;
  window_seconds: number;
}

export interface AllowedAction {
  action_id: string;
  name: string;
  description: string;
  parameters_schema?: JsonSchema;
  returns_schema?: JsonSchema;
  risk_tier?: RiskTier;
  requires_confirmation?: boolean;
  idempotent?: boolean;
  rate_limit?: RateLimit;
}

export interface DeniedAction {
  action_id: string;
  reason: string;
  policy_id?: string;
}

export interface Constraint {
  constraint_id: string;
  type: 'rate_limit' | 'budget' | 'time_window' | 'require_approval' | 'scope';
  parameters?: JsonObject;
}

/** A CARP/1.0 resolution. */
export interface Resolution {
  carp_version: '1.0';
  resolution_id: string;
  request_id: string;
  timestamp: string;
  decision: Decision;
  context_blocks: ContextBlock[];
  allowed_actions: AllowedAction[];
  denied_actions: DeniedAction[];
  constraints: Constraint[];
  ttl_seconds: number;
  trace_id: string;
}

export type ExecutionStatus = 'pending_approval' | 'approved' | 'denied' | 'violated' | 'executed' | 'failed';

/** The state of one requested action. */
export interface Execution {
  execution_id: string;
  session_id: string;
  resolution_id: string;
  action_id: string;
  status: ExecutionStatus;
  parameters_hash: string;
  /** Set while approval is pending: the hash an approval must name. */
  approval_hash: string | null;
  reason: string | null;
  policy_id: string | null;
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

export type SessionStatus = 'active' | 'ended';
export type EndReason = 'completed' | 'timeout' | 'error' | 'cancelled';

/** A session as the core holds it: what listing answers (but the last event's time), with live counts and metadata. */
export interface Session extends Omit<SessionSummary, 'last_event_at'> {
  resolution_count: number;
  action_count: number;
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
  session_id: string;
  agent_id: string;
  goal: string;
  status: SessionStatus;
  created_at: string;
  ended_at: string | null;
  /** The timestamp of the session's last stored event. */
  last_event_at: string;
  event_count: number;
  head_hash: string;
  trace_id: string;
  parent_session_id: string | null;
}

/** One page of a session listing. */
export interface SessionList {
  items: SessionSummary[];
  /** How many sessions match the filters (before `limit` and `offset`). */
  total: number;
}

/** The answer of the hot-path check (names and codes: `CHECK_CODES` of the ABI contract). */
export type { CheckResult } from './abi.ts';

export interface CheckAnswer {
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

export type TraceEventType = KnownEventType;

/** One TRACE/1.0 event: a link of a session's SHA-256 hash chain. */
export interface TraceEvent {
  trace_version: '1.0';
  event_id: string;
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  session_id: string;
  /** 0, 1, 2… per session. */
  sequence: number;
  /** UTC, six fractional digits and `Z`. */
  timestamp: string;
  event_type: TraceEventType;
  payload: JsonObject;
  event_hash: string;
  previous_event_hash: string;
}

/** The head of a chain: how many events it has and the hash of the last one. */
export interface ChainHead {
  length: number;
  head_hash: string;
}

export type VerifyFailure =
  | 'malformed_event'
  | 'bad_genesis'
  | 'sequence_gap'
  | 'broken_link'
  | 'hash_mismatch'
  | 'session_mismatch'
  | (string & {});

export type VerifyResult =
  | { valid: true; length: number; head_hash: string }
  | {
      valid: false;
      index: number;
      reason: VerifyFailure;
      /** For a `sequence_gap`, what kind: events missing before `index`, `index` repeating the previous event, or neither. */
      detail?: 'missing_events' | 'duplicated_event' | 'out_of_order';
    };

export interface TraceDifference {
  index: number;
  kind: 'added' | 'removed' | 'changed';
  event_type: string;
  paths: string[];
}

export interface DiffResult {
  identical: boolean;
  differences: TraceDifference[];
}

export interface ReplayResult {
  identical: boolean;
  divergences: unknown[];
  original_length: number;
  replayed_length: number;
  events: TraceEvent[];
}

// ---------------------------------------------------------------------------------------------------------------
// Runtime

/** Configuration of the core (`runtime.configure`). */
export interface CoreConfig {
  default_decision?: 'deny' | 'allow';
  max_context_tokens?: number;
  clock_skew_seconds?: number;
  default_ttl_seconds?: number;
}

export interface RuntimeStats {
  atlases: number;
  /** Sessions live in the core (the others are restored from their traces when used). */
  sessions: number;
  memory_bytes: number;
  /** Action ids the core holds a handle for: only ids a loaded (or once loaded) atlas declares. */
  action_handles: number;
  /** The longest window of a loaded rate limit of scope `agent` or `global` (0 for none). */
  shared_window_seconds?: number;
  /** Every session the runtime knows, live or not (the embedded runtime's directory). */
  known_sessions?: number;
  /** Sessions restored into the core, and sessions that left it, since start. */
  restores?: number;
  evictions?: number;
}
