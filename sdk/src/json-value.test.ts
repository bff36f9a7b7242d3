import { describe, expect, it } from 'vitest';
import { CraError } from './errors.ts';
import { checkJsonValue, describeValue, jsonValue, MAX_JSON_DEPTH, toJson } from './json-value.ts';
import { compact, deepFreeze, jsonClone } from './util.ts';

/** `depth` nested arrays (`[[...]]`), built without recursion. */
function nestedArrays(depth: number): unknown {
  let v: unknown = [];
  for (let i = 1; i < depth; i++) v = [v];
  return v;
}

/** `depth` nested objects `{a: {a: ...}}`. */
function nestedObjects(depth: number, key = 'a'): Record<string, unknown> {
  let v: Record<string, unknown> = {};
  for (let i = 1; i < depth; i++) v = { [key]: v };
  return v;
}

function refusal(fn: () => unknown): CraError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CraError);
    return err as CraError;
  }
  throw new Error('expected a refusal');
}

describe('jsonValue', () => {
  it('admits exactly the core nesting limit and points at the first container past it', () => {
    expect(MAX_JSON_DEPTH).toBe(128);
    expect(() => checkJsonValue(nestedArrays(MAX_JSON_DEPTH))).not.toThrow();
    const err = refusal(() => checkJsonValue(nestedArrays(MAX_JSON_DEPTH + 1)));
    expect(err).toMatchObject({ code: 'invalid_json', path: `/0`.repeat(MAX_JSON_DEPTH), details: { reason: 'depth' } });
    const objects = refusal(() => jsonValue(nestedObjects(MAX_JSON_DEPTH + 1, 'a/b~'), '/payload'));
    expect(objects.path).toBe(`/payload${'/a~1b~0'.repeat(MAX_JSON_DEPTH)}`);
  });

  it('refuses values nested far deeper than the stack without overflowing it', () => {
    for (const depth of [10_000, 200_000]) {
      expect(refusal(() => jsonValue(nestedObjects(depth))).code).toBe('invalid_json');
      expect(refusal(() => jsonValue(nestedArrays(depth))).path).toBe('/0'.repeat(MAX_JSON_DEPTH));
    }
  });

  it('names the first offender in document order', () => {
    const value = { a: [1, 2, { b: NaN }], c: Infinity };
    expect(refusal(() => jsonValue(value)).path).toBe('/a/2/b');
  });

  it('refuses cycles, non-finite numbers, bigint, symbols, functions, non-plain objects, lone surrogates and holes', () => {
    const cyclic: Record<string, unknown> = { x: 1 };
    cyclic.self = { back: cyclic };
    const cases: Array<[unknown, string, string]> = [
      [cyclic, '/self/back', 'cycle'],
      [{ n: NaN }, '/n', 'number'],
      [[-Infinity], '/0', 'number'],
      [{ b: 1n }, '/b', 'type'],
      [{ s: Symbol('s') }, '/s', 'type'],
      [{ f: () => 1 }, '/f', 'type'],
      [{ d: new Date(0) }, '/d', 'object'],
      [{ m: new Map() }, '/m', 'object'],
      [{ s: 'a\ud800b' }, '/s', 'string'],
      [JSON.parse('{"\\udc00":1}'), '/\udc00', 'string'],
      [[1, , 3], '/1', 'undefined'], // eslint-disable-line no-sparse-arrays
      [[undefined], '/0', 'undefined'],
      [undefined, '', 'undefined'],
    ];
    for (const [value, path, reason] of cases) {
      expect(refusal(() => jsonValue(value)), String(path)).toMatchObject({ code: 'invalid_json', path, details: { reason } });
    }
    const getter = Object.defineProperty({}, 'x', { enumerable: true, get: () => { throw new TypeError('no'); } });
    expect(refusal(() => jsonValue(getter))).toMatchObject({ path: '/x', details: { reason: 'unreadable' } });
  });

  it('copies member names as data: __proto__, constructor and prototype stay own members', () => {
    const input = JSON.parse('{"__proto__":{"x":1},"constructor":{"prototype":2},"a":[{"__proto__":null}]}');
    const copy = jsonValue(input) as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(['__proto__', 'constructor', 'a']);
    expect(JSON.stringify(copy)).toBe(JSON.stringify(input));
    expect(copy).not.toBe(input);
  });

  it('drops undefined members, keeps shared (acyclic) references, and admits null-prototype objects', () => {
    const shared = { k: 1 };
    const bare = Object.assign(Object.create(null) as object, { z: 2 });
    expect(jsonValue({ a: undefined, b: [shared, shared], c: bare })).toEqual({ b: [{ k: 1 }, { k: 1 }], c: { z: 2 } });
  });

  it('toJson turns anything into JSON without recursing on deep or cyclic values', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(toJson(undefined)).toBeNull();
    expect(toJson(new Date(0))).toBe('1970-01-01T00:00:00.000Z');
    expect(toJson(cyclic)).toBe('an object');
    expect(toJson(nestedObjects(100_000))).toBe('an object');
    expect(toJson('a\ud800')).toBe('a\ufffd');
    expect(toJson(10n)).toBe('10');
    expect(describeValue(Object.create(null))).toBe('an object');
  });
});

describe('util', () => {
  it('deepFreeze and jsonClone do not overflow on deep values', () => {
    const deep = nestedObjects(200_000);
    expect(() => deepFreeze(deep)).not.toThrow();
    expect(Object.isFrozen(deep.a)).toBe(true);
    expect(refusal(() => jsonClone(nestedObjects(10_000))).code).toBe('invalid_json');
    const admitted = nestedObjects(MAX_JSON_DEPTH);
    expect(jsonClone(admitted)).toEqual(admitted);
  });

  it('compact keeps an own __proto__ member', () => {
    const out = compact(JSON.parse('{"__proto__":{"x":1},"a":1,"b":null}') as Record<string, unknown>);
    expect(Object.keys(out)).toEqual(['__proto__', 'a', 'b']);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(compact({ a: undefined, b: 1 })).toEqual({ b: 1 });
  });
});

describe('a Promise passed for a value', () => {
  it('is refused with a message that says to await it, at its path', () => {
    const pending = Promise.resolve([]);
    const err = refusal(() => jsonValue({ events: pending }));
    expect(err.code).toBe('invalid_json');
    expect(err.path).toBe('/events');
    expect(err.message).toContain('a Promise is not a JSON value (await it first)');
  });
});
