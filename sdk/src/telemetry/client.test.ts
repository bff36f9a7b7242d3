/**
 * The HTTP client records the same spans as the embedded runtime, around real requests to a server on loopback, and
 * sends the active span's context to the server (`traceparent`) when the host registered a propagator.
 */
import { join } from 'node:path';
import { context, propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_KEY, startTestServer } from '../../../server/src/testing.ts';
import { createClient } from '../client/client.ts';
import { guard } from '../guard/guard.ts';
import { loadAtlasDir } from '../node.ts';
import { ATTR } from './names.ts';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';

const ROOT = join(import.meta.dirname, '..', '..', '..');

afterEach(() => {
  trace.disable();
  context.disable();
  propagation.disable();
});

describe('OpenTelemetry spans of the HTTP client', () => {
  it('a guard call over HTTP: the guard span, its children, and traceparent on each request', async () => {
    const spans = new InMemorySpanExporter();
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }));
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    // The server's own runtime records nothing here: every span is the client's.
    const server = await startTestServer({ runtime: { atlases: [await loadAtlasDir(join(ROOT, 'examples/atlases/support'))], telemetry: false } });
    const sent: Array<{ url: string; traceparent: string | null }> = [];
    const client = createClient({
      baseUrl: server.url,
      apiKey: ADMIN_KEY,
      fetch: (input, init) => {
        sent.push({ url: String(input), traceparent: new Headers(init?.headers).get('traceparent') });
        return fetch(input, init);
      },
    });
    try {
      const session = await client.createSession({ agentId: 'support-bot', goal: 'Answer ticket T-10042' });
      const g = guard(session, { 'ticket.lookup': () => ({ status: 'open' }) });
      expect(await g.call('ticket_lookup', { ticket_id: 'T-10042' })).toMatchObject({ ok: true });
      const denied = await session.requestAction({ actionId: 'customer.delete', parameters: { customer_id: 'C-7' } });

      const finished = spans.getFinishedSpans();
      const call = finished.find((s) => s.name === 'cra.guard.call')!;
      expect(call.attributes).toMatchObject({ [ATTR.sessionId]: session.id, [ATTR.outcome]: 'ok', [ATTR.status]: 'executed' });
      const children = finished.filter((s) => s.parentSpanContext?.spanId === call.spanContext().spanId);
      expect(children.map((s) => s.name)).toEqual(['cra.resolve', 'cra.action.request', 'cra.action.complete']);
      const last = finished.at(-1)!;
      expect([last.name, last.attributes[ATTR.status], last.attributes[ATTR.policyId]]).toEqual(['cra.action.request', 'denied', denied.policy_id]);

      // Each governed request carried the context of its own span; requests outside any span carried none.
      const parentOf = (tp: string | null) => tp?.split('-')[2];
      const actions = sent.filter((r) => /\/actions(\/[^/]+\/complete)?$/.test(new URL(r.url).pathname));
      expect(actions.map((r) => parentOf(r.traceparent))).toEqual([
        children[1]!.spanContext().spanId,
        children[2]!.spanContext().spanId,
        last.spanContext().spanId,
      ]);
      expect(sent.find((r) => new URL(r.url).pathname === '/v1/sessions')?.traceparent).toBeNull();
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('telemetry: false on the client records nothing', async () => {
    const spans = new InMemorySpanExporter();
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }));
    const server = await startTestServer({ runtime: { atlases: [await loadAtlasDir(join(ROOT, 'examples/atlases/support'))], telemetry: false } });
    const client = createClient({ baseUrl: server.url, apiKey: ADMIN_KEY, telemetry: false });
    try {
      const session = await client.createSession({ agentId: 'a', goal: 'g' });
      await session.resolve();
      expect(await guard(session, { 'ticket.lookup': () => 'found' }).call('ticket_lookup', { ticket_id: 'T-10042' })).toMatchObject({ ok: true });
      expect(spans.getFinishedSpans()).toEqual([]);
    } finally {
      await client.close();
      await server.close();
    }
  });
});
