/**
 * End to end, as an application uses the SDK: load an atlas → session → resolve → actions → end → export →
 * verify; and the protocol's golden case.
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXAMPLES, readJson, readJsonl, simpleAtlas, T0_US, tempDir, testClock, testIds, withoutDynamic } from '../test/helpers.ts';
import {
  callbackSink,
  createRuntime,
  diffTraces,
  fromJsonl,
  jsonlSink,
  JsonlStore,
  loadAtlasDir,
  memorySink,
  replayTrace,
  toJsonl,
  verifyTrace,
  type CarpRequest,
  type EmbeddedRuntime,
  type Resolution,
  type TraceEvent,
} from './node.ts';

describe('end to end', () => {
  const runtimes: EmbeddedRuntime[] = [];
  afterEach(async () => {
    for (const rt of runtimes.splice(0)) await rt.close().catch(() => undefined);
  });

  it('reproduces the conformance case simple-resolve', async () => {
    const rt = await createRuntime({ clock: testClock(T0_US), ids: testIds() });
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
    // What the golden case leaves dynamic must still hang together.
    expect(new Set(trace.map((e) => e.trace_id)).size).toBe(1);
    expect(trace[0]!.trace_id).toBe(resolution.trace_id);
    expect(trace.at(-1)!.payload.resolution_id).toBe(resolution.resolution_id);
    expect(trace[2]!.payload.block_id).toBe(resolution.context_blocks[0]!.block_id);
    for (const e of trace.slice(1)) expect(e.parent_span_id).not.toBeNull();
    expect(await verifyTrace(trace)).toEqual({ valid: true, length: 5, head_hash: trace[4]!.event_hash });
  });

  it('the reference vectors verify', async () => {
    for (const [file, length] of [
      ['vectors/reference-simple-resolve.trace.jsonl', 5],
      ['vectors/reference-branch-simple-resolve.trace.jsonl', 8],
    ] as const) {
      const events = await readJsonl(file);
      expect(await verifyTrace(events)).toEqual({ valid: true, length, head_hash: events.at(-1)!.event_hash });
      const text = await readFile(new URL(`../test/fixtures/${file}`, import.meta.url), 'utf8');
      expect(await fromJsonl(text)).toEqual(events);
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

  it('support desk: atlas folder → session → resolve → actions → end → export → verify → replay', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const memory = memorySink();
      const batches: number[] = [];
      const rt = await createRuntime({
        storage: new JsonlStore({ dir: join(dir, 'traces') }),
        sinks: [memory, jsonlSink({ dir: join(dir, 'export') }), callbackSink((b) => void batches.push(b.length))],
        collector: { bufferSize: 4, flushIntervalMs: 50 },
      });
      runtimes.push(rt);
      const atlas = await loadAtlasDir(join(EXAMPLES, 'atlases/support'));
      await rt.loadAtlas(atlas);

      const session = await rt.createSession({ agentId: 'support-bot', goal: 'Handle ticket T-10042: double charge' });
      const resolution = await session.resolve({ requiredCapabilities: ['tickets.read', 'tickets.write', 'billing.refund'] });
      // Some actions are allowed outright, one only after approval.
      expect(['allow', 'partial']).toContain(resolution.decision.type);
      expect(resolution.allowed_actions.map((a) => a.action_id)).toEqual([
        'ticket.lookup',
        'customer.lookup',
        'ticket.reply',
        'ticket.close',
        'refund.issue',
      ]);
      expect(resolution.context_blocks.map((b) => b.block_id)).toEqual([
        'com.example.support/support-playbook/context/playbook.md',
        'com.example.support/refund-policy/context/refunds.md',
      ]);

      // The agent looks the ticket up: allowed outright.
      expect(await session.check('ticket.lookup')).toMatchObject({ allowed: true });
      const lookup = await session.requestAction({ actionId: 'ticket.lookup', parameters: { ticket_id: 'T-10042' } });
      expect(lookup.status).toBe('approved');
      await session.complete(lookup, { result: { ticket_id: 'T-10042', status: 'open', customer_id: 'c-7' }, durationMs: 40 });

      // A malformed call is refused by the core on the host's schema findings.
      const bad = await session.requestAction({ actionId: 'ticket.reply', parameters: { ticket_id: '10042' } });
      expect(['denied', 'violated']).toContain(bad.status);

      // The refund waits for a human.
      expect(await session.check('refund.issue')).toMatchObject({ result: 'requires_approval', allowed: false });
      const refund = await session.requestAction({
        actionId: 'refund.issue',
        parameters: { customer_id: 'c-7', payment_id: 'pay-991', amount: 49.5, currency: 'USD', reason: 'charged twice' },
      });
      expect(refund.status).toBe('pending_approval');
      const approved = await session.approve(refund, { approver: 'lead@example.com' });
      expect(approved.status).toBe('approved');
      await session.complete(approved, { result: { refund_id: 'rf-1' } });

      // Deleting the customer is never allowed.
      const del = await session.requestAction({ actionId: 'customer.delete', parameters: { customer_id: 'c-7' } });
      expect(del.status).toBe('denied');

      const reply = await session.requestAction({ actionId: 'ticket.reply', parameters: { ticket_id: 'T-10042', body: 'Refunded, sorry!' } });
      await session.complete(reply);
      const ended = await session.end('completed');
      expect(ended.status).toBe('ended');
      await rt.flush();

      // Export and verify.
      const trace = await rt.trace(session.id);
      expect(trace[0]!.event_type).toBe('session.started');
      expect(trace.at(-1)!.event_type).toBe('session.ended');
      const jsonl = await toJsonl(trace);
      expect(jsonl.endsWith('\n')).toBe(true);
      expect(jsonl.split('\n')).toHaveLength(trace.length + 1);
      const imported = await fromJsonl(jsonl);
      expect(imported).toEqual(trace);
      const verdict = await verifyTrace(imported);
      expect(verdict).toEqual({ valid: true, length: trace.length, head_hash: ended.head_hash });
      expect(await rt.verify(session.id)).toEqual(verdict);

      // Storage, the JSONL sink and the memory sink hold the same chain.
      expect(await readFile(join(dir, 'traces', `${session.id}.trace.jsonl`), 'utf8')).toBe(jsonl);
      expect(await readFile(join(dir, 'export', `${session.id}.trace.jsonl`), 'utf8')).toBe(jsonl);
      expect(memory.session(session.id)).toEqual(trace);
      expect(batches.reduce((a, b) => a + b, 0)).toBe(trace.length);

      // Tampering shows, and diff says where.
      const tampered = trace.map((e) => (e.event_type === 'action.approved' ? { ...e, payload: { ...e.payload, approver: 'mallory' } } : e));
      const index = tampered.findIndex((e) => e.event_type === 'action.approved');
      expect(await verifyTrace(tampered)).toEqual({ valid: false, index, reason: 'hash_mismatch' });
      const diff = await diffTraces(trace, tampered);
      expect(diff.identical).toBe(false);
      const approvals = trace.filter((e) => e.event_type === 'action.approved').length;
      expect(diff.differences).toHaveLength(approvals);
      expect(diff.differences[0]).toEqual({ index, kind: 'changed', event_type: 'action.approved', paths: ['/payload/approver'] });
      expect(diff.differences.every((d) => d.kind === 'changed' && d.event_type === 'action.approved')).toBe(true);
      // A truncated copy still verifies on its own; against the recorded head it does not.
      expect((await verifyTrace(trace.slice(0, -2))).valid).toBe(true);
      expect((await verifyTrace(trace.slice(0, -2), { expectedHead: { length: trace.length, head_hash: ended.head_hash } })).valid).toBe(false);

      // Replay against the same atlas reproduces the trace.
      const replay = await replayTrace(trace, atlas);
      expect(replay).toMatchObject({ identical: true, original_length: trace.length, replayed_length: trace.length });
      expect((await diffTraces(trace, replay.events)).identical).toBe(true);
    } finally {
      await cleanup();
    }
  });
});
