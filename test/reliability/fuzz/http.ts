/**
 * The HTTP surface: every route of the server's own `/openapi.json`, each with a valid example body (built from
 * live sessions) that is then mutated — nesting 10 000 deep, huge strings, invalid UTF-8, `__proto__` /
 * `constructor` members, `NaN` tokens, duplicate keys, wrong types, missing members — or sent with a wrong content
 * type, a bad path parameter, or another key. Sent to the app in process (`app.request`), one case in 25 over real
 * loopback HTTP.
 *
 * Invariants: no status ≥ 500; every error is `{error: {code, message, path}}` with a code of the contract and its
 * status; malformed input (not strict JSON, wrong content type, a bad path parameter, a missing required member, an
 * unknown member of a closed body) is refused with 4xx, and an action request with a member its schema forbids is
 * never approved; a refused request changes no session; a second key never sees or changes the first key's sessions.
 *
 * @module
 */

import type { EmbeddedRuntime } from '../../../sdk/src/runtime/runtime.ts';
import { ADMIN_KEY, KEY_A, KEY_B, startTestServer, type TestServer } from '../../../server/src/testing.ts';
import { REFUND, supportAtlas } from '../common/atlas.ts';
import { ALL_CODES, CONTRACT } from '../common/contract.ts';
import { MALFORMED, mutate, valuePool, type MutationClass } from '../common/mutate.ts';
import type { Rng } from '../common/rng.ts';
import type { Failures } from '../common/summary.ts';
import { clip } from '../common/summary.ts';

const STATUS = new Map(CONTRACT.error_codes.map((e) => [e.code, e.http]));
/** Refusals that are recorded (the execution is in the trace) though answered 4xx: `POST /v1/execute`. */
const RECORDED_REFUSALS = new Set(['action_denied', 'policy_violated', 'rate_limited']);
const decoder = new TextDecoder();

interface Route {
  method: string;
  template: string;
  bodySchema: { required?: string[]; additionalProperties?: unknown; properties?: Record<string, unknown> } | null;
  pathParams: string[];
}

interface World {
  server: TestServer;
  runtime: EmbeddedRuntime;
  /** Session id → the key that owns it. */
  owners: Map<string, string>;
  sid: string;
  other: string;
  approved: string;
  pending: string;
  bSession: string;
}

async function world(): Promise<World> {
  const server = await startTestServer();
  const owners = new Map<string, string>();
  const call = async (key: string, method: string, path: string, body?: unknown) => {
    const r = await server.app.request(path, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return (await r.json()) as Record<string, any>;
  };
  const create = async (key: string) => {
    const id = (await call(key, 'POST', '/v1/sessions', { agent_id: 'support-bot', goal: 'Handle ticket T-10042' })).session_id as string;
    owners.set(id, key);
    await call(key, 'POST', `/v1/sessions/${id}/resolve`, { required_capabilities: ['tickets.read', 'tickets.write', 'billing.refund'] });
    return id;
  };
  const sid = await create(KEY_A);
  const other = await create(KEY_A);
  const bSession = await create(KEY_B);
  const approved = (await call(KEY_A, 'POST', `/v1/sessions/${sid}/actions`, { action_id: 'ticket.lookup', parameters: { ticket_id: 'T-10042' } })).execution_id;
  const pending = (await call(KEY_A, 'POST', `/v1/sessions/${sid}/actions`, { action_id: 'refund.issue', parameters: REFUND })).execution_id;
  return { server, runtime: server.runtime, owners, sid, other, approved, pending, bSession };
}

/** Puts back what a successful case took away: an ended session of key A, the example atlas. */
async function refresh(w: World): Promise<void> {
  if (!(await w.runtime.listAtlases()).some((a) => a.atlas_id === 'com.example.support')) await w.runtime.loadAtlas(await supportAtlas());
  const active = async (id: string) => (await w.runtime.getSession(id).then((s) => s.info()).catch(() => null))?.status === 'active';
  const headers = { authorization: `Bearer ${KEY_A}`, 'content-type': 'application/json' };
  const post = async (path: string, body: unknown) => (await (await w.server.app.request(path, { method: 'POST', headers, body: JSON.stringify(body) })).json()) as Record<string, any>;
  for (const which of ['sid', 'other'] as const) {
    if (await active(w[which])) continue;
    const id = (await post('/v1/sessions', { agent_id: 'support-bot', goal: 'Handle ticket T-10042' })).session_id as string;
    w.owners.set(id, KEY_A);
    await post(`/v1/sessions/${id}/resolve`, { required_capabilities: ['tickets.read', 'tickets.write', 'billing.refund'] });
    w[which] = id;
    if (which === 'sid') {
      w.approved = (await post(`/v1/sessions/${id}/actions`, { action_id: 'ticket.lookup', parameters: { ticket_id: 'T-10042' } })).execution_id;
      w.pending = (await post(`/v1/sessions/${id}/actions`, { action_id: 'refund.issue', parameters: REFUND })).execution_id;
    }
  }
}

/** The valid example of each route: path parameters, query and body. */
function example(r: Route, w: World, rng: Rng): { params: Record<string, string>; query: string; body: unknown } {
  const exec = rng.chance(0.5) ? w.approved : w.pending;
  const sid = rng.chance(0.8) ? w.sid : w.other;
  const params: Record<string, string> = { session_id: sid, execution_id: exec, action_id: rng.pick(['ticket.lookup', 'refund.issue', 'customer.delete']), atlas_id: 'com.example.support' };
  const carp = (operation: string) => ({
    carp_version: '1.0',
    request_id: crypto.randomUUID(),
    timestamp: new Date().toISOString(),
    operation,
    requester: { agent_id: 'support-bot', session_id: sid },
    task: { goal: 'Handle ticket T-10042', required_capabilities: ['tickets.read'] },
    ...(operation === 'execute' ? { execution: { action_id: 'ticket.lookup', parameters: { ticket_id: 'T-10042' } } } : {}),
  });
  const path = `${r.method} ${r.template}`;
  const bodies: Record<string, unknown> = {
    'POST /v1/sessions': { agent_id: 'support-bot', goal: 'Handle ticket T-10042', metadata: { ticket: 'T-10042' } },
    'DELETE /v1/sessions/{session_id}': { reason: 'cancelled' },
    'POST /v1/sessions/{session_id}/end': { reason: 'completed' },
    'POST /v1/sessions/{session_id}/events': { event_type: 'error.occurred', payload: { code: 'x', message: 'y' } },
    'POST /v1/sessions/{session_id}/resolve': { required_capabilities: ['tickets.read'], risk_tier: 'low', context: { channel: 'email' } },
    'POST /v1/sessions/{session_id}/validate': { required_capabilities: ['tickets.read'] },
    'POST /v1/resolve': carp('resolve'),
    'POST /v1/execute': carp('execute'),
    'POST /v1/carp': carp(rng.pick(['resolve', 'validate', 'execute'])),
    'POST /v1/sessions/{session_id}/actions': rng.chance(0.5)
      ? { action_id: 'ticket.lookup', parameters: { ticket_id: 'T-10042' }, idempotency_key: 'k-1' }
      : { action_id: 'refund.issue', parameters: REFUND },
    'POST /v1/sessions/{session_id}/actions/{execution_id}/approve': { approver: 'lead@example.com' },
    'POST /v1/sessions/{session_id}/actions/{execution_id}/deny': { reason: 'no', approver: 'lead@example.com' },
    'POST /v1/sessions/{session_id}/actions/{execution_id}/complete': { result: { status: 'open' }, duration_ms: 3 },
    'POST /v1/sessions/{session_id}/actions/{execution_id}/fail': { error_code: 'x', error_message: 'y', duration_ms: 1 },
    'POST /v1/sessions/{session_id}/mcp': { jsonrpc: '2.0', id: 1, method: 'tools/list' },
    'POST /v1/traces/diff': { a: [], b: [] },
    'POST /v1/atlases': { manifest: { atlas_version: '1.0', atlas_id: 'com.example.tiny', version: '1.0.0', name: 'Tiny', description: 'Tiny' }, replace: true },
    'POST /v1/atlases/validate': { manifest: { atlas_version: '1.0', atlas_id: 'com.example.tiny', version: '1.0.0', name: 'Tiny', description: 'Tiny' } },
  };
  const queries: Record<string, string> = {
    'GET /v1/sessions': '?status=active&limit=10&offset=0',
    'GET /v1/traces/{session_id}': '?since_sequence=0&limit=5',
    'GET /v1/traces/{session_id}/stream': '?since_sequence=0',
    'DELETE /v1/sessions/{session_id}': '?reason=cancelled',
  };
  return { params, query: queries[path] ?? '', body: r.bodySchema ? bodies[path] : undefined };
}

const BAD_PARAMS = ['', ' ', '..', '%00', '%2F', 'x'.repeat(5000), '00000000-0000-0000-0000-000000000000', '%E2%80%AE', '%FF%FE', 'null', '../../etc/passwd', '%C0%AF', '1e400'];

async function heads(runtime: EmbeddedRuntime, only?: (id: string) => boolean): Promise<string> {
  return (await runtime.listSessions({ limit: 1e6 })).items
    .filter((s) => !only || only(s.session_id))
    .map((s) => `${s.session_id}:${s.event_count}:${s.head_hash}:${s.status}`)
    .sort()
    .join(',');
}

export async function fuzzHttp(cases: number, seed: number, rng: Rng, failures: Failures, log: (l: string) => void): Promise<Record<string, number>> {
  const pool = valuePool(seed + 1);
  let w = await world();
  const doc = (await (await w.server.app.request('/openapi.json')).json()) as {
    paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: { $ref?: string } }> }; parameters?: Array<{ name: string; in: string }> }>>;
    components: { schemas: Record<string, Route['bodySchema']> };
  };
  const routes: Route[] = [];
  for (const [template, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const ref = op.requestBody?.content?.['application/json']?.schema?.$ref;
      routes.push({
        method: method.toUpperCase(),
        template,
        bodySchema: ref ? (doc.components.schemas[ref.split('/').pop()!] ?? {}) : null,
        pathParams: (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
      });
    }
  }
  const stats = { routes: routes.length, loopback: 0, status2xx: 0, status4xx: 0 };
  for (let i = 0; i < cases; i++) {
    if (i > 0 && i % 1000 === 0) {
      await w.server.close();
      w = await world();
      if (i % 10_000 === 0) log(`  http: ${i}/${cases}`);
    }
    const r = routes[i % routes.length]!;
    const ex = example(r, w, rng);
    let key = rng.chance(0.03) ? ADMIN_KEY : KEY_A;
    let cls: MutationClass | 'bad_param' | 'bad_query' | 'content_type' | 'other_key' = 'none';
    let at = '';
    let names: string[] = [];
    let contentType = 'application/json';
    let bytes: Uint8Array | undefined = ex.body === undefined ? undefined : new TextEncoder().encode(JSON.stringify(ex.body));
    const params = { ...ex.params };
    const roll = rng.next();
    if (roll < 0.08 && r.pathParams.length > 0) {
      cls = 'bad_param';
      const p = rng.pick(r.pathParams);
      params[p] = rng.pick(BAD_PARAMS);
      at = p;
    } else if (roll < 0.16 && bytes) {
      cls = 'content_type';
      contentType = rng.pick(['text/plain', 'application/x-www-form-urlencoded', '', 'multipart/form-data; boundary=x', 'application/jsonx', 'application/xml']);
    } else if (roll < 0.26 && r.pathParams.includes('session_id')) {
      cls = 'other_key';
      key = KEY_B;
    } else if (ex.body !== undefined) {
      const m = mutate(ex.body, rng, pool);
      ({ cls, at, bytes } = m);
      names = m.path;
    } else if (ex.query && roll < 0.6) {
      cls = 'bad_query';
      const q = new URLSearchParams(ex.query);
      const names = [...q.keys()];
      at = rng.pick(names);
      q.set(at, rng.pick(['-1', '1e400', 'NaN', '', 'x'.repeat(3000), '0x10', '99999999999999999999', 'ended', '\u0000', '1.5']));
      ex.query = `?${q.toString()}`;
    }
    const path = r.template.replace(/\{(\w+)\}/g, (_, n: string) => params[n] ?? '');
    const url = `${path}${ex.query}`;
    const headers: Record<string, string> = { authorization: `Bearer ${key}` };
    if (bytes && contentType) headers['content-type'] = contentType;
    const where = `http ${r.method} ${r.template} (${cls}${at ? ` at ${at}` : ''}${cls === 'content_type' ? ` ${JSON.stringify(contentType)}` : ''}, ${key === KEY_B ? 'key B' : key === ADMIN_KEY ? 'admin' : 'key A'})`;
    const input = bytes ? clip(Buffer.from(bytes.subarray(0, 300)).toString('latin1'), 300) : '';
    const ownedByA = (id: string) => w.owners.get(id) === KEY_A;
    const before = await heads(w.runtime);
    const beforeA = await heads(w.runtime, ownedByA);
    const loopback = i % 25 === 24;
    let status: number;
    let text: string;
    let ctype: string;
    try {
      const init: RequestInit = { method: r.method, headers, ...(bytes && r.method !== 'GET' && r.method !== 'HEAD' ? { body: bytes as BodyInit } : {}) };
      const res = loopback ? await fetch(`${w.server.url}${url}`, init) : await w.server.app.request(url, init);
      status = res.status;
      ctype = res.headers.get('content-type') ?? '';
      if (ctype.startsWith('text/event-stream')) {
        await res.body?.cancel();
        text = '';
      } else text = decoder.decode(await res.arrayBuffer());
      if (loopback) stats.loopback++;
    } catch (err) {
      failures.add('request_failed', where, `${String(err)} (${String((err as Error).cause ?? '')}); url ${clip(url)}; body ${input}`);
      continue;
    }
    if (status < 300) stats.status2xx++;
    else stats.status4xx++;
    const mcpUnconfigured = status === 501 && r.template.endsWith('/mcp');
    if (status >= 500 && !mcpUnconfigured) failures.add(`status_${status}`, where, `${clip(text)}; url ${clip(url)}; body ${input}`);
    let body: any = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // checked below
    }
    if (status >= 400) {
      const e = body?.error;
      if (!e || typeof e !== 'object' || typeof e.code !== 'string' || typeof e.message !== 'string' || !('path' in e) || !(e.path === null || typeof e.path === 'string')) {
        failures.add('untyped_error', where, `${status} ${clip(text)}; body ${input}`);
      } else if (!ALL_CODES.has(e.code)) failures.add('unlisted_code', where, `${status} ${e.code}`);
      else if (STATUS.get(e.code) !== status && !mcpUnconfigured) failures.add('status_mismatch', where, `${status} for ${e.code} (contract: ${STATUS.get(e.code)})`);
    }
    // Refused input must be refused.
    const required = r.bodySchema?.required ?? [];
    const closed = r.bodySchema?.additionalProperties === false;
    const mustRefuse =
      (MALFORMED.has(cls as MutationClass) && !((cls === 'garbage' || cls === 'truncated') && required.length === 0 && bytes !== undefined && /^\s*$/.test(decoder.decode(bytes)))) ||
      (cls === 'bad_param' && at !== 'action_id') ||
      cls === 'content_type' ||
      (cls === 'missing_member' && names.length === 1 && required.includes(names[0]!)) ||
      (cls === 'proto_key' && names.length === 1 && closed) ||
      (cls === 'other_key' && r.template !== '/v1/sessions');
    if (mustRefuse && status < 400) {
      failures.add(`accepted_${cls}`, where, `${status} ${clip(text, 200)}; url ${clip(url)}; body ${input}`);
    }
    const isAction = r.template.endsWith('/actions') || r.template === '/v1/execute' || r.template === '/v1/carp';
    if (isAction && cls === 'proto_key' && names.includes('parameters') && names.at(-1) !== 'parameters') {
      const exe = body?.execution ?? body;
      if (exe?.status === 'approved' || exe?.status === 'pending_approval') {
        failures.add('allowed_extra_member', where, `${exe.status} with a member the schema forbids: ${input}`);
      }
    }
    if (status >= 400 && !RECORDED_REFUSALS.has(body?.error?.code)) {
      const after = await heads(w.runtime);
      if (after !== before) failures.add('state_changed_on_error', where, `${status} ${body?.error?.code}; body ${input}`);
    }
    if (key === KEY_B) {
      if ((await heads(w.runtime, ownedByA)) !== beforeA) failures.add('isolation_write', where, `key B changed a session of key A: ${status}`);
      for (const id of w.owners.keys()) {
        if (ownedByA(id) && status < 400 && text.includes(id) && !url.includes(id)) failures.add('isolation_read', where, `key B saw ${id}`);
      }
    }
    if (status < 300 && r.method === 'POST' && r.template === '/v1/sessions' && typeof body?.session_id === 'string') w.owners.set(body.session_id, key);
    // A session the case ended or deleted would starve the next ones: start over.
    if (cls === 'bad_param' && at === 'action_id' && body?.allowed === true) failures.add('allowed_bad_param', where, `${clip(text)}; url ${clip(url)}`);
    if (status < 300 && (r.template.endsWith('/end') || r.method === 'DELETE' || r.template.startsWith('/v1/atlases'))) await refresh(w);
  }
  await w.server.close();
  return stats;
}
