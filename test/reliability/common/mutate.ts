/**
 * Mutations of JSON inputs, written as text so that they can be what `JSON.stringify` never makes: duplicate keys,
 * `__proto__` members, `NaN` tokens, nesting 10 000 deep, invalid UTF-8. A valid input is turned into a tree whose
 * objects are lists of entries (so duplicates survive), one mutation is applied at a random place, and the tree is
 * written back out. Each mutation has a class; the classes in {@link MALFORMED} make an input that no reader may
 * accept, whatever its schema.
 *
 * @module
 */

import fc from 'fast-check';
import type { Rng } from './rng.ts';

type Node = null | boolean | number | string | Raw | Node[] | Obj;
interface Obj {
  entries: Array<[string, Node]>;
}
class Raw {
  constructor(readonly text: string) {}
}

export type MutationClass =
  | 'none'
  | 'deep_nesting'
  | 'huge_string'
  | 'invalid_utf8'
  | 'proto_key'
  | 'nan_token'
  | 'duplicate_key'
  | 'wrong_type'
  | 'missing_member'
  | 'truncated'
  | 'garbage'
  | 'random_value'
  | 'not_object'
  | 'odd_number'
  | 'odd_string';

/** Inputs of these classes are not JSON a strict reader accepts: they must be refused. */
export const MALFORMED: ReadonlySet<MutationClass> = new Set(['deep_nesting', 'invalid_utf8', 'nan_token', 'duplicate_key', 'truncated', 'garbage']);

export const CLASSES: readonly MutationClass[] = [
  'deep_nesting',
  'huge_string',
  'invalid_utf8',
  'proto_key',
  'nan_token',
  'duplicate_key',
  'wrong_type',
  'missing_member',
  'truncated',
  'garbage',
  'random_value',
  'not_object',
  'odd_number',
  'odd_string',
];

export interface Mutated {
  cls: MutationClass;
  /** The JSON pointer of the place mutated (`''` for the whole input). */
  at: string;
  bytes: Uint8Array;
  /** The member names on the path to the mutation (for the checks that care which member broke). */
  path: string[];
}

const encoder = new TextEncoder();
export const DEPTH = 10_000;

/** A pool of generated JSON values, drawn once from the seed (fast-check's arbitraries, reproducible). */
export function valuePool(seed: number, size = 400): unknown[] {
  return fc.sample(fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.double()), { seed, numRuns: size });
}

function toNode(v: unknown): Node {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : new Raw(String(v));
  if (Array.isArray(v)) return v.map(toNode);
  if (typeof v === 'object') return { entries: Object.entries(v as object).map(([k, x]) => [k, toNode(x)]) };
  return null;
}

function write(n: Node): string {
  if (n instanceof Raw) return n.text;
  if (Array.isArray(n)) return `[${n.map(write).join(',')}]`;
  if (n !== null && typeof n === 'object') return `{${n.entries.map(([k, v]) => `${JSON.stringify(k)}:${write(v)}`).join(',')}}`;
  return JSON.stringify(n) ?? 'null';
}

const isObj = (n: Node): n is Obj => n !== null && typeof n === 'object' && !Array.isArray(n) && !(n instanceof Raw);

/** Every place in the tree: its parent container and key/index, with the member names on the way. */
interface Place {
  parent: Obj | Node[] | null;
  key: number;
  node: Node;
  pointer: string;
  names: string[];
}

function places(root: Node): Place[] {
  const out: Place[] = [{ parent: null, key: 0, node: root, pointer: '', names: [] }];
  const walk = (n: Node, pointer: string, names: string[], depth: number) => {
    if (depth > 6 || out.length > 400) return;
    if (Array.isArray(n)) {
      n.forEach((c, i) => {
        out.push({ parent: n, key: i, node: c, pointer: `${pointer}/${i}`, names });
        walk(c, `${pointer}/${i}`, names, depth + 1);
      });
    } else if (isObj(n)) {
      n.entries.forEach(([k, c], i) => {
        const p = `${pointer}/${k.replaceAll('~', '~0').replaceAll('/', '~1')}`;
        out.push({ parent: n, key: i, node: c, pointer: p, names: [...names, k] });
        walk(c, p, [...names, k], depth + 1);
      });
    }
  };
  walk(root, '', [], 0);
  return out;
}

function replace(root: { value: Node }, place: Place, value: Node): void {
  if (place.parent === null) root.value = value;
  else if (Array.isArray(place.parent)) place.parent[place.key] = value;
  else place.parent.entries[place.key]![1] = value;
}

function otherType(n: Node, rng: Rng): Node {
  const options: Node[] = [null, true, 0, -1.5, '', 'x', [], { entries: [] }, [1, 'a'], { entries: [['k', 1]] }];
  const kind = (x: Node) => (x === null ? 'null' : Array.isArray(x) ? 'array' : x instanceof Raw ? 'raw' : typeof x);
  const choices = options.filter((o) => kind(o) !== kind(n));
  return rng.pick(choices);
}

function deep(rng: Rng): Raw {
  return rng.chance(0.5) ? new Raw('['.repeat(DEPTH) + ']'.repeat(DEPTH)) : new Raw('{"a":'.repeat(DEPTH) + '1' + '}'.repeat(DEPTH));
}

const ODD_NUMBERS = ['1e400', '-1e400', '-0', '1e-400', '123456789012345678901234567890', '0.1e1', '9007199254740993', '1E2', '-0.0'];
const ODD_STRINGS = ['"\\u0000"', '"\\ud800"', '"\\udfff\\ud800"', '"\\u202e\\u0000\\n"', '"a\\/b"', `"${'\\u00e9'.repeat(50)}"`, '"\\uFEFF"'];

/** Applies one mutation of class `cls` (or a random class) to `input`. */
export function mutate(input: unknown, rng: Rng, pool: readonly unknown[], cls: MutationClass = rng.pick(CLASSES)): Mutated {
  const root = { value: toNode(input) };
  const all = places(root.value);
  const objects = all.filter((p) => isObj(p.node));
  const members = all.filter((p) => p.parent !== null && !Array.isArray(p.parent));
  let place = rng.pick(all);
  const finish = (text: string | Uint8Array): Mutated => ({
    cls,
    at: place.pointer,
    path: place.names,
    bytes: typeof text === 'string' ? encoder.encode(text) : text,
  });
  switch (cls) {
    case 'deep_nesting':
      replace(root, place, deep(rng));
      return finish(write(root.value));
    case 'huge_string':
      replace(root, place, 'x'.repeat(rng.pick([70_000, 600_000, 1_500_000])));
      return finish(write(root.value));
    case 'nan_token':
      replace(root, place, new Raw(rng.pick(['NaN', 'Infinity', '-Infinity', 'undefined', "'x'", '0x10', '+1', '.5', '01'])));
      return finish(write(root.value));
    case 'odd_number':
      replace(root, place, new Raw(rng.pick(ODD_NUMBERS)));
      return finish(write(root.value));
    case 'odd_string':
      replace(root, place, new Raw(rng.pick(ODD_STRINGS)));
      return finish(write(root.value));
    case 'wrong_type':
      replace(root, place, otherType(place.node, rng));
      return finish(write(root.value));
    case 'random_value':
      replace(root, place, toNode(rng.pick(pool)));
      return finish(write(root.value));
    case 'not_object':
      place = all[0]!;
      root.value = otherType(root.value, rng);
      if (isObj(root.value)) root.value = [];
      return finish(write(root.value));
    case 'proto_key': {
      const target = objects.length > 0 ? rng.pick(objects) : all[0]!;
      place = target;
      const key = rng.pick(['__proto__', 'constructor', 'prototype', '__defineGetter__', 'hasOwnProperty', 'toString']);
      const value = toNode(rng.pick<unknown>([{ polluted: true }, { admin: true }, null, 'x', [1], { toString: 1 }]));
      if (isObj(target.node)) target.node.entries.splice(rng.int(target.node.entries.length + 1), 0, [key, value]);
      else replace(root, target, { entries: [[key, value]] });
      place = { ...target, names: [...target.names, key] };
      return finish(write(root.value));
    }
    case 'duplicate_key': {
      const withMembers = objects.filter((p) => (p.node as Obj).entries.length > 0);
      if (withMembers.length === 0) {
        place = all[0]!;
        return finish('{"a":1,"a":2}');
      }
      place = rng.pick(withMembers);
      const o = place.node as Obj;
      const [k, v] = rng.pick(o.entries);
      o.entries.push([k, rng.chance(0.5) ? v : otherType(v, rng)]);
      place = { ...place, names: [...place.names, k] };
      return finish(write(root.value));
    }
    case 'missing_member': {
      if (members.length === 0) return mutate(input, rng, pool, 'wrong_type');
      place = rng.pick(members);
      (place.parent as Obj).entries.splice(place.key, 1);
      return finish(write(root.value));
    }
    case 'truncated': {
      place = all[0]!;
      const text = write(root.value);
      return finish(text.slice(0, Math.max(0, rng.int(text.length))));
    }
    case 'garbage': {
      place = all[0]!;
      const n = rng.int(64);
      const bytes = new Uint8Array(n);
      for (let i = 0; i < n; i++) bytes[i] = rng.int(256);
      return finish(rng.chance(0.3) ? rng.pick(['', ' ', 'null\u0000', '{}}', '[', '{"a":1}x', "{'a':1}"]) : bytes);
    }
    case 'invalid_utf8': {
      const strings = all.filter((p) => typeof p.node === 'string');
      const marker = '\u0001MARK\u0001';
      if (strings.length > 0) {
        place = rng.pick(strings);
        replace(root, place, marker);
      } else place = all[0]!;
      const text = strings.length > 0 ? write(root.value) : `{"x":${JSON.stringify(marker)}}`;
      const bad = rng.pick([[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82], [0xc0, 0xaf], [0x80]]);
      const enc = encoder.encode(JSON.stringify(marker));
      const whole = encoder.encode(text);
      const at = indexOf(whole, enc);
      const out = new Uint8Array(whole.length - enc.length + bad.length + 2);
      out.set(whole.subarray(0, at));
      out[at] = 0x22;
      out.set(bad, at + 1);
      out[at + 1 + bad.length] = 0x22;
      out.set(whole.subarray(at + enc.length), at + bad.length + 2);
      return finish(out);
    }
    case 'none':
      place = all[0]!;
      return finish(write(root.value));
  }
}

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
