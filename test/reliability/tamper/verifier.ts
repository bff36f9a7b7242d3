/**
 * The core's own `trace.verify`, asked about a prefix of one trace with a changed tail, fast enough to be asked once
 * per byte of a 734 KB trace.
 *
 * A changed byte changes only its own line, and the verifier stops at the first bad event, so the answer for a
 * change at line L depends on events 0..L only. Each question is still a whole chain from genesis: the original
 * events 0..L-1, then the changed event(s). What is saved is everything around the core: the prefix is serialised
 * and UTF-8 encoded once (`{"events":[e0,e1,…,` in one buffer, sliced at line boundaries), and the input is copied
 * into the core's memory as bytes and handed to the raw `cra_call` — the same operation and the same JSON that
 * `verifyTrace` sends, without its per-call deep copy, `JSON.stringify` and encoding of up to 1 000 events.
 *
 * Parsing a changed line goes through `Core.call('trace.from_jsonl')`, the operation behind `fromJsonl`.
 *
 * @module
 */

import { CraError } from '../../../sdk/src/errors.ts';
import { systemIds } from '../../../sdk/src/host.ts';
import { Core, type CoreExports } from '../../../sdk/src/runtime/core.ts';
import { compileCore } from '../../../sdk/src/runtime/load.ts';
import type { ChainHead, TraceEvent, VerifyResult } from '../../../sdk/src/types.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const OP = encoder.encode('trace.verify');
const NOW = 1_700_000_000_000_000;

export class PrefixVerifier {
  /** `{"events":[` then every event followed by `,`; `ends[i]` is the offset just past event i-1's comma. */
  private readonly buffer: Uint8Array;
  private readonly ends: number[];

  private constructor(
    private readonly core: Core,
    private readonly raw: CoreExports,
    lines: readonly string[],
  ) {
    const head = encoder.encode('{"events":[');
    const parts = lines.map((l) => encoder.encode(`${l},`));
    this.ends = [head.length];
    for (const p of parts) this.ends.push(this.ends.at(-1)! + p.length);
    this.buffer = new Uint8Array(this.ends.at(-1)!);
    this.buffer.set(head, 0);
    parts.forEach((p, i) => this.buffer.set(p, this.ends[i]!));
  }

  /** A verifier over `lines` (each one event as `JSON.stringify` writes it) on a fresh instance of the core. */
  static async create(lines: readonly string[]): Promise<PrefixVerifier> {
    let raw: CoreExports | null = null;
    const core = await Core.instantiate(await compileCore(), {
      ids: systemIds,
      instrument: (ex) => {
        raw = ex;
        return ex;
      },
    });
    return new PrefixVerifier(core, raw!, lines);
  }

  /** `trace.verify` of the original events `0..keep-1` followed by `tail` (events, already serialised). */
  verify(keep: number, tail: readonly string[]): VerifyResult {
    return this.ask(keep, `${tail.join(',')}]}`, tail.length === 0);
  }

  /** `trace.verify` of the original events `0..keep-1` with `expected_head`. */
  verifyCut(keep: number, expected: ChainHead): VerifyResult {
    return this.ask(keep, `],"expected_head":${JSON.stringify(expected)}}`, true);
  }

  /** `trace.from_jsonl`: the parsed events, or null when the core refuses the text. A trap is not a refusal. */
  parse(text: string): TraceEvent[] | null {
    try {
      return this.core.call<{ events: TraceEvent[] }>('trace.from_jsonl', { text }, NOW).events;
    } catch (err) {
      if (err instanceof CraError && err.code !== 'core_failure') return null;
      throw err;
    }
  }

  private ask(keep: number, tailText: string, dropComma: boolean): VerifyResult {
    const end = this.ends[keep]! - (dropComma && keep > 0 ? 1 : 0);
    const tail = encoder.encode(tailText);
    const len = end + tail.length;
    const ex = this.raw;
    const inPtr = ex.cra_alloc(len) >>> 0;
    const opPtr = ex.cra_alloc(OP.length) >>> 0;
    if (inPtr === 0 || opPtr === 0) throw new Error(`cra_alloc failed for ${len} bytes`);
    let mem = new Uint8Array(ex.memory.buffer);
    mem.set(this.buffer.subarray(0, end), inPtr);
    mem.set(tail, inPtr + end);
    mem.set(OP, opPtr);
    const res = ex.cra_call(opPtr, OP.length, inPtr, len, NOW) >>> 0;
    mem = new Uint8Array(ex.memory.buffer); // the call may have grown memory
    const outLen = new DataView(mem.buffer).getUint32(res, true);
    const text = decoder.decode(mem.subarray(res + 4, res + 4 + outLen));
    ex.cra_free(res, 4 + outLen);
    ex.cra_free(inPtr, len);
    ex.cra_free(opPtr, OP.length);
    const env = JSON.parse(text) as { ok?: VerifyResult; error?: unknown };
    if (env.ok === undefined) throw new Error(`trace.verify answered ${text.slice(0, 300)}`);
    return env.ok;
  }
}
