/**
 * A session of the embedded runtime: a thin handle that names the session in every call to its runtime.
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
import type {
  CarpRequest,
  CheckAnswer,
  EndReason,
  Execution,
  JsonObject,
  Resolution,
  Session,
  TraceEvent,
  TraceEventType,
} from '../types.ts';
import { compact, executionIdOf } from '../util.ts';
import type { EmbeddedRuntime } from './runtime.ts';

export class EmbeddedSession implements CraSession {
  readonly id: string;
  readonly agentId: string;
  readonly goal: string;
  /** The runtime the session lives in. */
  readonly runtime: EmbeddedRuntime;

  /** @internal use `runtime.createSession` / `runtime.getSession`. */
  constructor(runtime: EmbeddedRuntime, id: string, agentId: string, goal: string) {
    this.runtime = runtime;
    this.id = id;
    this.agentId = agentId;
    this.goal = goal;
  }

  info(): Promise<Session> {
    return this.runtime.sessionInfo(this.id);
  }

  resolve(request?: ResolveOptions | CarpRequest, how?: ResolveForm): Promise<Resolution> {
    return this.runtime.resolveIn(this.id, request, 'resolve', how?.form);
  }

  validate(request?: ResolveOptions | CarpRequest, how?: ResolveForm): Promise<Resolution> {
    return this.runtime.resolveIn(this.id, request, 'validate', how?.form);
  }

  check(actionId: string): Promise<CheckAnswer> {
    return this.runtime.checkIn(this.id, actionId);
  }

  requestAction(request: ActionRequest): Promise<Execution> {
    return this.runtime.requestIn(this.id, request);
  }

  execution(executionId: string): Promise<Execution> {
    return this.runtime.executionIn(this.id, executionId);
  }

  async approve(execution: string | Execution, options: ApproveOptions = {}): Promise<Execution> {
    const id = executionIdOf(execution);
    const hash = options.approvalHash ?? (typeof execution === 'object' ? execution.approval_hash ?? undefined : undefined);
    return this.runtime.executionOp(
      this.runtime.state(this.id),
      'action.approve',
      compact({ session_id: this.id, execution_id: id, approver: options.approver, approval_hash: hash }),
    );
  }

  async deny(execution: string | Execution, options: DenyOptions = {}): Promise<Execution> {
    return this.runtime.executionOp(
      this.runtime.state(this.id),
      'action.deny',
      compact({ session_id: this.id, execution_id: executionIdOf(execution), reason: options.reason, approver: options.approver }),
    );
  }

  async complete(execution: string | Execution, options: CompleteOptions = {}): Promise<Execution> {
    return this.runtime.executionOp(
      this.runtime.state(this.id),
      'action.complete',
      compact({ session_id: this.id, execution_id: executionIdOf(execution), result: options.result, duration_ms: options.durationMs }),
    );
  }

  async fail(execution: string | Execution, options: FailOptions): Promise<Execution> {
    if (typeof options !== 'object' || options === null) {
      throw new CraError('invalid_request', 'fail() needs { errorCode, errorMessage }', { path: '' });
    }
    return this.runtime.executionOp(
      this.runtime.state(this.id),
      'action.fail',
      compact({
        session_id: this.id,
        execution_id: executionIdOf(execution),
        error_code: options.errorCode,
        error_message: options.errorMessage,
        duration_ms: options.durationMs,
      }),
    );
  }

  record(eventType: TraceEventType, payload: JsonObject): Promise<TraceEvent[]> {
    return this.runtime.recordIn(this.id, eventType, payload);
  }

  end(reason?: EndReason): Promise<Session> {
    return this.runtime.endIn(this.id, reason);
  }

  trace(): Promise<TraceEvent[]> {
    return this.runtime.trace(this.id);
  }
}
