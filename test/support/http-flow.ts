/**
 * One walk through the HTTP API, asserted step by step, for servers on other runtimes (Deno, workerd): health,
 * a session, resolve, the hot-path check, actions (allowed, denied, approval then failure, a violation), end, the
 * trace as JSON and JSONL, verification, the live stream, and the isolation of keys. Uses the SDK's HTTP client
 * (the same interface as the embedded runtime) and plain `fetch`.
 */

import { expect } from 'vitest';
import { createClient } from '../../sdk/src/client/client.ts';
import { fromJsonl, verifyTrace } from '../../sdk/src/runtime/tools.ts';
import type { TraceEvent } from '../../sdk/src/types.ts';

export const FLOW_TYPES = [
  'session.started',
  'carp.request.received',
  'context.injected',
  'context.injected',
  'policy.evaluated',
  'carp.resolution.completed',
  'action.requested',
  'action.approved',
  'action.executed',
  'action.requested',
  'action.denied',
  'action.requested',
  'action.approved',
  'action.failed',
  'action.requested',
  'policy.violated',
  'session.ended',
];

export interface FlowResult {
  sessionId: string;
  events: TraceEvent[];
  jsonl: string;
}

/** Runs the walk against `baseUrl` with `key`; `otherKey` (a valid key of someone else) must see nothing. */
export async function httpFlow(baseUrl: string, key: string, otherKey?: string): Promise<FlowResult> {
  const auth = { authorization: `Bearer ${key}` };

  const health = await fetch(`${baseUrl}/health`);
  expect(health.status).toBe(200);
  expect(await health.json()).toMatchObject({ status: 'healthy', mode: 'server' });

  const cra = createClient({ baseUrl, apiKey: key });
  expect((await cra.listAtlases()).map((a) => a.atlas_id)).toContain('com.example.support');
  const session = await cra.createSession({ agentId: 'support-bot', goal: 'Handle ticket T-10042' });
  expect(session.id).toMatch(/^[0-9a-f-]{36}$/);

  const resolution = await session.resolve({ requiredCapabilities: ['tickets.read', 'tickets.write', 'billing.refund'] });
  expect(resolution.allowed_actions.map((a) => a.action_id)).toContain('ticket.lookup');
  expect(await session.check('ticket.lookup')).toMatchObject({ allowed: true, result: 'allow' });

  const lookup = await session.requestAction({ actionId: 'ticket.lookup', parameters: { ticket_id: 'T-10042' } });
  expect(lookup.status).toBe('approved');
  expect((await session.complete(lookup, { result: { status: 'open' }, durationMs: 12 })).status).toBe('executed');

  const erase = await session.requestAction({ actionId: 'customer.delete', parameters: { customer_id: 'C-7' } });
  expect(erase.status).toBe('denied');

  const refund = await session.requestAction({
    actionId: 'refund.issue',
    parameters: { customer_id: 'C-7', payment_id: 'P-19', amount: 25, currency: 'USD' },
  });
  expect(refund.status).toBe('pending_approval');
  expect((await session.approve(refund, { approver: 'lead@example.com' })).status).toBe('approved');
  expect((await session.fail(refund, { errorCode: 'psp_down', errorMessage: 'payment provider unavailable' })).status).toBe('failed');

  const big = await session.requestAction({
    actionId: 'refund.issue',
    parameters: { customer_id: 'C-7', payment_id: 'P-20', amount: 900, currency: 'USD' },
  });
  expect(big.status).toBe('violated');
  expect((await session.end('completed')).status).toBe('ended');

  // The trace: JSON from the client, JSONL over HTTP, the same events; the chain verifies there and here.
  const events = await session.trace();
  expect(events.map((e) => e.event_type)).toEqual(FLOW_TYPES);
  const res = await fetch(`${baseUrl}/v1/traces/${session.id}`, { headers: { ...auth, accept: 'application/x-ndjson' } });
  expect(res.status).toBe(200);
  const jsonl = await res.text();
  expect(jsonl).toBe(events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  expect(await fromJsonl(jsonl)).toEqual(events);
  const verify = await fetch(`${baseUrl}/v1/traces/${session.id}/verify`, { headers: auth });
  expect(await verify.json()).toEqual({ valid: true, length: events.length, head_hash: events.at(-1)!.event_hash });
  expect(await verifyTrace(events)).toMatchObject({ valid: true, length: events.length });

  // The live stream replays the past events and ends after session.ended.
  const stream = await fetch(`${baseUrl}/v1/traces/${session.id}/stream`, { headers: auth });
  expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const sse = await stream.text();
  expect(sse.match(/^id: /gm)?.length).toBe(events.length);
  expect(sse).toMatch(/^event: end$/m);

  // No key: 401. Someone else's key: the session does not exist for them.
  expect((await fetch(`${baseUrl}/v1/sessions/${session.id}`)).status).toBe(401);
  if (otherKey) {
    const other = await fetch(`${baseUrl}/v1/traces/${session.id}`, { headers: { authorization: `Bearer ${otherKey}` } });
    expect(other.status).toBe(404);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe('session_not_found');
  }
  return { sessionId: session.id, events, jsonl };
}
