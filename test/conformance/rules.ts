// Every known difference between the runtime and the protocol's JSON Schemas, each one a line of
// docs/protocol.md ("Where this runtime differs from the schemas") under the same tag. A disagreement the
// differential test finds must be explained by one of these, or the test fails: a new difference is either a
// defect to fix or a rule to decide, document and add here.

import type { SchemaError } from './schemas.ts';
import { atPointer, type Json } from './mutate.ts';

/** A refusal by the runtime: an item of `validateAtlas`'s `errors`, or the error `carp()` rejects with. */
export interface RuntimeError {
  code: string;
  message: string;
  path?: string | null;
}

interface Common {
  /** The tag of the rule's line in docs/protocol.md. */
  tag: string;
}

/** The runtime refuses what the schema accepts: explains one runtime error. */
export interface StricterRule extends Common {
  explains(error: RuntimeError, value: Json | undefined, input: Json): boolean;
}

/** The runtime accepts (or writes) what the schema refuses: explains one schema error. */
export interface LaxerRule extends Common {
  explains(error: SchemaError, input: Json): boolean;
}

const path = (e: RuntimeError) => e.path ?? '';
const str = (v: Json | undefined): v is string => typeof v === 'string';
const timeBound = /\/time_window\/(start|end)$/;
/** RFC 3339 offsets are `Z` or `±HH:MM`; ajv-formats also reads `±HHMM` and `±HH`. */
const looseOffset = /[+-]\d\d(\d\d)?$/;

/**
 * An authority whose port is not digits (`https://example.com:80a/`): not a URI under RFC 3986, but ajv-formats'
 * `uri` pattern reads `/example.com:80a/` as a path after an empty authority.
 */
function badPort(uri: string): boolean {
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(uri)?.[1];
  const port = authority?.replace(/^.*@/, '').replace(/^\[[^\]]*\]/, '').split(':').slice(1).join(':');
  return port !== undefined && port !== '' && !/^\d+$/.test(port);
}

// ---- atlas manifests -------------------------------------------------------------------------------------------

export const atlasStricter: StricterRule[] = [
  { tag: 'unique-ids', explains: (e) => /^\/(actions|capabilities|context_packs|policies)\/\d+\/(action|capability|pack|policy)_id$/.test(path(e)) && e.message.startsWith('duplicate') },
  { tag: 'dependencies', explains: (e) => path(e).startsWith('/dependencies/') },
  { tag: 'context-files', explains: (e) => /^\/context_packs\/\d+\/files\/\d+$/.test(path(e)) },
  { tag: 'policy-parameters', explains: (e) => /^\/policies\/\d+\/parameters(\/|$)/.test(path(e)) },
  { tag: 'rate-limit-members', explains: (e, v) => /^\/actions\/\d+\/rate_limit\/(max_calls|window_seconds)$/.test(path(e)) && v === undefined },
  { tag: 'integer-range', explains: (_e, v) => typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v) },
  { tag: 'non-empty-ids', explains: (e, v) => /^\/(context_packs\/\d+\/pack|policies\/\d+\/policy)_id$/.test(path(e)) && v === '' },
  { tag: 'time-zones', explains: (e) => /\/time_window\/timezone$/.test(path(e)) },
  { tag: 'time-bounds', explains: (e, v) => timeBound.test(path(e)) && str(v) && (/:60/.test(v) || looseOffset.test(v)) },
  { tag: 'uris', explains: (e, v) => /^\/(homepage|repository)$/.test(path(e)) && str(v) && badPort(v) },
  { tag: 'tool-names', explains: (e) => /^\/adapters\/[^/]+\/settings\/tool_names(\/|$)/.test(path(e)) },
  { tag: 'unicode-text', explains: (e) => /lone surrogate/.test(e.message) },
];

export const atlasLaxer: LaxerRule[] = [
  // RFC 3986 `hier-part` may be `path-empty`; ajv-formats' pattern wants at least one character after the scheme.
  { tag: 'uris', explains: (e) => /^\/(homepage|repository)$/.test(e.instancePath) && e.keyword === 'format' && /^[a-z][a-z0-9+.-]*:$/i.test(String(e.data)) },
  { tag: 'policy-reason', explains: (e) => /^\/policies\/\d+$/.test(e.instancePath) && e.keyword === 'additionalProperties' && e.params.additionalProperty === 'reason' },
  { tag: 'policy-type-spelling', explains: (e) => /^\/policies\/\d+\/type$/.test(e.instancePath) && e.keyword === 'enum' && e.data === 'requires_approval' },
  {
    tag: 'time-bounds',
    explains: (e) => timeBound.test(e.instancePath) && e.keyword === 'format' && str(e.data as Json) && /^\d\d:\d\d(:\d\d(\.\d+)?)?([Zz]|[+-]\d\d:\d\d)?$/.test(e.data as string),
  },
];

// ---- CARP requests ----------------------------------------------------------------------------------------------

const uuidMembers = /\/(request_id|session_id|parent_session_id|resolution_id)$/;

export const requestStricter: StricterRule[] = [
  { tag: 'session-state', explains: (e) => ['session_not_found', 'session_ended', 'agent_mismatch'].includes(e.code) },
  { tag: 'request-replay', explains: (e) => e.code === 'duplicate_request' },
  { tag: 'clock-skew', explains: (e) => e.code === 'clock_skew' },
  { tag: 'atlas-ids', explains: (e) => e.code === 'atlas_not_found' && /^\/atlas_ids\/\d+$/.test(path(e)) },
  { tag: 'execute-checks', explains: (e) => ['resolution_not_found', 'idempotency_conflict'].includes(e.code) || /^\/execution\/parameters(\/|$)/.test(path(e)) },
  { tag: 'max-context-tokens', explains: (e) => path(e) === '/context/max_context_tokens' },
  { tag: 'idempotency-key', explains: (e, v) => path(e) === '/execution/idempotency_key' && v === '' },
  { tag: 'timestamps', explains: (e, v) => path(e) === '/timestamp' && str(v) && (/T23:59:60/i.test(v) || /^\S+ \S+$/.test(v) || looseOffset.test(v)) },
  { tag: 'uuids', explains: (e, v) => uuidMembers.test(path(e)) && str(v) && v.startsWith('urn:uuid:') },
  { tag: 'unicode-text', explains: (e) => /lone surrogate/.test(e.message) },
];

const isObject = (v: Json | undefined): v is { [k: string]: Json } => typeof v === 'object' && v !== null && !Array.isArray(v);

export const requestLaxer: LaxerRule[] = [
  {
    tag: 'execute-without-task',
    explains: (e, input) =>
      isObject(input) &&
      input.operation === 'execute' &&
      ((e.instancePath === '' && e.keyword === 'required' && e.params.missingProperty === 'task') ||
        (e.instancePath === '/task' && e.keyword === 'required' && e.params.missingProperty === 'goal')),
  },
  { tag: 'flat-form', explains: (_e, input) => isObject(input) && input.requester === undefined && input.task === undefined },
  // ajv reports a failed `if`/`then` beside the error of the `then` branch, which another rule must explain.
  { tag: 'execute-without-task', explains: (e) => e.keyword === 'if' },
];

// ---- what the runtime writes ------------------------------------------------------------------------------------

export const outputLaxer: LaxerRule[] = [
  {
    tag: 'policy-evaluated-result',
    explains: (e) => e.instancePath === '/result' && e.keyword === 'enum' && ['require_approval', 'rate_limited', 'budget_exhausted', 'default_deny'].includes(e.data as string),
  },
  { tag: 'violation-types', explains: (e) => e.instancePath === '/violation_type' && e.keyword === 'enum' && e.data === 'scope' },
];

/** The value a runtime error points at in the input. */
export function valueAt(input: Json, error: RuntimeError): Json | undefined {
  return error.path == null ? undefined : atPointer(input, error.path);
}

export const allRules = [...atlasStricter, ...atlasLaxer, ...requestStricter, ...requestLaxer, ...outputLaxer];
