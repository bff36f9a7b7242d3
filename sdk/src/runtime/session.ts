/**
 * A session of the embedded runtime: a thin handle that names the session in every call to its runtime.
 *
 * @module
 */

import { executionIdOf } from '../util.ts';
import type { Checkpoint, Proof, ProveQuery, Receipt } from '../proof/types.ts';
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
import { approveBody, completeBody, denyBody, failBody, inOptionTerms, type StepBody } from '../carp/actions.ts';
import { formOf } from '../carp/request.ts';
import type { Operation } from '../telemetry/names.ts';
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
    return this.resolveAs('resolve', request, how);
  }

  validate(request?: ResolveOptions | CarpRequest, how?: ResolveForm): Promise<Resolution> {
    return this.resolveAs('validate', request, how);
  }

  private resolveAs(operation: 'resolve' | 'validate', request: ResolveOptions | CarpRequest | undefined, how: ResolveForm | undefined): Promise<Resolution> {
    return this.runtime.telemetry.resolution(operation, this, async () => this.runtime.resolveIn(this.id, request, operation, formOf(how)));
  }

  check(actionId: string): Promise<CheckAnswer> {
    return this.runtime.checkIn(this.id, actionId);
  }

  requestAction(request: ActionRequest): Promise<Execution> {
    const run = () => inOptionTerms(() => this.runtime.requestIn(this.id, request));
    return this.runtime.telemetry.execution('action.request', this, run, request);
  }

  execution(executionId: string): Promise<Execution> {
    return inOptionTerms(() => this.runtime.executionIn(this.id, executionId));
  }

  approve(execution: string | Execution, options?: ApproveOptions): Promise<Execution> {
    return this.step('action.approve', () => approveBody(execution, options));
  }

  deny(execution: string | Execution, options?: DenyOptions): Promise<Execution> {
    return this.step('action.deny', () => denyBody(execution, options));
  }

  complete(execution: string | Execution, options?: CompleteOptions): Promise<Execution> {
    return this.step('action.complete', () => completeBody(execution, options));
  }

  fail(execution: string | Execution, options: FailOptions): Promise<Execution> {
    return this.step('action.fail', () => failBody(execution, options));
  }

  /** One step of an execution (`action.approve` …), its input built from the caller's options. */
  private step(op: Operation, build: () => StepBody): Promise<Execution> {
    const run = () =>
      inOptionTerms(() => {
        const { execution_id, body } = build();
        return this.runtime.executionOp(this.id, op, { session_id: this.id, execution_id, ...body });
      });
    return this.runtime.telemetry.execution(op, this, run);
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

  checkpoint(): Promise<Checkpoint> {
    return this.runtime.checkpoint(this.id);
  }

  checkpoints(): Promise<Checkpoint[]> {
    return this.runtime.checkpoints(this.id);
  }

  prove(query: ProveQuery): Promise<Proof> {
    return this.runtime.prove(this.id, query);
  }

  receipt(execution: string | Execution): Promise<Receipt> {
    return this.runtime.receipt(this.id, executionIdOf(execution));
  }
}
