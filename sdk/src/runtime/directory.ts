/**
 * Every session the runtime knows, live in the core or not: a small summary each (what the store's index holds:
 * head, identity, status, times; see `storage/summary.ts`), the session's owner (host data) and which head its trace
 * is checked against when it is restored. Listing answers from here and start-up fills it from the store's index,
 * so neither reads a trace; the summaries follow every append the runtime makes.
 *
 * About 0.5 KB per session: what an ended session costs once it has left the core.
 *
 * @module
 */

import { CraError } from '../errors.ts';
import type { EmbeddedListOptions } from '../interface.ts';
import type { StoredSession } from '../storage/store.ts';
import { summarize } from '../storage/summary.ts';
import type { ChainHead, SessionList, SessionSummary, TraceEvent } from '../types.ts';
import { isObject } from '../util.ts';

export const DEFAULT_PAGE = 100;

export interface KnownSession {
  stored: StoredSession;
  owner: string | undefined;
  /**
   * `stored` is what this runtime appended (a restore must end exactly at its head) rather than what the store
   * reported on start (the trace must extend that head: events written after its last sync are kept).
   */
  exact: boolean;
}

export class Directory {
  /** In creation order. */
  private readonly known = new Map<string, KnownSession>();

  /** Takes in the sessions a store reported on start, oldest first. */
  load(sessions: readonly StoredSession[], ownerOf: (sessionId: string) => string | undefined): void {
    // An index is nearly in creation order already: sorted only when it is not.
    let sorted = true;
    for (let i = 1; i < sessions.length && sorted; i++) sorted = (sessions[i - 1]!.created_at ?? '') <= (sessions[i]!.created_at ?? '');
    const ordered = sorted ? sessions : [...sessions].sort((a, b) => compare(a.created_at ?? '', b.created_at ?? ''));
    for (const stored of ordered) this.known.set(stored.session_id, { stored, owner: ownerOf(stored.session_id), exact: false });
  }

  get(sessionId: string): KnownSession | undefined {
    return this.known.get(sessionId);
  }

  has(sessionId: string): boolean {
    return this.known.has(sessionId);
  }

  get size(): number {
    return this.known.size;
  }

  values(): IterableIterator<KnownSession> {
    return this.known.values();
  }

  /** Follows an append of `events` (a new session's first ones included). */
  appended(sessionId: string, events: readonly TraceEvent[], owner: string | undefined): void {
    const k = this.known.get(sessionId);
    if (k) {
      k.stored = summarize(sessionId, events, k.stored);
      k.exact = true;
    } else {
      this.known.set(sessionId, { stored: summarize(sessionId, events), owner, exact: true });
    }
  }

  /** Drops a session that never reached the store (its creation failed to be stored). */
  forget(sessionId: string): void {
    this.known.delete(sessionId);
  }

  /** The head a restore checks the trace against. */
  heads(k: KnownSession): { expected?: ChainHead; synced?: ChainHead } {
    const head = { length: k.stored.length, head_hash: k.stored.head_hash };
    return k.exact ? { expected: head } : { synced: head };
  }

  list(options: EmbeddedListOptions | undefined): SessionList {
    const o = listOptions(options);
    const items: SessionSummary[] = [];
    let total = 0;
    const all = [...this.known.values()];
    if (o.order === 'newest') all.reverse();
    for (const k of all) {
      const s = k.stored;
      if (o.status !== 'all' && (s.status ?? 'active') !== o.status) continue;
      if (o.agentId !== undefined && s.agent_id !== o.agentId) continue;
      if (o.owner !== undefined && k.owner !== o.owner) continue;
      if (o.where !== undefined && !o.where(s.session_id)) continue;
      if (total >= o.offset && items.length < o.limit) items.push(summaryOf(s));
      total++;
    }
    return { items, total };
  }
}

/** A session as listed. */
export function summaryOf(s: StoredSession): SessionSummary {
  return {
    session_id: s.session_id,
    agent_id: s.agent_id ?? '',
    goal: s.goal ?? '',
    status: s.status ?? 'active',
    created_at: s.created_at ?? '',
    ended_at: s.ended_at ?? null,
    last_event_at: s.last_event_at ?? s.created_at ?? '',
    event_count: s.length,
    head_hash: s.head_hash,
    trace_id: s.trace_id ?? '',
    parent_session_id: s.parent_session_id ?? null,
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const LIST_KEYS: ReadonlySet<string> = new Set(['status', 'agentId', 'limit', 'offset', 'order', 'owner', 'where']);

/** Checked listing options, with their defaults. */
function listOptions(options: EmbeddedListOptions | undefined): Required<Omit<EmbeddedListOptions, 'agentId' | 'owner' | 'where'>> & EmbeddedListOptions {
  if (options === undefined || options === null) return { status: 'all', limit: DEFAULT_PAGE, offset: 0, order: 'oldest' };
  if (!isObject(options)) throw new CraError('invalid_request', 'listing options must be an object', { path: '' });
  for (const key of Object.keys(options)) {
    if (!LIST_KEYS.has(key)) throw new CraError('invalid_request', `listing options take ${[...LIST_KEYS].join(', ')}, not ${key}`, { path: `/${key}` });
  }
  const { status = 'all', agentId, limit = DEFAULT_PAGE, offset = 0, order = 'oldest', owner, where } = options as EmbeddedListOptions;
  if (where !== undefined && typeof where !== 'function') throw new CraError('invalid_request', 'where must be a function', { path: '/where' });
  if (!['active', 'ended', 'all'].includes(status)) throw new CraError('invalid_request', 'status must be active, ended or all', { path: '/status' });
  if (agentId !== undefined && typeof agentId !== 'string') throw new CraError('invalid_request', 'agentId must be a string', { path: '/agentId' });
  if (owner !== undefined && typeof owner !== 'string') throw new CraError('invalid_request', 'owner must be a string', { path: '/owner' });
  if (!Number.isSafeInteger(limit) || limit < 1) throw new CraError('invalid_request', 'limit must be a positive integer', { path: '/limit' });
  if (!Number.isSafeInteger(offset) || offset < 0) throw new CraError('invalid_request', 'offset must be a non-negative integer', { path: '/offset' });
  if (order !== 'oldest' && order !== 'newest') throw new CraError('invalid_request', 'order must be oldest or newest', { path: '/order' });
  return { status, agentId, limit, offset, order, owner, where };
}
