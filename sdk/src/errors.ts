/**
 * The one error type of the SDK. Every failure — bad input rejected by the core, a trapped or misbehaving core, a
 * storage or sink failure — surfaces as a {@link CraError} with a stable `code`.
 *
 * @module
 */

import { CORE_ERROR_STATUS, type CoreErrorCode, SDK_ERROR_STATUS, type SdkErrorCode } from './abi.ts';

export type { CoreErrorCode, SdkErrorCode };

/** Every code; a newer core may add codes, which pass through verbatim. */
export type CraErrorCode = CoreErrorCode | SdkErrorCode | (string & {});

/** HTTP status of each code the core or the SDK raises, as the server answers it (from the ABI contract). */
export const ERROR_STATUS: Readonly<Record<CoreErrorCode | SdkErrorCode, number>> = Object.freeze({ ...CORE_ERROR_STATUS, ...SDK_ERROR_STATUS });

/**
 * What a {@link CraError} carries besides its code and message.
 *
 * @inline
 */
export interface CraErrorOptions {
  /** JSON pointer into the operation's input; `null` when no single field is to blame. */
  path?: string | null;
  /** Structured details (e.g. the list of damaged files of a store). */
  details?: unknown;
  /** The underlying failure, kept as the error's `cause`. */
  cause?: unknown;
  /** The HTTP status, where it is not the code's own (a code of the HTTP layer, or an answer as the server gave it). */
  status?: number;
}

/** A failure of a CRA operation. State is unchanged when one is thrown. */
export class CraError extends Error {
  /** Always `CraError`. */
  override readonly name = 'CraError';
  /** Stable, machine-readable code. */
  readonly code: CraErrorCode;
  /** JSON pointer of the input field to blame (`""` = the whole input), or `null`. */
  readonly path: string | null;
  /** HTTP status matching {@link code}. */
  readonly status: number;
  /** Structured details, when the code has any. */
  readonly details: unknown;

  constructor(code: CraErrorCode, message: string, options?: CraErrorOptions) {
    // Built on every failure path, so it must not fail itself: odd arguments are carried, never thrown on.
    const o: CraErrorOptions = typeof options === 'object' && options !== null ? options : {};
    super(typeof message === 'string' ? message : textOf(message), o.cause === undefined ? undefined : { cause: o.cause });
    this.code = code;
    this.path = o.path ?? null;
    this.status = o.status ?? (typeof code === 'string' ? (ERROR_STATUS as Record<string, number>)[code] : undefined) ?? 500;
    this.details = o.details;
  }

  /**
   * The same error pointing at `path` (an error re-rooted into what its caller sent). A field the message names in
   * backticks is renamed as its path segment is: the core's "`agent_id` is required" at `/agent_id`, pointed at an
   * SDK option `/agentId`, reads "`agentId` is required". The names come from the two paths alone, so the message
   * follows whatever translated the path and needs no table of its own.
   */
  at(path: string | null): CraError {
    return new CraError(this.code, renamed(this.message, this.path, path), { path, cause: this.cause, details: this.details, status: this.status });
  }

  /** The wire form used by the HTTP server: `{ error: { code, message, path } }`. */
  toJSON(): {
    /** The error, as an HTTP error body holds it. */
    error: {
      /** {@link CraError.code}. */
      code: CraErrorCode;
      /** The error's message. */
      message: string;
      /** {@link CraError.path}. */
      path: string | null;
    };
  } {
    return { error: { code: this.code, message: this.message, path: this.path } };
  }
}

/**
 * `message` with each backticked field name of `from` replaced by the name at the same place of `to`, the two
 * pointers aligned from their ends (a re-rooting adds or drops leading segments; the field itself is at the end).
 */
function renamed(message: string, from: string | null, to: string | null): string {
  if (from === null || to === null || from === to || !message.includes('`')) return message;
  const a = from.split('/').slice(1);
  const b = to.split('/').slice(1);
  const names = new Map<string, string>();
  for (let i = a.length - 1, j = b.length - 1; i >= 0 && j >= 0; i--, j--) {
    if (a[i] !== b[j] && !names.has(a[i]!)) names.set(a[i]!, b[j]!);
  }
  if (names.size === 0) return message;
  return message.replace(/`([^`]+)`/g, (whole, name: string) => {
    const to = names.get(name);
    return to === undefined ? whole : `\`${to}\``;
  });
}

/** `String(value)`, or a placeholder for a value that has no string form (an object whose `toString` is not one). */
function textOf(value: unknown): string {
  try {
    return String(value);
  } catch {
    return '(a value with no text)';
  }
}

/** True when `value` is a {@link CraError} (optionally of one of `codes`). */
export function isCraError(value: unknown, ...codes: CraErrorCode[]): value is CraError {
  return value instanceof CraError && (codes.length === 0 || codes.includes(value.code));
}
