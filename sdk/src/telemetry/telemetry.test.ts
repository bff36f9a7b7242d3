/**
 * Spans and metrics of the embedded runtime and the guard, recorded by the real OpenTelemetry SDKs (in-memory span
 * exporter, a metric reader collected on demand) on the support atlas: an allowed call, a denied one, an
 * approval-gated one and a resolve; errors; and nothing at all without a provider or with `telemetry: false`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { context, metrics, SpanStatusCode, trace } from '@opentelemetry/api';
import { type DataPoint, type Histogram, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { CraError } from '../errors.ts';
import { guard } from '../guard/guard.ts';
import { loadAtlasDir } from '../node.ts';
import { createRuntime, type EmbeddedRuntime, type RuntimeOptions } from '../runtime/runtime.ts';
import type { AtlasBundle } from '../types.ts';
import { ATTR, INSTRUMENTATION_SCOPE, INSTRUMENTATION_VERSION, METRIC_NAMES } from './names.ts';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';

const ROOT = join(import.meta.dirname, '..', '..', '..');
let atlas: AtlasBundle | undefined;
const support = async () => (atlas ??= await loadAtlasDir(join(ROOT, 'examples/atlases/support')));

/** A metric reader the test collects from when it wants. */
class CollectingReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

interface Otel {
  spans: InMemorySpanExporter;
  reader: CollectingReader;
  tracerProvider: BasicTracerProvider;
  meterProvider: MeterProvider;
}

function providers(): Otel {
  const spans = new InMemorySpanExporter();
  const reader = new CollectingReader();
  return {
    spans,
    reader,
    tracerProvider: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }),
    meterProvider: new MeterProvider({ readers: [reader] }),
  };
}

/** Registers real SDK providers with the global API (and a context manager, so that guard spans have children). */
function registered(): Otel {
  const o = providers();
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(o.tracerProvider);
  metrics.setGlobalMeterProvider(o.meterProvider);
  return o;
}

afterEach(() => {
  trace.disable();
  metrics.disable();
  context.disable();
});

const runtimes: EmbeddedRuntime[] = [];
afterEach(async () => {
  for (const r of runtimes.splice(0)) await r.close();
});

async function runtime(options: RuntimeOptions = {}): Promise<EmbeddedRuntime> {
  const r = await createRuntime({ atlases: [await support()], ...options });
  runtimes.push(r);
  return r;
}

/** The data points of one metric, in the latest collection. */
async function points(reader: MetricReader, name: string): Promise<Array<DataPoint<unknown>>> {
  const { resourceMetrics } = await reader.collect();
  const found = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).filter((m) => m.descriptor.name === name);
  return found.flatMap((m) => m.dataPoints as Array<DataPoint<unknown>>);
}

/** `{ key of point attributes: value }` for counters, `count` for histograms. */
async function tally(reader: MetricReader, name: string, key: (attrs: Record<string, unknown>) => string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const p of await points(reader, name)) {
    const v = typeof p.value === 'number' ? p.value : (p.value as Histogram).count;
    out[key(p.attributes)] = (out[key(p.attributes)] ?? 0) + v;
  }
  return out;
}

const named = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);

describe('OpenTelemetry spans of the embedded runtime', () => {
  it('a resolve is a cra.resolve span with the decision type the core answered, and a count by decision', async () => {
    const o = registered();
    const rt = await runtime();
    const session = await rt.createSession({ agentId: 'support-bot', goal: 'Answer ticket T-10042' });
    const resolution = await session.resolve();
    const [span, ...more] = named(o.spans.getFinishedSpans(), 'cra.resolve');
    expect(more).toHaveLength(0);
    expect(span!.instrumentationScope).toMatchObject({ name: INSTRUMENTATION_SCOPE, version: INSTRUMENTATION_VERSION });
    expect(span!.attributes).toEqual({
      [ATTR.sessionId]: session.id,
      [ATTR.agentId]: 'support-bot',
      [ATTR.resolutionId]: resolution.resolution_id,
      [ATTR.decision]: resolution.decision.type,
      [ATTR.allowedCount]: resolution.allowed_actions.length,
      [ATTR.deniedCount]: resolution.denied_actions.length,
    });
    expect(span!.status.code).toBe(SpanStatusCode.UNSET);
    // A dry run is its own span and counts no resolve.
    await session.validate();
    expect(named(o.spans.getFinishedSpans(), 'cra.validate')).toHaveLength(1);
    expect(await tally(o.reader, METRIC_NAMES.resolutions, (a) => String(a[ATTR.decision]))).toEqual({ [resolution.decision.type]: 1 });
    expect(await tally(o.reader, METRIC_NAMES.operationDuration, (a) => String(a[ATTR.operation]))).toEqual({ resolve: 1, validate: 1 });
  });

  it('an allowed, a denied and an approval-gated call: statuses, policies and refusal codes from the core', async () => {
    const o = registered();
    const rt = await runtime();
    const session = await rt.createSession({ agentId: 'support-bot', goal: 'Refund order 19' });
    await session.resolve();
    const lookup = await session.requestAction({ actionId: 'ticket.lookup', parameters: { ticket_id: 'T-10042' } });
    await session.complete(lookup, { result: { status: 'open' } });
    const erase = await session.requestAction({ actionId: 'customer.delete', parameters: { customer_id: 'C-7' } });
    const refund = await session.requestAction({ actionId: 'refund.issue', parameters: { customer_id: 'C-7', payment_id: 'P-19', amount: 25, currency: 'USD' } });
    expect([lookup.status, erase.status, refund.status]).toEqual(['approved', 'denied', 'pending_approval']);
    const approved = await session.approve(refund, { approver: 'lead', approvalHash: refund.approval_hash! });
    await session.complete(approved, { result: { refund_id: 'RF-1' } });

    const spans = o.spans.getFinishedSpans();
    const requests = named(spans, 'cra.action.request');
    expect(requests.map((s) => [s.attributes[ATTR.actionId], s.attributes[ATTR.status]])).toEqual([
      ['ticket.lookup', 'approved'],
      ['customer.delete', 'denied'],
      ['refund.issue', 'pending_approval'],
    ]);
    const denied = requests[1]!;
    expect(denied.attributes).toMatchObject({
      [ATTR.sessionId]: session.id,
      [ATTR.agentId]: 'support-bot',
      [ATTR.executionId]: erase.execution_id,
      [ATTR.policyId]: erase.policy_id,
      [ATTR.refusalCode]: erase.details!.code,
    });
    expect(erase.policy_id).toBe('no-customer-delete');
    // A refusal is an answer, not an error.
    expect(denied.status.code).toBe(SpanStatusCode.UNSET);
    expect(requests[2]!.attributes[ATTR.policyId]).toBe(refund.policy_id);
    expect(named(spans, 'cra.action.approve').map((s) => s.attributes[ATTR.status])).toEqual(['approved']);
    expect(named(spans, 'cra.action.complete').map((s) => [s.attributes[ATTR.actionId], s.attributes[ATTR.status]])).toEqual([
      ['ticket.lookup', 'executed'],
      ['refund.issue', 'executed'],
    ]);

    const decisions = await tally(o.reader, METRIC_NAMES.decisions, (a) => `${a[ATTR.operation]} ${a[ATTR.actionId]} ${a[ATTR.status]}`);
    expect(decisions).toEqual({
      'action.request ticket.lookup approved': 1,
      'action.request customer.delete denied': 1,
      'action.request refund.issue pending_approval': 1,
      'action.approve refund.issue approved': 1,
    });
    const durations = await tally(o.reader, METRIC_NAMES.operationDuration, (a) => String(a[ATTR.operation]));
    expect(durations).toEqual({ resolve: 1, 'action.request': 3, 'action.approve': 1, 'action.complete': 2 });
    const [point] = await points(o.reader, METRIC_NAMES.operationDuration);
    const h = point!.value as Histogram;
    // Seconds: a session operation takes well under one.
    expect(h.sum).toBeGreaterThan(0);
    expect(h.max!).toBeLessThan(1);
  });

  it('a call that throws sets the span status to ERROR with the CraError code', async () => {
    const o = registered();
    const rt = await runtime();
    const session = await rt.createSession({ agentId: 'a', goal: 'g' });
    const err = await session.requestAction({ actionId: 'ticket.lookup', parameters: { ticket_id: 'T-10042' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CraError);
    const code = (err as CraError).code;
    expect(code).toBe('resolution_not_found');
    const [span] = named(o.spans.getFinishedSpans(), 'cra.action.request');
    expect(span!.status).toEqual({ code: SpanStatusCode.ERROR, message: `${code}: ${(err as CraError).message}` });
    expect(span!.attributes).toMatchObject({ [ATTR.errorType]: code, [ATTR.actionId]: 'ticket.lookup' });
    expect(span!.events.map((e) => e.name)).toEqual(['exception']);
    expect(await tally(o.reader, METRIC_NAMES.operationDuration, (a) => `${a[ATTR.operation]} ${a[ATTR.errorType]}`)).toEqual({
      'action.request resolution_not_found': 1,
    });
    expect(await points(o.reader, METRIC_NAMES.decisions)).toEqual([]);
  });

  it('a CARP request is named after its operation', async () => {
    const o = registered();
    const rt = await runtime();
    const session = await rt.createSession({ agentId: 'support-bot', goal: 'g' });
    const { resolution } = await rt.carp({
      carp_version: '1.0',
      request_id: crypto.randomUUID(),
      timestamp: new Date().toISOString(),
      operation: 'resolve',
      requester: { agent_id: 'support-bot', session_id: session.id },
      task: { goal: 'Answer ticket T-10042' },
    });
    const [span] = named(o.spans.getFinishedSpans(), 'cra.resolve');
    expect(span!.attributes).toMatchObject({
      [ATTR.sessionId]: session.id,
      [ATTR.agentId]: 'support-bot',
      [ATTR.resolutionId]: resolution!.resolution_id,
      [ATTR.decision]: resolution!.decision.type,
    });
  });
});

describe('OpenTelemetry spans of the guard', () => {
  it('cra.guard.call is the parent of the resolve, request and complete it makes', async () => {
    const o = registered();
    const rt = await runtime();
    const session = await rt.createSession({ agentId: 'support-bot', goal: 'Answer ticket T-10042' });
    const g = guard(session, { 'ticket.lookup': (p: { ticket_id: string }) => ({ ticket_id: p.ticket_id, status: 'open' }) });
    const result = await g.call('ticket_lookup', { ticket_id: 'T-10042' });
    expect(result.ok).toBe(true);
    const spans = o.spans.getFinishedSpans();
    const [call] = named(spans, 'cra.guard.call');
    expect(call!.parentSpanContext).toBeUndefined();
    expect(call!.attributes).toMatchObject({
      [ATTR.sessionId]: session.id,
      [ATTR.agentId]: 'support-bot',
      [ATTR.toolName]: 'ticket_lookup',
      [ATTR.outcome]: 'ok',
      [ATTR.actionId]: 'ticket.lookup',
      [ATTR.status]: 'executed',
      [ATTR.executionId]: result.execution!.execution_id,
    });
    const children = spans.filter((s) => s.parentSpanContext?.spanId === call!.spanContext().spanId);
    expect(children.map((s) => s.name)).toEqual(['cra.resolve', 'cra.action.request', 'cra.action.complete']);
    for (const c of children) expect(c.spanContext().traceId).toBe(call!.spanContext().traceId);
  });

  it('a denied, an approval-gated, an unknown and a malformed call: outcome and refusal code, durations by outcome', async () => {
    const o = registered();
    const rt = await runtime();
    const session = await rt.createSession({ agentId: 'support-bot', goal: 'Refund order 19' });
    const g = guard(
      session,
      { 'refund.issue': () => ({ refund_id: 'RF-1' }), 'customer.delete': () => 'gone' },
      { approve: () => ({ approved: true, approver: 'lead' }) },
    );
    const denied = await g.call('customer_delete', { customer_id: 'C-7' });
    const refund = await g.call('refund_issue', { customer_id: 'C-7', payment_id: 'P-19', amount: 25, currency: 'USD' });
    const unknown = await g.call('no_such_tool', {});
    const malformed = await g.call('refund_issue', '{not json');
    expect([denied.ok, refund.ok, unknown.ok, malformed.ok]).toEqual([false, true, false, false]);

    const spans = o.spans.getFinishedSpans();
    const calls = named(spans, 'cra.guard.call');
    expect(calls.map((s) => [s.attributes[ATTR.toolName], s.attributes[ATTR.outcome], s.attributes[ATTR.status], s.attributes[ATTR.refusalCode]])).toEqual([
      ['customer_delete', 'refused', 'denied', 'policy_denied'],
      ['refund_issue', 'ok', 'executed', undefined],
      // The core traces the attempt and names the refusal.
      ['no_such_tool', 'refused', 'denied', 'unknown_action'],
      // Refused by the guard before the core is asked: no execution.
      ['refund_issue', 'refused', undefined, 'invalid_arguments'],
    ]);
    expect(calls[0]!.attributes[ATTR.policyId]).toBe('no-customer-delete');
    const refundChildren = spans.filter((s) => s.parentSpanContext?.spanId === calls[1]!.spanContext().spanId);
    expect(refundChildren.map((s) => [s.name, s.attributes[ATTR.status]])).toEqual([
      ['cra.action.request', 'pending_approval'],
      ['cra.action.approve', 'approved'],
      ['cra.action.complete', 'executed'],
    ]);
    expect(await tally(o.reader, METRIC_NAMES.guardDuration, (a) => `${a[ATTR.outcome]} ${a[ATTR.refusalCode] ?? '-'}`)).toEqual({
      'refused policy_denied': 1,
      'ok -': 1,
      'refused unknown_action': 1,
      'refused invalid_arguments': 1,
    });
  });
});

describe('OpenTelemetry: providers', () => {
  it('with no provider registered nothing is recorded and nothing throws; one registered later is followed', async () => {
    const o = providers();
    const rt = await runtime();
    const session = await rt.createSession({ agentId: 'a', goal: 'g' });
    const g = guard(session, { 'ticket.lookup': () => 'found' });
    expect(await g.call('ticket_lookup', { ticket_id: 'T-10042' })).toMatchObject({ ok: true });
    expect((await session.requestAction({ actionId: 'customer.delete', parameters: { customer_id: 'C-7' } })).status).toBe('denied');
    await expect(session.requestAction({ actionId: 'ticket.lookup', parameters: { ticket_id: 'bad' } })).resolves.toMatchObject({ status: 'violated' });
    expect(o.spans.getFinishedSpans()).toEqual([]);
    // Registered now, after the runtime was built: the next call is recorded, and only it.
    trace.setGlobalTracerProvider(o.tracerProvider);
    metrics.setGlobalMeterProvider(o.meterProvider);
    await session.requestAction({ actionId: 'customer.delete', parameters: { customer_id: 'C-7' } });
    expect(o.spans.getFinishedSpans().map((s) => s.name)).toEqual(['cra.action.request']);
    expect(await tally(o.reader, METRIC_NAMES.decisions, (a) => String(a[ATTR.status]))).toEqual({ denied: 1 });
    // And dropped again when the global API is disabled.
    trace.disable();
    metrics.disable();
    await session.requestAction({ actionId: 'customer.delete', parameters: { customer_id: 'C-7' } });
    expect(o.spans.getFinishedSpans()).toHaveLength(1);
  });

  it('telemetry: false records nothing, from the runtime or a guard on it, even with a global provider', async () => {
    const o = registered();
    const rt = await runtime({ telemetry: false });
    const session = await rt.createSession({ agentId: 'a', goal: 'g' });
    await session.resolve();
    await session.requestAction({ actionId: 'customer.delete', parameters: { customer_id: 'C-7' } });
    expect(await guard(session, { 'ticket.lookup': () => 'found' }).call('ticket_lookup', { ticket_id: 'T-10042' })).toMatchObject({ ok: true });
    expect(o.spans.getFinishedSpans()).toEqual([]);
    for (const name of Object.values(METRIC_NAMES)) expect(await points(o.reader, name)).toEqual([]);
  });

  it('providers passed in the options are used instead of the global ones', async () => {
    const global = registered();
    const own = providers();
    const rt = await runtime({ telemetry: { tracerProvider: own.tracerProvider, meterProvider: own.meterProvider } });
    const session = await rt.createSession({ agentId: 'a', goal: 'g' });
    await session.resolve();
    expect(own.spans.getFinishedSpans().map((s) => s.name)).toEqual(['cra.resolve']);
    expect(await tally(own.reader, METRIC_NAMES.resolutions, () => 'all')).toEqual({ all: 1 });
    expect(global.spans.getFinishedSpans()).toEqual([]);
    expect(await points(global.reader, METRIC_NAMES.resolutions)).toEqual([]);
  });

  it('refuses a telemetry option of the wrong shape, pointing at it', async () => {
    for (const [telemetry, path] of [
      [true, '/telemetry'],
      [{ tracerProvider: {} }, '/telemetry/tracerProvider'],
      [{ meterProvider: 1 }, '/telemetry/meterProvider'],
      [{ tracer: {} }, '/telemetry/tracer'],
    ] as const) {
      const err = await createRuntime({ telemetry: telemetry as never }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CraError);
      expect(err).toMatchObject({ code: 'invalid_request', path });
    }
  });

  it('names the instrumentation scope with the package version', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
    expect([INSTRUMENTATION_SCOPE, INSTRUMENTATION_VERSION]).toEqual([pkg.name, pkg.version]);
  });
});
