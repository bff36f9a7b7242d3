/**
 * What `JSON.parse` lets through and the core does not: duplicate object keys (`JSON.parse` keeps the last, so
 * `{"approval_hash": "<wrong>", "approval_hash": "<right>"}` would be read one way here and another by a verifier)
 * and nesting deeper than the core's limit (anything recursive downstream — `JSON.stringify`, validators, copies —
 * would overflow the stack on a body 10 000 levels deep).
 *
 * One pass over the text, left to right, with an explicit stack and no recursion: linear in the length of the body
 * (a key is decoded only when it holds an escape, a string is skipped with `indexOf`), and it stops at the first
 * finding, so a deep body costs at most {@link MAX_JSON_DEPTH} frames. It is a scan, not a parser: text it does not
 * understand is left for `JSON.parse` to refuse, which runs next.
 *
 * @module
 */

import { MAX_JSON_DEPTH } from '../../../../sdk/src/json-value.ts';

/** Deepest nesting of arrays and objects the core accepts (`MAX_DEPTH` in `wasm/src/json/parse.rs`), the SDK's number. */
export { MAX_JSON_DEPTH };

export interface JsonFinding {
  /** JSON pointer (RFC 6901) of the duplicated member, or of the first value nested past the limit. */
  path: string;
  /** As the core words it: `duplicate object key "a"`, `nesting deeper than 128 levels`. */
  message: string;
}

/** An open array or object: its keys so far (objects), and the member being read (key or index). */
interface Frame {
  keys: Set<string> | null;
  key: string;
  index: number;
}

/** What may come next. */
const Want = { Value: 0, ValueOrClose: 1, Key: 2, KeyOrClose: 3, Colon: 4, CommaOrClose: 5, End: 6 } as const;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Escapes a reference token (RFC 6901): `~` → `~0`, `/` → `~1`. */
function token(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

function pointerOf(stack: Frame[]): string {
  let out = '';
  for (const f of stack) out += `/${f.keys === null ? String(f.index) : token(f.key)}`;
  return out;
}

/** Index of the quote closing the string that opens at `open`, or -1. */
function closingQuote(text: string, open: number): number {
  let from = open + 1;
  for (;;) {
    const q = text.indexOf('"', from);
    if (q < 0) return -1;
    let k = q - 1;
    while (text.charCodeAt(k) === BACKSLASH) k--;
    if ((q - 1 - k) % 2 === 0) return q; // an even run of backslashes escapes itself, not the quote
    from = q + 1;
  }
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Ends a scalar: whitespace or structure. */
function isDelimiter(c: number): boolean {
  return isSpace(c) || c === 0x2c || c === 0x5d || c === 0x7d || c === 0x3a || c === QUOTE || c === 0x5b || c === 0x7b;
}

/**
 * The first duplicate key or over-deep value of `text`, in document order, or null when there is none (or when the
 * text is not JSON: `JSON.parse` says why). Keys are compared decoded: `"a"` and `"\u0061"` are the same key.
 */
export function strictJsonFinding(text: string, maxDepth: number = MAX_JSON_DEPTH): JsonFinding | null {
  const stack: Frame[] = [];
  let want: number = Want.Value;
  const n = text.length;
  const afterValue = () => (stack.length === 0 ? Want.End : Want.CommaOrClose);
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) continue;
    switch (want) {
      case Want.Value:
      case Want.ValueOrClose: {
        if (c === 0x5d /* ] */ && want === Want.ValueOrClose) {
          stack.pop();
          want = afterValue();
        } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
          if (stack.length >= maxDepth) return { path: pointerOf(stack), message: `nesting deeper than ${maxDepth} levels` };
          const object = c === 0x7b;
          stack.push({ keys: object ? new Set() : null, key: '', index: 0 });
          want = object ? Want.KeyOrClose : Want.ValueOrClose;
        } else if (c === QUOTE) {
          const q = closingQuote(text, i);
          if (q < 0) return null;
          i = q;
          want = afterValue();
        } else if (c === 0x2c || c === 0x5d || c === 0x7d || c === 0x3a) {
          return null;
        } else {
          while (i + 1 < n && !isDelimiter(text.charCodeAt(i + 1))) i++;
          want = afterValue();
        }
        break;
      }
      case Want.Key:
      case Want.KeyOrClose: {
        if (c === 0x7d /* } */ && want === Want.KeyOrClose) {
          stack.pop();
          want = afterValue();
          break;
        }
        if (c !== QUOTE) return null;
        const q = closingQuote(text, i);
        if (q < 0) return null;
        let key = text.slice(i + 1, q);
        if (key.includes('\\')) {
          try {
            key = JSON.parse(text.slice(i, q + 1)) as string;
          } catch {
            return null;
          }
        }
        const top = stack[stack.length - 1]!;
        top.key = key;
        if (top.keys!.has(key)) return { path: pointerOf(stack), message: `duplicate object key ${JSON.stringify(key)}` };
        top.keys!.add(key);
        i = q;
        want = Want.Colon;
        break;
      }
      case Want.Colon:
        if (c !== 0x3a) return null;
        want = Want.Value;
        break;
      case Want.CommaOrClose: {
        const top = stack[stack.length - 1]!;
        if (c === 0x2c) {
          if (top.keys === null) {
            top.index++;
            want = Want.Value;
          } else {
            want = Want.Key;
          }
        } else if ((c === 0x5d && top.keys === null) || (c === 0x7d && top.keys !== null)) {
          stack.pop();
          want = afterValue();
        } else {
          return null;
        }
        break;
      }
      case Want.End:
        return null;
    }
  }
  return null;
}
