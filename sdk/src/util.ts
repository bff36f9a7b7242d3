/** Small helpers shared by the SDK's modules (and the server's). */

import { CraError } from './errors.ts';
import { jsonValue } from './json-value.ts';
import type { Execution } from './types.ts';

/**
 * Freezes a value and everything in it (protocol records are read-only once recorded). Iterative: a deep value
 * cannot overflow the stack.
 */
export function deepFreeze<T>(value: T): T {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null || Object.isFrozen(v)) continue;
    Object.freeze(v);
    for (const member of Object.values(v)) stack.push(member);
  }
  return value;
}

/**
 * A detached copy of a JSON value (what the caller passed can change later without affecting us). Throws
 * `invalid_json` for anything that is not one (see `json-value.ts`); never recurses.
 */
export function jsonClone<T>(value: T, path = ''): T {
  return jsonValue(value, path) as T;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Drops keys whose value is `undefined` (the core treats a present key as given). Every other own member is kept
 * as data, `__proto__` included.
 */
export function compact<T extends Record<string, unknown>>(obj: T): T {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(obj)) {
    const value = obj[key];
    if (value === undefined) continue;
    // An own `__proto__` member is data: assigning it would set the prototype instead.
    if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    else out[key] = value;
  }
  return out as T;
}

/**
 * The one way an options argument is read: `undefined` is "no options"; anything but a plain object (`null`, an
 * array, a string…) is refused with `invalid_request` at `path`, the argument's place in the operation's input.
 */
export function readOptions<T extends object>(options: T | undefined, path: string, what = 'options'): Partial<T> {
  if (options === undefined) return {};
  if (!isObject(options)) throw new CraError('invalid_request', `${what} must be an object, not ${kindOf(options)}`, { path });
  return options;
}

/** What kind of value `v` is, for messages ("null", "an array", "a string"…). */
export function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  const t = typeof v;
  return t === 'undefined' ? 'undefined' : t === 'object' ? 'an object' : `a ${t}`;
}

/** The id of an execution given as its id or as the execution itself. */
export function executionIdOf(execution: string | Execution): string {
  const id = isObject(execution) ? execution.execution_id : execution;
  if (typeof id === 'string') return jsonValue(id, '/execution_id') as string;
  throw new CraError('invalid_request', 'expected an execution id or an execution', { path: '/execution_id' });
}
