/**
 * What the SDK's session calls send, in one place for both modes: the embedded session hands these inputs to the
 * core, the HTTP session posts them as bodies. SDK callers write camelCase options; the wire (and the core) reads
 * snake_case. An error about a field points back at the option the caller wrote (`/approval_hash` → `/approvalHash`):
 * a path names something in what was sent, in both modes.
 *
 * Each body is checked here as a JSON value (`json-value.ts`) and detached from the caller's objects, so that both
 * modes refuse the same values with the same pointer, before anything serialises them.
 *
 * @module
 */

import { CraError } from '../errors.ts';
import type { ActionRequest, ApproveOptions, CompleteOptions, CreateSessionOptions, DenyOptions, FailOptions } from '../interface.ts';
import { jsonValue } from '../json-value.ts';
import type { Execution, JsonObject } from '../types.ts';
import { compact, executionIdOf, isObject, kindOf, readOptions } from '../util.ts';

/** A body of the given members (absent ones left out), checked and detached. */
function body(members: Record<string, unknown>): JsonObject {
  return jsonValue(compact(members)) as JsonObject;
}

export function createSessionBody(options: CreateSessionOptions): JsonObject {
  if (!isObject(options)) throw new CraError('invalid_request', `session options must be an object, not ${kindOf(options)}`, { path: '' });
  return body({
    agent_id: options.agentId,
    goal: options.goal,
    session_id: options.sessionId,
    parent_session_id: options.parentSessionId,
    metadata: options.metadata,
  });
}

/** An action request in wire form (`resolution_id` only when the caller named one). */
export function actionRequestBody(request: ActionRequest): JsonObject {
  if (!isObject(request)) throw new CraError('invalid_request', `the action request must be an object, not ${kindOf(request)}`, { path: '' });
  return body({
    action_id: request.actionId,
    parameters: request.parameters,
    resolution_id: request.resolutionId,
    idempotency_key: request.idempotencyKey,
  });
}

/** A host event (`session.record`) in wire form. */
export function recordBody(eventType: unknown, payload: unknown): JsonObject {
  return body({ event_type: eventType, payload });
}

/** The execution a step applies to, and the step's own members. */
export interface StepBody {
  execution_id: string;
  body: JsonObject;
}

export function approveBody(execution: string | Execution, options?: ApproveOptions): StepBody {
  const execution_id = executionIdOf(execution);
  const o = readOptions(options, '');
  const hash = o.approvalHash ?? (isObject(execution) ? (execution.approval_hash ?? undefined) : undefined);
  return { execution_id, body: body({ approver: o.approver, approval_hash: hash }) };
}

export function denyBody(execution: string | Execution, options?: DenyOptions): StepBody {
  const execution_id = executionIdOf(execution);
  const o = readOptions(options, '');
  return { execution_id, body: body({ reason: o.reason, approver: o.approver }) };
}

export function completeBody(execution: string | Execution, options?: CompleteOptions): StepBody {
  const execution_id = executionIdOf(execution);
  const o = readOptions(options, '');
  return { execution_id, body: body({ result: o.result, duration_ms: o.durationMs }) };
}

export function failBody(execution: string | Execution, options: FailOptions): StepBody {
  const execution_id = executionIdOf(execution);
  if (!isObject(options)) throw new CraError('invalid_request', 'fail() needs { errorCode, errorMessage }', { path: '' });
  return { execution_id, body: body({ error_code: options.errorCode, error_message: options.errorMessage, duration_ms: options.durationMs }) };
}

/** A wire pointer re-rooted in SDK options: its first segment in camelCase (`/resolution_id/0` → `/resolutionId/0`). */
export function optionPointer(path: string | null): string | null {
  if (path === null) return null;
  return path.replace(/^\/([a-z][a-z0-9]*(?:_[a-z0-9]+)+)(?=\/|$)/, (_, name: string) => `/${name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase())}`);
}

/** An SDK option pointer re-rooted in the wire form: its first segment in snake_case (`/approvalHash` → `/approval_hash`). */
export function wirePointer(path: string | null): string | null {
  if (path === null) return null;
  return path.replace(/^\/([a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)+)(?=\/|$)/, (_, name: string) => `/${name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`);
}

/** Runs an SDK call made on behalf of a wire body (the server's routes); its error points into that body. */
export function inWireTerms<T>(call: () => Promise<T>): Promise<T> {
  return repointed(call, wirePointer);
}

/** Runs a call made from SDK options; its error points at the option the caller wrote. */
export function inOptionTerms<T>(call: () => Promise<T>): Promise<T> {
  return repointed(call, optionPointer);
}

function repointed<T>(call: () => Promise<T>, map: (path: string | null) => string | null): Promise<T> {
  const repoint = (err: unknown): unknown => {
    if (err instanceof CraError && err.code !== 'core_failure' && typeof err.path === 'string') {
      const path = map(err.path);
      if (path !== err.path) return err.at(path);
    }
    return err;
  };
  // No extra async layer on the way through: the governed call runs here on every step.
  let answer: Promise<T>;
  try {
    answer = call();
  } catch (err) {
    return Promise.reject(repoint(err));
  }
  return answer.catch((err: unknown) => {
    throw repoint(err);
  });
}
