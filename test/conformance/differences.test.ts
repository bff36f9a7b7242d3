// One minimal example of each decided difference between the runtime and the protocol's JSON Schemas, in both
// modes (embedded, and the HTTP client against the real server over loopback). The differential test finds them
// on generated inputs; these pin each decision down (docs/protocol.md, "Where this runtime differs from the
// schemas").

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CraError } from '../../sdk/src/errors.ts';
import type { CraRuntime, CraSession } from '../../sdk/src/interface.ts';
import { createRuntime } from '../../sdk/src/runtime/runtime.ts';
import type { AtlasValidation, JsonObject } from '../../sdk/src/types.ts';
import { testServerClient } from '../../server/src/testing.ts';
import { requestAtlas, requestAtlasFiles } from './request-inputs.ts';

const base = { atlas_version: '1.0', atlas_id: 'com.example.items', version: '1.0.0', name: 'Items', description: '' };
const action = { action_id: 'office.open', name: 'Open', description: '' };

async function rejection(p: Promise<unknown>): Promise<CraError> {
  const err = await p.then(() => new Error('expected a rejection'), (e: unknown) => e);
  expect(err).toBeInstanceOf(CraError);
  return err as CraError;
}

function paths(v: AtlasValidation, kind: 'errors' | 'warnings' = 'errors'): string[] {
  return v[kind].map((e) => e.path ?? '');
}

const modes: Array<[string, () => Promise<CraRuntime>]> = [
  ['embedded', () => createRuntime()],
  ['http', () => testServerClient()],
];

describe.each(modes)('decided differences from the schemas (%s)', (_mode, make) => {
  let rt: CraRuntime;
  let session: CraSession;
  let resolutionId: string;

  beforeAll(async () => {
    rt = await make();
    await rt.loadAtlas({ manifest: requestAtlas as never, files: requestAtlasFiles });
    session = await rt.createSession({ agentId: 'agent-1', goal: 'tickets' });
    resolutionId = (await session.resolve({ goal: 'tickets' })).resolution_id;
  });
  afterAll(async () => {
    await rt?.close();
  });

  const validate = (manifest: JsonObject) => rt.validateAtlas(manifest as never);
  const request = (over: JsonObject = {}, task: JsonObject = { goal: 'tickets' }): JsonObject => ({
    carp_version: '1.0',
    request_id: crypto.randomUUID(),
    timestamp: new Date().toISOString(),
    operation: 'resolve',
    requester: { agent_id: 'agent-1', session_id: session.id },
    task,
    ...over,
  });

  it('1. null is not an absent member: refused where the schema does not allow it, read as absent where it does', async () => {
    for (const [key, value] of [['license', null], ['actions', null]] as const) {
      const v = await validate({ ...base, [key]: value });
      expect(v.valid).toBe(false);
      expect(paths(v)).toEqual([`/${key}`]);
      expect(v.errors[0]!.message).toMatch(/null/);
    }
    const nested = await validate({ ...base, actions: [{ ...action, risk_tier: null }] });
    expect(paths(nested)).toEqual(['/actions/0/risk_tier']);
    for (const [over, task, at] of [
      [{ context: null }, undefined, '/context'],
      [{ atlas_ids: null }, undefined, '/atlas_ids'],
      [{}, { goal: 'tickets', risk_tier: null }, '/task/risk_tier'],
    ] as const) {
      const err = await rejection(rt.carp(request(over as JsonObject, task as JsonObject | undefined)));
      expect([err.code, err.path]).toEqual(['invalid_request', at]);
    }
    // `parent_session_id` and `idempotency_key` are `["string", "null"]` in the schema.
    const ok = await rt.carp(request({ requester: { agent_id: 'agent-1', session_id: session.id, parent_session_id: null } }));
    expect(ok.resolution?.decision.type).toBeDefined();
    const executed = await rt.carp(
      request({ operation: 'execute', execution: { resolution_id: resolutionId, action_id: 'ticket.lookup', parameters: { query: 'a' }, idempotency_key: null } }),
    );
    expect(executed.execution?.status).toBe('approved');
  });

  it('2. homepage and repository must be RFC 3986 URIs', async () => {
    for (const bad of ['https://ex ample.com/é', 'https://example.com/a%2', 'example.com', 'http://[::1']) {
      const v = await validate({ ...base, homepage: bad, repository: bad });
      expect(paths(v), bad).toEqual(['/homepage', '/repository']);
    }
    for (const good of ['https://example.com/atlas?x=1#top', 'urn:isbn:0451450523', 'mailto:team@example.com', 'http://[::1]:8080/']) {
      expect((await validate({ ...base, homepage: good })).valid, good).toBe(true);
    }
  });

  it('3. the members of actions[].examples[] are type-checked', async () => {
    const v = await validate({ ...base, actions: [{ ...action, examples: [{ name: 7, parameters: true }, { name: 'ok', parameters: {}, expected_result: {} }] }] });
    expect(paths(v)).toEqual(['/actions/0/examples/0/name', '/actions/0/examples/0/parameters']);
  });

  it('4. a time-window bound of 24:00 is refused; HH:MM without seconds or offset is read (documented)', async () => {
    const window = (end: string) => ({
      ...base,
      actions: [action],
      policies: [{ policy_id: 'hours', type: 'allow', actions: ['office.open'], conditions: { time_window: { start: '18:00', end } } }],
    });
    const v = await validate(window('24:00'));
    expect(paths(v)).toEqual(['/policies/0/conditions/time_window/end']);
    expect(v.errors[0]!.message).toMatch(/00:00/);
    expect((await validate(window('00:00'))).valid).toBe(true);
    expect((await validate(window('23:30'))).valid).toBe(true);
  });

  it('5. an unknown pack in capabilities[].context_packs is a warning, like an unknown action reference', async () => {
    const v = await validate({
      ...base,
      context_packs: [{ pack_id: 'guide', name: 'Guide', files: ['context/guide.md'] }],
      capabilities: [{ capability_id: 'desk', name: 'Desk', context_packs: ['guide', 'no-such-pack'] }],
    });
    expect(v.valid).toBe(true);
    expect(paths(v, 'warnings')).toContain('/capabilities/0/context_packs/1');
  });

  it('6. an action rate_limit needs both members; others are ignored with a warning', async () => {
    const half = await validate({ ...base, actions: [{ ...action, rate_limit: { max_calls: 3 } }] });
    expect(paths(half)).toEqual(['/actions/0/rate_limit/window_seconds']);
    const extra = await validate({ ...base, actions: [{ ...action, rate_limit: { max_calls: 3, window_seconds: 60, burst: 5 } }] });
    expect(extra.valid).toBe(true);
    expect(paths(extra, 'warnings')).toEqual(['/actions/0/rate_limit/burst']);
  });

  // 7. Time zones: sdk/test/zones/ (Node, Deno, workerd, Chromium).

  it('8. an empty pattern is a warning; long ids are ids; integers beyond ±9·10^15 are refused (documented)', async () => {
    const v = await validate({
      ...base,
      actions: [action],
      capabilities: [{ capability_id: 'desk', name: 'Desk', actions: [''] }],
      policies: [{ policy_id: 'p'.repeat(300), type: 'allow', actions: ['', 'office.open'] }],
      context_packs: [{ pack_id: 'k'.repeat(300), name: 'Pack', files: ['context/a.md'] }],
    });
    expect(v.valid).toBe(true);
    expect(paths(v, 'warnings')).toEqual(expect.arrayContaining(['/capabilities/0/actions/0', '/policies/0/actions/0']));
    for (const priority of [1e21, 2 ** 53]) {
      const big = await validate({ ...base, actions: [action], policies: [{ policy_id: 'p', type: 'allow', actions: ['*'], priority }] });
      expect(paths(big)).toEqual(['/policies/0/priority']);
      expect(big.errors[0]!.message).toMatch(/9007199254740991.*not exact/);
    }
    const safe = await validate({ ...base, actions: [action], policies: [{ policy_id: 'p', type: 'allow', actions: ['*'], priority: Number.MAX_SAFE_INTEGER }] });
    expect(safe.valid).toBe(true);
  });

  it('9. context.max_context_tokens must be a non-negative integer; an empty idempotency_key is refused (documented)', async () => {
    const tokens = await rejection(rt.carp(request({ context: { max_context_tokens: 'many' } })));
    expect([tokens.code, tokens.path]).toEqual(['invalid_request', '/context/max_context_tokens']);
    const other = await rt.carp(request({ context: { locale: 'fr', nested: { any: [1, null] } } }));
    expect(other.resolution).toBeDefined();
    const key = await rejection(
      rt.carp(request({ operation: 'execute', execution: { resolution_id: resolutionId, action_id: 'ticket.lookup', parameters: { query: 'a' }, idempotency_key: '' } })),
    );
    expect([key.code, key.path]).toEqual(['invalid_request', '/execution/idempotency_key']);
  });

  it('10. RFC 3339: any number of fraction digits is read; a leap second or a space separator is refused (documented)', async () => {
    const long = new Date().toISOString().replace(/\.\d+Z$/, '.123456789012Z');
    expect((await rt.carp(request({ timestamp: long }))).resolution).toBeDefined();
    const today = new Date().toISOString().slice(0, 10);
    for (const [bad, cause] of [
      [`${today}T23:59:60Z`, /leap second/],
      [new Date().toISOString().replace('T', ' '), /not a space/],
    ] as const) {
      const err = await rejection(rt.carp(request({ timestamp: bad })));
      expect([err.code, err.path], bad).toEqual(['invalid_request', '/timestamp']);
      expect(err.message).toMatch(cause);
    }
  });

  it('11. a lone surrogate is answered as a report by validateAtlas, and refused at its pointer by loadAtlas and carp()', async () => {
    const v = await validate({ ...base, name: 'a\ud800b' });
    expect(v.valid).toBe(false);
    expect(v.errors).toEqual([expect.objectContaining({ code: 'atlas_invalid', path: '/name' })]);
    const load = await rejection(rt.loadAtlas({ ...base, name: 'a\ud800b' } as never));
    expect([load.code, load.path]).toEqual(['atlas_invalid', '/name']);
    const carp = await rejection(rt.carp(request({}, { goal: 'x\udc00' })));
    expect(carp.path).toBe('/task/goal');
  });

  it('12. a raw execute against an unknown resolution points at /execution/resolution_id', async () => {
    const err = await rejection(
      rt.carp(request({ operation: 'execute', execution: { resolution_id: crypto.randomUUID(), action_id: 'ticket.lookup', parameters: { query: 'a' } } })),
    );
    expect([err.code, err.path]).toEqual(['resolution_not_found', '/execution/resolution_id']);
  });

  it('13. a scope violation is traced as policy.violated with violation_type "scope" (documented)', async () => {
    const refund = await session.requestAction({ resolutionId, actionId: 'ticket.refund', parameters: { amount: 101 } });
    expect(refund.status).toBe('violated');
    const violated = (await session.trace()).filter((e) => e.event_type === 'policy.violated').at(-1);
    expect(violated?.payload).toMatchObject({ policy_id: 'refund-cap', violation_type: 'scope', action_id: 'ticket.refund' });
  });
});
