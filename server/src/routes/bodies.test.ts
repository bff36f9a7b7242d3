/**
 * Request bodies on the real routes, over loopback HTTP: a duplicate key never decides anything (400 at its
 * pointer), a body nested deeper than the core accepts is 400 rather than a crash, and members named like
 * prototype properties (`__proto__`, `constructor`, `prototype`) are data — validated, hashed and recorded exactly
 * as sent, the same as the embedded runtime records them.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type EmbeddedRuntime } from '../../../sdk/src/runtime/runtime.ts';
import type { AtlasManifest, JsonObject, TraceEvent } from '../../../sdk/src/types.ts';
import { ADMIN_KEY, http, KEY_A, startTestServer, type TestServer } from '../testing.ts';

const atlas = {
  atlas_version: '1.0',
  atlas_id: 'com.example.notes',
  version: '1.0.0',
  name: 'Notes',
  description: 'Free-form notes, and a launch that needs approval',
  capabilities: [{ capability_id: 'notes', name: 'Notes', description: 'Notes', actions: ['note.write', 'rocket.launch'] }],
  policies: [
    { policy_id: 'open', type: 'allow', actions: ['note.*'] },
    { policy_id: 'launch-approval', type: 'require_approval', actions: ['rocket.launch'] },
  ],
  actions: [
    { action_id: 'note.write', name: 'Write', description: 'Write a note', risk_tier: 'low', parameters_schema: { type: 'object' } },
    { action_id: 'rocket.launch', name: 'Launch', description: 'Launch', risk_tier: 'high', parameters_schema: { type: 'object' } },
  ],
} as unknown as AtlasManifest;

/** Parameters with members named like prototype properties, as `JSON.parse` reads them: own members. */
const PROTO_TEXT = '{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}},"a":1}';
const PLAIN_TEXT = '{"a":1}';
/** A host event payload (error.occurred needs code and message) with the same members. */
const EVENT_TEXT = '{"code":"tool_error","message":"failed","__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}';

describe('request bodies on the routes', () => {
  let s: TestServer;
  let embedded: EmbeddedRuntime;
  const call = (method: string, path: string, body?: unknown) => http(s.url, method, path, { key: KEY_A, ...(body === undefined ? {} : { body }) });
  /** A body sent as this very text (a duplicate key or `__proto__` member cannot be written as a JS object literal). */
  const raw = (method: string, path: string, text: string, key = KEY_A) =>
    http(s.url, method, path, { key, raw: text, headers: { 'content-type': 'application/json' } });
  const session = async () => (await call('POST', '/v1/sessions', { agent_id: 'notes-bot', goal: 'Notes' })).body.session_id as string;

  beforeAll(async () => {
    s = await startTestServer();
    await s.runtime.loadAtlas(atlas);
    embedded = await createRuntime({ atlases: [atlas] });
  });
  afterAll(async () => {
    await s.close();
    await embedded.close();
  });

  it('refuses a duplicated approval_hash (400 invalid_json at /approval_hash); the execution stays pending', async () => {
    const id = await session();
    await call('POST', `/v1/sessions/${id}/resolve`, {});
    const pending = (await call('POST', `/v1/sessions/${id}/actions`, { action_id: 'rocket.launch', parameters: {} })).body;
    expect(pending.status).toBe('pending_approval');
    const path = `/v1/sessions/${id}/actions/${pending.execution_id}/approve`;
    const twice = await raw('POST', path, `{"approval_hash":"${'0'.repeat(64)}","approval_hash":"${pending.approval_hash}"}`);
    expect([twice.status, twice.body.error.code, twice.body.error.path]).toEqual([400, 'invalid_json', '/approval_hash']);
    expect(twice.body.error.message).toContain('duplicate object key "approval_hash"');
    expect((await call('GET', `/v1/sessions/${id}/actions/${pending.execution_id}`)).body.status).toBe('pending_approval');
    // Keys are compared decoded; and every route reads bodies the same way.
    const escaped = await raw('POST', path, `{"approval_hash":"x","\\u0061pproval_hash":"${pending.approval_hash}"}`);
    expect([escaped.status, escaped.body.error.path]).toEqual([400, '/approval_hash']);
    const nested = await raw('POST', `/v1/sessions/${id}/actions`, '{"action_id":"note.write","parameters":{"a":1,"a":2}}');
    expect([nested.status, nested.body.error.path]).toEqual([400, '/parameters/a']);
  });

  it('answers bodies 10 000 levels deep with 400 invalid_json (not 500), and goes on answering', async () => {
    const id = await session();
    const arrays = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    const objects = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
    for (const [method, path, text, pointer] of [
      ['POST', `/v1/sessions/${id}/events`, `{"event_type":"error.occurred","payload":{"deep":${arrays}}}`, `/payload/deep${'/0'.repeat(126)}`],
      ['POST', `/v1/sessions/${id}/events`, `{"event_type":"error.occurred","payload":${objects}}`, `/payload${'/a'.repeat(127)}`],
      ['POST', '/v1/atlases/validate', `{"atlas_version":"1.0","metadata":${arrays}}`, `/metadata${'/0'.repeat(127)}`],
      ['POST', '/v1/atlases/validate', objects, '/a'.repeat(128)],
      ['POST', '/v1/atlases', `{"manifest":${objects}}`, `/manifest${'/a'.repeat(127)}`],
      ['POST', '/v1/atlases', arrays, '/0'.repeat(128)],
    ] as const) {
      const res = await raw(method, path, text, ADMIN_KEY);
      expect([path, res.status, res.body.error]).toEqual([
        path,
        400,
        { code: 'invalid_json', message: 'the request body is not valid JSON: nesting deeper than 128 levels', path: pointer },
      ]);
    }
    expect((await call('GET', '/health')).status).toBe(200);
    expect((await call('GET', `/v1/traces/${id}/verify`)).body).toMatchObject({ valid: true, length: 1 });
  });

  /** The parameters_hash of `parameters` through the embedded runtime (the SDK as a library). */
  const embeddedHash = async (parameters: JsonObject) => {
    const h = await embedded.createSession({ agentId: 'notes-bot', goal: 'Notes' });
    await h.resolve({});
    return (await h.requestAction({ actionId: 'note.write', parameters })).parameters_hash;
  };

  it('hashes __proto__ / constructor members of parameters as sent, on POST …/actions and POST /v1/execute alike', async () => {
    const proto = JSON.parse(PROTO_TEXT) as JsonObject;
    expect(Object.keys(proto)).toEqual(['__proto__', 'constructor', 'a']);
    const [withProto, plain] = [await embeddedHash(proto), await embeddedHash(JSON.parse(PLAIN_TEXT))];
    expect(withProto).not.toBe(plain);

    const id = await session();
    const resolutionId = (await call('POST', `/v1/sessions/${id}/resolve`, {})).body.resolution_id as string;
    const action = (parameters: string) => raw('POST', `/v1/sessions/${id}/actions`, `{"action_id":"note.write","parameters":${parameters}}`);
    const viaActions = await action(PROTO_TEXT);
    expect([viaActions.status, viaActions.body.status]).toEqual([200, 'approved']);
    expect(viaActions.body.parameters_hash).toBe(withProto);
    expect((await action(PLAIN_TEXT)).body.parameters_hash).toBe(plain);

    const execute = (parameters: string) =>
      raw(
        'POST',
        '/v1/execute',
        JSON.stringify({
          carp_version: '1.0',
          request_id: crypto.randomUUID(),
          timestamp: new Date().toISOString(),
          operation: 'execute',
          requester: { agent_id: 'notes-bot', session_id: id },
          task: { goal: 'Notes' },
          execution: { resolution_id: resolutionId, action_id: 'note.write', parameters: '@@' },
        }).replace('"@@"', parameters),
      );
    const viaExecute = await execute(PROTO_TEXT);
    expect([viaExecute.status, viaExecute.body.parameters_hash]).toEqual([200, withProto]);
    expect((await execute(PLAIN_TEXT)).body.parameters_hash).toBe(plain);
  });

  it('records __proto__ members of a resolve context and of a host event payload as sent, as the embedded runtime does', async () => {
    const h = await embedded.createSession({ agentId: 'notes-bot', goal: 'Notes' });
    await h.resolve({ context: JSON.parse(PROTO_TEXT) as JsonObject });
    const [recorded] = await h.record('error.occurred', JSON.parse(EVENT_TEXT) as JsonObject);
    const embeddedTrace = await h.trace();
    const recordedContext = (trace: TraceEvent[]) => JSON.stringify(trace.find((e) => e.event_type === 'carp.request.received')!.payload.context);

    const id = await session();
    const resolved = await raw('POST', `/v1/sessions/${id}/resolve`, `{"context":${PROTO_TEXT}}`);
    expect(resolved.status).toBe(200);
    const event = await raw('POST', `/v1/sessions/${id}/events`, `{"event_type":"error.occurred","payload":${EVENT_TEXT}}`);
    expect(event.status).toBe(200);
    const trace = (await call('GET', `/v1/traces/${id}`)).body as TraceEvent[];

    // The host event: the payload as sent, member for member, as the embedded runtime records it.
    const served = trace.at(-1)!;
    expect(Object.keys(served.payload)).toEqual(expect.arrayContaining(['__proto__', 'constructor']));
    expect(JSON.stringify(served.payload)).toBe(JSON.stringify(recorded!.payload));
    // The resolve: the context is recorded as sent, as the embedded runtime records it.
    expect(recordedContext(trace)).toBe('{"__proto__":{"admin":true},"a":1,"constructor":{"prototype":{"x":1}}}');
    expect(recordedContext(trace)).toBe(recordedContext(embeddedTrace));
  });
});
