/**
 * A runtime's signed checkpoints: when one is due (a session's end, every `every` events), signing it and storing
 * it with the trace. The checkpoint's body is written by the core from the session's tree as it stands right after
 * the step that made it due — synchronously, on the same core, so no later event slips under it — then signed
 * (WebCrypto, asynchronous) and appended to the store after the events it covers. Checkpoints of one session are
 * stored in the order they were made.
 *
 * @module
 */

import { CraError } from '../errors.ts';
import { CheckpointSigner } from '../proof/signer.ts';
import type { Checkpoint } from '../proof/types.ts';
import type { TraceStore } from '../storage/store.ts';
import type { TraceEvent } from '../types.ts';
import type { Core } from './core.ts';
import type { SigningOptions } from './options.ts';

/** What `session.checkpoint` answers. */
interface Body {
  session_id: string;
  size: number;
  root: string;
  time: string | null;
  body: string;
}

export class Checkpoints {
  /** The last checkpoint write of each session, so that the next one follows it. */
  private readonly writing = new Map<string, Promise<unknown>>();

  private constructor(
    readonly signer: CheckpointSigner,
    private readonly every: number,
    private readonly store: TraceStore,
  ) {}

  /** Reads the signer key on `core`; refused with `invalid_request` at `/signing/key`. */
  static async load(options: Required<SigningOptions>, core: Core, store: TraceStore): Promise<Checkpoints> {
    return new Checkpoints(await CheckpointSigner.load(options.key, core, '/signing/key'), options.every, store);
  }

  /** Whether `events` (just committed) make a checkpoint due: the session ended, or its size passed a multiple of `every`. */
  due(events: readonly TraceEvent[]): boolean {
    if (events.length === 0) return false;
    const last = events[events.length - 1]!;
    if (last.event_type === 'session.ended') return true;
    if (this.every === 0) return false;
    const before = events[0]!.sequence;
    return Math.floor((last.sequence + 1) / this.every) > Math.floor(before / this.every);
  }

  /**
   * The checkpoint of a live session now: its body from the core, synchronously; signing and storing follow in the
   * answered function. Never throws itself (the step that made it due has committed): a failure is thrown by the
   * function, once the events are stored.
   */
  make(core: Core, sessionId: string, now: number): () => Promise<Checkpoint> {
    let body: Body;
    try {
      body = core.call<Body>('session.checkpoint', { session_id: sessionId, name: this.signer.name }, now);
    } catch (err) {
      return () => Promise.reject(err);
    }
    return () => this.write(core, body);
  }

  private write(core: Core, body: Body): Promise<Checkpoint> {
    const previous = this.writing.get(body.session_id) ?? Promise.resolve();
    const done = previous
      .catch(() => undefined)
      .then(async () => {
        const note = await this.signer.sign(core, body.body);
        try {
          await this.store.appendCheckpoint!(body.session_id, note);
        } catch (err) {
          throw new CraError('storage_failure', `the checkpoint of session ${body.session_id} at ${body.size} events could not be stored: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        }
        return { note, session_id: body.session_id, size: body.size, root: body.root, time: body.time };
      });
    this.writing.set(body.session_id, done);
    void done.finally(() => {
      if (this.writing.get(body.session_id) === done) this.writing.delete(body.session_id);
    }).catch(() => undefined);
    return done;
  }

  /** Waits for the checkpoint writes under way. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.writing.values()]);
  }
}

/** A stored note read by the core into a {@link Checkpoint}. */
export function checkpointOf(core: Core, note: string, now: number): Checkpoint {
  const r = core.call<{ session_id: string | null; size: number; root: string; time: string | null }>('checkpoint.open', { note }, now);
  return { note, session_id: r.session_id ?? '', size: r.size, root: r.root, time: r.time };
}

/** The error of a runtime asked to sign without a key. */
export function noSigningKey(): CraError {
  return new CraError(
    'no_signing_key',
    'this runtime signs no checkpoints: give it a signer key (`cra key generate`): CRA_SIGNING_KEY for a server, `signing: { key }` for createRuntime',
  );
}
