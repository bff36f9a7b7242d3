/**
 * The names the SDK's OpenTelemetry spans and metrics use, in one place: span names, attribute keys (namespaced
 * `cra.*`, beside the semantic-convention `error.type`) and instruments. `docs/observability.md` lists them; its
 * test reads them from here.
 *
 * @module
 */

/** The instrumentation scope the tracer and meter are named by. */
export const INSTRUMENTATION_SCOPE = 'cra-runtime';
/** The package version, as the instrumentation scope's version (a test keeps it equal to package.json's). */
export const INSTRUMENTATION_VERSION = '0.1.0';

/** The operations a session answers that get a span and a duration. */
export type Operation = 'resolve' | 'validate' | 'action.request' | 'action.approve' | 'action.deny' | 'action.complete' | 'action.fail';

/** Span names: `cra.<operation>`, and the guard's call around them. */
export const SPAN_NAMES = {
  /** `session.resolve()`, a CARP `resolve`. */
  resolve: 'cra.resolve',
  /** `session.validate()`, a CARP `validate`. */
  validate: 'cra.validate',
  /** `session.requestAction()`, a CARP `execute`. */
  'action.request': 'cra.action.request',
  /** `session.approve()`. */
  'action.approve': 'cra.action.approve',
  /** `session.deny()`. */
  'action.deny': 'cra.action.deny',
  /** `session.complete()`. */
  'action.complete': 'cra.action.complete',
  /** `session.fail()`. */
  'action.fail': 'cra.action.fail',
  /** `guard.call()`: the parent of the operations above that it makes. */
  'guard.call': 'cra.guard.call',
} as const satisfies Record<Operation | 'guard.call', string>;

/** Attribute keys of spans and metric points. */
export const ATTR = {
  /** The operation (`action.request`, `resolve` …), on durations and decisions. */
  operation: 'cra.operation.name',
  /** The session. */
  sessionId: 'cra.session.id',
  /** The session's agent. */
  agentId: 'cra.agent.id',
  /** The action asked for. */
  actionId: 'cra.action.id',
  /** The execution the core answered. */
  executionId: 'cra.execution.id',
  /** The execution's status as the core answered it: `approved`, `denied`, `pending_approval`, `violated`, `executed`, `failed`. */
  status: 'cra.execution.status',
  /** The policy that decided, when the core names one. */
  policyId: 'cra.policy.id',
  /** Why a call was refused: the core's refusal code (`policy_denied`, `scope_violation` …) or the guard's. */
  refusalCode: 'cra.refusal.code',
  /** The resolution the core answered. */
  resolutionId: 'cra.resolution.id',
  /** The resolution's decision type: `allow`, `deny`, `partial`, `requires_approval`. */
  decision: 'cra.resolution.decision',
  /** How many actions the resolution allows. */
  allowedCount: 'cra.resolution.allowed_actions',
  /** How many actions the resolution denies. */
  deniedCount: 'cra.resolution.denied_actions',
  /** The tool name the model called (guard). */
  toolName: 'cra.tool.name',
  /** `ok` or `refused` (guard). */
  outcome: 'cra.guard.outcome',
  /** Semantic convention: the `CraError` code of a call that threw (or the error's class name). */
  errorType: 'error.type',
} as const;

/** Instruments. Durations are in seconds (unit `s`), as the OpenTelemetry semantic conventions ask. */
export const METRIC_NAMES = {
  /** Counter: one per decision the core answered on an execution (request, approve, deny), by status and action. */
  decisions: 'cra.decisions',
  /** Counter: one per recorded resolve, by decision type. */
  resolutions: 'cra.resolutions',
  /** Histogram: the time of each session operation, by operation (and `error.type` when it threw). */
  operationDuration: 'cra.operation.duration',
  /** Histogram: the time of a guard call end to end (approval wait and handler included), by outcome. */
  guardDuration: 'cra.guard.call.duration',
} as const;

/**
 * Bucket boundaries in seconds: session operations take microseconds to milliseconds; a guard call may wait for a
 * human approval for minutes.
 */
export const DURATION_BUCKETS = [
  0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
  5, 10, 30, 60, 300,
];
