/**
 * Test helpers that touch no Node API, so that tests running in browsers (`*.browser.test.ts`) share them with the
 * Node suites: deterministic host time and ids, fault injection, small atlases. `helpers.ts` re-exports all of it.
 */

import type { CoreExports } from '../src/runtime/core.ts';
import type { AtlasManifest } from '../src/types.ts';

/** 2024-12-28T12:00:00Z, the time of the conformance request. */
export const T0_US = Date.UTC(2024, 11, 28, 12, 0, 0) * 1000;

/** A clock that starts at `start` and moves `step` µs per reading; `advance` jumps. */
export function testClock(start = T0_US, step = 1000) {
  let t = start;
  const clock = () => {
    const now = t;
    t += step;
    return now;
  };
  return Object.assign(clock, {
    advance(us: number) {
      t += us;
    },
    peek: () => t,
  });
}

/** Counting UUIDs under a prefix: `<prefix>-0000-7000-8000-<n>`. */
export function testIds(prefix = 'a0000000') {
  let n = 0;
  return () => `${prefix}-0000-7000-8000-${(++n).toString(16).padStart(12, '0')}`;
}

/** Drops the fields of `actual` that `expected` marks `"$dynamic"`, recursively. */
export function withoutDynamic(actual: unknown, expected: unknown): unknown {
  if (expected === '$dynamic') return '$dynamic';
  if (Array.isArray(expected) && Array.isArray(actual)) return actual.map((a, i) => withoutDynamic(a, expected[i]));
  if (expected && typeof expected === 'object' && actual && typeof actual === 'object' && !Array.isArray(actual)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(actual)) out[k] = withoutDynamic(v, (expected as Record<string, unknown>)[k]);
    return out;
  }
  return actual;
}

/**
 * What one resolve against the example atlas (`examples/atlases/support`) records, in order: the request, the
 * context it injects, its two policies that match, the resolution.
 */
export const SUPPORT_RESOLVE_EVENTS: readonly string[] = Object.freeze([
  'session.started',
  'carp.request.received',
  'context.injected',
  'policy.evaluated',
  'policy.evaluated',
  'carp.resolution.completed',
]);

// --- fault injection ------------------------------------------------------------------------------------------

/** A module whose one export executes `unreachable`: a genuine WebAssembly trap. */
export const TRAP_MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type: () -> ()
  0x03, 0x02, 0x01, 0x00, // one function of type 0
  0x07, 0x08, 0x01, 0x04, 0x74, 0x72, 0x61, 0x70, 0x00, 0x00, // export "trap"
  0x0a, 0x05, 0x01, 0x03, 0x00, 0x00, 0x0b, // body: unreachable
]);

/**
 * Hand-made cores with every export of the ABI contract and no logic (calls answer 0), for the loader and the ABI
 * version check. Their text form:
 *
 *   (module (memory (export "memory") 1)
 *     (func (export "cra_alloc") (param i32) (result i32) (i32.const 0))
 *     (func (export "cra_free") (param i32 i32))
 *     (func (export "cra_call") (param i32 i32 i32 i32 f64) (result i32) (i32.const 0))
 *     (func (export "cra_check") (param i32 i32 f64) (result i32) (i32.const 0))
 *     (func (export "cra_abi_version") (result i32) (i32.const <version>)))
 *
 * `UNVERSIONED_CORE` lacks `cra_abi_version`, as a core built before the ABI was versioned. `sdk/test/abi/*.wasm`
 * hold the same bytes as files, for workerd (which compiles no bytes at run time); a test keeps them equal.
 */
export const STUB_CORE = base64Bytes(
  'AGFzbQEAAAABHwVgAX8Bf2ACf38AYAV/f39/fAF/YAN/f3wBf2AAAX8DBgUAAQIDBAUDAQABB0oGBm1lbW9yeQIACWNyYV9hbGxvYwAACGNyYV9mcmVlAAEIY3JhX2NhbGwAAgljcmFfY2hlY2sAAw9jcmFfYWJpX3ZlcnNpb24ABAoYBQQAQQALAgALBABBAAsEAEEACwQAQQEL',
);
/**
 * A core of another ABI version than the SDK's: {@link STUB_CORE} as it is, which answers version 1, the version
 * before the SDK's (a module left over from an older build). Version 1 is never current again, unlike a newer one.
 */
export const OTHER_VERSION_CORE = STUB_CORE;
/** {@link STUB_CORE} without `cra_abi_version`. */
export const UNVERSIONED_CORE = base64Bytes(
  'AGFzbQEAAAABGwRgAX8Bf2ACf38AYAV/f39/fAF/YAN/f3wBfwMFBAABAgMFAwEAAQc4BQZtZW1vcnkCAAljcmFfYWxsb2MAAAhjcmFfZnJlZQABCGNyYV9jYWxsAAIJY3JhX2NoZWNrAAMKEwQEAEEACwIACwQAQQALBABBAAs=',
);

function base64Bytes(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

export const trap = (new WebAssembly.Instance(new WebAssembly.Module(TRAP_MODULE)).exports as { trap: () => void }).trap;

const dec = new TextDecoder();
const enc = new TextEncoder();

export function readOp(ex: CoreExports, ptr: number, len: number): string {
  return dec.decode(new Uint8Array(ex.memory.buffer, ptr >>> 0, len));
}

/** Writes a result buffer (`[len u32 LE][bytes]`) the way the core does and returns its pointer. */
export function writeResult(ex: CoreExports, text: string | Uint8Array): number {
  const bytes = typeof text === 'string' ? enc.encode(text) : text;
  const ptr = ex.cra_alloc(4 + bytes.length);
  const view = new DataView(ex.memory.buffer);
  view.setUint32(ptr, bytes.length, true);
  new Uint8Array(ex.memory.buffer, ptr + 4, bytes.length).set(bytes);
  return ptr;
}

/** What a faulty core does on one call of `op` (the real call may run first: `after`). */
export type Fault =
  | { op: string; kind: 'trap-before' }
  | { op: string; kind: 'trap-after' }
  | { op: string; kind: 'answer'; text: string | Uint8Array; after?: boolean }
  | { op: string; kind: 'pointer'; value: number };

/**
 * An `instrument` hook that injects faults, in order: each armed fault fires once, on the next call of its op, then
 * the core behaves again. The hook survives rebuilds (every new instance is wrapped by it). `fired` counts faults.
 */
export function faults(...initial: Fault[]) {
  const queue: Fault[] = [...initial];
  const state = { fired: 0 };
  const take = (op: string): Fault | null => {
    if (queue[0]?.op !== op) return null;
    state.fired++;
    return queue.shift()!;
  };
  const instrument = (ex: CoreExports): CoreExports => ({
    memory: ex.memory,
    cra_alloc: (len) => ex.cra_alloc(len),
    cra_free: (ptr, len) => ex.cra_free(ptr, len),
    cra_abi_version: () => ex.cra_abi_version(),
    cra_check: (s, a, now) => {
      const f = take('check');
      if (!f) return ex.cra_check(s, a, now);
      if (f.kind === 'trap-before') trap();
      if (f.kind === 'pointer') return f.value;
      const code = ex.cra_check(s, a, now);
      if (f.kind === 'trap-after') trap();
      return code;
    },
    cra_call: (opPtr, opLen, inPtr, inLen, now) => {
      const f = queue.length > 0 ? take(readOp(ex, opPtr, opLen)) : null;
      if (!f) return ex.cra_call(opPtr, opLen, inPtr, inLen, now);
      if (f.kind === 'trap-before') trap();
      if (f.kind === 'pointer') return f.value;
      if (f.kind === 'answer' && !f.after) return writeResult(ex, f.text);
      const res = ex.cra_call(opPtr, opLen, inPtr, inLen, now);
      if (f.kind === 'trap-after') trap();
      // Drop the real answer (its effects inside the core stay) and answer garbage instead.
      const len = new DataView(ex.memory.buffer).getUint32(res >>> 0, true);
      ex.cra_free(res, 4 + len);
      return writeResult(ex, (f as { text: string | Uint8Array }).text);
    },
  });
  return Object.assign(instrument, {
    state,
    pending: () => queue.length,
    arm: (...next: Fault[]) => {
      queue.push(...next);
    },
    disarm: () => {
      queue.length = 0;
    },
  });
}

/** A small atlas for policy tests: `note.read` open, `note.write` rate limited, `note.purge` denied. */
export function notesAtlas(overrides: Partial<AtlasManifest> = {}): AtlasManifest {
  return {
    atlas_version: '1.0',
    atlas_id: 'org.test.notes',
    version: '1.0.0',
    name: 'Notes',
    description: 'Notes for policy tests',
    actions: [
      {
        action_id: 'note.read',
        name: 'Read note',
        description: 'Read a note',
        parameters_schema: { type: 'object', required: ['id'], properties: { id: { type: 'string' } }, additionalProperties: false },
      },
      {
        action_id: 'note.write',
        name: 'Write note',
        description: 'Write a note',
        risk_tier: 'medium',
        parameters_schema: { type: 'object', required: ['text'], properties: { text: { type: 'string', maxLength: 100 } } },
      },
      { action_id: 'note.purge', name: 'Purge notes', description: 'Delete every note', risk_tier: 'critical' },
    ],
    policies: [
      { policy_id: 'no-purge', type: 'deny', actions: ['note.purge'], parameters: { reason: 'Purging is never allowed' } },
      { policy_id: 'write-rate', type: 'rate_limit', actions: ['note.write'], parameters: { max_calls: 2, window_seconds: 60 } },
      { policy_id: 'open', type: 'allow', actions: ['note.*'] },
    ],
    ...overrides,
  };
}
