// Generated from wasm/abi.json by scripts/abi.mjs (`npm run gen:abi`). Do not edit: change the contract.
/**
 * The ABI contract of the core, as TypeScript: what the core's operations are called, which codes it answers and
 * what they mean. Everything here is rendered from `wasm/abi.json`, which the Rust side is tested against too.
 *
 * @module
 */

/** The ABI version this SDK speaks; a core module exporting another `cra_abi_version()` is refused. */
export const ABI_VERSION = 3;

/** The deepest nesting of containers the core's JSON parser reads; hosts refuse deeper values before the core. */
export const MAX_JSON_DEPTH = 128;

/** The exports a core module must have. */
export const CORE_EXPORTS = Object.freeze([
  "memory",
  "cra_alloc",
  "cra_free",
  "cra_call",
  "cra_check",
  "cra_abi_version",
] as const);

/** The `cra_call` operations. */
export const OPERATIONS = Object.freeze([
  "runtime.configure",
  "runtime.stats",
  "atlas.validate",
  "atlas.load",
  "atlas.unload",
  "atlas.list",
  "atlas.get",
  "session.create",
  "session.get",
  "session.list",
  "session.end",
  "session.restore",
  "session.forget",
  "session.check",
  "carp.request",
  "session.resolve",
  "action.handle",
  "action.get",
  "action.request",
  "action.approve",
  "action.deny",
  "action.complete",
  "action.fail",
  "trace.append",
  "trace.verify",
  "trace.diff",
  "trace.replay",
  "trace.from_jsonl",
  "trace.to_jsonl",
  "session.checkpoint",
  "checkpoint.body",
  "checkpoint.open",
  "checkpoint.sign",
  "key.parse",
  "key.format",
  "trace.tree",
  "trace.sync",
  "proof.inclusion",
  "proof.consistency",
  "proof.verify",
  "receipt.build",
  "receipt.verify",
  "canonical.hash",
] as const);
/** The name of a `cra_call` operation. */
export type Operation = (typeof OPERATIONS)[number];

/** `cra_check` answers: name → code. */
export const CHECK_CODES = Object.freeze({
  /** allow: the current resolution allows the action and no limit is exhausted */
  allow: 1,
  /** requires approval: allowed only after a host-granted approval */
  requires_approval: 2,
  /** deny: denied by policy, by default deny, or not part of the current resolution */
  deny: 0,
  /** rate limited (an execution now would exceed a rate limit) */
  rate_limited: 3,
  /** budget exhausted */
  budget_exhausted: 4,
  /** the session's current resolution has expired */
  expired: 5,
  /** the session has ended */
  session_ended: 6,
  /** unknown session handle */
  unknown_session: 7,
  /** unknown action: a handle that names no action, or an action outside the current resolution that no loaded atlas declares (any more) */
  unknown_action: 8,
  /** the session has no resolution yet */
  no_resolution: -1,
} as const);
/** What `cra_check` answers for an action, by name (see {@link CHECK_CODES} for what each means). */
export type CheckResult = keyof typeof CHECK_CODES;

/** `cra_check` answers: code → name. */
export const CHECK_RESULTS: ReadonlyMap<number, CheckResult> = new Map(
  (Object.entries(CHECK_CODES) as Array<[CheckResult, number]>).map(([name, code]) => [code, name]),
);

/** Error codes the core answers, with the HTTP status the server answers. */
export const CORE_ERROR_STATUS = Object.freeze({
  /** input is not JSON / has duplicate keys / too deep */
  invalid_json: 400,
  /** a field is missing, of the wrong type or format ('path' says which) */
  invalid_request: 400,
  /** an atlas manifest fails validation */
  atlas_invalid: 400,
  /** loading an atlas id that is loaded, without 'replace' */
  atlas_exists: 409,
  /** unknown atlas id (also a missing dependency or unknown 'atlas_ids' entry) */
  atlas_not_found: 404,
  /** unknown session id */
  session_not_found: 404,
  /** 'session.create' with a session id in use */
  session_exists: 409,
  /** any request on an ended session */
  session_ended: 409,
  /** a request's agent id is not the session's */
  agent_mismatch: 403,
  /** a 'request_id' seen before in the session */
  duplicate_request: 409,
  /** request timestamp outside the allowed skew */
  clock_skew: 400,
  /** unknown resolution id for this session */
  resolution_not_found: 404,
  /** unknown execution id for this session */
  execution_not_found: 404,
  /** approve/deny/complete/fail in the wrong execution state */
  invalid_state: 409,
  /** the approval hash is not the execution's */
  approval_mismatch: 409,
  /** an idempotency key reused with other parameters */
  idempotency_conflict: 409,
  /** 'session.restore' on a chain that does not verify, belongs to another session, or does not contain its synced head */
  trace_invalid: 400,
  /** a checkpoint that does not read as a signed note, is not signed by an accepted key, or is not of the trace it comes with */
  checkpoint_invalid: 422,
  /** a synced trace or checkpoint that does not extend the log held for its session */
  history_rewritten: 409,
  /** no such op */
  unknown_operation: 400,
  /** the host's id import returned something that is not a lowercase UUID */
  host_id_invalid: 500,
  /** a bug; reported, never a trap */
  internal: 500,
} as const);
/**
 * An error code the core answers: the `code` of a `CraError` that the core raised.
 * @useDeclaredType
 */
export type CoreErrorCode = keyof typeof CORE_ERROR_STATUS;

/** Error codes the SDK raises itself, with the HTTP status the server answers. */
export const SDK_ERROR_STATUS = Object.freeze({
  /** the core trapped, threw, or answered something that is not a well-formed envelope */
  core_failure: 500,
  /** the WebAssembly module could not be fetched, compiled or instantiated, or implements another ABI version */
  core_unavailable: 500,
  /** a trace store failed to read or write */
  storage_failure: 500,
  /** a checkpoint, receipt or proof needs a signed checkpoint and the runtime has no signing key ('signing', 'CRA_SIGNING_KEY') */
  no_signing_key: 409,
  /** the runtime's WebCrypto ('globalThis.crypto.subtle') is missing or has no Ed25519, which signed checkpoints need */
  crypto_unavailable: 500,
  /** a stored trace is damaged: torn or malformed line, broken chain, or shorter than its synced head */
  storage_corrupt: 500,
  /** one or more collector sinks failed; their events are kept and retried */
  sink_failure: 500,
  /** the runtime or collector was closed */
  closed: 503,
} as const);
/**
 * An error code the SDK raises itself: a failed or closed core, store, or collector.
 * @useDeclaredType
 */
export type SdkErrorCode = keyof typeof SDK_ERROR_STATUS;

/** Error codes of the HTTP layer, with the HTTP status the server answers. */
export const HTTP_ERROR_STATUS = Object.freeze({
  /** no or an unknown API key */
  unauthorized: 401,
  /** the key may not do this, or the session is another owner's */
  forbidden: 403,
  /** no such route */
  not_found: 404,
  /** the route does not take this method */
  method_not_allowed: 405,
  /** the request's headers or body did not arrive within the server's time limit */
  request_timeout: 408,
  /** the body is larger than the server accepts */
  payload_too_large: 413,
  /** a body that is not 'application/json' */
  unsupported_media_type: 415,
  /** the key's request rate is exhausted ('Retry-After' says when to retry) */
  rate_limited: 429,
  /** 'POST /v1/sessions/{id}/mcp' on a server started without an MCP upstream ('CRA_MCP_UPSTREAM') */
  mcp_not_configured: 501,
  /** the server is starting or shutting down */
  service_unavailable: 503,
  /** 'POST /v1/execute': the execution was denied (the body carries it) */
  action_denied: 403,
  /** 'POST /v1/execute': the execution violated a policy (the body carries it) */
  policy_violated: 403,
} as const);
/**
 * An error code the server's HTTP layer answers itself, before or around the core.
 * @useDeclaredType
 */
export type HttpErrorCode = keyof typeof HTTP_ERROR_STATUS;

/** The `code` of a refused execution's `details`. */
export const REFUSAL_CODES = Object.freeze([
  "unknown_action",
  "not_in_resolution",
  "resolution_expired",
  "resolution_stale",
  "atlas_unloaded",
  "policy_denied",
  "default_deny",
  "rate_limited",
  "budget_exhausted",
  "approval_denied",
  "invalid_parameters",
  "scope_violation",
] as const);
/**
 * A refusal `code` (in a refused execution's `details`) that this version knows.
 * @useDeclaredType
 */
export type KnownRefusalCode = (typeof REFUSAL_CODES)[number];

/** TRACE event types. */
export const EVENT_TYPES = Object.freeze([
  "session.started",
  "session.ended",
  "carp.request.received",
  "carp.resolution.completed",
  "carp.resolution.cached",
  "context.injected",
  "context.redacted",
  "policy.evaluated",
  "policy.violated",
  "action.requested",
  "action.approved",
  "action.denied",
  "action.executed",
  "action.failed",
  "error.occurred",
] as const);
/**
 * The `type` of a TRACE event: emitted by the core, or appended by the host with `trace.append`.
 * @useDeclaredType
 */
export type KnownEventType = (typeof EVENT_TYPES)[number];

/** The event types a host may append itself (`trace.append`), with the payload members each requires. */
export const HOST_EVENT_TYPES = Object.freeze({
  "carp.resolution.cached": ["resolution_id","cache_hit"],
  "context.redacted": ["block_id","redaction_reason"],
  "error.occurred": ["code","message"],
} as const);
