/**
 * The single-byte changes of the tamper suite, as a pure function of the trace and a list of (position, new byte)
 * pairs, so that the same code runs in process (sampled runs) and in worker threads (`--every-byte`).
 *
 * A changed byte is read back the way a store would: the changed line (joined to the next one when the change is
 * to its newline) is decoded leniently and parsed by the core (`trace.from_jsonl`). If it parses to other events,
 * the core's `trace.verify` must answer `valid: false` at the changed line's index, for the original events before
 * it followed by the parsed ones. Every 500th verification is asked again through the public `verifyTrace` with
 * the whole mutated trace, and the two answers must agree.
 *
 * @module
 */

import { isDeepStrictEqual } from 'node:util';
import { verifyTrace } from '../../../sdk/src/runtime/tools.ts';
import type { TraceEvent } from '../../../sdk/src/types.ts';
import { Failures } from '../common/summary.ts';
import type { PrefixVerifier } from './verifier.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder(); // replacement characters, as a lenient reader would decode

export interface ByteCounts {
  bytes: number;
  bytes_parse: number;
  bytes_verify: number;
  equivalent: number;
  missed: number;
  cross_checked: number;
}

export const CROSS_CHECK_EVERY = 500;

/** The trace as lines, their bytes and where each starts in the JSONL text. */
export class TraceText {
  readonly events: TraceEvent[];
  readonly bytes: Uint8Array[];
  readonly starts: number[] = [];
  readonly total: number;

  constructor(readonly lines: readonly string[]) {
    this.events = lines.map((l) => JSON.parse(l) as TraceEvent);
    this.bytes = lines.map((l) => encoder.encode(`${l}\n`));
    let total = 0;
    for (const b of this.bytes) {
      this.starts.push(total);
      total += b.length;
    }
    this.total = total;
  }

  /** The line that holds byte `p`. */
  lineOf(p: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= p) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

/** Checks each `positions[k]` replaced by `values[k]`; answers the counts and the failures. */
export async function checkBytes(v: PrefixVerifier, text: TraceText, positions: ArrayLike<number>, values: ArrayLike<number>) {
  const counts: ByteCounts = { bytes: 0, bytes_parse: 0, bytes_verify: 0, equivalent: 0, missed: 0, cross_checked: 0 };
  const failures = new Failures();
  for (let k = 0; k < positions.length; k++) {
    const p = positions[k]!;
    const line = text.lineOf(p);
    const own = text.bytes[line]!;
    const off = p - text.starts[line]!;
    const changed = own.slice();
    changed[off] = values[k]!;
    counts.bytes++;
    // A changed newline joins this line to the next one; a new newline splits it: either way it is one segment.
    const next = off === own.length - 1 && line + 1 < text.bytes.length ? text.bytes[line + 1]! : new Uint8Array(0);
    const joined = new Uint8Array(changed.length + next.length);
    joined.set(changed);
    joined.set(next, changed.length);
    const segment = decoder.decode(joined);
    const what = `byte ${p} (line ${line + 1}, offset ${off}: ${own[off]} → ${changed[off]})`;
    let parsed: TraceEvent[] | null;
    try {
      parsed = v.parse(segment.endsWith('\n') ? segment : `${segment}\n`);
    } catch (err) {
      failures.add('core_failure', what, `trace.from_jsonl: ${String(err)}`);
      continue;
    }
    if (parsed === null) {
      counts.bytes_parse++;
      continue;
    }
    const replaced = next.length > 0 ? 2 : 1;
    if (parsed.length === replaced && parsed.every((e, j) => isDeepStrictEqual(e, text.events[line + j]))) {
      counts.equivalent++;
      continue;
    }
    counts.bytes_verify++;
    let r;
    try {
      r = v.verify(line, parsed.slice(0, 1).map((e) => JSON.stringify(e)));
    } catch (err) {
      failures.add('core_failure', what, `trace.verify: ${String(err)}`);
      continue;
    }
    if (r.valid) {
      counts.missed++;
      failures.add('undetected', what, 'trace.verify answered valid');
    } else if (r.index !== line) failures.add('wrong_index', what, `caught at ${r.index} (${r.reason}), expected ${line}`);
    if (counts.bytes_verify % CROSS_CHECK_EVERY === 1) {
      counts.cross_checked++;
      const whole = await verifyTrace([...text.events.slice(0, line), ...parsed, ...text.events.slice(line + replaced)]);
      if (!isDeepStrictEqual(whole, r)) failures.add('fast_path_mismatch', what, `verifyTrace: ${JSON.stringify(whole)}, trace.verify of the prefix: ${JSON.stringify(r)}`);
    }
  }
  return { counts, failures: { list: failures.list, counts: failures.byClass() } };
}
