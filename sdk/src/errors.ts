/**
 * The one error type of the SDK. Every failure — bad input rejected by the core, a trapped or misbehaving core, a
 * storage or sink failure — surfaces as a {@link CraError} with a stable `code`.
 *
 * @module
 */

/** Error codes returned by the core (see `wasm/ABI.md`). */
export type CoreErrorCode =
  | 'invalid_json'
  | 'invalid_request'
  | 'atlas_invalid'
  | 'atlas_exists'
  | 'atlas_not_found'
  | 'session_not_found'
  | 'session_exists'
  | 'session_ended'
  | 'agent_mismatch'
  | 'duplicate_request'
  | 'clock_skew'
  | 'resolution_not_found'
  | 'execution_not_found'
  | 'invalid_state'
  | 'approval_mismatch'
  | 'idempotency_conflict'
  | 'trace_invalid'
  | 'unknown_operation'
  | 'host_id_invalid'
  | 'internal';

/** Error codes raised by the SDK itself. */
export type SdkErrorCode =
  /** The core trapped, threw, or answered something that is not a well-formed envelope. */
  | 'core_failure'
  /** The WebAssembly module could not be fetched, compiled or instantiated. */
  | 'core_unavailable'
  /** A trace store failed to read or write. */
  | 'storage_failure'
  /** A stored trace is damaged: torn or malformed line, broken chain, or shorter than its recorded head. */
  | 'storage_corrupt'
  /** One or more collector sinks failed; their events are kept and retried. */
  | 'sink_failure'
  /** The runtime or collector was closed. */
  | 'closed';

/** Every code; a newer core may add codes, which pass through verbatim. */
export type CraErrorCode = CoreErrorCode | SdkErrorCode | (string & {});

/** HTTP status of each code, as the server answers it. */
export const ERROR_STATUS: Readonly<Record<CoreErrorCode | SdkErrorCode, number>> = Object.freeze({
  invalid_json: 400,
  invalid_request: 400,
  atlas_invalid: 400,
  atlas_exists: 409,
  atlas_not_found: 404,
  session_not_found: 404,
  session_exists: 409,
  session_ended: 409,
  agent_mismatch: 403,
  duplicate_request: 409,
  clock_skew: 400,
  resolution_not_found: 404,
  execution_not_found: 404,
  invalid_state: 409,
  approval_mismatch: 409,
  idempotency_conflict: 409,
  trace_invalid: 400,
  unknown_operation: 400,
  host_id_invalid: 500,
  internal: 500,
  core_failure: 500,
  core_unavailable: 500,
  storage_failure: 500,
  storage_corrupt: 500,
  sink_failure: 500,
  closed: 503,
});

export interface CraErrorOptions {
  /** JSON pointer into the operation's input; `null` when no single field is to blame. */
  path?: string | null;
  /** Structured details (e.g. the list of damaged files of a store). */
  details?: unknown;
  cause?: unknown;
}

/** A failure of a CRA operation. State is unchanged when one is thrown. */
export class CraError extends Error {
  override readonly name = 'CraError';
  /** Stable, machine-readable code. */
  readonly code: CraErrorCode;
  /** JSON pointer of the input field to blame (`""` = the whole input), or `null`. */
  readonly path: string | null;
  /** HTTP status matching {@link code}. */
  readonly status: number;
  /** Structured details, when the code has any. */
  readonly details: unknown;

  constructor(code: CraErrorCode, message: string, options: CraErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.path = options.path ?? null;
    this.status = (ERROR_STATUS as Record<string, number>)[code] ?? 500;
    this.details = options.details;
  }

  /** The same error pointing at `path` (an error re-rooted into what its caller sent). */
  at(path: string | null): CraError {
    const err = new CraError(this.code, this.message, { path, cause: this.cause, details: this.details });
    if (err.status !== this.status) Object.defineProperty(err, 'status', { value: this.status, enumerable: true });
    return err;
  }

  /** The wire form used by the HTTP server: `{ error: { code, message, path } }`. */
  toJSON(): { error: { code: CraErrorCode; message: string; path: string | null } } {
    return { error: { code: this.code, message: this.message, path: this.path } };
  }
}

/** True when `value` is a {@link CraError} (optionally of one of `codes`). */
export function isCraError(value: unknown, ...codes: CraErrorCode[]): value is CraError {
  return value instanceof CraError && (codes.length === 0 || codes.includes(value.code));
}
