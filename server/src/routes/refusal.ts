/**
 * `POST /v1/execute` answers a refused execution as an error (the reference's 403 "Action denied by policy"), the
 * execution beside the error: rate limited → 429 with `Retry-After`; other denials → 403 `action_denied`; a policy
 * violation → 403 `policy_violated`. Approved and pending executions are no refusal.
 *
 * @module
 */

import type { Execution } from '../../../sdk/src/types.ts';
import { statusOf } from '../errors.ts';

export interface Refusal {
  status: number;
  code: 'rate_limited' | 'action_denied' | 'policy_violated';
  message: string;
  /** The `Retry-After` header (seconds), when the execution says how long to wait. */
  retryAfter: string | null;
}

/** The refusal an execution amounts to, or null when it may run (or waits for a human). */
export function refusalOf(execution: Execution): Refusal | null {
  const reason = execution.reason;
  if (execution.status === 'violated') return refusal('policy_violated', reason ?? 'the request violates a policy');
  if (execution.status !== 'denied') return null;
  if (execution.details?.code === 'rate_limited' || reason === 'rate_limited') {
    // Set by cores that report it; without it the client has no wait to honour, so no header.
    const wait = (execution as Execution & { retry_after_seconds?: unknown }).retry_after_seconds;
    const retryAfter = typeof wait === 'number' && Number.isFinite(wait) && wait >= 0 ? String(Math.ceil(wait)) : null;
    return { ...refusal('rate_limited', reason ?? 'rate_limited'), retryAfter };
  }
  return refusal('action_denied', reason ?? 'Action denied by policy');
}

function refusal(code: Refusal['code'], message: string): Refusal {
  return { status: statusOf(code), code, message, retryAfter: null };
}
