/**
 * A request's W3C trace context becomes the parent of the spans the server's runtime records, over real HTTP on
 * loopback with the OpenTelemetry SDK registered the way a Node host does (tracer provider, W3C propagator, an
 * AsyncLocalStorage context manager); without a `traceparent` the runtime's spans start their own trace.
 */
import { join } from 'node:path';
import { context, propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAtlasDir } from '../../../../sdk/src/node.ts';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { http, KEY_A, ROOT, startTestServer, type TestServer } from '../../testing.ts';

const CALLER_TRACE = '0af7651916cd43dd8448eb211c80319c';
const CALLER_SPAN = 'b7ad6b7169203331';

describe('trace context of a request', () => {
  const spans = new InMemorySpanExporter();
  let s: TestServer;
  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }));
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    s = await startTestServer({ runtime: { atlases: [await loadAtlasDir(join(ROOT, 'examples/atlases/support'))] } });
  });
  afterAll(async () => {
    await s.close();
    trace.disable();
    context.disable();
    propagation.disable();
  });

  it("makes the runtime's spans children of the caller's span", async () => {
    const created = await http(s.url, 'POST', '/v1/sessions', { key: KEY_A, body: { agent_id: 'a', goal: 'g' } });
    spans.reset();
    const resolved = await http(s.url, 'POST', `/v1/sessions/${created.body.session_id}/resolve`, {
      key: KEY_A,
      body: {},
      headers: { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` },
    });
    expect(resolved.status).toBe(200);
    const resolve = spans.getFinishedSpans().find((span) => span.name === 'cra.resolve');
    expect(resolve?.spanContext().traceId).toBe(CALLER_TRACE);
    expect(resolve?.parentSpanContext?.spanId).toBe(CALLER_SPAN);
  });

  it('without one, starts a trace of its own', async () => {
    const created = await http(s.url, 'POST', '/v1/sessions', { key: KEY_A, body: { agent_id: 'a', goal: 'g' } });
    spans.reset();
    await http(s.url, 'POST', `/v1/sessions/${created.body.session_id}/resolve`, { key: KEY_A, body: {} });
    const resolve = spans.getFinishedSpans().find((span) => span.name === 'cra.resolve');
    expect(resolve).toBeDefined();
    expect(resolve!.spanContext().traceId).not.toBe(CALLER_TRACE);
    expect(resolve!.parentSpanContext).toBeUndefined();
  });
});
