/**
 * The proof operations of the embedded runtime: checkpoints, inclusion and consistency proofs, receipts, and taking
 * a session's log from the runtime that governs it (sync). The core decides every one of them (`trace.tree`,
 * `proof.*`, `receipt.*`, `trace.sync`); this carries traces and notes between the store and the core, and has the
 * signatures checked (`../proof/verify.ts`).
 *
 * A synced session is one this runtime holds but does not govern: it serves its trace, verification, checkpoints,
 * proofs and receipts; a session this runtime has live in its core is not synced into.
 *
 * @module
 */

import { CraError } from '../errors.ts';
import { checkJsonValue } from '../json-value.ts';
import type { SyncResult, SyncState, SyncUpload } from '../proof/sync.ts';
import type { Checkpoint, Proof, ProveQuery, Receipt } from '../proof/types.ts';
import { verifyCheckpoint } from '../proof/verify.ts';
import { jsonlText } from './tools.ts';
import type { TraceStore } from '../storage/store.ts';
import type { TraceEvent } from '../types.ts';
import { isUuid } from '../host.ts';
import { isObject } from '../util.ts';
import { checkpointOf, type Checkpoints, noSigningKey } from './checkpoints.ts';
import type { Core } from './core.ts';
import type { CoreSource } from './load.ts';

/** What the runtime lends the proof operations. */
export interface ProofHost {
  store: TraceStore;
  checkpoints(): Checkpoints | null;
  wasm: CoreSource | undefined;
  /** The verified stored trace of a known session (`session_not_found` for an unknown one). */
  trace(sessionId: string): Promise<TraceEvent[]>;
  /** Whether a session is known to the runtime (stored or live). */
  knows(sessionId: string): boolean;
  /** Whether a session is live in the core (governed here). */
  live(sessionId: string): boolean;
  /** A new checkpoint of a session, signed and stored. */
  checkpoint(sessionId: string): Promise<Checkpoint>;
  /** The verifier key of this runtime's own checkpoints (`null` when it signs none). */
  verifierKey(): string | null;
  /** Runs a query on the core. */
  read<T>(query: (core: Core, now: number) => T): Promise<T>;
  /** Tells the runtime about events appended outside a step (a sync). */
  appended(sessionId: string, events: readonly TraceEvent[]): void;
}

export class Proofs {
  private readonly syncing = new Map<string, Promise<unknown>>();

  constructor(private readonly host: ProofHost) {}

  /** The stored checkpoints of a session, oldest first. */
  async list(sessionId: string): Promise<Checkpoint[]> {
    if (!this.host.knows(sessionId)) await this.host.trace(sessionId);
    const notes = (await this.host.store.readCheckpoints?.(sessionId)) ?? [];
    return this.host.read((core, now) => notes.map((n) => checkpointOf(core, n, now)));
  }

  /** The newest stored checkpoint of a session (only that note is read by the core). */
  async newest(sessionId: string): Promise<Checkpoint | undefined> {
    const note = ((await this.host.store.readCheckpoints?.(sessionId)) ?? []).at(-1);
    return note === undefined ? undefined : this.host.read((core, now) => checkpointOf(core, note, now));
  }

  async prove(sessionId: string, query: ProveQuery): Promise<Proof> {
    if (!isObject(query)) throw new CraError('invalid_request', 'say what to prove: { index, size? } or { first, second? }', { path: '' });
    const text = jsonlText(await this.host.trace(sessionId));
    if ('index' in query) {
      const input = { index: query.index, ...(query.size !== undefined ? { size: query.size } : {}) };
      checkJsonValue(input);
      return this.host.read((core, now) => core.call<Proof>('proof.inclusion', input, now, text));
    }
    if ('first' in query) {
      const input = { first: query.first, ...(query.second !== undefined ? { second: query.second } : {}) };
      checkJsonValue(input);
      return this.host.read((core, now) => core.call<Proof>('proof.consistency', input, now, text));
    }
    throw new CraError('invalid_request', 'say what to prove: { index, size? } or { first, second? }', { path: '' });
  }

  /**
   * The receipt of an execution, under the newest stored checkpoint; when none covers its events yet, under a new
   * one (which needs a signing key).
   */
  async receipt(sessionId: string, executionId: string): Promise<Receipt> {
    const events = await this.host.trace(sessionId);
    const text = jsonlText(events);
    const notes = (await this.host.store.readCheckpoints?.(sessionId)) ?? [];
    const build = (note: string) =>
      this.host.read((core, now) => core.call<Receipt>('receipt.build', { execution_id: executionId, checkpoint: note }, now, text));
    const newest = notes[notes.length - 1];
    if (newest !== undefined) {
      try {
        return await build(newest);
      } catch (err) {
        if (!(err instanceof CraError && err.code === 'checkpoint_invalid' && this.host.checkpoints())) throw err;
      }
    }
    if (!this.host.checkpoints()) {
      // Whether the execution exists is said first: a missing one is not a signing matter.
      await this.host.read((core, now) => core.call('proof.inclusion', { index: 0 }, now, text));
      if (!events.some((e) => e.payload?.execution_id === executionId)) {
        throw new CraError('execution_not_found', `no execution ${executionId} in this session`, { path: '/execution_id' });
      }
      throw noSigningKey();
    }
    return build((await this.host.checkpoint(sessionId)).note);
  }

  /** What this runtime holds of a session: where a sync of it starts. */
  async state(sessionId: string): Promise<SyncState> {
    if (!this.host.knows(sessionId)) return { session_id: sessionId, length: 0, head_hash: '0'.repeat(64), checkpoint: null };
    const events = await this.host.trace(sessionId);
    const notes = (await this.host.store.readCheckpoints?.(sessionId)) ?? [];
    const last = events[events.length - 1];
    return { session_id: sessionId, length: events.length, head_hash: last ? last.event_hash : '0'.repeat(64), checkpoint: notes[notes.length - 1] ?? null };
  }

  /**
   * Takes a session's events and checkpoints from the runtime that governs it. `keys`: the verifier keys this
   * runtime trusts; without them, the upload's `key`, which must then be the key of the checkpoints already held.
   */
  async sync(upload: SyncUpload, keys: readonly string[] | undefined): Promise<SyncResult> {
    const { sessionId, events, checkpoints, key } = readUpload(upload);
    const previous = this.syncing.get(sessionId) ?? Promise.resolve();
    const done = previous.catch(() => undefined).then(() => this.syncOne(sessionId, events, checkpoints, key, keys));
    this.syncing.set(sessionId, done);
    void done.finally(() => this.syncing.get(sessionId) === done && this.syncing.delete(sessionId)).catch(() => undefined);
    return done;
  }

  private async syncOne(sessionId: string, incoming: TraceEvent[], notes: string[], key: string | undefined, trusted: readonly string[] | undefined): Promise<SyncResult> {
    const { store } = this.host;
    if (typeof store.appendCheckpoint !== 'function' || typeof store.readCheckpoints !== 'function') {
      throw new CraError('invalid_request', "this runtime's store keeps no checkpoints: it cannot take a synced session", { path: '' });
    }
    if (this.host.live(sessionId)) {
      throw new CraError('session_exists', `session ${sessionId} is governed by this runtime: only a session another runtime governs is synced`, { path: '/events/0/session_id' });
    }
    const known = this.host.knows(sessionId);
    const held = known ? await this.host.trace(sessionId) : [];
    const heldNotes = known ? await store.readCheckpoints(sessionId) : [];
    const heldNote = heldNotes[heldNotes.length - 1];
    // A session this runtime governed holds its own events: nothing from outside is appended to it. Every synced
    // session holds the checkpoints its syncs brought; one with none, or signed by this runtime's key, is its own.
    const own = this.host.verifierKey();
    if (known && (heldNote === undefined || (own !== null && (await verifyCheckpoint(heldNote, { wasm: this.host.wasm, keys: own })).valid))) {
      throw new CraError('session_exists', `session ${sessionId} is governed by this runtime: only a session another runtime governs is synced`, { path: '/events/0/session_id' });
    }
    if (!known && incoming.length === 0) throw new CraError('invalid_request', `nothing to sync: this runtime holds no event of session ${sessionId}`, { path: '/events' });
    // Checkpoints brought are checked with the trusted keys, or the upload's `key`; an upload with none (nothing new
    // to sign, or refused below for events no checkpoint covers) needs no key.
    if (notes.length > 0) {
      const keys = trusted ?? (key !== undefined ? [key] : undefined);
      if (keys === undefined || keys.length === 0) {
        throw new CraError('invalid_request', '`key` is required: the verifier key of the checkpoints (this runtime trusts no configured key)', { path: '/key' });
      }
      const options = { wasm: this.host.wasm, keys };
      // Without trusted keys, the first key a session's checkpoints were taken with stays its key.
      if (trusted === undefined && heldNote !== undefined) {
        const v = await verifyCheckpoint(heldNote, options);
        if (!v.valid) throw new CraError('checkpoint_invalid', `the session's checkpoints are signed by another key than \`key\` (${v.reason})`, { path: '/key' });
      }
      for (const [i, note] of notes.entries()) {
        const v = await verifyCheckpoint(note, options);
        const which = trusted ? 'the trusted keys (trustedKeys, CRA_TRUSTED_KEYS)' : '`key`';
        if (!v.valid) throw new CraError('checkpoint_invalid', `checkpoint ${i + 1} of ${notes.length} is not signed by ${which}: ${v.message}`, { path: `/checkpoints/${i}` });
      }
    }
    const input = { incoming, checkpoints: notes, ...(heldNote !== undefined ? { held_checkpoint: heldNote } : {}) };
    const r = await this.host
      .read((core, now) =>
        core.call<{ session_id: string; held: number; append_from: number; appended: number; length: number; head_hash: string; root: string }>('trace.sync', input, now, jsonlText(held)),
      )
      .catch((err: unknown) => {
        // The core's `incoming` is the upload's `events`; `held_checkpoint` is this runtime's own, not the caller's.
        if (err instanceof CraError && err.path?.startsWith('/incoming')) throw new CraError(err.code, err.message, { path: `/events${err.path.slice('/incoming'.length)}` });
        if (err instanceof CraError && err.path === '/held_checkpoint') throw new CraError(err.code, err.message, { path: '/checkpoints' });
        throw err;
      });
    const sizes = await this.host.read((core, now) => notes.map((n) => checkpointOf(core, n, now)));
    const newest = sizes.reduce((m, c) => Math.max(m, c.size), 0);
    if (r.appended > 0 && newest !== r.length) {
      throw new CraError('checkpoint_invalid', `the newest checkpoint brought covers ${newest} of the ${r.length} events: sign the log up to its end before syncing (syncUpload does)`, { path: '/checkpoints' });
    }
    const fresh = incoming.slice(r.append_from);
    if (fresh.length > 0) {
      await store.append(sessionId, fresh);
      this.host.appended(sessionId, fresh);
    }
    const heldSize = heldNote === undefined ? -1 : (await this.host.read((core, now) => checkpointOf(core, heldNote, now))).size;
    const seen = new Set<string>();
    let stored = heldNote ?? null;
    for (const c of [...sizes].sort((a, b) => a.size - b.size)) {
      if (c.size <= heldSize || seen.has(c.note)) continue;
      seen.add(c.note);
      await store.appendCheckpoint(sessionId, c.note);
      stored = c.note;
    }
    return { session_id: sessionId, length: r.length, head_hash: r.head_hash, checkpoint: stored, appended: r.appended, root: r.root };
  }
}

function readUpload(upload: SyncUpload): { sessionId: string; events: TraceEvent[]; checkpoints: string[]; key: string | undefined } {
  if (!isObject(upload)) throw new CraError('invalid_request', 'a sync is { session_id, events, checkpoints, key? }', { path: '' });
  const { events, checkpoints, key } = upload;
  if (!Array.isArray(events)) throw new CraError('invalid_request', '`events` must be an array of events (empty when nothing is new)', { path: '/events' });
  if (!Array.isArray(checkpoints) || !checkpoints.every((c) => typeof c === 'string')) {
    throw new CraError('invalid_request', '`checkpoints` must be an array of signed notes (the newest covering every event sent)', { path: '/checkpoints' });
  }
  if (key !== undefined && typeof key !== 'string') throw new CraError('invalid_request', '`key` must be a verifier key string', { path: '/key' });
  checkJsonValue({ events });
  const named = upload.session_id;
  const first = isObject(events[0]) ? events[0].session_id : undefined;
  const sessionId = named ?? first;
  if (typeof sessionId !== 'string' || !isUuid(sessionId)) {
    throw new CraError('invalid_request', '`session_id` (a lowercase UUID) is required, or a first event naming its session', { path: named === undefined ? '/events/0/session_id' : '/session_id' });
  }
  if (first !== undefined && first !== sessionId) {
    throw new CraError('invalid_request', `the events are of session ${String(first)}, not ${sessionId}`, { path: '/events/0/session_id' });
  }
  return { sessionId, events: events as TraceEvent[], checkpoints: [...checkpoints], key };
}
