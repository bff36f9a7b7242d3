/**
 * A real server process (`npm start`'s command) on a data folder, and a small client that remembers what the server
 * acknowledged: every 2xx answer's events (by sequence and hash), executions and sessions. Shared by the chaos and
 * load suites, whose checks are about what was acknowledged and what is on disk afterwards.
 *
 * @module
 */

import { readFile } from 'node:fs';
import { KEY_A, startChild, type ChildServer } from '../../../server/src/testing.ts';
import type { TraceEvent } from '../../../sdk/src/types.ts';
import { REFUND } from './atlas.ts';
import type { Rng } from './rng.ts';

export { KEY_A };

export async function startServer(dataDir: string, extra: Record<string, string> = {}): Promise<ChildServer> {
  return startChild({ CRA_DATA_DIR: dataDir, CRA_API_KEYS: KEY_A, ...extra }, 30_000);
}

/** What the server acknowledged, per session. */
export class Ledger {
  /** Session id → sequence → event hash, of every event a 2xx answer carried. */
  readonly events = new Map<string, Map<number, string>>();
  /** Session id → executions acknowledged (requested, and executed when a completion was acknowledged). */
  readonly executions = new Map<string, Map<string, 'requested' | 'executed'>>();
  readonly sessions = new Set<string>();
  requests = 0;
  errors = 0;
  failedConnections = 0;

  ackEvents(sessionId: string, events: readonly TraceEvent[]): void {
    const m = this.events.get(sessionId) ?? new Map<number, string>();
    for (const e of events) m.set(e.sequence, e.event_hash);
    this.events.set(sessionId, m);
  }
  ackExecution(sessionId: string, id: string, state: 'requested' | 'executed'): void {
    const m = this.executions.get(sessionId) ?? new Map();
    if (m.get(id) !== 'executed') m.set(id, state);
    this.executions.set(sessionId, m);
  }
}

export async function call(url: string, method: string, path: string, body?: unknown, timeoutMs = 10_000): Promise<{ status: number; body: any } | null> {
  try {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${KEY_A}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // kept as text
    }
    return { status: res.status, body: parsed };
  } catch {
    return null; // the connection failed: the server died or is gone; nothing was acknowledged
  }
}

/** One write-heavy step on a session: append events, request and complete actions, sometimes resolve or end. */
export async function step(url: string, ledger: Ledger, sessionId: string, rng: Rng): Promise<'ok' | 'ended' | 'error' | 'down'> {
  const roll = rng.next();
  ledger.requests++;
  if (roll < 0.5) {
    const r = await call(url, 'POST', `/v1/sessions/${sessionId}/events`, { event_type: 'error.occurred', payload: { code: 'load', message: `write ${rng.int(1e9)}` } });
    if (!r) return 'down';
    if (r.status >= 300) return (ledger.errors++, 'error');
    const got = (Array.isArray(r.body) ? r.body : (r.body?.events ?? [])) as TraceEvent[];
    ledger.ackEvents(sessionId, got);
    return 'ok';
  }
  if (roll < 0.9) {
    const r = await call(url, 'POST', `/v1/sessions/${sessionId}/actions`, { action_id: 'ticket.lookup', parameters: { ticket_id: `T-${10000 + rng.int(90000)}` } });
    if (!r) return 'down';
    if (r.status >= 300) return (ledger.errors++, 'error');
    ledger.ackExecution(sessionId, r.body.execution_id, 'requested');
    if (r.body.status !== 'approved') return 'ok';
    ledger.requests++;
    const done = await call(url, 'POST', `/v1/sessions/${sessionId}/actions/${r.body.execution_id}/complete`, { result: { ok: true } });
    if (!done) return 'down';
    if (done.status >= 300) return (ledger.errors++, 'error');
    ledger.ackExecution(sessionId, r.body.execution_id, 'executed');
    return 'ok';
  }
  if (roll < 0.98) {
    const r = await call(url, 'POST', `/v1/sessions/${sessionId}/resolve`, { required_capabilities: ['tickets.read', 'billing.refund'] });
    if (!r) return 'down';
    if (r.status >= 300) return (ledger.errors++, 'error');
    return 'ok';
  }
  const r = await call(url, 'POST', `/v1/sessions/${sessionId}/end`, { reason: 'completed' });
  if (!r) return 'down';
  if (r.status >= 300) return (ledger.errors++, 'error');
  return 'ended';
}

/** A new session with a resolution; null when the server is gone. */
export async function newSession(url: string, ledger: Ledger): Promise<string | null> {
  ledger.requests += 2;
  const r = await call(url, 'POST', '/v1/sessions', { agent_id: 'support-bot', goal: 'Reliability load' });
  if (!r || r.status >= 300) return null;
  ledger.sessions.add(r.body.session_id);
  const res = await call(url, 'POST', `/v1/sessions/${r.body.session_id}/resolve`, { required_capabilities: ['tickets.read', 'billing.refund'] });
  if (!res || res.status >= 300) return null;
  return r.body.session_id as string;
}

/** Checks one session's served trace against the ledger; answers the problems found (empty when none). */
export async function audit(url: string, ledger: Ledger, sessionId: string): Promise<Array<[string, string]>> {
  const problems: Array<[string, string]> = [];
  const r = await call(url, 'GET', `/v1/traces/${sessionId}`, undefined, 60_000);
  if (!r || r.status !== 200) return [['session_lost', `${sessionId}: ${r ? `${r.status} ${JSON.stringify(r.body).slice(0, 200)}` : 'no answer'}`]];
  const events = r.body as TraceEvent[];
  const ids = new Set<string>();
  events.forEach((e, i) => {
    if (e.sequence !== i) problems.push(['sequence_gap', `${sessionId}: event ${i} has sequence ${e.sequence}`]);
    if (ids.has(e.event_id)) problems.push(['duplicate_event', `${sessionId}: ${e.event_id} twice`]);
    ids.add(e.event_id);
  });
  for (const [seq, hash] of ledger.events.get(sessionId) ?? []) {
    if (events[seq]?.event_hash !== hash) problems.push(['lost_event', `${sessionId}: acknowledged event ${seq} is ${events[seq] ? 'another event' : 'missing'}`]);
  }
  const requested = new Set(events.filter((e) => e.event_type === 'action.requested').map((e) => (e.payload as { execution_id?: string }).execution_id));
  const executed = new Set(events.filter((e) => e.event_type === 'action.executed').map((e) => (e.payload as { execution_id?: string }).execution_id));
  for (const [id, state] of ledger.executions.get(sessionId) ?? []) {
    if (!requested.has(id)) problems.push(['lost_execution', `${sessionId}: acknowledged execution ${id} not in the trace`]);
    if (state === 'executed' && !executed.has(id)) problems.push(['lost_completion', `${sessionId}: acknowledged completion of ${id} not in the trace`]);
  }
  const v = await call(url, 'GET', `/v1/traces/${sessionId}/verify`, undefined, 60_000);
  if (!v || v.body?.valid !== true || v.body?.length !== events.length) problems.push(['verify_failed', `${sessionId}: ${JSON.stringify(v?.body).slice(0, 200)}`]);
  return problems;
}

/** Resident set size of a process in bytes (Linux `/proc`), null elsewhere. */
export function rss(pid: number): Promise<number | null> {
  return new Promise((done) =>
    readFile(`/proc/${pid}/status`, 'utf8', (err, text) => {
      const m = err ? null : /VmRSS:\s+(\d+) kB/.exec(text);
      done(m ? Number(m[1]) * 1024 : null);
    }),
  );
}

export { REFUND };
