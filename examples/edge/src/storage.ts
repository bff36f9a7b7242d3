/**
 * A session's trace and owner in Durable Object storage. One Durable Object holds one session, so every request of
 * that session runs in one place, one at a time, and its chain is appended in order.
 *
 * Keys: `trace:<session id>:<sequence, 10 digits>` → the event as JSON text (exactly the bytes answered);
 * `owner:<session id>` → the owner (the hash of the API key that created the session).
 */

import { CraError, type StoreOpenResult, summarizeTrace, type TraceEvent, type TraceStore } from 'cra-runtime';
import type { OwnerStore } from 'cra-runtime/server';
import type { DurableObjectStorage } from './cloudflare.ts';

const TRACE = 'trace:';
const OWNER = 'owner:';
/** Durable Object storage takes at most 128 keys per `put`. */
const MAX_KEYS = 128;

const key = (sessionId: string, sequence: number) => `${TRACE}${sessionId}:${String(sequence).padStart(10, '0')}`;

export class DurableTraceStore implements TraceStore {
  /** Stored events per session (known once read). */
  private readonly counts = new Map<string, number>();
  /** Appends of a session run one after another, in call order. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly storage: DurableObjectStorage) {}

  /** One session per object: its summary is read from its own (short) trace. */
  async open(): Promise<StoreOpenResult> {
    const rows = await this.storage.list<string>({ prefix: TRACE });
    const bySession = new Map<string, TraceEvent[]>();
    for (const [k, text] of rows) {
      const sessionId = k.slice(TRACE.length, k.lastIndexOf(':'));
      let events = bySession.get(sessionId);
      if (!events) bySession.set(sessionId, (events = []));
      events.push(JSON.parse(text) as TraceEvent);
    }
    for (const [sessionId, events] of bySession) this.counts.set(sessionId, events.length);
    return { sessions: [...bySession].map(([sessionId, events]) => summarizeTrace(sessionId, events)), issues: [] };
  }

  append(sessionId: string, events: readonly TraceEvent[]): Promise<void> {
    const run = this.queue.then(async () => {
      if (events.length === 0) return;
      const stored = this.counts.get(sessionId) ?? (await this.read(sessionId)).length;
      if (events[0]!.sequence !== stored) {
        throw new CraError('storage_failure', `refusing to append sequence ${events[0]!.sequence} to session ${sessionId}, which has ${stored} stored events`);
      }
      const entries = events.map((e) => [key(sessionId, e.sequence), JSON.stringify(e)] as const);
      // Puts issued without an await between them are committed together.
      const puts: Promise<void>[] = [];
      for (let i = 0; i < entries.length; i += MAX_KEYS) puts.push(this.storage.put(Object.fromEntries(entries.slice(i, i + MAX_KEYS))));
      try {
        await Promise.all(puts);
      } catch (err) {
        this.counts.delete(sessionId); // read again next time
        throw err;
      }
      this.counts.set(sessionId, stored + events.length);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  async read(sessionId: string): Promise<TraceEvent[]> {
    const rows = await this.storage.list<string>({ prefix: `${TRACE}${sessionId}:` });
    return [...rows.values()].map((text) => JSON.parse(text) as TraceEvent);
  }

  /** Durable Object storage is durable once a put resolves (and answers wait for it): nothing to do. */
  async sync(): Promise<void> {}

  async close(): Promise<void> {}
}

export class DurableOwners implements OwnerStore {
  private constructor(
    private readonly storage: DurableObjectStorage,
    private readonly owners: Map<string, string>,
  ) {}

  static async load(storage: DurableObjectStorage): Promise<DurableOwners> {
    const rows = await storage.list<string>({ prefix: OWNER });
    return new DurableOwners(storage, new Map([...rows].map(([k, owner]) => [k.slice(OWNER.length), owner])));
  }

  get(sessionId: string): string | undefined {
    return this.owners.get(sessionId);
  }

  async set(sessionId: string, owner: string): Promise<void> {
    await this.storage.put(`${OWNER}${sessionId}`, owner);
    this.owners.set(sessionId, owner);
  }
}
