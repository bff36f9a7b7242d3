/**
 * A session of the HTTP client: the same {@link CraSession} as the embedded one, over the server's session routes.
 *
 * @module
 */

import { CraError } from '../errors.ts';
import type {
  ActionRequest,
  ApproveOptions,
  CompleteOptions,
  CraSession,
  DenyOptions,
  FailOptions,
  ResolveOptions,
} from '../interface.ts';
import type { CarpRequest, CheckAnswer, EndReason, Execution, JsonObject, Resolution, Session, TraceEvent, TraceEventType } from '../types.ts';
import type { HttpRuntime } from './client.ts';

export class HttpSession implements CraSession {
  readonly id: string;
  readonly agentId: string;
  readonly goal: string;
  /** The runtime the session lives in. */
  readonly runtime: HttpRuntime;
  private readonly base: string;

  /** @internal use `client.createSession` / `client.getSession`. */
  constructor(runtime: HttpRuntime, id: string, agentId: string, goal: string) {
    this.runtime = runtime;
    this.id = id;
    this.agentId = agentId;
    this.goal = goal;
    this.base = `/v1/sessions/${encodeURIComponent(id)}`;
  }

  info(): Promise<Session> {
    return this.runtime.call('GET', this.base);
  }

  resolve(request?: ResolveOptions | CarpRequest): Promise<Resolution> {
    return this.runtime.call('POST', `${this.base}/resolve`, resolveBody(request));
  }

  validate(request?: ResolveOptions | CarpRequest): Promise<Resolution> {
    return this.runtime.call('POST', `${this.base}/validate`, resolveBody(request));
  }

  check(actionId: string): Promise<CheckAnswer> {
    return this.runtime.call('GET', `${this.base}/check/${encodeURIComponent(String(actionId))}`);
  }

  requestAction(request: ActionRequest): Promise<Execution> {
    const body = isObject(request)
      ? { action_id: request.actionId, parameters: request.parameters, resolution_id: request.resolutionId, idempotency_key: request.idempotencyKey }
      : request;
    return this.runtime.call('POST', `${this.base}/actions`, body);
  }

  execution(executionId: string): Promise<Execution> {
    return this.runtime.call('GET', `${this.base}/actions/${encodeURIComponent(String(executionId))}`);
  }

  async approve(execution: string | Execution, options: ApproveOptions = {}): Promise<Execution> {
    const id = executionId(execution);
    const hash = options.approvalHash ?? (typeof execution === 'object' ? (execution.approval_hash ?? undefined) : undefined);
    return this.step(id, 'approve', { approver: options.approver, approval_hash: hash });
  }

  async deny(execution: string | Execution, options: DenyOptions = {}): Promise<Execution> {
    return this.step(executionId(execution), 'deny', { reason: options.reason, approver: options.approver });
  }

  async complete(execution: string | Execution, options: CompleteOptions = {}): Promise<Execution> {
    return this.step(executionId(execution), 'complete', { result: options.result, duration_ms: options.durationMs });
  }

  async fail(execution: string | Execution, options: FailOptions): Promise<Execution> {
    if (typeof options !== 'object' || options === null) {
      throw new CraError('invalid_request', 'fail() needs { errorCode, errorMessage }', { path: '' });
    }
    return this.step(executionId(execution), 'fail', {
      error_code: options.errorCode,
      error_message: options.errorMessage,
      duration_ms: options.durationMs,
    });
  }

  record(eventType: TraceEventType, payload: JsonObject): Promise<TraceEvent[]> {
    return this.runtime.call('POST', `${this.base}/events`, { event_type: eventType, payload });
  }

  end(reason?: EndReason): Promise<Session> {
    return this.runtime.call('POST', `${this.base}/end`, { reason });
  }

  trace(): Promise<TraceEvent[]> {
    return this.runtime.trace(this.id);
  }

  private step(executionId: string, verb: string, body: Record<string, unknown>): Promise<Execution> {
    return this.runtime.call('POST', `${this.base}/actions/${encodeURIComponent(executionId)}/${verb}`, body);
  }
}

/** Resolve options in wire form (snake_case); a full CARP request goes as it is. */
function resolveBody(request: ResolveOptions | CarpRequest | undefined): unknown {
  if (request === undefined) return {};
  if (!isObject(request) || 'carp_version' in request) return request;
  const o = request as ResolveOptions;
  return {
    goal: o.goal,
    risk_tier: o.riskTier,
    context_hints: o.contextHints,
    required_capabilities: o.requiredCapabilities,
    atlas_ids: o.atlasIds,
    context: o.context,
    request_id: o.requestId,
    timestamp: o.timestamp,
  };
}

function executionId(execution: string | Execution): string {
  if (typeof execution === 'string') return execution;
  if (typeof execution === 'object' && execution !== null && typeof execution.execution_id === 'string') return execution.execution_id;
  throw new CraError('invalid_request', 'expected an execution id or an execution', { path: '/execution_id' });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
