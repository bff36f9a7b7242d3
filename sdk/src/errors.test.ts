import { describe, expect, it } from 'vitest';
import { CraError, ERROR_STATUS, isCraError } from './errors.ts';

describe('CraError', () => {
  it('carries code, message, path and the HTTP status of its code', () => {
    const e = new CraError('atlas_invalid', 'bad id', { path: '/actions/3/action_id' });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('CraError');
    expect(e.code).toBe('atlas_invalid');
    expect(e.message).toBe('bad id');
    expect(e.path).toBe('/actions/3/action_id');
    expect(e.status).toBe(400);
    expect(e.toJSON()).toEqual({ error: { code: 'atlas_invalid', message: 'bad id', path: '/actions/3/action_id' } });
  });

  it('maps every ABI code to its status and unknown codes to 500', () => {
    expect(new CraError('session_not_found', 'x').status).toBe(404);
    expect(new CraError('agent_mismatch', 'x').status).toBe(403);
    expect(new CraError('idempotency_conflict', 'x').status).toBe(409);
    expect(new CraError('core_failure', 'x').status).toBe(500);
    expect(new CraError('some_new_code', 'x').status).toBe(500);
    expect(Object.keys(ERROR_STATUS)).toHaveLength(30);
  });

  it('takes a status that is not its code’s own, and keeps it when re-pointed', () => {
    const e = new CraError('unauthorized', 'no key', { status: 401, details: { realm: 'cra' } });
    expect(e.status).toBe(401);
    const moved = e.at('/apiKey');
    expect([moved.code, moved.message, moved.path, moved.status, moved.details]).toEqual(['unauthorized', 'no key', '/apiKey', 401, { realm: 'cra' }]);
    expect(new CraError('session_ended', 'x').at('/sessionId').status).toBe(409);
  });

  it('re-pointed, names the field as its new path does (and nothing else)', () => {
    const e = new CraError('invalid_request', '`agent_id` is required', { path: '/agent_id' });
    expect(e.at('/agentId').message).toBe('`agentId` is required');
    expect(e.at('/agentId').at('/agent_id').message).toBe('`agent_id` is required');
    const nested = new CraError('invalid_request', '`request_id` must be a UUID, not `r-1`', { path: '/request/request_id' });
    expect(nested.at('/requestId').message).toBe('`requestId` must be a UUID, not `r-1`');
    const item = new CraError('invalid_request', '`atlas_ids` has an empty id', { path: '/request/atlas_ids/0' });
    expect(item.at('/atlasIds/0').message).toBe('`atlasIds` has an empty id');
    const value = new CraError('invalid_request', '`extreme` is not a risk tier', { path: '/task/risk_tier' });
    expect(value.at('/riskTier').message).toBe('`extreme` is not a risk tier');
    expect(e.at(null).message).toBe('`agent_id` is required');
    expect(e.at('/agent_id').message).toBe('`agent_id` is required');
  });

  it('defaults path to null and keeps the cause', () => {
    const cause = new Error('disk');
    const e = new CraError('storage_failure', 'cannot write', { cause });
    expect(e.path).toBeNull();
    expect(e.cause).toBe(cause);
  });

  it('isCraError narrows by code', () => {
    const e = new CraError('clock_skew', 'late');
    expect(isCraError(e)).toBe(true);
    expect(isCraError(e, 'clock_skew', 'invalid_json')).toBe(true);
    expect(isCraError(e, 'invalid_json')).toBe(false);
    expect(isCraError(new Error('x'))).toBe(false);
  });
});
