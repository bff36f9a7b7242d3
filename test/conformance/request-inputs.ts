// Generated CARP requests for the differential test, against one runtime whose state they fit: `validRequest`
// writes requests every documented rule accepts (the nested form of the schema; the session, resolution and clock
// of the runtime they are sent to), and `mutatedRequest` changes one value of such a request.

import fc from 'fast-check';
import { type Json, type JsonObj, type Path, tricky, pickMutation, applyMutation, type Mutation } from './mutate.ts';

/** The atlas the requests are resolved against: an allowed, a denied and an approval-gated action, and context. */
export const requestAtlas = {
  atlas_version: '1.0',
  atlas_id: 'com.example.desk',
  version: '1.0.0',
  name: 'Desk',
  description: 'Tickets',
  capabilities: [{ capability_id: 'tickets', name: 'Tickets', actions: ['ticket.*'], context_packs: ['guide'] }],
  context_packs: [
    { pack_id: 'guide', name: 'Guide', files: ['context/guide.md'] },
    { pack_id: 'always', name: 'Always', files: ['context/always.md', 'context/data.json'], priority: 500 },
  ],
  actions: [
    {
      action_id: 'ticket.lookup',
      name: 'Look up',
      description: 'Find a ticket',
      parameters_schema: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
      rate_limit: { max_calls: 1000, window_seconds: 60 },
    },
    { action_id: 'ticket.close', name: 'Close', description: 'Close a ticket', risk_tier: 'high' },
    { action_id: 'ticket.delete', name: 'Delete', description: 'Delete a ticket', risk_tier: 'critical' },
    {
      action_id: 'ticket.refund',
      name: 'Refund',
      description: 'Refund',
      parameters_schema: { type: 'object', properties: { amount: { type: 'integer' } } },
    },
  ],
  policies: [
    { policy_id: 'allow-tickets', type: 'allow', actions: ['ticket.*'] },
    { policy_id: 'no-delete', type: 'deny', actions: ['ticket.delete'], parameters: { reason: 'never' } },
    { policy_id: 'approve-close', type: 'require_approval', actions: ['ticket.close'] },
    { policy_id: 'refund-cap', type: 'scope', actions: ['ticket.refund'], parameters: { max: { amount: 100 } } },
    { policy_id: 'refund-budget', type: 'budget', actions: ['ticket.refund'], parameters: { max_calls: 1000 } },
  ],
} as const;

export const requestAtlasFiles = {
  'context/guide.md': '# Guide\nBe kind.',
  'context/always.md': 'Always read this.',
  'context/data.json': '{"plan":"pro"}',
};

/** What a request must agree with: the session it is for and a resolution of it to execute against. */
export interface RequestState {
  sessionId: string;
  agentId: string;
  resolutionId: string;
  /** The runtime's clock, an RFC 3339 string. */
  now: string;
}

const tiers = ['low', 'medium', 'high', 'critical'] as const;
const text = fc.string({ maxLength: 12 });
const goal = fc.string({ minLength: 1, maxLength: 30 }).filter((s) => [...s].length > 0);
const uuid = fc.uuid({ version: 7 });

function task(): fc.Arbitrary<JsonObj> {
  return fc
    .record(
      {
        goal,
        risk_tier: fc.constantFrom(...tiers),
        context_hints: fc.array(text, { maxLength: 2 }),
        required_capabilities: fc.constantFrom([], ['tickets']),
      },
      { requiredKeys: ['goal'] },
    )
    .map((t) => t as unknown as JsonObj);
}

const context = fc.oneof(
  fc.dictionary(fc.stringMatching(/^[a-z_]{1,8}$/), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 }),
  fc.integer({ min: 0, max: 20_000 }).map((n) => ({ max_context_tokens: n })),
);

/** A request that every documented rule accepts in `state`. */
export function validRequest(state: RequestState): fc.Arbitrary<JsonObj> {
  const requester = fc.record(
    { agent_id: fc.constant(state.agentId), session_id: fc.constant(state.sessionId), parent_session_id: fc.oneof(fc.constant(null), uuid) },
    { requiredKeys: ['agent_id', 'session_id'] },
  );
  const common = {
    carp_version: fc.constant('1.0'),
    request_id: uuid,
    timestamp: fc.constant(state.now),
    requester,
    atlas_ids: fc.constantFrom([], ['com.example.desk']),
    context,
  };
  const resolveLike = fc.record(
    { ...common, operation: fc.constantFrom('resolve', 'validate'), task: task() },
    { requiredKeys: ['carp_version', 'request_id', 'timestamp', 'operation', 'requester', 'task'] },
  );
  const execution = fc.oneof(
    fc.record(
      {
        resolution_id: fc.constant(state.resolutionId),
        action_id: fc.constant('ticket.lookup'),
        parameters: text.map((query) => ({ query })),
        idempotency_key: fc.oneof(fc.constant(null), fc.string({ minLength: 1, maxLength: 20 })),
      },
      { requiredKeys: ['resolution_id', 'action_id', 'parameters'] },
    ),
    fc.record({
      resolution_id: fc.constant(state.resolutionId),
      action_id: fc.constant('ticket.refund'),
      parameters: fc.integer({ min: 0, max: 100 }).map((amount) => ({ amount })),
    }),
  );
  const execute = fc.record(
    { ...common, operation: fc.constant('execute'), task: task(), execution },
    { requiredKeys: ['carp_version', 'request_id', 'timestamp', 'operation', 'requester', 'task', 'execution'] },
  );
  // The reference runtime's flat form, which the schema does not describe (docs/protocol.md, `flat-form`).
  const flat = fc.record(
    { carp_version: fc.constant('1.0'), request_id: uuid, session_id: fc.constant(state.sessionId), agent_id: fc.constant(state.agentId), goal, risk_tier: fc.constantFrom(...tiers) },
    { requiredKeys: ['session_id', 'agent_id', 'goal'] },
  );
  return fc.oneof({ weight: 6, arbitrary: resolveLike }, { weight: 2, arbitrary: execute }, { weight: 1, arbitrary: flat }) as unknown as fc.Arbitrary<JsonObj>;
}

/** A valid request with one thing changed, and what was changed. */
export function mutatedRequest(state: RequestState): fc.Arbitrary<{ input: JsonObj; mutation: Mutation }> {
  const table = requestTricky(state);
  return fc.tuple(validRequest(state), fc.nat(), fc.nat(), fc.nat()).map(([request, where, how, which]) => {
    const mutation = pickMutation(request, where, how, which, table, requestSlots);
    return { input: applyMutation(request, mutation) as JsonObj, mutation };
  });
}

function requestSlots(request: JsonObj): Path[] {
  const slots: Path[] = [['context', 'max_context_tokens'], ['requester', 'parent_session_id']];
  if (request.execution) slots.push(['execution', 'idempotency_key']);
  return slots;
}

/** Values that validators are known to read differently, by member name; timestamps are near the runtime's clock. */
function requestTricky(state: RequestState): Record<string, Json[]> {
  const now = state.now; // e.g. 2026-06-30T23:59:30.000000Z: a leap second is then within the allowed skew
  const day = now.slice(0, 10);
  return {
    ...tricky,
    carp_version: ['1.0', '1.1', '1'],
    operation: ['resolve', 'validate', 'execute', 'Resolve'],
    request_id: ['not-a-uuid', '', `urn:uuid:${state.resolutionId}`, state.resolutionId.toUpperCase()],
    session_id: [state.sessionId.toUpperCase(), `urn:uuid:${state.sessionId}`, 'x'],
    parent_session_id: [null, 'x', `urn:uuid:${state.sessionId}`],
    resolution_id: [`urn:uuid:${state.resolutionId}`, state.resolutionId.toUpperCase(), 'x'],
    timestamp: [
      `${day}T23:59:60Z`,
      `${day} 23:59:30Z`,
      `${day}T23:59:30.1234567891Z`,
      `${day}T23:59:30.123456789123456789Z`,
      `${day}t23:59:30z`,
      `${day}T23:59:30`,
      `${day}T23:59:30+0000`,
      `${day}T23:59:30+00`,
      `${day}T23:59:30+00:00`,
      `${day}T21:59:30-02:00`,
      '2020-01-01T00:00:00Z',
    ],
    agent_id: ['', 'a'.repeat(255), 'a'.repeat(256), 'someone-else'],
    goal: ['', 'g'.repeat(10_000), 'g'.repeat(10_001), 'x\udc00'],
    risk_tier: ['low', 'LOW', 'extreme'],
    atlas_ids: [['com.example.desk'], ['com.example.unknown'], ['Bad'], []],
    required_capabilities: [['tickets'], ['nope'], []],
    max_context_tokens: [0, 100, -1, 1.5, 'x', 1e21, null],
    idempotency_key: ['', 'k'.repeat(255), 'k'.repeat(256), null],
    action_id: ['ticket.lookup', 'ticket.delete', 'ticket.close', 'ticket.nothing', 'Ticket.lookup'],
    query: [7, ''],
    amount: [1000, -1, 1.5],
  };
}
