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
  ResolveForm,
  ResolveOptions,
} from '../interface.ts';
import type { CarpRequest, CheckAnswer, EndReason, Execution, JsonObject, Resolution, Session, TraceEvent, TraceEventType } from '../types.ts';
import { isCarpRequest, optionPath, toWire } from '../carp/request.ts';
import type { HttpRuntime } from './client.ts';
import { executionIdOf, isObject } from '../util.ts';

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

  resolve(request?: ResolveOptions | CarpRequest, how?: ResolveForm): Promise<Resolution> {
    return this.resolveAs('resolve', request, how?.form === 'wire');
  }

  validate(request?: ResolveOptions | CarpRequest, how?: ResolveForm): Promise<Resolution> {
    return this.resolveAs('validate', request, how?.form === 'wire');
  }

  /** Options go in wire form; an error about them points back at the option the caller wrote. */
  private async resolveAs(operation: 'resolve' | 'validate', request: ResolveOptions | CarpRequest | undefined, wire: boolean): Promise<Resolution> {
    try {
      return await this.runtime.call<Resolution>('POST', `${this.base}/${operation}`, wire ? (request ?? {}) : toWire(request));
    } catch (err) {
      if (err instanceof CraError && !wire && !isCarpRequest(request)) {
        throw err.at(optionPath(err.path));
      }
      throw err;
    }
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
    const id = executionIdOf(execution);
    const hash = options.approvalHash ?? (typeof execution === 'object' ? (execution.approval_hash ?? undefined) : undefined);
    return this.step(id, 'approve', { approver: options.approver, approval_hash: hash });
  }

  async deny(execution: string | Execution, options: DenyOptions = {}): Promise<Execution> {
    return this.step(executionIdOf(execution), 'deny', { reason: options.reason, approver: options.approver });
  }

  async complete(execution: string | Execution, options: CompleteOptions = {}): Promise<Execution> {
    return this.step(executionIdOf(execution), 'complete', { result: options.result, duration_ms: options.durationMs });
  }

  async fail(execution: string | Execution, options: FailOptions): Promise<Execution> {
    if (typeof options !== 'object' || options === null) {
      throw new CraError('invalid_request', 'fail() needs { errorCode, errorMessage }', { path: '' });
    }
    return this.step(executionIdOf(execution), 'fail', {
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
