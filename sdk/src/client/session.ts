/**
 * A session of the HTTP client: the same {@link CraSession} as the embedded one, over the server's session routes.
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
import type { CarpRequest, CheckAnswer, EndReason, Execution, JsonObject, Resolution, Session, TraceEvent, TraceEventType } from '../types.ts';
import { actionRequestBody, approveBody, completeBody, denyBody, failBody, inOptionTerms, recordBody, type StepBody } from '../carp/actions.ts';
import { formOf, isCarpRequest, resolveInput, toWire } from '../carp/request.ts';
import type { HttpRuntime } from './client.ts';
import { segment } from './http.ts';

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

  async info(): Promise<Session> {
    return this.runtime.call('GET', this.base);
  }

  resolve(request?: ResolveOptions | CarpRequest, how?: ResolveForm): Promise<Resolution> {
    return this.resolveAs('resolve', request, how);
  }

  validate(request?: ResolveOptions | CarpRequest, how?: ResolveForm): Promise<Resolution> {
    return this.resolveAs('validate', request, how);
  }

  /** Options go in wire form; an error about them points back at the option the caller wrote. */
  private resolveAs(operation: 'resolve' | 'validate', request: ResolveOptions | CarpRequest | undefined, how: ResolveForm | undefined): Promise<Resolution> {
    return this.runtime.telemetry.resolution(operation, this, async () => {
      const wire = formOf(how) === 'wire';
      const post = () => this.runtime.call<Resolution>('POST', `${this.base}/${operation}`, wire ? resolveInput(request) : toWire(request));
      return wire || isCarpRequest(request) ? post() : inOptionTerms(post);
    });
  }

  async check(actionId: string): Promise<CheckAnswer> {
    return this.runtime.call('GET', `${this.base}/check/${segment(actionId, '/action_id')}`);
  }

  requestAction(request: ActionRequest): Promise<Execution> {
    const run = () => inOptionTerms(() => this.runtime.call<Execution>('POST', `${this.base}/actions`, actionRequestBody(request)));
    return this.runtime.telemetry.execution('action.request', this, run, request);
  }

  execution(executionId: string): Promise<Execution> {
    return inOptionTerms(() => this.runtime.call<Execution>('GET', `${this.base}/actions/${segment(executionId, '/execution_id')}`));
  }

  approve(execution: string | Execution, options?: ApproveOptions): Promise<Execution> {
    return this.step('approve', () => approveBody(execution, options));
  }

  deny(execution: string | Execution, options?: DenyOptions): Promise<Execution> {
    return this.step('deny', () => denyBody(execution, options));
  }

  complete(execution: string | Execution, options?: CompleteOptions): Promise<Execution> {
    return this.step('complete', () => completeBody(execution, options));
  }

  fail(execution: string | Execution, options: FailOptions): Promise<Execution> {
    return this.step('fail', () => failBody(execution, options));
  }

  /** One step of an execution, posted to its own route; the body is built from the caller's options. */
  private step(verb: 'approve' | 'deny' | 'complete' | 'fail', build: () => StepBody): Promise<Execution> {
    const run = () =>
      inOptionTerms(() => {
        const { execution_id, body } = build();
        return this.runtime.call<Execution>('POST', `${this.base}/actions/${encodeURIComponent(execution_id)}/${verb}`, body);
      });
    return this.runtime.telemetry.execution(`action.${verb}`, this, run);
  }

  async record(eventType: TraceEventType, payload: JsonObject): Promise<TraceEvent[]> {
    return this.runtime.call('POST', `${this.base}/events`, recordBody(eventType, payload));
  }

  async end(reason?: EndReason): Promise<Session> {
    return this.runtime.call('POST', `${this.base}/end`, { reason });
  }

  async trace(): Promise<TraceEvent[]> {
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
