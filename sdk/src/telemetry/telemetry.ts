/**
 * OpenTelemetry spans and metrics of the SDK, through `@opentelemetry/api` only: the package ships no exporter and
 * no SDK. The tracer and meter come from the global API (or from providers passed in `createRuntime({ telemetry })`),
 * so a host that registers no OpenTelemetry SDK pays a few lookups per call and nothing else.
 *
 * The providers are looked up at each call, not once: a host may register its SDK after the runtime is built, or
 * swap it, and the runtime follows. What the spans say (statuses, decision types, policy ids, refusal codes) is read
 * from the core's answers; nothing here decides anything.
 *
 * @module
 */

import {
  type Attributes,
  context,
  createNoopMeter,
  type Counter,
  type Histogram,
  type Meter,
  type MeterProvider,
  metrics,
  ProxyTracerProvider,
  type Span,
  SpanStatusCode,
  trace,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { CraError } from '../errors.ts';
import type { CarpResult } from '../interface.ts';
import type { Execution, JsonObject, Resolution } from '../types.ts';
import { isObject } from '../util.ts';
import { ATTR, DURATION_BUCKETS, INSTRUMENTATION_SCOPE, INSTRUMENTATION_VERSION, METRIC_NAMES, type Operation, SPAN_NAMES } from './names.ts';

/** Where spans and metrics go. A provider left out is the global one (`trace` / `metrics` of the API). */
export interface TelemetryOptions {
  /** Where spans go (default: the global API's tracer provider). */
  tracerProvider?: TracerProvider;
  /** Where metrics go (default: the global API's meter provider). */
  meterProvider?: MeterProvider;
}

/** `createRuntime({ telemetry })`: providers, or `false` for no spans and no metrics whatever is registered. */
export type TelemetrySetting = TelemetryOptions | false;

/** The session a span is about. */
export interface Subject {
  readonly id: string;
  readonly agentId: string;
}

/** What a guard call answered, as far as telemetry reads it. */
export interface GuardAnswer {
  ok: boolean;
  refusal?: { code: string };
  execution?: Execution;
}

/** The tracer and instruments of the providers in effect; absent when neither records anything. */
interface Bound {
  tracer: Tracer | undefined;
  instruments: Instruments | undefined;
}

interface Instruments {
  decisions: Counter;
  resolutions: Counter;
  operationDuration: Histogram;
  guardDuration: Histogram;
}

const NOOP_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate();
const NOOP_METER = createNoopMeter();
/** The operations whose answer is a decision on an execution (counted in `cra.decisions`). */
const DECIDING = new Set<Operation>(['action.request', 'action.approve', 'action.deny']);
const MAX_TOOL_NAME = 256;

export class Telemetry {
  /** Follows whatever the global API has registered. */
  static readonly global = new Telemetry(undefined);

  private readonly off: boolean;
  private readonly tracerProvider: TracerProvider | undefined;
  private readonly meterProvider: MeterProvider | undefined;
  private tp: TracerProvider | undefined;
  private mp: MeterProvider | undefined;
  private cached: Bound | undefined;

  constructor(setting: TelemetrySetting | undefined) {
    this.off = setting === false;
    this.tracerProvider = setting ? setting.tracerProvider : undefined;
    this.meterProvider = setting ? setting.meterProvider : undefined;
  }

  /**
   * A session operation answering an execution (`action.request`, `action.complete` …); `request` is the caller's
   * `ActionRequest`, whose action id the span names before the core answers.
   */
  execution(op: Operation, subject: Subject, run: () => Promise<Execution>, request?: unknown): Promise<Execution> {
    const b = this.bound();
    if (b === undefined) return run();
    const attributes = subjectAttributes(subject);
    const actionId = requestedAction(request);
    if (actionId !== undefined) attributes[ATTR.actionId] = actionId;
    return observe(b, op, attributes, run, executionAnswer);
  }

  /** A resolve or validate. */
  resolution(op: 'resolve' | 'validate', subject: Subject, run: () => Promise<Resolution>): Promise<Resolution> {
    const b = this.bound();
    return b === undefined ? run() : observe(b, op, subjectAttributes(subject), run, resolutionAnswer);
  }

  /** A CARP request: a resolve, a validate or an execute (an `action.request`), named as those are. */
  carp(request: JsonObject, sessionId: string | undefined, run: () => Promise<CarpResult>): Promise<CarpResult> {
    const b = this.bound();
    const op = request.operation === 'execute' ? 'action.request' : request.operation;
    if (b === undefined || (op !== 'resolve' && op !== 'validate' && op !== 'action.request')) return run();
    const attributes: Attributes = {};
    if (sessionId !== undefined) attributes[ATTR.sessionId] = sessionId;
    const requester = request.requester;
    if (isObject(requester) && typeof requester.agent_id === 'string') attributes[ATTR.agentId] = requester.agent_id;
    const execution = request.execution;
    if (isObject(execution) && typeof execution.action_id === 'string') attributes[ATTR.actionId] = execution.action_id;
    return observe(b, op, attributes, run, (r: CarpResult, out) => {
      if (r.resolution) resolutionAnswer(r.resolution, out);
      if (r.execution) executionAnswer(r.execution, out);
    });
  }

  /** A guard call: its span is the parent of the session operations it makes (with a context manager registered). */
  guardCall<T extends GuardAnswer>(subject: Subject, toolName: unknown, run: () => Promise<T>): Promise<T> {
    const b = this.bound();
    if (b === undefined) return run();
    const attributes = subjectAttributes(subject);
    if (typeof toolName === 'string') attributes[ATTR.toolName] = toolName.slice(0, MAX_TOOL_NAME);
    return observe(b, 'guard.call', attributes, run, guardAnswer);
  }

  /** The tracer and instruments of the providers in effect now (rebuilt only when a provider changes). */
  private bound(): Bound | undefined {
    if (this.off) return undefined;
    const given = this.tracerProvider ?? trace.getTracerProvider();
    const tp = given instanceof ProxyTracerProvider ? given.getDelegate() : given;
    const mp = this.meterProvider ?? metrics.getMeterProvider();
    if (tp !== this.tp || mp !== this.mp) {
      this.tp = tp;
      this.mp = mp;
      this.cached = bind(tp, mp);
    }
    return this.cached;
  }
}

/** The telemetry of a runtime (embedded or HTTP), or the global one for any other. */
export function telemetryOf(runtime: unknown): Telemetry {
  const t = isObject(runtime) ? (runtime as { telemetry?: unknown }).telemetry : undefined;
  return t instanceof Telemetry ? t : Telemetry.global;
}

/** Refuses a `telemetry` option of the wrong shape (`path` is where it sits in the options). */
export function checkTelemetry(setting: unknown, path: string): void {
  if (setting === undefined || setting === false) return;
  if (!isObject(setting)) throw new CraError('invalid_request', 'telemetry must be false or an object', { path });
  for (const [key, method] of [['tracerProvider', 'getTracer'], ['meterProvider', 'getMeter']] as const) {
    const p: unknown = setting[key];
    if (p !== undefined && typeof (p as Record<string, unknown> | null)?.[method] !== 'function') {
      throw new CraError('invalid_request', `telemetry.${key} must implement ${method}()`, { path: `${path}/${key}` });
    }
  }
  for (const key of Object.keys(setting)) {
    if (key !== 'tracerProvider' && key !== 'meterProvider') {
      throw new CraError('invalid_request', `telemetry takes tracerProvider and meterProvider, not ${key}`, { path: `${path}/${key}` });
    }
  }
}

function bind(tp: TracerProvider, mp: MeterProvider): Bound | undefined {
  const tracer = tp === NOOP_TRACER_PROVIDER ? undefined : tp.getTracer(INSTRUMENTATION_SCOPE, INSTRUMENTATION_VERSION);
  const meter = mp.getMeter(INSTRUMENTATION_SCOPE, INSTRUMENTATION_VERSION);
  const instruments = meter === NOOP_METER ? undefined : instrumentsOf(meter);
  return tracer === undefined && instruments === undefined ? undefined : { tracer, instruments };
}

function instrumentsOf(meter: Meter): Instruments {
  const duration = (name: string, description: string) =>
    meter.createHistogram(name, { unit: 's', description, advice: { explicitBucketBoundaries: DURATION_BUCKETS } });
  return {
    decisions: meter.createCounter(METRIC_NAMES.decisions, {
      unit: '{decision}',
      description: 'Decisions the core answered on executions (request, approve, deny), by status and action',
    }),
    resolutions: meter.createCounter(METRIC_NAMES.resolutions, { unit: '{resolution}', description: 'Recorded resolves, by decision type' }),
    operationDuration: duration(METRIC_NAMES.operationDuration, 'Duration of session operations (resolve, action request, complete …)'),
    guardDuration: duration(METRIC_NAMES.guardDuration, 'Duration of guard calls end to end, approval wait and handler included'),
  };
}

type Answer<T> = (value: T, out: Attributes, op: Operation | 'guard.call') => void;

/**
 * Runs `run` in a span named after `op`, and records its duration: the answer's attributes go on the span and, for
 * decisions and resolves, on the counters; a throw sets the span's status to ERROR with the error's code.
 */
async function observe<T>(b: Bound, op: Operation | 'guard.call', attributes: Attributes, run: () => Promise<T>, answer: Answer<T>): Promise<T> {
  const span = b.tracer?.startSpan(SPAN_NAMES[op], { attributes }, context.active());
  const started = performance.now();
  const measured: Attributes = op === 'guard.call' ? {} : { [ATTR.operation]: op };
  try {
    // The span is the active one while the operation runs: the guard's is the parent of the operations it makes, and
    // the HTTP client's is the one whose context goes to the server.
    const value = await (span ? context.with(trace.setSpan(context.active(), span), run) : run());
    const out: Attributes = {};
    answer(value, out, op);
    span?.setAttributes(out);
    if (b.instruments) count(b.instruments, op, out, measured);
    return value;
  } catch (err) {
    const type = errorTypeOf(err);
    measured[ATTR.errorType] = type;
    if (span) failed(span, type, err);
    throw err;
  } finally {
    const seconds = (performance.now() - started) / 1000;
    if (op === 'guard.call') b.instruments?.guardDuration.record(seconds, measured);
    else b.instruments?.operationDuration.record(seconds, measured);
    span?.end();
  }
}

/** The counters of an answer; `measured` gets what the duration is broken down by. */
function count(m: Instruments, op: Operation | 'guard.call', out: Attributes, measured: Attributes): void {
  if (op === 'guard.call') {
    measured[ATTR.outcome] = out[ATTR.outcome];
    if (out[ATTR.refusalCode] !== undefined) measured[ATTR.refusalCode] = out[ATTR.refusalCode];
    return;
  }
  if (DECIDING.has(op) && out[ATTR.status] !== undefined) {
    m.decisions.add(1, { [ATTR.operation]: op, [ATTR.status]: out[ATTR.status], [ATTR.actionId]: out[ATTR.actionId] });
  }
  if (op === 'resolve' && out[ATTR.decision] !== undefined) m.resolutions.add(1, { [ATTR.decision]: out[ATTR.decision] });
}

function failed(span: Span, type: string, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  span.setAttribute(ATTR.errorType, type);
  if (err instanceof Error) span.recordException(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message: `${type}: ${message}` });
}

/** The semantic-convention `error.type`: a `CraError`'s code, else the error's class name. */
function errorTypeOf(err: unknown): string {
  if (err instanceof CraError) return err.code;
  return err instanceof Error && err.name ? err.name : '_OTHER';
}

function subjectAttributes(subject: Subject): Attributes {
  return { [ATTR.sessionId]: subject.id, [ATTR.agentId]: subject.agentId };
}

/** The action id of a caller's request, if it names one (a getter that throws is the request check's to report). */
function requestedAction(request: unknown): string | undefined {
  try {
    const id = isObject(request) ? request.actionId : undefined;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

function executionAnswer(execution: Execution, out: Attributes): void {
  if (!isObject(execution)) return;
  out[ATTR.executionId] = execution.execution_id;
  out[ATTR.actionId] = execution.action_id;
  out[ATTR.status] = execution.status;
  if (typeof execution.policy_id === 'string') out[ATTR.policyId] = execution.policy_id;
  const code = isObject(execution.details) ? execution.details.code : undefined;
  if (typeof code === 'string') out[ATTR.refusalCode] = code;
}

function resolutionAnswer(resolution: Resolution, out: Attributes): void {
  if (!isObject(resolution)) return;
  out[ATTR.resolutionId] = resolution.resolution_id;
  if (isObject(resolution.decision)) out[ATTR.decision] = resolution.decision.type;
  if (Array.isArray(resolution.allowed_actions)) out[ATTR.allowedCount] = resolution.allowed_actions.length;
  if (Array.isArray(resolution.denied_actions)) out[ATTR.deniedCount] = resolution.denied_actions.length;
}

function guardAnswer(result: GuardAnswer, out: Attributes): void {
  out[ATTR.outcome] = result.ok ? 'ok' : 'refused';
  if (result.execution) executionAnswer(result.execution, out);
  // The guard's own refusal codes (unknown_tool, action_failed …) or the core's, as the result carries them.
  if (!result.ok && typeof result.refusal?.code === 'string') out[ATTR.refusalCode] = result.refusal.code;
}
