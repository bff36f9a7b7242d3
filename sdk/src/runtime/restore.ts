/**
 * Bringing a stored session back into a core: on start (from what the store holds, which must extend the head it
 * last synced), after a rebuild and when more atlases make stale resolutions reproducible again (from what this
 * runtime stored, which must end exactly at the head it knows). The core verifies the chain and rebuilds the session
 * and its ledgers from it; the host keeps only what the core answers.
 *
 * @module
 */

import { CraError } from '../errors.ts';
import type { StoreIssue } from '../storage/store.ts';
import type { ChainHead, Resolution, Session, TraceEvent } from '../types.ts';
import { compact, isObject } from '../util.ts';
import type { Chain } from './answers.ts';
import type { Core } from './core.ts';

/** A chain that has not begun. */
export const GENESIS: ChainHead = Object.freeze({ length: 0, head_hash: '0'.repeat(64) });

/** @internal per-session state held by the host. */
export interface SessionState extends Chain {
  agentId: string;
  goal: string;
  handle: number;
  /** The head of what the store holds (advances when the append completes). */
  stored: ChainHead;
  /** Recent resolutions, for parameter schemas (see `schemaErrors`). */
  resolutions: Map<string, Resolution>;
  /** The resolution `requestAction` uses when none is named. */
  lastResolutionId: string | null;
  /** The core could not rebuild some resolutions (atlases missing when restored). */
  stale: boolean;
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

/** The head of a chain of events. */
export function headOf(events: readonly TraceEvent[]): ChainHead {
  const last = events[events.length - 1];
  return last ? { length: last.sequence + 1, head_hash: last.event_hash } : GENESIS;
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
    handle: answer.handle,
    head,
    stored: head,
    resolutions: new Map(),
    lastResolutionId: answer.last_resolution_id ?? null,
    stale: Array.isArray(answer.stale_resolutions) && answer.stale_resolutions.length > 0,
  };
}

/** Restores `events` as session `sessionId` into `core`; throws the core's error when the trace does not qualify. */
export function restoreSession(core: Core, sessionId: string, events: readonly TraceEvent[], heads: RestoreHeads, now: number): SessionState {
  const input = compact({
    events,
    session_id: sessionId,
    synced_head: heads.synced && heads.synced.length > 0 ? heads.synced : undefined,
    expected_head: heads.expected && heads.expected.length > 0 ? heads.expected : undefined,
  });
  const answer = checkCoreSession(core, core.call('session.restore', input, now), 'session.restore');
  return sessionState(answer, headOf(events));
}

/** The store issue of a trace the core refused to restore on start (a `core_failure` is rethrown). */
export function issueOf(sessionId: string, events: readonly TraceEvent[], err: unknown): StoreIssue {
  if (!(err instanceof CraError) || err.code === 'core_failure') throw err;
  const path = err.path ?? '';
  if (path === '/synced_head') return { session_id: sessionId, kind: 'truncated', message: err.message, intact_events: events.length };
  if (path === '/session_id') return { session_id: sessionId, kind: 'session_mismatch', message: err.message };
  const at = /^\/events\/(\d+)/.exec(path);
  return {
    session_id: sessionId,
    kind: 'invalid_chain',
    message: at ? err.message : `cannot be restored: ${err.message}`,
    ...(at ? { intact_events: Number(at[1]) } : {}),
  };
}
