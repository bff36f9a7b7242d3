/**
 * The strict scan of request bodies: duplicate keys and depth, with the pointers the core gives, in one linear pass
 * that never recurses.
 */

import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, strictJsonFinding } from './strict-json.ts';

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('strictJsonFinding', () => {
  it('finds nothing in plain JSON, whatever its strings hold', () => {
    for (const text of [
      'null',
      ' 1 ',
      '"a\\"b"',
      '{"a": 1, "b": {"a": 2}, "c": [{"a": 3}, {"a": 4}]}',
      '{"a": "}\\\\", "b": "\\\\\\"{"}',
      '[[], {}, [{}], "[{"]',
      '{"__proto__": 1, "constructor": 2, "prototype": 3}',
      '{"a": 1e5, "b": -0.5, "c": true, "d": null}',
    ]) {
      expect([text, strictJsonFinding(text)]).toEqual([text, null]);
    }
  });

  it('names the duplicated member by its pointer (RFC 6901), keys compared decoded', () => {
    const at = (text: string) => strictJsonFinding(text);
    expect(at('{"a": 1, "a": 2}')).toEqual({ path: '/a', message: 'duplicate object key "a"' });
    expect(at('{"a": {"b": 1, "c": 2, "b": 3}}')?.path).toBe('/a/b');
    expect(at('{"x": 0, "a": [1, {"k": 1}, {"k": 1, "k": 2}]}')?.path).toBe('/a/2/k');
    expect(at('[[], [{"a/b": {"m~n": 1, "m~n": 1}}]]')?.path).toBe('/1/0/a~1b/m~0n');
    expect(at('{"": 1, "": 2}')?.path).toBe('/');
    expect(at('{"a": 1, "\\u0061": 2}')?.path).toBe('/a');
    expect(at('{"é": 1, "\\u00e9": 2}')?.path).toBe('/é');
    expect(at('{"__proto__": 1, "__proto__": 2}')).toEqual({ path: '/__proto__', message: 'duplicate object key "__proto__"' });
    expect(at('{"approval_hash": "000", "approval_hash": "abc"}')?.path).toBe('/approval_hash');
    // The first finding in document order.
    expect(at('{"a": {"x": 1, "x": 2}, "a": 3}')?.path).toBe('/a/x');
  });

  it('accepts the core’s depth and names the first value past it', () => {
    expect(MAX_JSON_DEPTH).toBe(128);
    expect(strictJsonFinding(nested(MAX_JSON_DEPTH))).toBeNull();
    expect(strictJsonFinding(nested(MAX_JSON_DEPTH + 1))).toEqual({
      path: '/0'.repeat(MAX_JSON_DEPTH),
      message: 'nesting deeper than 128 levels',
    });
    const mixed = `${'[{"a":'.repeat(64)}1${'}]'.repeat(64)}`;
    expect(strictJsonFinding(mixed)).toBeNull();
    expect(strictJsonFinding(`[${mixed}]`)?.path).toBe(`/0${'/0/a'.repeat(63)}/0`);
    const objects = `${'{"k/~":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
    expect(strictJsonFinding(objects)?.path).toBe('/k~1~0'.repeat(MAX_JSON_DEPTH));
    // Unbalanced deep text fails on depth, as in the core, without a stack overflow.
    expect(strictJsonFinding('['.repeat(1_000_000))?.message).toBe('nesting deeper than 128 levels');
    expect(strictJsonFinding(`[1, 2, ${nested(200)}]`)?.path).toBe(`/2${'/0'.repeat(127)}`);
  });

  it('leaves what is not JSON to JSON.parse', () => {
    for (const text of ['', '{', '{"a" 1}', '{"a":1,}', '[1,]x', '{1: 2}', '"open', '{"a": 1}}', '{"\\x": 1, "\\x": 2}']) {
      const finding = strictJsonFinding(text);
      expect([text, finding]).toEqual([text, null]);
    }
  });

  it('is linear: a 1 MB body of many keys, long strings and escapes scans in milliseconds', () => {
    const members = Array.from({ length: 20_000 }, (_, i) => `"key_${i}\\u00e9": "${'x\\"'.repeat(10)}"`);
    const text = `{"items": [${Array.from({ length: 5 }, () => `{${members.slice(0, 4_000).join(',')}}`).join(',')}], "s": "${'\\\\'.repeat(100_000)}"}`;
    expect(text.length).toBeGreaterThan(1_000_000);
    const t0 = performance.now();
    expect(strictJsonFinding(text)).toBeNull();
    expect(performance.now() - t0).toBeLessThan(500);
  });
});
