/**
 * Bringing a stored session back into a core: on start (from what the store holds, which must extend the head it
 * last synced), after a rebuild and when more atlases make stale resolutions reproducible again (from what this
 * runtime stored, which must end exactly at the head it knows). The core verifies the chain and rebuilds the session
 * and its ledgers from it; the host keeps only what the core answers — including what kind of damage a refused trace
 * has (a missing or a repeated event is the core's `trace.verify` verdict, never a guess from sequence numbers here).
 *
 * @module
 */

import { CraError } from '../errors.ts';
import type { StoreIssue } from '../storage/store.ts';
import type { ChainHead, Resolution, Session, TraceEvent, VerifyResult } from '../types.ts';
import { compact, isObject } from '../util.ts';
import type { Chain } from './answers.ts';
import type { Core } from './core.ts';

/** A chain that has not begun. */
export const GENESIS: ChainHead = Object.freeze({ length: 0, head_hash: '0'.repeat(64) });

/** @internal per-session state held by the host. */
export interface SessionState extends Chain {
  agentId: string;
  goal: string;
  /** The host's owner of the session (never in the trace: a restore is handed it again). */
  owner: string | undefined;
  handle: number;
  /** The head of what the store holds (advances when the append completes). */
  stored: ChainHead;
  /** Recent resolutions, for parameter schemas (see `schemaErrors`). */
  resolutions: Map<string, Resolution>;
  /** The resolution `requestAction` uses when none is named. */
  lastResolutionId: string | null;
  /** The core could not rebuild some resolutions (atlases missing when restored). */
  stale: boolean;
  /** Operations under way on the session: it stays in the core while any is (see `residency.ts`). */
  pins: number;
  /** Host time of its last use. */
  lastUsed: number;
}

/** A stored trace as the core reads it: events, or the JSONL text a store keeps (read in one call). */
export type TraceInput = { events: readonly TraceEvent[] } | { jsonl: string };

/** How many events a trace input holds (complete lines of a JSONL text). */
export function eventCount(trace: TraceInput): number {
  if ('events' in trace) return trace.events.length;
  let n = 0;
  for (let i = trace.jsonl.indexOf('\n'); i >= 0; i = trace.jsonl.indexOf('\n', i + 1)) n++;
  return n;
}

/** What the core holds of a session it created or restored. */
export interface CoreSession {
  session: Session;
  handle: number;
  last_resolution_id?: string | null;
  stale_resolutions?: unknown[];
}

/** The chain heads a restore is checked against. */
export interface RestoreHeads {
  /** The store's durable head: the trace must extend it (events written after the last sync are kept). */
  synced?: ChainHead | null;
  /** What this runtime stored: the trace must end exactly there. */
  expected?: ChainHead | null;
}

/** Checks the core's answer for a created or restored session. */
export function checkCoreSession(core: Core, answer: unknown, op: string): CoreSession {
  if (!isObject(answer) || !isObject(answer.session) || typeof answer.session.session_id !== 'string' || !Number.isInteger(answer.handle)) {
    throw core.reject(`${op} answered without a session and handle`, op);
  }
  const last = answer.last_resolution_id;
  if (last !== undefined && last !== null && typeof last !== 'string') throw core.reject(`${op} answered a last_resolution_id that is not an id`, op);
  return answer as unknown as CoreSession;
}

/** The host's state of a session the core just created or restored, with `head` as both its core and stored head. */
export function sessionState(answer: CoreSession, head: ChainHead): SessionState {
  return {
    id: answer.session.session_id,
    agentId: answer.session.agent_id,
    goal: answer.session.goal,
    owner: typeof answer.session.owner === 'string' ? answer.session.owner : undefined,
    handle: answer.handle,
    head,
    stored: head,
    resolutions: new Map(),
    lastResolutionId: answer.last_resolution_id ?? null,
    stale: Array.isArray(answer.stale_resolutions) && answer.stale_resolutions.length > 0,
    pins: 0,
    lastUsed: 0,
  };
}

/** Restores a stored trace as session `sessionId` into `core`; throws the core's error when it does not qualify. */
export function restoreSession(
  core: Core,
  sessionId: string,
  trace: TraceInput,
  heads: RestoreHeads,
  owner: string | undefined,
  now: number,
): SessionState {
  // JSONL crosses as an attachment (raw bytes), events as JSON.
  const jsonl = 'jsonl' in trace ? trace.jsonl : undefined;
  const input = compact({
    events: 'events' in trace ? trace.events : undefined,
    session_id: sessionId,
    owner,
    synced_head: heads.synced && heads.synced.length > 0 ? heads.synced : undefined,
    expected_head: heads.expected && heads.expected.length > 0 ? heads.expected : undefined,
  });
  let answer: unknown;
  try {
    answer = core.call('session.restore', input, now, jsonl);
  } catch (err) {
    throw refusal(core, err, input, jsonl, now);
  }
  const restored = checkCoreSession(core, answer, 'session.restore');
  return sessionState(restored, { length: restored.session.event_count, head_hash: restored.session.head_hash });
}

/** What a refused restore's error carries as `details`: the core's verdict on the events, the synced head. */
interface RefusalDetails {
  verdict?: VerifyResult & { detail?: string };
  synced_head?: ChainHead;
}

/**
 * A restore the core refused, with what `issueOf` needs to name the damage: at `/events/<i>`, the core's own
 * verdict on those events (`trace.verify`, whose `detail` tells a missing event from a repeated one); at
 * `/synced_head`, the head that was synced.
 */
function refusal(
  core: Core,
  err: unknown,
  input: { events?: unknown; expected_head?: unknown; synced_head?: unknown },
  jsonl: string | undefined,
  now: number,
): unknown {
  if (!(err instanceof CraError) || err.code !== 'trace_invalid') return err;
  const details: RefusalDetails = {};
  if (err.path === '/synced_head') details.synced_head = input.synced_head as ChainHead;
  else if (/^\/events\/\d+$/.test(err.path ?? '')) {
    try {
      details.verdict = core.call<RefusalDetails['verdict']>('trace.verify', compact({ events: input.events, expected_head: input.expected_head }), now, jsonl);
    } catch {
      return err; // the refusal stands as the core gave it
    }
  } else return err;
  return new CraError(err.code, err.message, { path: err.path, details, cause: err.cause, status: err.status });
}

/** The store issue of a trace the core refused to restore (a `core_failure` is rethrown). */
export function issueOf(sessionId: string, trace: TraceInput, err: unknown): StoreIssue {
  if (!(err instanceof CraError) || err.code === 'core_failure') throw err;
  const events = { length: eventCount(trace) };
  const path = err.path ?? '';
  const details = (isObject(err.details) ? err.details : {}) as RefusalDetails;
  if (path === '/synced_head') {
    const synced = details.synced_head?.length;
    // The core found the synced head missing from the trace: cut short, or (as long) another chain than was synced.
    const cut = synced === undefined || events.length < synced;
    return {
      session_id: sessionId,
      kind: cut ? 'truncated' : 'invalid_chain',
      message: err.message,
      ...(cut ? { intact_events: events.length } : {}),
      ...(synced === undefined ? {} : { synced_events: synced }),
    };
  }
  if (path === '/session_id') return { session_id: sessionId, kind: 'session_mismatch', message: err.message };
  const at = /^\/events\/(\d+)/.exec(path);
  if (!at) return { session_id: sessionId, kind: 'invalid_chain', message: `cannot be restored: ${err.message}` };
  const verdict = details.verdict;
  const kind = verdict?.valid === false && verdict.reason === 'sequence_gap' ? GAP_KINDS.get(verdict.detail ?? '') : undefined;
  return { session_id: sessionId, kind: kind ?? 'invalid_chain', message: err.message, intact_events: Number(at[1]) };
}

/**
 * The store issue of a trace the core's `trace.verify` found invalid (`count` events, checked against `synced`):
 * the verdict names the damage, this only carries it in a store issue's terms.
 */
export function issueOfVerdict(sessionId: string, verdict: Extract<VerifyResult, { valid: false }>, count: number, synced?: ChainHead): StoreIssue {
  const index = verdict.index;
  const words = `event ${index}: ${verdict.reason}${verdict.detail ? ` (${verdict.detail})` : ''}`;
  if (verdict.reason === 'head_mismatch' && synced && count < synced.length) {
    return { session_id: sessionId, kind: 'truncated', message: `${words}: the trace holds ${count} event(s) but ${synced.length} were synced`, intact_events: count, synced_events: synced.length };
  }
  const gap = verdict.reason === 'sequence_gap' ? GAP_KINDS.get(verdict.detail ?? '') : undefined;
  return { session_id: sessionId, kind: gap ?? 'invalid_chain', message: words, intact_events: index };
}

/** The issue kind of each `detail` of a `sequence_gap` verdict (an `out_of_order` one stays `invalid_chain`). */
const GAP_KINDS: ReadonlyMap<string, StoreIssue['kind']> = new Map([
  ['missing_events', 'missing_events'],
  ['duplicated_event', 'duplicated_events'],
]);
