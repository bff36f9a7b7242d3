/**
 * What a session's events record about it, folded as they are stored: the head (length, hash), the identity
 * `session.started` recorded, and whether a `session.ended` was stored. Both stores keep this per session as their
 * index, and the runtime keeps it for every session it knows (`runtime/directory.ts`), so that listing and
 * start-up never read a trace. Only recorded members are read here; nothing is decided.
 *
 * @module
 */

import type { TraceEvent } from '../types.ts';
import type { StoredSession } from './store.ts';

export const GENESIS_HASH = '0'.repeat(64);

/** The summary of `events` appended after `before` (a session's earlier events, or none). */
export function summarize(sessionId: string, events: readonly TraceEvent[], before?: StoredSession): StoredSession {
  const out: StoredSession = before ? { ...before } : { session_id: sessionId, length: 0, head_hash: GENESIS_HASH, status: 'active' };
  for (const e of events) {
    if (e.event_type === 'session.started' && e.sequence === 0) {
      const p = e.payload as Record<string, unknown>;
      if (typeof p.agent_id === 'string') out.agent_id = p.agent_id;
      if (typeof p.goal === 'string') out.goal = p.goal;
      out.parent_session_id = typeof p.parent_session_id === 'string' ? p.parent_session_id : null;
      out.trace_id = e.trace_id;
      out.created_at = e.timestamp;
      out.ended_at = null;
    } else if (e.event_type === 'session.ended') {
      out.status = 'ended';
      out.ended_at = e.timestamp;
    }
  }
  const last = events[events.length - 1];
  if (last) {
    out.length = last.sequence + 1;
    out.head_hash = last.event_hash;
    out.last_event_at = last.timestamp;
  }
  return out;
}
