/** Small helpers shared by the SDK's modules (and the server's). */

import { CraError } from './errors.ts';
import type { Execution } from './types.ts';

/** Freezes a JSON value and everything in it (protocol records are read-only once recorded). */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}

/** A detached copy of a JSON value (what the caller passed can change later without affecting us). */
export function jsonClone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Drops keys whose value is `undefined` (the core treats a present key as given). */
export function compact<T extends Record<string, unknown>>(obj: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) out[k] = v;
  return out as T;
}

/** The id of an execution given as its id or as the execution itself. */
export function executionIdOf(execution: string | Execution): string {
  if (typeof execution === 'string') return execution;
  if (isObject(execution) && typeof execution.execution_id === 'string') return execution.execution_id;
  throw new CraError('invalid_request', 'expected an execution id or an execution', { path: '/execution_id' });
}
