/**
 * The line format of a JSONL trace file, read without a core (a store opens its files before any core runs): one
 * JSON event per line, each ended by a newline. The core's `trace.from_jsonl` reads by the same rule, which
 * `jsonl-parity.test.ts` holds it to.
 *
 * @module
 */

import type { TraceEvent } from '../types.ts';
import type { StoreIssue } from './store.ts';

/**
 * A parsed file: its intact events, their size in bytes, and the first damage.
 *
 * @inline
 */
export interface Parsed {
  /** The events before the first damage (all of them when there is none). */
  events: TraceEvent[];
  /** Bytes of the intact prefix. */
  size: number;
  /** The first damage (`torn_line`, `malformed_line` or `session_mismatch`); `null` for an intact file. */
  issue: StoreIssue | null;
}

/**
 * Parses one trace file. Each line must be one JSON event of `sessionId`, ended by a newline; a last line without
 * its newline is torn (a cut write) even if it happens to parse.
 */
export function parseTrace(text: string, sessionId: string | null, location?: string): Parsed {
  const events: TraceEvent[] = [];
  let size = 0;
  let start = 0;
  let line = 0;
  const base = { session_id: sessionId, ...(location === undefined ? {} : { location }) };
  while (start < text.length) {
    line++;
    const nl = text.indexOf('\n', start);
    if (nl < 0) {
      return {
        events,
        size,
        issue: { ...base, kind: 'torn_line', message: `line ${line} is incomplete (no trailing newline)`, line, intact_events: events.length },
      };
    }
    const raw = text.slice(start, nl);
    let ev: unknown;
    try {
      ev = JSON.parse(raw);
    } catch {
      ev = undefined;
    }
    if (typeof ev !== 'object' || ev === null || Array.isArray(ev) || typeof (ev as TraceEvent).session_id !== 'string') {
      return {
        events,
        size,
        issue: { ...base, kind: 'malformed_line', message: `line ${line} is not a JSON trace event`, line, intact_events: events.length },
      };
    }
    const event = ev as TraceEvent;
    if (sessionId !== null && event.session_id !== sessionId) {
      return {
        events,
        size,
        issue: {
          ...base,
          kind: 'session_mismatch',
          message: `line ${line} belongs to session ${event.session_id}`,
          line,
          intact_events: events.length,
        },
      };
    }
    events.push(event);
    size += Buffer.byteLength(raw, 'utf8') + 1;
    start = nl + 1;
  }
  return { events, size, issue: null };
}
