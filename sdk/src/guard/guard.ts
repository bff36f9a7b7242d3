/**
 * The guard: one call that governs a tool call end to end, in either mode (embedded or HTTP), on any runtime.
 *
 * `await g.call(name, args)` maps a tool name to its action, resolves first when the session has no resolution,
 * requests the action (the core checks schema, policies and limits), waits for a human on `pending_approval`, runs
 * the handler and reports `complete` (only the result's hash is traced) or `fail`. It answers `{ok: true, result}`
 * or `{ok: false, refusal}` and never throws for a governance refusal, an unknown tool or malformed arguments: a
 * model can read the refusal and try again. Refusal codes and details come from the core's answer (the execution's
 * `details`); the guard adds only the codes of what happens before or after the core is asked: `invalid_arguments`,
 * `unknown_tool`, `no_handler`, `action_failed`.
 *
 * @module
 */

import { CraError } from '../errors.ts';
import type { CraSession, ResolveOptions } from '../interface.ts';
import type { Execution, JsonObject, Resolution } from '../types.ts';
import { describeValue, jsonValue, toJson } from '../json-value.ts';
import { isObject, readOptions } from '../util.ts';
import { type Telemetry, telemetryOf } from '../telemetry/telemetry.ts';
import { TOOL_PLATFORMS, type ToolPlatform, ToolNames } from '../tools/names.ts';

/** What a handler gets beside the parameters. */
export interface HandlerContext {
  /** The action being run (the id, not the tool name the model used). */
  actionId: string;
  /** The approved execution this run reports to. */
  execution: Execution;
  /** The session the guard governs. */
  session: CraSession;
}

/**
 * Runs one action; its (JSON) result is hashed into the trace and handed back to the model. The parameters have
 * passed the action's schema, so a handler may declare their type (`P`).
 */
export type ToolHandler<P = any> = (parameters: P, context: HandlerContext) => unknown;

/** The call an approval is asked for (what an approval screen shows beside the execution). */
export interface ApprovalRequest {
  /** The action asked for. */
  actionId: string;
  /** The name the model called the tool by. */
  toolName: string;
  /** The parameters, as validated (their hash is `execution.parameters_hash`). */
  parameters: JsonObject;
}

/** A human's answer to an approval request. */
export type ApprovalDecision =
  | {
      /** Granted: the guard approves the execution and runs the handler. */
      approved: true;
      /** Who granted it, recorded in the trace. */
      approver?: string;
    }
  | {
      /** Refused: the guard denies the execution and the call answers a refusal. */
      approved: false;
      /** Why, recorded in the trace and handed to the model (default `approval denied`). */
      reason?: string;
      /** Who refused, recorded in the trace. */
      approver?: string;
    }
  | {
      /** The execution as decided elsewhere (e.g. through the server's approve route): the guard only carries it on. */
      execution: Execution;
    };

/** How a guard asks for approvals and resolves: all optional. */
export interface GuardOptions {
  /**
   * Asked for every call that needs approval; the approval is bound to `execution.approval_hash`. Without it, such
   * calls are denied.
   */
  approve?: (execution: Execution, request: ApprovalRequest) => ApprovalDecision | Promise<ApprovalDecision>;
  /** How long an approval may take before the call is denied (default 5 minutes). */
  approvalTimeoutMs?: number;
  /** The reason recorded when a call needs approval and there is no `approve` (say where approvals can be had). */
  noApproverReason?: string;
  /** The resolve request made when the session has no resolution yet (and again when it expires). */
  resolve?: ResolveOptions;
  /** A resolution to work with from the start (default: resolve on first need). */
  resolution?: Resolution;
}

/** Why a call did not run, or failed: model-readable. */
export interface Refusal {
  /** The core's refusal code (`invalid_parameters`, `scope_violation`, `rate_limited`, `unknown_action`…) or one of the guard's. */
  code: string;
  /** What went wrong, in words a model can act on. */
  reason: string;
  /** The core's `details` of the execution, or what the guard adds (e.g. the `tools` there are); `null` when none. */
  details: JsonObject | null;
}

/** What {@link Guard.call} answers: the handler's result, or why there is none. Governance refusals never throw. */
export type GuardResult =
  | {
      /** The handler ran and its execution is completed. */
      ok: true;
      /** What the handler returned (its JSON hash is traced). */
      result: unknown;
      /** The completed execution. */
      execution: Execution;
    }
  | {
      /** The call was refused, or its handler failed. */
      ok: false;
      /** Why, for the model to read. */
      refusal: Refusal;
      /** The execution, when the core was asked (denied, failed…); absent for a refusal made before asking. */
      execution?: Execution;
    };

/** What tool lists are made from: the resolution the guard works with, the names of its tools, and which it runs. */
export interface ToolCatalog {
  /** The resolution the guard works with. */
  resolution: Resolution;
  /** The tool names of the loaded atlases, per platform. */
  names: ToolNames;
  /** The allowed actions that have a handler (and, when they need approval, an approver): only these are offered. */
  actionIds: string[];
}

/** How {@link Guard.call} reads the tool name. */
export interface CallOptions {
  /** The platform whose tool names `name` is looked up in (default: all). */
  platform?: ToolPlatform;
}

const DEFAULT_APPROVAL_TIMEOUT_MS = 5 * 60_000;
/** Core errors that refuse this call but leave the session usable: answered as refusals, not thrown. */
const REFUSING_ERRORS = new Set(['session_ended', 'resolution_not_found', 'invalid_request', 'idempotency_conflict']);
/** Refusals that a fresh resolution can lift: resolve again once and retry. */
const STALE_RESOLUTION = new Set(['resolution_expired', 'resolution_stale', 'atlas_unloaded']);

/**
 * Governs the tool calls of one session: made by {@link guard}. Safe to share between concurrent calls (a first
 * resolve is made once).
 */
export class Guard {
  /** The session whose tool calls this guard governs. */
  readonly session: CraSession;
  private readonly handlers: ReadonlyMap<string, ToolHandler>;
  private readonly options: GuardOptions;
  /** The spans and metrics of the session's runtime (the global API's for a runtime without its own). */
  private readonly telemetry: Telemetry;
  private current: Resolution | undefined;
  /** The resolve in flight, shared by concurrent calls (two first calls resolve once). */
  private resolving: Promise<Resolution> | undefined;
  private tables: Promise<ToolNames> | undefined;

  constructor(session: CraSession, handlers: Record<string, ToolHandler>, options?: GuardOptions) {
    if (!isObject(session) || typeof (session as CraSession).requestAction !== 'function') {
      throw new CraError('invalid_request', 'guard() needs a session', { path: '/session' });
    }
    if (!isObject(handlers)) throw new CraError('invalid_request', 'handlers must map action ids to functions', { path: '/handlers' });
    for (const [id, fn] of Object.entries(handlers)) {
      if (typeof fn !== 'function') throw new CraError('invalid_request', `the handler of ${id} is not a function`, { path: `/handlers/${id}` });
    }
    const o = readOptions(options, '/options');
    if (o.approve !== undefined && typeof o.approve !== 'function') {
      throw new CraError('invalid_request', 'approve must be a function', { path: '/options/approve' });
    }
    const ms = o.approvalTimeoutMs;
    if (ms !== undefined && (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0)) {
      throw new CraError('invalid_request', 'approvalTimeoutMs must be a non-negative number', { path: '/options/approvalTimeoutMs' });
    }
    if (o.resolution !== undefined && (!isObject(o.resolution) || !Array.isArray(o.resolution.allowed_actions))) {
      throw new CraError('invalid_request', 'resolution must be a resolution', { path: '/options/resolution' });
    }
    this.session = session;
    this.handlers = new Map(Object.entries(handlers));
    this.options = o;
    this.current = o.resolution;
    this.telemetry = telemetryOf(session.runtime);
  }

  /** The resolution and tool names that tool lists are made from (resolving first if the guard has none). */
  async catalog(): Promise<ToolCatalog> {
    const resolution = this.current ?? (await this.resolveAgain());
    return { resolution, names: await this.names(), actionIds: this.offered(resolution) };
  }

  /** The tool names of the loaded atlases (read once per guard; {@link refresh} reads them again). */
  names(): Promise<ToolNames> {
    this.tables ??= this.loadNames().catch((err) => {
      this.tables = undefined;
      throw err;
    });
    return this.tables;
  }

  /** Resolves again (e.g. after atlases changed) and re-reads tool names. */
  async refresh(): Promise<ToolCatalog> {
    this.tables = undefined;
    await this.resolveAgain();
    return this.catalog();
  }

  /**
   * Governs and runs one tool call. `args`: an object, or its JSON text (as OpenAI sends it). With OpenTelemetry
   * registered, the call is a `cra.guard.call` span, parent of the session operations it makes.
   */
  call(nameOrActionId: string, args: unknown, options?: CallOptions): Promise<GuardResult> {
    return this.telemetry.guardCall(this.session, nameOrActionId, () => this.govern(nameOrActionId, args, options));
  }

  private async govern(nameOrActionId: string, args: unknown, options?: CallOptions): Promise<GuardResult> {
    const { platform } = readOptions(options, '/options');
    if (platform !== undefined && !(TOOL_PLATFORMS as readonly unknown[]).includes(platform)) {
      throw new CraError('invalid_request', `platform must be one of ${TOOL_PLATFORMS.join(', ')}`, { path: '/options/platform' });
    }
    const parameters = parseArguments(args);
    if (!('args' in parameters)) return parameters;
    const names = await this.names();
    const actionId = typeof nameOrActionId === 'string' ? names.actionOf(nameOrActionId, platform) : undefined;
    // A name as the model wrote it, safe to quote back (any value, any string).
    const name = toJson(describeValue(nameOrActionId)) as string;
    if (!actionId) {
      return refused('unknown_tool', `there is no tool named ${JSON.stringify(name)}`, {
        name,
        tools: await this.toolNames(names, platform),
      });
    }
    // An allowed action that this guard does not run was never offered: refused here, not asked of the core. Any
    // other id goes to the core, which traces the attempt and says why (a policy, or unknown with the closest ids).
    if (!this.handlers.has(actionId) && this.current?.allowed_actions.some((a) => a.action_id === actionId)) {
      return refused('no_handler', `${name} is not one of this agent's tools`, {
        action_id: actionId,
        tools: await this.toolNames(names, platform),
      });
    }
    let execution = await this.request(actionId, parameters.args);
    if (!('execution_id' in execution)) return execution;
    if (STALE_RESOLUTION.has(refusalCode(execution))) {
      await this.resolveAgain();
      execution = await this.request(actionId, parameters.args);
      if (!('execution_id' in execution)) return execution;
    }
    if (execution.status === 'pending_approval') {
      execution = await this.awaitApproval(execution, { actionId, toolName: name, parameters: parameters.args });
    }
    if (execution.status !== 'approved') return { ok: false, refusal: refusalOf(execution), execution };
    return this.run(actionId, parameters.args, execution);
  }

  private async request(actionId: string, parameters: JsonObject): Promise<Execution | GuardResult & { ok: false }> {
    try {
      if (!this.current && (await this.session.info()).resolution_count === 0) await this.resolveAgain();
      return await this.session.requestAction({ actionId, parameters, resolutionId: this.current?.resolution_id });
    } catch (err) {
      if (err instanceof CraError && REFUSING_ERRORS.has(err.code)) {
        return refused(err.code, err.message, err.path === null ? null : { path: err.path });
      }
      throw err;
    }
  }

  private resolveAgain(): Promise<Resolution> {
    this.resolving ??= this.session.resolve(this.options.resolve).then(
      (resolution) => {
        this.current = resolution;
        this.resolving = undefined;
        return resolution;
      },
      (err: unknown) => {
        this.resolving = undefined;
        throw err;
      },
    );
    return this.resolving;
  }

  /**
   * The actions offered as tools: allowed, with a handler, and — an approval-gated one can never run without an
   * approver — needing no approval unless there is one.
   */
  private offered(resolution: Resolution): string[] {
    return resolution.allowed_actions
      .filter((a) => this.handlers.has(a.action_id) && (this.options.approve !== undefined || !a.requires_confirmation))
      .map((a) => a.action_id);
  }

  /** The names of the tools this guard offers, for a refusal that tells the model what it can call. */
  private async toolNames(names: ToolNames, platform: ToolPlatform = 'openai'): Promise<string[]> {
    const resolution = this.current ?? (await this.resolving);
    return resolution ? this.offered(resolution).map((id) => names.nameOf(id, platform)) : [];
  }

  /** Asks `options.approve`; a missing approver, a thrown error or the timeout denies (traced as `action.denied`). */
  private async awaitApproval(execution: Execution, request: ApprovalRequest): Promise<Execution> {
    const approve = this.options.approve;
    if (!approve) return this.session.deny(execution, { reason: this.options.noApproverReason ?? 'approval required and no approver is configured' });
    const ms = this.options.approvalTimeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), ms);
    });
    let decision: ApprovalDecision | 'timeout';
    try {
      decision = await Promise.race([Promise.resolve().then(() => approve(execution, request)), timeout]);
    } catch (err) {
      return this.session.deny(execution, { reason: `approval failed: ${messageOf(err)}`.slice(0, 1000) });
    } finally {
      clearTimeout(timer);
    }
    if (decision === 'timeout') return this.session.deny(execution, { reason: `approval timed out after ${Math.round(ms / 1000)} s` });
    if (!isObject(decision)) return this.session.deny(execution, { reason: 'the approver gave no decision' });
    if ('execution' in decision) {
      const decided: unknown = decision.execution;
      if (isObject(decided) && typeof decided.execution_id === 'string' && typeof decided.status === 'string') return decided as unknown as Execution;
      return this.session.deny(execution, { reason: 'the approver gave no execution' });
    }
    if (decision.approved === true) {
      return this.session.approve(execution, { approver: decision.approver, approvalHash: execution.approval_hash ?? undefined });
    }
    return this.session.deny(execution, { reason: decision.reason ?? 'approval denied', approver: decision.approver });
  }

  /** Runs the handler of an approved execution and reports its outcome. */
  private async run(actionId: string, parameters: JsonObject, execution: Execution): Promise<GuardResult> {
    const handler = this.handlers.get(actionId);
    const started = Date.now();
    if (!handler) {
      // An action no atlas declared was approved (a default-allow runtime): nothing here can run it.
      const reason = `no handler is registered for ${actionId}`;
      const failed = await this.session.fail(execution, { errorCode: 'no_handler', errorMessage: reason, durationMs: 0 });
      return { ok: false, refusal: { code: 'no_handler', reason, details: { action_id: actionId } }, execution: failed };
    }
    let result: unknown;
    try {
      result = await handler(parameters, { actionId, execution, session: this.session });
    } catch (err) {
      const code = errorCodeOf(err);
      const message = messageOf(err).slice(0, 10_000);
      const failed = await this.session.fail(execution, { errorCode: code, errorMessage: message, durationMs: Date.now() - started });
      return { ok: false, refusal: { code: 'action_failed', reason: message, details: { error_code: code } }, execution: failed };
    }
    const done = await this.session.complete(execution, { result: toJson(result), durationMs: Date.now() - started });
    return { ok: true, result, execution: done };
  }

  private async loadNames(): Promise<ToolNames> {
    const runtime = this.session.runtime;
    const summaries = await runtime.listAtlases();
    return ToolNames.fromAtlases(await Promise.all(summaries.map((s) => runtime.getAtlas(s.atlas_id))));
  }
}

/** Governs the tool calls of `session`: `handlers` maps action ids to the functions that run them. */
export function guard(session: CraSession, handlers: Record<string, ToolHandler>, options?: GuardOptions): Guard {
  return new Guard(session, handlers, options);
}

/** The refusal a denied or violated execution amounts to, as the core described it. */
export function refusalOf(execution: Execution): Refusal {
  if (!isObject(execution)) throw new CraError('invalid_request', 'refusalOf() needs an execution', { path: '' });
  const details = isObject(execution.details) ? (execution.details as unknown as JsonObject) : null;
  return { code: refusalCode(execution), reason: execution.reason ?? execution.status, details };
}

function refusalCode(execution: Execution): string {
  const code = isObject(execution.details) ? execution.details.code : undefined;
  return typeof code === 'string' ? code : execution.status;
}

function refused(code: string, reason: string, details: JsonObject | null): GuardResult & { ok: false } {
  return { ok: false, refusal: { code, reason, details } };
}

/** The parameters of a call (an object, or its JSON text), checked and detached; or the refusal of them. */
function parseArguments(args: unknown): { args: JsonObject } | (GuardResult & { ok: false }) {
  const bad = (reason: string, path: string | null) =>
    refused('invalid_arguments', reason, { received: typeof args === 'string' ? toJson(args.slice(0, 200)) : typeof args, path });
  if (args === undefined || args === null || args === '') return { args: {} };
  if (typeof args === 'string') {
    try {
      args = JSON.parse(args);
    } catch {
      return bad('the arguments must be a JSON object', null);
    }
  }
  if (!isObject(args)) return bad('the arguments must be a JSON object', '');
  try {
    return { args: jsonValue(args) as JsonObject };
  } catch (err) {
    if (!(err instanceof CraError)) throw err;
    return bad(`the arguments must be a JSON object: ${err.message}`, err.path);
  }
}

/** What a handler threw may be anything (its getters included): read defensively, never rethrown from here. */
function errorCodeOf(err: unknown): string {
  try {
    const code = isObject(err) ? err.code : undefined;
    if (typeof code === 'string' && code.length > 0 && code.length <= 255) return toJson(code) as string;
    const name: unknown = err instanceof Error ? err.name : '';
    return typeof name === 'string' && name && name !== 'Error' ? (toJson(name.slice(0, 255)) as string) : 'handler_error';
  } catch {
    return 'handler_error';
  }
}

function messageOf(err: unknown): string {
  try {
    const message: unknown = err instanceof Error ? err.message : err;
    return toJson(describeValue(message)) as string;
  } catch {
    return 'the handler failed';
  }
}
