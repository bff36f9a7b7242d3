/**
 * What counts as a JSON value, checked before anything recursive touches a value a caller handed in.
 * `JSON.stringify`, structured cloning, schema validation and freezing all recurse; a value nested ten thousand
 * deep (or a cycle) overflows the stack in them and surfaces as a `RangeError` from somewhere unrelated. This walk
 * uses its own stack, stops at the core's nesting limit, and answers a detached copy of exactly what it checked (a
 * getter read twice cannot answer differently the second time).
 *
 * Refused, with the JSON pointer of the offending member (`invalid_json`):
 * - nesting deeper than {@link MAX_JSON_DEPTH} containers (the core's limit), and cycles;
 * - `NaN` and `±Infinity` (JSON has no such numbers; `JSON.stringify` would silently send `null`);
 * - `bigint`, `symbol` and function values;
 * - objects that are not plain (`Date`, `Map`, class instances…): their JSON form is the caller's to choose;
 * - strings and member names with a lone surrogate (the core refuses them: UTF-8 cannot carry one);
 * - `undefined` as an array element or as the value itself, and holes in arrays.
 *
 * Converted as `JSON.stringify` does: a member whose value is `undefined` is absent; `-0` is `0` on the wire.
 * Member names are data: `__proto__`, `constructor` and `prototype` are kept as own members of the copy.
 *
 * @module
 */

import { MAX_JSON_DEPTH } from './abi.ts';
import { CraError } from './errors.ts';
import type { Json } from './types.ts';

/** The deepest nesting of containers the core parses (`max_json_depth` of the ABI contract); `[]` is depth 1. */
export { MAX_JSON_DEPTH };

/** Why a value was refused (`details.reason` of the error). */
export type JsonIssue = 'depth' | 'cycle' | 'number' | 'type' | 'object' | 'string' | 'undefined' | 'unreadable';

/**
 * A detached copy of `value` if it is a JSON value; otherwise throws `invalid_json` pointing at the first offending
 * member under `path` (the pointer of `value` in the input it belongs to).
 */
export function jsonValue(value: unknown, path = ''): Json {
  const root = scalarOrContainer(value, path, 1, false);
  if (root === SKIP) throw refuse('undefined', 'undefined is not a JSON value', path);
  if (!isFrame(root)) return root;
  // The containers on the stack are the ancestors of the member being read: meeting one again is a cycle.
  const ancestors = new Set<object>([root.source]);
  const stack: Frame[] = [root];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    const next = nextMember(frame);
    if (next === null) {
      stack.pop();
      ancestors.delete(frame.source);
      continue;
    }
    const { key, member, at } = next;
    if (typeof member === 'object' && member !== null && ancestors.has(member)) throw refuse('cycle', 'the value contains a cycle', at);
    const copy = scalarOrContainer(member, at, frame.depth + 1, frame.keys !== null);
    if (copy === SKIP) continue;
    if (isFrame(copy)) {
      put(frame.target, key, copy.target);
      ancestors.add(copy.source);
      stack.push(copy);
    } else {
      put(frame.target, key, copy);
    }
  }
  return root.target;
}

/** Throws `invalid_json` unless `value` is a JSON value (see {@link jsonValue}); copies nothing back to the caller. */
export function checkJsonValue(value: unknown, path = ''): void {
  jsonValue(value, path);
}

/**
 * `value` as JSON, for results that are hashed or shown rather than checked (a tool's answer): a JSON value as it
 * is, else its JSON text's value (`toJSON` and all), else a short description. Never throws, never recurses on a
 * value too deep or cyclic.
 */
export function toJson(value: unknown): Json {
  if (value === undefined) return null;
  if (typeof value === 'string') return wellFormedText(value);
  try {
    return jsonValue(value);
  } catch (err) {
    const reason = err instanceof CraError ? (err.details as { reason?: JsonIssue } | undefined)?.reason : undefined;
    if (reason !== 'depth' && reason !== 'cycle' && reason !== 'unreadable') {
      try {
        const text = JSON.stringify(value);
        return text === undefined ? null : jsonValue(JSON.parse(text));
      } catch {
        // described below
      }
    }
    return wellFormedText(describeValue(value));
  }
}

/** `text` with each lone surrogate replaced by U+FFFD (what a UTF-8 encoder would write). */
function wellFormedText(text: string): string {
  return wellFormed(text) ? text : text.replace(new RegExp(LONE_SURROGATE.source, 'g'), '\ufffd');
}

/** A short description of any value, for messages; never throws (unlike `String(value)` on some objects). */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return String(value);
    case 'symbol':
      return value.description === undefined ? 'a symbol' : `symbol ${value.description}`;
    case 'function':
      return 'a function';
    default:
      return value === null ? 'null' : Array.isArray(value) ? 'an array' : 'an object';
  }
}

/** `~` → `~0`, `/` → `~1` (RFC 6901). */
export function pointerSegment(key: string): string {
  return key.includes('~') || key.includes('/') ? key.replace(/~/g, '~0').replace(/\//g, '~1') : key;
}

// ---------------------------------------------------------------------------------------------------------------

const SKIP: unique symbol = Symbol('skip');

/** One container being copied, read one member at a time (its members come in document order). */
class Frame {
  /** The next member to read. */
  index = 0;
  constructor(
    readonly source: object,
    readonly target: Json[] | Record<string, Json>,
    readonly path: string,
    readonly depth: number,
    /** Member names of an object (`null` for an array). */
    readonly keys: string[] | null,
    readonly length: number,
  ) {}
}

function isFrame(x: unknown): x is Frame {
  return x instanceof Frame;
}

/** A scalar's copy, a frame for a container at `depth`, or SKIP for an absent (undefined) object member. */
function scalarOrContainer(value: unknown, path: string, depth: number, inObject: boolean): Json | Frame | typeof SKIP {
  switch (typeof value) {
    case 'string':
      if (!wellFormed(value)) throw refuse('string', 'the string has a lone surrogate, which JSON text in UTF-8 cannot carry', path);
      return value;
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw refuse('number', `${value} is not a JSON number`, path);
      return value;
    case 'undefined':
      if (inObject) return SKIP;
      throw refuse('undefined', 'undefined is not a JSON value', path);
    case 'bigint':
      throw refuse('type', 'a bigint is not a JSON value (pass a number or a string)', path);
    case 'symbol':
    case 'function':
      throw refuse('type', `a ${typeof value} is not a JSON value`, path);
    default:
      break;
  }
  if (value === null) return null;
  const obj = value as object;
  let array: boolean;
  let plain: boolean;
  try {
    array = Array.isArray(obj);
    const proto: unknown = array ? null : Object.getPrototypeOf(obj);
    plain = array || proto === null || Object.getPrototypeOf(proto) === null;
  } catch (err) {
    throw refuse('unreadable', `the value cannot be read: ${describeError(err)}`, path);
  }
  if (!plain && obj instanceof Promise) throw refuse('object', 'a Promise is not a JSON value (await it first)', path);
  if (!plain) throw refuse('object', 'only plain objects and arrays are JSON values (pass the JSON form of this object)', path);
  if (depth > MAX_JSON_DEPTH) throw refuse('depth', `the value is nested deeper than ${MAX_JSON_DEPTH} levels`, path);
  let keys: string[] | null;
  let length: number;
  try {
    keys = array ? null : Object.keys(obj);
    length = keys ? keys.length : (obj as unknown[]).length;
  } catch (err) {
    throw refuse('unreadable', `the value cannot be read: ${describeError(err)}`, path);
  }
  return new Frame(obj, array ? [] : {}, path, depth, keys, length);
}

/** The frame's next member and its pointer, or `null` when every member was read; a read that throws is refused. */
function nextMember(frame: Frame): { key: string | number; member: unknown; at: string } | null {
  if (frame.index >= frame.length) return null;
  const i = frame.index++;
  const source = frame.source as Record<string | number, unknown>;
  const key = frame.keys ? frame.keys[i]! : i;
  const at = `${frame.path}/${typeof key === 'number' ? key : pointerSegment(key)}`;
  if (typeof key === 'string' && !wellFormed(key)) {
    throw refuse('string', 'the member name has a lone surrogate, which JSON text in UTF-8 cannot carry', at);
  }
  try {
    if (typeof key === 'number' && !(key in source)) throw refuse('undefined', 'a hole in an array is not a JSON value', at);
    return { key, member: source[key], at };
  } catch (err) {
    if (err instanceof CraError) throw err;
    throw refuse('unreadable', `the value cannot be read: ${describeError(err)}`, at);
  }
}

/** Sets a member as an own data property (a `__proto__` member is data, not the prototype). */
function put(target: Json[] | Record<string, Json>, key: string | number, value: Json): void {
  if (typeof key === 'number') (target as Json[]).push(value);
  else if (key === '__proto__') Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else (target as Record<string, Json>)[key] = value;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const hasIsWellFormed = typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === 'function';

function wellFormed(s: string): boolean {
  return hasIsWellFormed ? (s as string & { isWellFormed(): boolean }).isWellFormed() : !LONE_SURROGATE.test(s);
}

function refuse(reason: JsonIssue, message: string, path: string): CraError {
  return new CraError('invalid_json', message, { path, details: { reason } });
}

function describeError(err: unknown): string {
  return err instanceof Error ? err.message : describeValue(err);
}
