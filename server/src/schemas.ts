/**
 * Zod schemas of the HTTP surface: request bodies (validated) and responses (documented). Request fields carry the
 * names and places of the core's input, so a type error found here has the JSON pointer the core would give; the
 * core remains the validator of everything else (formats, enums, ids, protocol rules). Where a body goes on to the
 * SDK as it came (CARP requests on the raw CARP routes; resolve options or a CARP request on a session's resolve and
 * validate), only "a JSON object" is checked here and the documented shape comes from the metadata: the SDK points
 * the core's errors into the body itself (`/carp_version`, `/requester/session_id`, `/risk_tier`, `/atlas_ids/0`).
 *
 * One file by choice: it is the OpenAPI document's vocabulary, declarations only, in the order of the routes that
 * use them, which is why it runs past 400 lines.
 *
 * @module
 */

import { CHECK_CODES, type CheckResult } from '../../sdk/src/abi.ts';
import { z } from '@hono/zod-openapi';

// ---------------------------------------------------------------------------------------------------------------
// Shared

const jsonObject = z.record(z.string(), z.unknown());
const uuid = { type: 'string', format: 'uuid' } as const;
const riskTier = { type: 'string', enum: ['low', 'medium', 'high', 'critical'] } as const;
const strings = { type: 'array', items: { type: 'string' } } as const;

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'session_not_found' }),
      message: z.string(),
      path: z.string().nullable().openapi({ description: 'JSON pointer of the input field to blame; null when none is' }),
    }),
  })
  .openapi('Error');

export const SessionIdParam = z.object({
  session_id: z.string().openapi({ param: { name: 'session_id', in: 'path' }, format: 'uuid', example: '0193f2a0-0000-7000-8000-000000000001' }),
});

export const AtlasIdParam = z.object({
  atlas_id: z.string().openapi({ param: { name: 'atlas_id', in: 'path' }, example: 'com.example.support' }),
});

export const ExecutionParams = SessionIdParam.extend({
  execution_id: z.string().openapi({ param: { name: 'execution_id', in: 'path' }, format: 'uuid' }),
});

export const CheckParams = SessionIdParam.extend({
  action_id: z.string().openapi({ param: { name: 'action_id', in: 'path' }, example: 'ticket.lookup' }),
});

// ---------------------------------------------------------------------------------------------------------------
// Health

export const HealthSchema = z
  .object({
    status: z.enum(['healthy', 'degraded', 'unhealthy']),
    version: z.string(),
    mode: z.literal('server').openapi({ description: 'What answers: always `server` over HTTP' }),
    uptime_seconds: z.number().int(),
    atlases: z.number().int().optional(),
  })
  .openapi('HealthStatus');

export const StatsSchema = z
  .object({
    atlases: z.number().int(),
    sessions: z.number().int(),
    memory_bytes: z.number().int(),
    action_handles: z.number().int().openapi({ description: 'Action ids the core holds a handle for (only ids a loaded atlas declares)' }),
    shared_window_seconds: z.number().int().optional().openapi({ description: 'The longest window of a loaded rate limit of scope agent or global' }),
    known_sessions: z.number().int().optional().openapi({ description: 'Every session the runtime knows, live in the core or not' }),
    restores: z.number().int().optional().openapi({ description: 'Sessions restored into the core since start' }),
    evictions: z.number().int().optional().openapi({ description: 'Sessions that left the core since start' }),
  })
  .openapi('RuntimeStats');

// ---------------------------------------------------------------------------------------------------------------
// Sessions

export const SessionSchema = z
  .object({
    session_id: z.string().openapi(uuid),
    agent_id: z.string(),
    goal: z.string(),
    status: z.enum(['active', 'ended']),
    created_at: z.string().openapi({ format: 'date-time' }),
    ended_at: z.string().nullable(),
    event_count: z.number().int(),
    head_hash: z.string(),
    resolution_count: z.number().int(),
    action_count: z.number().int(),
    trace_id: z.string(),
    parent_session_id: z.string().nullable(),
    metadata: jsonObject.nullable(),
  })
  .openapi('Session');

export const SessionRefSchema = z
  .object({ session_id: z.string(), agent_id: z.string(), goal: z.string() })
  .openapi('SessionRef', { description: 'The identity of a session, without its live state' });

export const SessionSummarySchema = z
  .object({
    session_id: z.string().openapi({ format: 'uuid' }),
    agent_id: z.string(),
    goal: z.string(),
    status: z.enum(['active', 'ended']),
    created_at: z.string(),
    ended_at: z.string().nullable(),
    last_event_at: z.string().openapi({ description: 'The timestamp of the last stored event' }),
    event_count: z.number().int(),
    head_hash: z.string(),
    trace_id: z.string(),
    parent_session_id: z.string().nullable(),
  })
  .openapi('SessionSummary', { description: 'A session as listed: what its stored events recorded (GET /v1/sessions/{id} adds live counts and metadata)' });

export const SessionListSchema = z
  .object({
    items: z.array(SessionSummarySchema),
    total: z.number().int().openapi({ description: 'How many sessions match the filters (before limit and offset)' }),
  })
  .openapi('SessionList');

export const SessionListQuery = z.object({
  status: z.enum(['active', 'ended', 'all']).optional().openapi({ description: 'Default: all' }),
  agent_id: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional().openapi({ description: 'At most this many (1–1000); default 100' }),
  offset: z.coerce.number().int().min(0).optional().openapi({ description: 'Skip this many matching sessions (in the order asked); default 0' }),
  order: z.enum(['oldest', 'newest']).optional().openapi({ description: 'Creation order: oldest first (default) or newest first' }),
});

export const CreateSessionBody = z
  .object({
    agent_id: z.string(),
    goal: z.string(),
    session_id: z.string().nullish().openapi({ format: 'uuid', description: 'Generated when omitted' }),
    parent_session_id: z.string().nullish().openapi({ format: 'uuid' }),
    metadata: jsonObject.nullish().openapi({ description: 'Any JSON object; recorded in session.started (as metadata_json text when outside the safe payload subset)' }),
  })
  .openapi('CreateSessionRequest');

export const EndSessionBody = z
  .object({ reason: z.string().nullish().openapi({ enum: ['completed', 'timeout', 'error', 'cancelled'] }) })
  .openapi('EndSessionRequest');

export const EndSessionQuery = z.object({
  reason: z.string().optional().openapi({ enum: ['completed', 'timeout', 'error', 'cancelled'] }),
});

// ---------------------------------------------------------------------------------------------------------------
// CARP

const carpRequestDoc = {
  description:
    'A CARP/1.0 request (spec/schemas/carp-request.schema.json). The flat form of the reference runtime ' +
    '(`session_id`, `agent_id`, `goal`, … at top level) is accepted too.',
  properties: {
    carp_version: { type: 'string', const: '1.0' },
    request_id: uuid,
    timestamp: { type: 'string', format: 'date-time' },
    operation: { type: 'string', enum: ['resolve', 'execute', 'validate'] },
    requester: {
      type: 'object',
      required: ['agent_id', 'session_id'],
      properties: { agent_id: { type: 'string' }, session_id: uuid, parent_session_id: { type: ['string', 'null'], format: 'uuid' } },
    },
    task: {
      type: 'object',
      required: ['goal'],
      properties: { goal: { type: 'string' }, risk_tier: riskTier, context_hints: strings, required_capabilities: strings },
    },
    execution: {
      type: 'object',
      required: ['resolution_id', 'action_id', 'parameters'],
      properties: {
        resolution_id: uuid,
        action_id: { type: 'string' },
        parameters: { type: 'object' },
        idempotency_key: { type: ['string', 'null'] },
      },
    },
    atlas_ids: strings,
    context: { type: 'object' },
  },
} as const;

/** A CARP request, nested or flat: the core validates it (on the raw CARP routes, errors point into the body). */
export const CarpRequestBody = z.looseObject({}).openapi('CarpRequest', carpRequestDoc as never);

export const ResolveOptionsBody = z.looseObject({}).openapi('ResolveRequest', {
  description:
    'What to resolve for this session: the session fills in requester, ids and time. Either these fields, all ' +
    'optional, or a full CARP request (with `carp_version`) for this session.',
  properties: {
    goal: { type: 'string', description: "Default: the session's goal" },
    risk_tier: riskTier,
    context_hints: strings,
    required_capabilities: strings,
    atlas_ids: { ...strings, description: 'Default: every loaded atlas' },
    context: { type: 'object' },
    request_id: { ...uuid, description: 'Default: a fresh id' },
    timestamp: { type: 'string', format: 'date-time', description: 'Default: the server clock' },
  },
} as never);

export const ResolutionSchema = z
  .looseObject({
    carp_version: z.literal('1.0'),
    resolution_id: z.string(),
    request_id: z.string(),
    timestamp: z.string(),
    decision: z.object({
      type: z.enum(['allow', 'deny', 'partial', 'requires_approval']),
      reason: z.string().nullable(),
      approval_id: z.string().nullable(),
      expires_at: z.string().nullable(),
    }),
    context_blocks: z.array(jsonObject),
    allowed_actions: z.array(jsonObject),
    denied_actions: z.array(jsonObject),
    constraints: z.array(jsonObject),
    ttl_seconds: z.number().int(),
    trace_id: z.string(),
  })
  .openapi('Resolution');

const SchemaErrorSchema = z.object({ path: z.string(), message: z.string() }).openapi('SchemaError');

export const ScopeViolationSchema = z
  .object({
    policy_id: z.string(),
    parameter: z.string(),
    path: z.string().openapi({ description: 'JSON pointer of the parameter', example: '/amount' }),
    constraint: z.string().openapi({ description: '`max`, `allowed_values` or `number` (a bounded parameter that is no number)' }),
    limit: z.number().optional().openapi({ description: 'The maximum (`max`, `number`); live answers only' }),
    allowed: z.array(z.unknown()).optional().openapi({ description: 'The allowed values (`allowed_values`); live answers only' }),
    value: z.unknown().optional().openapi({ description: 'The offending value; live answers only (the trace keeps no parameters)' }),
    message: z.string().openapi({ example: '`amount` exceeds the maximum 500' }),
  })
  .openapi('ScopeViolation');

export const RefusalDetailsSchema = z
  .object({
    code: z.string().openapi({
      description:
        'unknown_action, not_in_resolution, resolution_expired, resolution_stale, atlas_unloaded, policy_denied, ' +
        'default_deny, rate_limited, budget_exhausted, approval_denied, invalid_parameters, scope_violation',
      example: 'scope_violation',
    }),
    action_id: z.string().optional().openapi({ description: 'unknown_action, not_in_resolution' }),
    closest: z.array(z.string()).optional().openapi({ description: 'unknown_action: up to 3 known action ids, nearest first' }),
    policy_id: z.string().optional().openapi({ description: 'The policy that refused' }),
    retry_after_seconds: z.number().int().optional(),
    approver: z.string().optional(),
    errors: z.array(SchemaErrorSchema).optional().openapi({ description: 'Every schema error of the parameters' }),
    violations: z.array(ScopeViolationSchema).optional().openapi({ description: 'Every scope problem, of every scope policy' }),
  })
  .openapi('RefusalDetails', { description: 'Why an execution was refused, as data a model can act on' });

export const ExecutionSchema = z
  .object({
    execution_id: z.string(),
    session_id: z.string(),
    resolution_id: z.string(),
    action_id: z.string(),
    status: z.enum(['pending_approval', 'approved', 'denied', 'violated', 'executed', 'failed']),
    parameters_hash: z.string(),
    approval_hash: z.string().nullable(),
    reason: z.string().nullable(),
    policy_id: z.string().nullable(),
    created_at: z.string(),
    retry_after_seconds: z.number().int().optional().openapi({ description: 'Seconds until a rate-limited action may be asked again' }),
    details: RefusalDetailsSchema.nullable().openapi({ description: 'Set when `denied` or `violated`: why, as data' }),
  })
  .openapi('Execution');

export const ExecutionRefusedSchema = z
  .object({
    error: ErrorSchema.shape.error.extend({
      details: RefusalDetailsSchema.optional().openapi({ description: "The execution's refusal details" }),
    }),
    execution: ExecutionSchema.optional().openapi({ description: 'The refused execution (absent for other errors of the status)' }),
  })
  .openapi('ExecutionRefused');

export const CarpResultSchema = z
  .object({ resolution: ResolutionSchema.optional(), execution: ExecutionSchema.optional() })
  .openapi('CarpResult');

export const CheckSchema = z
  .object({
    result: z.enum(Object.keys(CHECK_CODES) as [CheckResult, ...CheckResult[]]),
    code: z.number().int(),
    allowed: z.boolean(),
    closest: z.array(z.string()).optional().openapi({ description: 'unknown_action: up to 3 known action ids, nearest first' }),
  })
  .openapi('CheckAnswer');

// ---------------------------------------------------------------------------------------------------------------
// Actions

export const ActionRequestBody = z
  .object({
    action_id: z.string().optional().openapi({ description: 'Required' }),
    parameters: jsonObject.nullish(),
    resolution_id: z.string().nullish().openapi({ description: "Default: the session's latest resolution" }),
    idempotency_key: z.string().nullish(),
  })
  .openapi('ActionRequest');

export const ApproveBody = z
  .object({
    approver: z.string().nullish(),
    approval_hash: z.string().nullish().openapi({ description: "The execution's approval_hash (binds the approval to the exact call)" }),
  })
  .openapi('ApproveRequest');

export const DenyBody = z.object({ reason: z.string().nullish(), approver: z.string().nullish() }).openapi('DenyRequest');

export const CompleteBody = z
  .object({
    result: z.unknown().optional().openapi({ description: "The tool's result; only its hash is traced" }),
    duration_ms: z.number().nullish(),
  })
  .openapi('CompleteRequest');

export const FailBody = z
  .object({ error_code: z.string(), error_message: z.string(), duration_ms: z.number().nullish() })
  .openapi('FailRequest');

export const RecordBody = z
  .object({ event_type: z.string().openapi({ example: 'error.occurred' }), payload: jsonObject })
  .openapi('RecordRequest');

// ---------------------------------------------------------------------------------------------------------------
// Traces

export const TraceEventSchema = z
  .object({
    trace_version: z.literal('1.0'),
    event_id: z.string(),
    trace_id: z.string(),
    span_id: z.string(),
    parent_span_id: z.string().nullable(),
    session_id: z.string(),
    sequence: z.number().int(),
    timestamp: z.string(),
    event_type: z.string(),
    payload: jsonObject,
    event_hash: z.string(),
    previous_event_hash: z.string(),
  })
  .openapi('TraceEvent');

export const TraceSchema = z.array(TraceEventSchema).openapi('Trace');

export const TraceQuery = z.object({
  since_sequence: z.coerce.number().int().min(-1).optional().openapi({ description: 'Only events with a greater sequence' }),
  limit: z.coerce.number().int().min(1).optional(),
  event_type: z.string().optional(),
});

export const StreamQuery = z.object({
  since_sequence: z.coerce
    .number()
    .int()
    .min(-1)
    .optional()
    .openapi({ description: 'Only events with a greater sequence (also the Last-Event-ID header)' }),
});

export const VerifySchema = z
  .object({
    valid: z.boolean(),
    length: z.number().int().optional(),
    head_hash: z.string().optional(),
    index: z.number().int().optional(),
    reason: z.string().optional(),
    detail: z.enum(['missing_events', 'duplicated_event', 'out_of_order']).optional().openapi({
      description: 'For a sequence_gap: events missing before index, index repeating the previous event, or neither',
    }),
  })
  .openapi('VerifyResult');

export const ReplaySchema = z
  .object({
    identical: z.boolean(),
    divergences: z.array(z.unknown()),
    original_length: z.number().int(),
    replayed_length: z.number().int(),
    events: z.array(TraceEventSchema),
  })
  .openapi('ReplayResult');

export const DiffBody = z.object({ a: z.array(jsonObject), b: z.array(jsonObject) }).openapi('DiffRequest');

export const DiffSchema = z
  .object({
    identical: z.boolean(),
    differences: z.array(z.object({ index: z.number().int(), kind: z.string(), event_type: z.string(), paths: z.array(z.string()) })),
  })
  .openapi('DiffResult');

// ---------------------------------------------------------------------------------------------------------------
// Atlases

export const AtlasBody = z.looseObject({}).openapi('AtlasLoadRequest', {
  description:
    'An Atlas/1.0 manifest, or a bundle `{manifest, files?, replace?}` where `files` maps the context-pack paths of ' +
    'the manifest to their text. The core validates the manifest (errors point into it).',
  properties: {
    manifest: { type: 'object' },
    files: { type: 'object', additionalProperties: { type: 'string' } },
    replace: { type: 'boolean', description: 'Replace a loaded atlas with the same id' },
  },
} as never);

export const AtlasLoadQuery = z.object({
  replace: z.enum(['true', 'false']).optional().openapi({ description: 'Replace a loaded atlas with the same id' }),
});

export const AtlasSummarySchema = z
  .object({ atlas_id: z.string(), version: z.string(), name: z.string(), description: z.string(), action_count: z.number().int() })
  .openapi('AtlasSummary');

export const AtlasListSchema = z.object({ items: z.array(AtlasSummarySchema), total: z.number().int() }).openapi('AtlasList');

const ErrorInfoSchema = z.object({ code: z.string(), message: z.string(), path: z.string().nullable() });

export const AtlasLoadResultSchema = z
  .object({
    atlas_id: z.string(),
    version: z.string(),
    name: z.string(),
    action_count: z.number().int(),
    warnings: z.array(ErrorInfoSchema),
  })
  .openapi('AtlasLoadResult');

export const AtlasValidationSchema = z
  .object({ valid: z.boolean(), errors: z.array(ErrorInfoSchema), warnings: z.array(ErrorInfoSchema) })
  .openapi('AtlasValidation');

export const AtlasManifestSchema = z.looseObject({
  atlas_version: z.literal('1.0'),
  atlas_id: z.string(),
  version: z.string(),
  name: z.string(),
  description: z.string(),
}).openapi('AtlasManifest');
