/**
 * The answer of a session's hot-path check, made from the code `cra_check` answered. Only an `unknown_action`
 * answer asks the core for more: the closest known action ids, which the core computes as it does for an
 * `unknown_action` refusal of `action.request` (one rule, in the core). Every other answer, `allow` first, stays
 * the one integer call.
 *
 * @module
 */

import { CHECK_CODES, CHECK_RESULTS } from '../abi.ts';
import type { CheckAnswer } from '../types.ts';
import { isObject } from '../util.ts';
import type { Core } from './core.ts';

export function checkAnswer(core: Core, code: number, sessionId: string, actionId: string, nowUs: number): CheckAnswer {
  const answer: CheckAnswer = { result: CHECK_RESULTS.get(code)!, code, allowed: code === CHECK_CODES.allow };
  if (code !== CHECK_CODES.unknown_action) return answer;
  const r = core.call<{ code?: unknown; closest?: unknown }>('session.check', { session_id: sessionId, action_id: actionId }, nowUs);
  const closest = isObject(r) ? r.closest : undefined;
  if (!Array.isArray(closest) || !closest.every((id) => typeof id === 'string')) {
    throw core.reject('session.check answered unknown_action without the closest ids', 'session.check');
  }
  return { ...answer, closest: closest as string[] };
}
