// Generated atlas manifests for the differential test: `validAtlas` follows every rule of the schema and of
// docs/protocol.md, and `mutatedAtlas` changes one value of such a manifest (a member removed or added, a value of
// another type, or one of the spellings that validators are known to read differently).

import fc from 'fast-check';
import { type Json, type JsonObj, type Path, tricky, pickMutation, applyMutation, type Mutation } from './mutate.ts';

const seg = fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/);
const atlasSeg = fc.stringMatching(/^[a-z][a-z0-9-]{0,5}$/);
const text = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ maxLength: 6, unit: 'grapheme' }));
const nonEmpty = text.filter((s) => [...s].length > 0);
const tiers = ['low', 'medium', 'high', 'critical'] as const;
const days = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const zones = ['UTC', 'Etc/UTC', 'Europe/Paris', 'America/New_York', 'Asia/Tokyo', 'Australia/Sydney', '+02:00', '-05:30'];

const atlasId = fc.tuple(seg, fc.array(atlasSeg, { minLength: 1, maxLength: 2 })).map(([a, rest]) => [a, ...rest].join('.'));
const actionId = fc.tuple(seg, fc.array(seg, { minLength: 1, maxLength: 2 })).map(([a, rest]) => [a, ...rest].join('.'));
const capabilityId = fc.tuple(seg, fc.array(seg, { maxLength: 2 })).map(([a, rest]) => [a, ...rest].join('.'));
const semver = fc.oneof(
  fc.tuple(fc.nat(20), fc.nat(20), fc.nat(20)).map(([a, b, c]) => `${a}.${b}.${c}`),
  fc.constantFrom('1.0.0-alpha.1', '2.1.0-rc.2+build.7', '0.0.1+sha.5114f85', '10.20.30-x-y-z.0'),
);
const uri = fc.oneof(
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc.constantFrom('https://example.com/atlas', 'mailto:team@example.com', 'urn:isbn:0451450523', 'http://[::1]:8080/x?y#z', 'file:///srv/atlas'),
);
const timeOfDay = fc
  .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 59 }), fc.constantFrom('Z', '+00:00', '+02:00', '-05:30'))
  .map(([h, m, s, z]) => `${pad(h)}:${pad(m)}:${pad(s)}${z}`);
const someTiers = fc.subarray([...tiers], { minLength: 1 });

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** Only present members: `undefined` members are dropped, as JSON.stringify would. */
function clean<T extends Record<string, unknown>>(o: T): JsonObj {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as JsonObj;
}

const conditions: fc.Arbitrary<JsonObj> = fc
  .record(
    {
      risk_tiers: someTiers,
      agents: fc.array(fc.constantFrom('agent-*', 'support-bot', '*'), { maxLength: 2 }),
      capabilities: fc.array(capabilityId, { maxLength: 2 }),
      context_matches: fc.dictionary(fc.stringMatching(/^[a-z_]{1,6}$/), text, { maxKeys: 2 }),
      time_window: fc
        .record({ start: timeOfDay, end: timeOfDay, timezone: fc.constantFrom(...zones), days: fc.subarray([...days]) }, { requiredKeys: [] })
        .map(clean),
    },
    { requiredKeys: [] },
  )
  .map(clean);

const example = fc.record(
  { name: text, parameters: fc.dictionary(seg, fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 }), expected_result: fc.constant({ ok: true }) },
  { requiredKeys: [] },
);

const parametersSchema = fc.constantFrom(
  { type: 'object', properties: { query: { type: 'string' } } },
  { type: 'object', properties: { amount: { type: 'integer', minimum: 0 } }, required: ['amount'] },
  {},
);

const action = fc
  .record(
    {
      action_id: actionId,
      name: text,
      description: text,
      parameters_schema: parametersSchema,
      returns_schema: fc.constant({ type: 'object' }),
      risk_tier: fc.constantFrom(...tiers),
      idempotent: fc.boolean(),
      requires_confirmation: fc.boolean(),
      executor: text,
      timeout_seconds: fc.integer({ min: 1, max: 300 }),
      rate_limit: fc.record({ max_calls: fc.integer({ min: 1, max: 100 }), window_seconds: fc.integer({ min: 1, max: 3600 }) }),
      examples: fc.array(example, { maxLength: 2 }),
    },
    { requiredKeys: ['action_id', 'name', 'description'] },
  )
  .map(clean);

function patternsOf(ids: string[]): fc.Arbitrary<string[]> {
  const exact = ids.length > 0 ? fc.constantFrom(...ids) : fc.constant('*');
  const prefix = ids.length > 0 ? fc.constantFrom(...ids).map((id) => `${id.split('.')[0]}.*`) : fc.constant('*');
  const suffix = ids.length > 0 ? fc.constantFrom(...ids).map((id) => `*.${id.split('.').at(-1)}`) : fc.constant('*');
  return fc.array(fc.oneof(exact, exact, prefix, suffix, fc.constant('*')), { maxLength: 3 });
}

function policy(ids: string[]): fc.Arbitrary<JsonObj> {
  const base = {
    policy_id: nonEmpty,
    name: text,
    description: text,
    priority: fc.integer({ min: -1000, max: 1000 }),
    conditions,
    actions: patternsOf(ids),
  };
  const typed = fc.oneof(
    fc.record({ type: fc.constantFrom('allow', 'deny', 'require_approval'), parameters: fc.oneof(fc.constant({}), text.map((reason) => ({ reason }))) }, { requiredKeys: ['type'] }),
    fc.record({
      type: fc.constant('rate_limit'),
      parameters: fc.record(
        { max_calls: fc.integer({ min: 1, max: 50 }), window_seconds: fc.integer({ min: 1, max: 3600 }), scope: fc.constantFrom('session', 'agent', 'global') },
        { requiredKeys: ['max_calls', 'window_seconds'] },
      ),
    }),
    fc.record({
      type: fc.constant('budget'),
      parameters: fc.oneof(
        fc.record({ max_calls: fc.integer({ min: 0, max: 50 }) }),
        fc.record({ max_cost: fc.integer({ min: 0, max: 500 }), cost_param: fc.constantFrom('amount', 'cost') }),
      ),
    }),
    fc.record({
      type: fc.constant('scope'),
      parameters: fc.oneof(
        fc.record({ allowed_values: fc.dictionary(seg, fc.array(fc.jsonValue({ maxDepth: 0 }), { maxLength: 3 }), { minKeys: 1, maxKeys: 2 }) }),
        fc.record({ max: fc.dictionary(seg, fc.integer({ min: 0, max: 1000 }), { minKeys: 1, maxKeys: 2 }) }),
      ),
    }),
  );
  return fc.tuple(fc.record(base, { requiredKeys: ['policy_id'] }), typed).map(([b, t]) => clean({ ...b, ...t }));
}

function pack(): fc.Arbitrary<JsonObj> {
  return fc
    .record(
      {
        pack_id: nonEmpty,
        name: text,
        description: text,
        files: fc.uniqueArray(seg.map((s) => `context/${s}.md`), { minLength: 1, maxLength: 2 }),
        priority: fc.integer({ min: 0, max: 1000 }),
        conditions,
        max_tokens: fc.integer({ min: 0, max: 10_000 }),
      },
      { requiredKeys: ['pack_id', 'name', 'files'] },
    )
    .map(clean);
}

function capability(ids: string[], packIds: string[]): fc.Arbitrary<JsonObj> {
  return fc
    .record(
      {
        capability_id: capabilityId,
        name: text,
        description: text,
        actions: patternsOf(ids),
        context_packs: fc.subarray(packIds),
      },
      { requiredKeys: ['capability_id', 'name'] },
    )
    .map(clean);
}

/** A manifest that every documented rule accepts. */
export const validAtlas: fc.Arbitrary<JsonObj> = fc
  .tuple(
    fc.uniqueArray(action, { selector: (a) => a.action_id, maxLength: 4 }),
    fc.uniqueArray(pack(), { selector: (p) => p.pack_id, maxLength: 2 }),
  )
  .chain(([actions, packs]) => {
    const ids = actions.map((a) => a.action_id as string);
    const packIds = packs.map((p) => p.pack_id as string);
    return fc
      .record(
        {
          atlas_version: fc.constant('1.0'),
          atlas_id: atlasId,
          version: semver,
          name: nonEmpty,
          description: text,
          authors: fc.array(text, { maxLength: 2 }),
          license: fc.constantFrom('MIT', 'Apache-2.0'),
          homepage: uri,
          repository: uri,
          domains: fc.array(text, { maxLength: 2 }),
          capabilities: fc.uniqueArray(capability(ids, packIds), { selector: (c) => c.capability_id, maxLength: 3 }),
          context_packs: fc.constant(packs),
          policies: fc.uniqueArray(policy(ids), { selector: (p) => p.policy_id, maxLength: 4 }),
          actions: fc.constant(actions),
          adapters: fc.constantFrom(
            { slack: { enabled: true, settings: { channel: '#ops' } } },
            { custom: { anything: [1, 2] } },
            { openai: { enabled: true, settings: { tool_names: Object.fromEntries(ids.map((id, i) => [id, `tool_${i}`])) } } },
          ),
          metadata: fc.dictionary(seg, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }),
        },
        { requiredKeys: ['atlas_version', 'atlas_id', 'version', 'name', 'description', 'context_packs', 'actions'] },
      )
      .map(clean);
  });

/** A valid manifest with one thing changed, and what was changed. */
export const mutatedAtlas: fc.Arbitrary<{ input: JsonObj; mutation: Mutation }> = fc
  .tuple(validAtlas, fc.nat(), fc.nat(), fc.nat())
  .map(([atlas, where, how, which]) => {
    const mutation = pickMutation(atlas, where, how, which, atlasTricky, atlasSlots);
    return { input: applyMutation(atlas, mutation) as JsonObj, mutation };
  });

/** Optional members a mutation may add where the manifest has none. */
function atlasSlots(atlas: JsonObj): Path[] {
  const list = (key: string) => (Array.isArray(atlas[key]) ? (atlas[key] as Json[]) : []);
  return [
    ['dependencies'],
    ['homepage'],
    ...list('policies').map((_, i): Path => ['policies', i, 'reason']),
    ...list('actions').flatMap((_, i): Path[] => [['actions', i, 'examples'], ['actions', i, 'rate_limit']]),
    ...list('capabilities').map((_, i): Path => ['capabilities', i, 'context_packs']),
  ];
}

/** Values that validators are known to read differently, by member name. */
export const atlasTricky: Record<string, Json[]> = {
  ...tricky,
  atlas_id: ['Com.example', 'com', 'com.example.', 'com.ex_ample', 'com.-x', '1com.x', 'com.1x', 'com.x-'],
  action_id: ['ticket', 'Ticket.lookup', 'ticket.look-up', 'ticket.1x', 'ticket..x', 'a.b.c'],
  capability_id: ['a', 'A', 'a.b-c', 'a..b', '', 'a.1'],
  version: ['1.0', '01.0.0', '1.0.0-alpha.01', '1.0.0-alpha.1', '1.0.0+build.1', 'v1.0.0', '1.0.0-', '1.0.0-0a', '1.0.0+'],
  homepage: uris(),
  repository: uris(),
  start: times(),
  end: times(),
  timezone: ['UTC', 'utc', 'Europe/Paris', 'europe/paris', 'US/Eastern', 'Etc/GMT+5', 'Mars/Olympus', '+02:00', '+0200', 'UTC+02:00', '', 'GMT', 'Asia/Calcutta', 'Europe/Kiev'],
  priority: [-1, 0, 1000, 1001, 1.5, 1e21, 2 ** 53 + 2, 100.0],
  max_tokens: [-1, 0, 1.5, 1e21, 2 ** 53 + 2],
  timeout_seconds: [0, 1, 300, 301, 1.5, 1e21],
  max_calls: [0, 1, -1, 1.5, 1e21],
  window_seconds: [0, 1, 1.5, 1e21],
  type: ['allow', 'deny', 'requires_approval', 'approve', 'Allow', 'rate_limit', 'budget', 'scope'],
  risk_tier: ['low', 'LOW', 'extreme'],
  pack_id: ['', 'x'.repeat(201), 'a/b', ' '],
  policy_id: ['', 'p'.repeat(201), 'default', ' '],
  name: ['', 'n'.repeat(101), 'ok', 'a\ud800'],
  description: ['d'.repeat(1001), ''],
  files: [['../x.md'], ['/abs.md'], ['a\\b.md'], [''], []],
  context_packs: [['no-such-pack'], []],
  actions: [[''], ['*'], ['nothing.here'], ['a*b'], []],
  scope: ['session', 'agent', 'global', 'world'],
  days: [['mon'], ['Mon'], ['monday'], []],
  risk_tiers: [['low'], ['LOW'], []],
  examples: [[{ name: 7, parameters: true }], [{}], [7], [{ name: 'x', expected_result: [] }]],
  rate_limit: [{ max_calls: 1 }, { window_seconds: 1 }, {}, { max_calls: 1, window_seconds: 1, burst: 2 }],
  reason: ['because'],
  dependencies: [{ 'com.example.other': '^1.0.0' }, { 'com.example.other': 'one' }, { NotAnId: '*' }],
  tool_names: [{ 'no.such.action': 'tool' }, {}],
};

function uris(): Json[] {
  return [
    'https://ex ample.com/é', 'https://example.com/a%2', 'https://example.com/a%2f', 'mailto:a@b.c', 'urn:isbn:0451450523',
    'http://[::1]:8080/x?y#z', 'http://[v1.x]/', 'file:///tmp/x', '//example.com', 'example.com', 'http://[::1',
    'http://[1:2:3:4:5:6:7:8:9]/', 'https://example.com/é', 'HTTP://EXAMPLE.COM', 'a:b', 'a:', 'https://example.com:80a/',
    'https://user@example.com/', 'https://example.com/#a#b', 'https://example.com/?q=a b', 'x-y+z.w://h',
  ];
}

function times(): Json[] {
  return [
    '24:00', '24:00:00Z', '09:00', '09:00:00', '09:00:00Z', '09:00:00+01:00', '09:00:00+0100', '09:00:00+01', '23:59:60Z',
    '23:59:60+00:00', '12:59:60Z', '9:00:00Z', '09:60:00Z', '09:00:00.123Z', '09:00+01:00', '25:00:00Z', '09:00:00z', '',
  ];
}
