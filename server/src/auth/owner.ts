/**
 * Session ownership. Every session belongs to the principal (API key hash) that created it; any other key gets the
 * very answer a missing session gets — same status, code, message and path, taken from the runtime itself by asking
 * it about an id that does not exist — for the session, its trace, verification, stream, actions and CARP requests,
 * so session ids cannot be probed. With auth off every session is visible.
 *
 * The owner is kept beside the runtime, in an {@link OwnerStore} (in memory here, in a file on Node:
 * `owner-file.ts`, written before the session is answered), and handed to the runtime as host data — never in the
 * trace, whose `session.started` stays what the protocol says — when a session is created and when it is restored
 * (`ownerOf`): the core counts rate limits of scope `agent` and `global` per owner, so that no key spends another's
 * limits. A session with no owner (created with auth off, or stopped between its trace and its owner line, before it
 * was answered) stays invisible to every key (fail closed), and the start report counts them
 * ({@link unownedSessions}).
 *
 * @module
 */

import { requestedSession } from '../../../sdk/src/carp/request.ts';
import { CraError, isCraError } from '../../../sdk/src/errors.ts';
import type { CraRuntime } from '../../../sdk/src/interface.ts';
import type { EmbeddedRuntime } from '../../../sdk/src/runtime/runtime.ts';
import type { JsonObject } from '../../../sdk/src/types.ts';
import type { Principal } from './keys.ts';

/**
 * Where the app keeps who owns which session (the owner is host data, never in the trace). {@link MemoryOwners}
 * forgets on restart; a persistent store (`FileOwners` on Node) keeps sessions visible to their keys across restarts.
 */
export interface OwnerStore {
  /** The owner id of a session, `undefined` when none is recorded. */
  get(sessionId: string): string | undefined;
  /** Records the owner of a new session (durably, for a persistent store) before the session is answered. */
  set(sessionId: string, owner: string): Promise<void>;
  /** Releases what the store holds (a file); called once when the server stops. */
  close?(): Promise<void>;
}

/** Owners in memory: the default, for a runtime whose sessions do not outlive the process. */
export class MemoryOwners implements OwnerStore {
  private readonly owners = new Map<string, string>();
  get(sessionId: string): string | undefined {
    return this.owners.get(sessionId);
  }
  async set(sessionId: string, owner: string): Promise<void> {
    this.owners.set(sessionId, owner);
  }
}

/** The SDK's answer for an unknown session id (the fallback when the runtime cannot be asked). */
export function sessionNotFound(sessionId: string): CraError {
  return new CraError('session_not_found', `unknown session: ${sessionId}`, { path: '/session_id' });
}

export class Ownership {
  constructor(
    readonly owners: OwnerStore,
    /** False with auth off: every session is visible. */
    readonly enforced: boolean,
    private readonly runtime: CraRuntime,
  ) {}

  visible(principal: Principal, sessionId: string): boolean {
    return !this.enforced || this.owners.get(sessionId) === principal.owner;
  }

  /** Throws what the runtime answers for a missing session unless `principal` may see `sessionId`. */
  async check(principal: Principal, sessionId: string): Promise<void> {
    if (this.visible(principal, sessionId) || !UUID.test(sessionId)) return; // no session has a non-UUID id
    const fake = fakeLike(sessionId);
    throw await this.answer(() => this.runtime.getSession(fake), fake, sessionId, () => sessionNotFound(sessionId));
  }

  /**
   * For a CARP request naming `sessionId` (nested or flat form): throws what the runtime answers for the same request
   * naming a session that does not exist, unless `principal` may see it.
   */
  async checkCarp(principal: Principal, request: JsonObject, sessionId: string): Promise<void> {
    if (this.visible(principal, sessionId.toLowerCase()) || !UUID.test(sessionId)) return;
    const fake = fakeLike(sessionId);
    // The same request naming the fake id where it names the real one (nested or flat, as the SDK reads it).
    const probe =
      requestedSession(request).path === '/requester/session_id'
        ? { ...request, requester: { ...(request.requester as JsonObject), session_id: fake } }
        : { ...request, session_id: fake };
    throw await this.answer(() => this.runtime.carp(probe), fake, sessionId, () => sessionNotFound(sessionId));
  }

  /**
   * What the runtime answers for a session that does not exist, told about `sessionId`: the answer for a path
   * parameter that cannot be a session id (not a UUID), whatever the store would say about such an id.
   */
  missing(sessionId: string): Promise<CraError> {
    const fake = crypto.randomUUID();
    return this.answer(() => this.runtime.getSession(fake), fake, sessionId, () => sessionNotFound(sessionId));
  }

  /** The owner the runtime records for a new session of `principal`: none with auth off (every session is visible). */
  ownerFor(principal: Principal): string | undefined {
    return this.enforced ? principal.owner : undefined;
  }

  claim(principal: Principal, sessionId: string): Promise<void> {
    return this.owners.set(sessionId, principal.owner);
  }

  /** The error `call` (about the id `fake`) rejects with, told about `real` instead. */
  private async answer(call: () => Promise<unknown>, fake: string, real: string, fallback: () => CraError): Promise<CraError> {
    try {
      await call();
    } catch (err) {
      if (isCraError(err)) {
        const swap = (s: string) =>
          s.replaceAll(fake, real).replaceAll(fake.toLowerCase(), real.toLowerCase()).replaceAll(fake.toUpperCase(), real.toUpperCase());
        const out = new CraError(err.code, swap(err.message), { path: err.path === null ? null : swap(err.path) });
        if (out.status !== err.status) Object.defineProperty(out, 'status', { value: err.status, enumerable: true });
        return out;
      }
    }
    return fallback();
  }
}

/** How many sessions of `runtime` no key owns: invisible to every key while auth is on (one pass over its index). */
export async function unownedSessions(runtime: EmbeddedRuntime, owners: OwnerStore): Promise<number> {
  return (await runtime.listSessions({ limit: 1, where: (id) => owners.get(id) === undefined })).total;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A random id of the same shape as `id`: a letter where it has a letter (in its case), a digit where it has a digit.
 * Whatever the runtime does to `id` (keep it, lowercase it, refuse it) it does alike to this one, and the two stay
 * told apart in what it answers.
 */
function fakeLike(id: string): string {
  const bytes = new Uint8Array(id.length);
  crypto.getRandomValues(bytes);
  let out = '';
  for (let i = 0; i < id.length; i++) {
    const ch = id[i]!;
    if (/[a-f]/i.test(ch)) {
      const letter = 'abcdef'[bytes[i]! % 6]!;
      out += ch === ch.toUpperCase() ? letter.toUpperCase() : letter;
    } else if (/[0-9]/.test(ch)) out += String(bytes[i]! % 10);
    else out += ch;
  }
  return out;
}
