/**
 * The CARP request forms, in one place. A resolve reaches a session in one of three shapes: the SDK's options
 * (`{riskTier}`), the same options on the wire (`{risk_tier}`, the body of `POST /v1/sessions/:id/resolve`), or a
 * whole CARP request (nested `requester`/`task`, or flat). The session builds the nested request the core reads, and
 * an error the core answers about it is pointed back into what the caller sent, so that a path never names a field
 * the caller did not write.
 *
 * @module
 */

import { CraError } from '../errors.ts';
import type { ResolveOptions } from '../interface.ts';
import { jsonValue } from '../json-value.ts';
import type { CarpRequest, JsonObject } from '../types.ts';
import { compact, isObject, kindOf } from '../util.ts';

/** How resolve options are written: the SDK's (camelCase) or the wire's (snake_case). A CARP request is either. */
export type RequestForm = 'options' | 'wire';

/** Each resolve option: its SDK name, its wire name, and where it sits in a nested CARP request. */
const OPTION_FIELDS = [
  { option: 'goal', wire: 'goal', carp: '/task/goal' },
  { option: 'riskTier', wire: 'risk_tier', carp: '/task/risk_tier' },
  { option: 'contextHints', wire: 'context_hints', carp: '/task/context_hints' },
  { option: 'requiredCapabilities', wire: 'required_capabilities', carp: '/task/required_capabilities' },
  { option: 'atlasIds', wire: 'atlas_ids', carp: '/atlas_ids' },
  { option: 'context', wire: 'context', carp: '/context' },
  { option: 'requestId', wire: 'request_id', carp: '/request_id' },
  { option: 'timestamp', wire: 'timestamp', carp: '/timestamp' },
] as const;

type OptionName = (typeof OPTION_FIELDS)[number]['option'];
/** The wire name of each option. */
const WIRE_NAME = new Map<OptionName, string>(OPTION_FIELDS.map((f) => [f.option, f.wire]));

/** The session a request is built for. */
export interface RequestingSession {
  id: string;
  agentId: string;
  goal: string;
}

/** What a built request needs from the host: a fresh request id and the current time. */
export interface RequestDefaults {
  requestId: () => string;
  /** RFC 3339. */
  timestamp: () => string;
}

/** A request ready for the core, and how to point the core's error paths back into what the caller sent. */
export interface BuiltRequest {
  request: CarpRequest;
  /** Maps a pointer into `request` to a pointer into the caller's input (`null`: no field of theirs). */
  callerPath: (requestPath: string) => string | null;
}

/** The form a `how` argument names (`{form}`; default: SDK options). */
export function formOf(how: unknown): RequestForm {
  if (how === undefined) return 'options';
  if (!isObject(how)) throw new CraError('invalid_request', `how must be an object, not ${kindOf(how)}`, { path: '' });
  if (how.form === undefined || how.form === 'options' || how.form === 'wire') return how.form ?? 'options';
  throw new CraError('invalid_request', 'form must be "options" or "wire"', { path: '/form' });
}

/** True for a whole CARP request (it names its version), as opposed to resolve options. */
export function isCarpRequest(input: unknown): input is CarpRequest | JsonObject {
  return isObject(input) && 'carp_version' in input;
}

/** The session a CARP request names, nested (`requester.session_id`) or flat (`session_id`), and where. */
export function requestedSession(request: JsonObject | CarpRequest): { sessionId: unknown; path: string } {
  const r = request as JsonObject;
  return isObject(r.requester)
    ? { sessionId: r.requester.session_id, path: '/requester/session_id' }
    : { sessionId: r.session_id, path: '/session_id' };
}

/**
 * The caller's resolve input, checked as a JSON value and detached: `undefined` is no options; anything but an
 * object (`null` included) is refused, as it is in either mode.
 */
export function resolveInput(input: unknown): JsonObject {
  if (input === undefined) return {};
  if (!isObject(input)) throw new CraError('invalid_request', `the request must be an object, not ${kindOf(input)}`, { path: '' });
  return jsonValue(input) as JsonObject;
}

/** Resolve options in wire form (snake_case), as the HTTP API takes them; a CARP request goes as it is. */
export function toWire(input: ResolveOptions | CarpRequest | undefined): JsonObject {
  const o = resolveInput(input);
  if (isCarpRequest(o)) return o;
  return compact(Object.fromEntries(OPTION_FIELDS.map((f) => [f.wire, o[f.option]]))) as JsonObject;
}

/**
 * The nested CARP request of a resolve or validate for `session`, from any form. A CARP request must be of this
 * operation and name this session (a request handed to a session is that session's).
 */
export function buildRequest(
  session: RequestingSession,
  input: unknown,
  form: RequestForm,
  operation: 'resolve' | 'validate',
  defaults: RequestDefaults,
): BuiltRequest {
  input = resolveInput(input);
  if (isCarpRequest(input)) {
    const req = input as JsonObject;
    if (req.operation !== operation) {
      throw new CraError('invalid_request', `expected a ${operation} request, got ${String(req.operation)}`, { path: '/operation' });
    }
    const named = requestedSession(req);
    if (typeof named.sessionId !== 'string' || named.sessionId.toLowerCase() !== session.id) {
      throw new CraError('invalid_request', `the request names session ${String(named.sessionId)}, not ${session.id}`, { path: named.path });
    }
    return { request: req as unknown as CarpRequest, callerPath: (p) => p };
  }
  const key = (f: (typeof OPTION_FIELDS)[number]) => (form === 'options' ? f.option : f.wire);
  // An option given as `null` is not given: the options are the host's input, read as the core reads one; the
  // request built from them is a protocol document, in which `null` would be a value of the wrong type.
  const value = (name: OptionName) => (input as Record<string, unknown>)[form === 'options' ? name : WIRE_NAME.get(name)!] ?? undefined;
  const request = compact({
    carp_version: '1.0' as const,
    request_id: (value('requestId') as string | undefined) ?? defaults.requestId(),
    timestamp: (value('timestamp') as string | undefined) ?? defaults.timestamp(),
    operation,
    requester: { agent_id: session.agentId, session_id: session.id },
    task: compact({
      goal: (value('goal') as string | undefined) ?? session.goal,
      risk_tier: value('riskTier'),
      context_hints: value('contextHints'),
      required_capabilities: value('requiredCapabilities'),
    }),
    atlas_ids: value('atlasIds'),
    context: value('context'),
  }) as unknown as CarpRequest;
  const callerPath = (path: string): string | null => {
    for (const f of OPTION_FIELDS) {
      if (path === f.carp || path.startsWith(`${f.carp}/`)) return `/${key(f)}${path.slice(f.carp.length)}`;
    }
    return path === '' || path === '/task' ? '' : null;
  };
  return { request, callerPath };
}

/** Runs `call`; a `CraError` pointing under `prefix` of the core's input is re-pointed with `map`. */
export function pointedBack<T>(prefix: string, map: (path: string) => string | null, call: () => T): T {
  try {
    return call();
  } catch (err) {
    if (err instanceof CraError && err.code !== 'core_failure' && typeof err.path === 'string' && (err.path === prefix || err.path.startsWith(`${prefix}/`))) {
      throw err.at(map(err.path.slice(prefix.length)));
    }
    throw err;
  }
}
