/**
 * The protocol's golden case, the reference vectors and an application's full round trip (session → actions →
 * export → verify → tamper → diff → replay), in Chromium, with fixtures bundled by Vite.
 */
import { afterEach, describe, expect, it } from 'vitest';
import wasmUrl from '../../src/runtime/cra_core.wasm?url';
import {
  callbackSink,
  createRuntime,
  diffTraces,
  fromJsonl,
  memorySink,
  MemoryStore,
  replayTrace,
  toJsonl,
  verifyTrace,
  type CarpRequest,
  type EmbeddedRuntime,
  type Resolution,
  type TraceEvent,
} from '../../src/index.ts';
import { fixtureText, readJson, readJsonl, simpleAtlas, supportAtlas, T0_US, testClock, testIds, withoutDynamic } from './helpers.ts';

const runtimes: EmbeddedRuntime[] = [];
afterEach(async () => {
  for (const rt of runtimes.splice(0)) await rt.close().catch(() => undefined);
});

describe('conformance (Chromium)', () => {
  it('reproduces the golden case simple-resolve', async () => {
    const rt = await createRuntime({ wasm: wasmUrl, clock: testClock(T0_US), ids: testIds() });
    runtimes.push(rt);
    await rt.loadAtlas(await simpleAtlas());
    const request = await readJson<CarpRequest>('simple-resolve/request.json');
    const { $comment: _comment, ...expected } = await readJson<Resolution & { $comment?: string }>('simple-resolve/expected-resolution.json');
    const expectedTrace = await readJsonl('simple-resolve/expected-trace.jsonl');

    const session = await rt.createSession({
      agentId: request.requester.agent_id,
      goal: request.task!.goal,
      sessionId: request.requester.session_id,
    });
    const resolution = await session.resolve(request);
    expect(withoutDynamic(resolution, expected)).toEqual(expected);

    const trace = await session.trace();
    expect(trace).toHaveLength(expectedTrace.length);
    trace.forEach((event, i) => expect(withoutDynamic(event, expectedTrace[i])).toEqual(expectedTrace[i]));
    expect(trace[0]!.trace_id).toBe(resolution.trace_id);
    expect(trace.at(-1)!.payload.resolution_id).toBe(resolution.resolution_id);
    expect(await verifyTrace(trace)).toEqual({ valid: true, length: 5, head_hash: trace[4]!.event_hash });
  });

  it('the reference vectors verify and round-trip through JSONL unchanged', async () => {
    for (const [file, length] of [
      ['vectors/reference-simple-resolve.trace.jsonl', 5],
      ['vectors/reference-branch-simple-resolve.trace.jsonl', 8],
    ] as const) {
      const text = fixtureText(file);
      const events = await fromJsonl(text);
      expect(events).toEqual(await readJsonl(file));
      expect(await verifyTrace(events)).toEqual({ valid: true, length, head_hash: events.at(-1)!.event_hash });
      expect(await toJsonl(events)).toBe(text);
    }
  });

  it('the single-event hash vector of SPEC §4.1', async () => {
    const event: TraceEvent = {
      trace_version: '1.0',
      event_id: '01234567-89ab-cdef-0123-456789abcdef',
      trace_id: '11111111-1111-1111-1111-111111111111',
      span_id: '22222222-2222-2222-2222-222222222222',
      parent_span_id: null,
      session_id: '33333333-3333-3333-3333-333333333333',
      sequence: 0,
      timestamp: '2024-12-28T12:00:00.000000Z',
      event_type: 'session.started',
      payload: { agent_id: 'test-agent', goal: 'Test session' },
      event_hash: '3d71a7b30f84fadf986955467af6cabdbd180a61de5b14f4582cd3cdfbe57d2e',
      previous_event_hash: '0'.repeat(64),
    };
    expect(await verifyTrace([event])).toEqual({ valid: true, length: 1, head_hash: event.event_hash });
    expect(await verifyTrace([{ ...event, event_hash: `${event.event_hash.slice(0, 63)}f` }])).toEqual({ valid: false, index: 0, reason: 'hash_mismatch' });
  });

  it('support desk: session → resolve → actions → end → export → verify → tamper → diff → replay', async () => {
    const memory = memorySink();
    const batches: number[] = [];
    const store = new MemoryStore();
    const rt = await createRuntime({
      wasm: new URL(wasmUrl, location.href),
      storage: store,
      sinks: [memory, callbackSink((b) => void batches.push(b.length))],
      collector: { bufferSize: 4, flushIntervalMs: 20 },
    });
    runtimes.push(rt);
    const atlas = supportAtlas();
    await rt.loadAtlas(atlas);

    const session = await rt.createSession({ agentId: 'support-bot', goal: 'Handle ticket T-10042: double charge' });
    const resolution = await session.resolve();
    expect(resolution.allowed_actions.map((a) => a.action_id)).toContain('refund.issue');
    expect(resolution.denied_actions.map((a) => a.action_id)).toEqual(['customer.delete']);

    expect(await session.check('ticket.lookup')).toMatchObject({ allowed: true });
    const lookup = await session.requestAction({ actionId: 'ticket.lookup', parameters: { ticket_id: 'T-10042' } });
    expect(lookup.status).toBe('approved');
    expect((await session.complete(lookup, { result: { status: 'open' } })).status).toBe('executed');

    const erase = await session.requestAction({ actionId: 'customer.delete', parameters: { customer_id: 'C-7' } });
    expect(erase).toMatchObject({ status: 'denied', policy_id: 'no-customer-delete' });
    expect(erase.reason).toBe('Customer data is deleted only by the privacy team (GDPR erasure workflow)');

    expect(await session.check('refund.issue')).toMatchObject({ result: 'requires_approval', allowed: false });
    const refund = await session.requestAction({
      actionId: 'refund.issue',
      parameters: { customer_id: 'C-7', payment_id: 'P-19', amount: 25, currency: 'USD' },
    });
    expect(refund.status).toBe('pending_approval');
    // The approval is bound to the exact call: another call's hash is refused.
    await expect(session.approve(refund, { approvalHash: 'f'.repeat(64) })).rejects.toMatchObject({ name: 'CraError' });
    const approved = await session.approve(refund, { approver: 'lead@example.com' });
    expect(approved.status).toBe('approved');
    await session.complete(approved, { result: { refund_id: 'RF-1' } });

    const over = await session.requestAction({
      actionId: 'refund.issue',
      parameters: { customer_id: 'C-7', payment_id: 'P-20', amount: 900, currency: 'USD' },
    });
    expect(over).toMatchObject({ status: 'violated', policy_id: 'refund-limits' });
    const ended = await session.end('completed');
    await rt.flush();

    const trace = await rt.trace(session.id);
    expect(trace.map((e) => e.event_type)).toEqual(expect.arrayContaining(['action.denied', 'action.approved', 'policy.violated', 'session.ended']));
    const jsonl = await toJsonl(trace);
    expect(jsonl.split('\n')).toHaveLength(trace.length + 1);
    expect(await fromJsonl(jsonl)).toEqual(trace);
    const verdict = await verifyTrace(trace);
    expect(verdict).toEqual({ valid: true, length: trace.length, head_hash: ended.head_hash });
    expect(await rt.verify(session.id)).toEqual(verdict);
    expect(memory.session(session.id)).toEqual(trace);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(trace.length);
    expect(await store.read(session.id)).toEqual(trace);

    const index = trace.findIndex((e) => e.event_type === 'action.approved' && 'approver' in e.payload);
    const tampered = trace.map((e, i) => (i === index ? { ...e, payload: { ...e.payload, approver: 'mallory@example.com' } } : e));
    expect(await verifyTrace(tampered)).toEqual({ valid: false, index, reason: 'hash_mismatch' });
    expect(await diffTraces(trace, tampered)).toEqual({
      identical: false,
      differences: [{ index, kind: 'changed', event_type: 'action.approved', paths: ['/payload/approver'] }],
    });
    expect((await verifyTrace(trace.slice(0, -2), { expectedHead: { length: trace.length, head_hash: ended.head_hash } })).valid).toBe(false);

    const replay = await replayTrace(trace, atlas);
    expect(replay).toMatchObject({ identical: true, original_length: trace.length, replayed_length: trace.length });
  });
});
