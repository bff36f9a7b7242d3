import { describe, expect, it } from 'vitest';
import type { Execution } from '../../../sdk/src/types.ts';
import { refusalOf } from './refusal.ts';

const execution = (status: Execution['status'], reason: string | null, extra: object = {}): Execution => ({
  execution_id: 'e',
  session_id: 's',
  resolution_id: 'r',
  action_id: 'a',
  status,
  parameters_hash: 'h',
  approval_hash: null,
  reason,
  policy_id: null,
  created_at: 't',
  details: null,
  ...extra,
});

describe('refusalOf', () => {
  it('is no refusal for executions that may run or wait for a human (nor for reported outcomes)', () => {
    for (const status of ['approved', 'pending_approval', 'executed', 'failed'] as const) expect(refusalOf(execution(status, 'approval required'))).toBeNull();
  });

  it('maps denials to 403 action_denied and violations to 403 policy_violated, with the reason as message', () => {
    expect(refusalOf(execution('denied', 'Deletion not permitted'))).toEqual({ status: 403, code: 'action_denied', message: 'Deletion not permitted', retryAfter: null });
    expect(refusalOf(execution('denied', null))).toMatchObject({ status: 403, code: 'action_denied', message: 'Action denied by policy' });
    expect(refusalOf(execution('denied', 'budget_exhausted'))).toMatchObject({ status: 403, code: 'action_denied' });
    expect(refusalOf(execution('violated', 'invalid parameters'))).toEqual({ status: 403, code: 'policy_violated', message: 'invalid parameters', retryAfter: null });
  });

  it('maps a rate-limited denial to 429, with Retry-After (whole seconds) only when the execution says how long', () => {
    expect(refusalOf(execution('denied', 'rate_limited', { retry_after_seconds: 12 }))).toEqual({
      status: 429,
      code: 'rate_limited',
      message: 'rate_limited',
      retryAfter: '12',
    });
    expect(refusalOf(execution('denied', 'rate_limited', { retry_after_seconds: 1.2 }))!.retryAfter).toBe('2');
    expect(refusalOf(execution('denied', 'rate_limited', { retry_after_seconds: 0 }))!.retryAfter).toBe('0');
    expect(refusalOf(execution('denied', 'rate_limited'))).toMatchObject({ status: 429, retryAfter: null });
    expect(refusalOf(execution('denied', 'rate_limited', { retry_after_seconds: -1 }))!.retryAfter).toBeNull();
    expect(refusalOf(execution('denied', 'rate_limited', { retry_after_seconds: '5' }))!.retryAfter).toBeNull();
  });
});
