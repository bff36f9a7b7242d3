/**
 * Checking what the core answers before anything is stored or handed out. The core is trusted to decide, not to be
 * intact: an answer of the wrong shape, or events that do not continue the session's chain, poison the instance
 * (`core.reject`) and the runtime rebuilds it from the stored traces.
 *
 * Resolutions come back compact (each allowed action carries only what this resolution decided) and are completed
 * here from the action descriptors `atlas.load` answered, so that schemas cross the ABI once per load.
 *
 * @module
 */

import type { AllowedAction, ChainHead, Execution, Resolution, TraceEvent } from '../types.ts';
import { deepFreeze, isObject } from '../util.ts';
import type { Core } from './core.ts';

const HASH = /^[0-9a-f]{64}$/;
const DECISIONS = new Set(['allow', 'deny', 'partial', 'requires_approval']);
const STATUSES = new Set(['pending_approval', 'approved', 'denied', 'violated', 'executed', 'failed']);

/** A session's chain as the host tracks it. */
export interface Chain {
  id: string;
  /** The core's chain head (advances when the core answers). */
  head: ChainHead;
}

/** Checks that `events` continue the session's chain, then advances its head. Answers the events, frozen. */
export function continueChain(core: Core, chain: Chain, events: unknown, op: string): TraceEvent[] {
  if (!Array.isArray(events)) throw core.reject(`${op} answered without events`, op);
  let prev = chain.head;
  for (const [i, e] of events.entries()) {
    if (
      !isObject(e) ||
      e.trace_version !== '1.0' ||
      e.session_id !== chain.id ||
      e.sequence !== prev.length ||
      e.previous_event_hash !== prev.head_hash ||
      typeof e.event_hash !== 'string' ||
      !HASH.test(e.event_hash) ||
      typeof e.event_type !== 'string' ||
      !isObject(e.payload)
    ) {
      throw core.reject(`${op} emitted event ${i}, which does not continue the chain of session ${chain.id}`, op);
    }
    prev = { length: prev.length + 1, head_hash: e.event_hash };
  }
  chain.head = prev;
  return deepFreeze(events as TraceEvent[]);
}

/** An execution the core answered, checked and frozen. */
export function checkExecution(core: Core, execution: unknown, op: string): Execution {
  if (!isObject(execution) || typeof execution.execution_id !== 'string' || !STATUSES.has(execution.status as string)) {
    throw core.reject(`${op} answered without a valid execution`, op);
  }
  return deepFreeze(execution as unknown as Execution);
}

/** The static part of each loaded action (what `atlas.load` answered), by action id. */
export class Descriptors {
  private readonly byAction = new Map<string, Readonly<AllowedAction>>();
  private readonly byAtlas = new Map<string, string[]>();

  /** Keeps the descriptors `atlas.load` answered for `atlasId` (replacing a previous version's). */
  remember(core: Core, atlasId: string, actions: unknown): void {
    if (!Array.isArray(actions) || !actions.every((a) => isObject(a) && typeof a.action_id === 'string')) {
      throw core.reject('atlas.load answered without action descriptors', 'atlas.load');
    }
    this.forget(atlasId);
    for (const a of actions as AllowedAction[]) this.byAction.set(a.action_id, deepFreeze(a));
    this.byAtlas.set(atlasId, (actions as AllowedAction[]).map((a) => a.action_id));
  }

  forget(atlasId: string): void {
    for (const id of this.byAtlas.get(atlasId) ?? []) this.byAction.delete(id);
    this.byAtlas.delete(atlasId);
  }

  /** Checks a compact resolution the core answered and completes its allowed actions. */
  complete(core: Core, resolution: unknown, op: string): Resolution {
    if (
      !isObject(resolution) ||
      typeof resolution.resolution_id !== 'string' ||
      !isObject(resolution.decision) ||
      !DECISIONS.has(resolution.decision.type as string) ||
      !Array.isArray(resolution.allowed_actions) ||
      !Array.isArray(resolution.denied_actions)
    ) {
      throw core.reject(`${op} answered without a valid resolution`, op);
    }
    resolution.allowed_actions = resolution.allowed_actions.map((a: unknown) => {
      const decided = isObject(a) ? a : {};
      const descriptor = typeof decided.action_id === 'string' ? this.byAction.get(decided.action_id) : undefined;
      if (!descriptor || typeof decided.requires_confirmation !== 'boolean') {
        throw core.reject(`${op} allowed an action the host holds no descriptor for`, op);
      }
      const full: AllowedAction = { ...descriptor, requires_confirmation: decided.requires_confirmation };
      if (decided.rate_limit !== undefined) full.rate_limit = decided.rate_limit as AllowedAction['rate_limit'];
      return full;
    });
    return deepFreeze(resolution as unknown as Resolution);
  }
}
