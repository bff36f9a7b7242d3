/**
 * The ABI surface: every operation of `wasm/abi.json` called on a real core with inputs that started valid — the
 * very inputs the SDK sent during a real workload, captured at the boundary — and were then mutated, plus raw
 * non-JSON bytes and unknown op names. The calls go through the raw exports, not `Core.call`, so that the core sees
 * bytes `JSON.stringify` never makes (duplicate keys, invalid UTF-8, `NaN`).
 *
 * Invariants: the module never traps and always answers a well-formed `{ok}` / `{error}` envelope; every error
 * code is one of the contract's core codes with a JSON-pointer `path`; a malformed input is never answered `ok`;
 * an error changes no session (`session.list` heads before and after are equal).
 *
 * @module
 */

import type { CoreExports } from '../../../sdk/src/runtime/core.ts';
import { createRuntime, type EmbeddedRuntime } from '../../../sdk/src/runtime/runtime.ts';
import { testClock, testIds } from '../../../sdk/test/portable.ts';
import { REFUND, supportAtlas } from '../common/atlas.ts';
import { CORE_CODES, OPERATIONS } from '../common/contract.ts';
import { MALFORMED, mutate, valuePool, type MutationClass } from '../common/mutate.ts';
import type { Rng } from '../common/rng.ts';
import type { Failures } from '../common/summary.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

interface Target {
  runtime: EmbeddedRuntime;
  ex: CoreExports;
  corpus: Map<string, string[]>;
}

/** A runtime whose core's exports are captured, after a workload that touches every operation the SDK uses. */
async function target(seed: number): Promise<Target> {
  let ex: CoreExports | null = null;
  const corpus = new Map<string, string[]>();
  const runtime = await createRuntime({
    clock: testClock(Date.now() * 1000),
    ids: testIds(`f${(seed >>> 0).toString(16).padStart(7, '0').slice(-7)}`),
    instrument: (raw) => {
      ex = raw;
      return {
        ...raw,
        memory: raw.memory,
        cra_call(opPtr, opLen, inPtr, inLen, now) {
          const mem = new Uint8Array(raw.memory.buffer);
          const op = decoder.decode(mem.slice(opPtr, opPtr + opLen));
          const input = decoder.decode(mem.slice(inPtr, inPtr + inLen));
          const list = corpus.get(op) ?? [];
          if (list.length < 20 && input.length < 200_000) list.push(input);
          corpus.set(op, list);
          return raw.cra_call(opPtr, opLen, inPtr, inLen, now);
        },
      };
    },
  });
  await runtime.loadAtlas(await supportAtlas());
  await runtime.validateAtlas(await supportAtlas());
  await runtime.listAtlases();
  await runtime.getAtlas('com.example.support');
  const s = await runtime.createSession({ agentId: 'support-bot', goal: 'Handle ticket T-10042', metadata: { ticket: 'T-10042' } });
  await s.validate();
  await s.resolve({ requiredCapabilities: ['tickets.read', 'tickets.write', 'billing.refund'] });
  await s.check('ticket.lookup');
  const lookup = await s.requestAction({ actionId: 'ticket.lookup', parameters: { ticket_id: 'T-10042' }, idempotencyKey: 'k-1' });
  await s.execution(lookup.execution_id);
  await s.complete(lookup, { result: { status: 'open' }, durationMs: 3 });
  const refund = await s.requestAction({ actionId: 'refund.issue', parameters: REFUND });
  await s.approve(refund, { approver: 'lead@example.com' });
  await s.fail(refund, { errorCode: 'psp_down', errorMessage: 'down', durationMs: 1 });
  const other = await s.requestAction({ actionId: 'refund.issue', parameters: { ...REFUND, payment_id: 'P-2' } });
  await s.deny(other, { reason: 'no', approver: 'lead@example.com' });
  await s.requestAction({ actionId: 'customer.delete', parameters: { customer_id: 'C-7' } });
  await s.record('error.occurred', { code: 'x', message: 'y' });
  await runtime.carp({ carp_version: '1.0', request_id: crypto.randomUUID(), timestamp: new Date().toISOString(), operation: 'validate', requester: { agent_id: 'support-bot', session_id: s.id }, task: { goal: 'g' } });
  const t = await s.trace();
  await runtime.verify(s.id);
  await runtime.replay(s.id);
  await runtime.diff(t, t.slice(0, 3));
  await runtime.stats();
  const ended = await runtime.createSession({ agentId: 'a', goal: 'ended' });
  await ended.end('completed');
  await runtime.listSessions();
  if (!ex) throw new Error('the core exports were not captured');
  // Templates for the operations the SDK's workload did not reach through this core.
  const add = (op: string, v: unknown) => {
    const list = corpus.get(op) ?? [];
    list.push(JSON.stringify(v));
    corpus.set(op, list);
  };
  const execId = lookup.execution_id;
  add('runtime.configure', { default_decision: 'deny', max_context_tokens: 8000, clock_skew_seconds: 300, default_ttl_seconds: 3600 });
  add('runtime.stats', {});
  add('atlas.unload', { atlas_id: 'com.example.nothing' });
  add('session.get', { session_id: s.id });
  add('session.list', {});
  add('session.forget', { session_id: ended.id });
  add('session.check', { session_id: s.id, action_id: 'ticket.lookup' });
  add('session.restore', { events: t, expected_head: { length: t.length, head_hash: t.at(-1)!.event_hash }, session_id: s.id });
  add('session.restore', { events: t.slice(0, 4), synced_head: { length: 2, head_hash: t[1]!.event_hash } });
  add('action.handle', { action_id: 'ticket.lookup' });
  add('action.get', { session_id: s.id, execution_id: execId });
  add('trace.verify', { events: t, expected_head: { length: t.length, head_hash: t.at(-1)!.event_hash } });
  add('trace.diff', { a: t, b: t.slice(1) });
  add('trace.replay', { events: t });
  add('trace.from_jsonl', { text: t.map((e) => JSON.stringify(e)).join('\n') + '\n' });
  add('trace.to_jsonl', { events: t });
  add('canonical.hash', { value: { b: [1, 2.5, 'é'], a: null } });
  add('trace.append', { session_id: s.id, events: [{ event_type: 'context.redacted', payload: { block_id: 'b', redaction_reason: 'pii' } }] });
  return { runtime, ex, corpus };
}

type Answer = { trap: string } | { text: string };

function rawCall(ex: CoreExports, op: Uint8Array, input: Uint8Array): Answer {
  try {
    const opPtr = ex.cra_alloc(Math.max(1, op.length)) >>> 0;
    const inPtr = ex.cra_alloc(Math.max(1, input.length)) >>> 0;
    if (opPtr === 0 || inPtr === 0) return { trap: 'cra_alloc answered 0' };
    new Uint8Array(ex.memory.buffer, opPtr, op.length).set(op);
    new Uint8Array(ex.memory.buffer, inPtr, input.length).set(input);
    const res = ex.cra_call(opPtr, op.length, inPtr, input.length, Date.now() * 1000) >>> 0;
    const len = new DataView(ex.memory.buffer).getUint32(res, true);
    const text = decoder.decode(new Uint8Array(ex.memory.buffer, res + 4, len));
    ex.cra_free(res, 4 + len);
    ex.cra_free(opPtr, Math.max(1, op.length));
    ex.cra_free(inPtr, Math.max(1, input.length));
    return { text };
  } catch (err) {
    return { trap: err instanceof Error ? `${err.constructor.name}: ${err.message}` : String(err) };
  }
}

function heads(ex: CoreExports): string {
  const a = rawCall(ex, encoder.encode('session.list'), encoder.encode('{}'));
  if ('trap' in a) return `trap ${a.trap}`;
  const sessions = (JSON.parse(a.text) as { ok?: { sessions: Array<{ session_id: string; event_count: number; head_hash: string; status: string }> } }).ok?.sessions ?? [];
  return sessions.map((x) => `${x.session_id}:${x.event_count}:${x.head_hash}:${x.status}`).sort().join(',');
}

const show = (b: Uint8Array) => JSON.stringify(Buffer.from(b.subarray(0, 160)).toString('latin1'));

export async function fuzzAbi(cases: number, seed: number, rng: Rng, failures: Failures, log: (l: string) => void): Promise<Record<string, number>> {
  const pool = valuePool(seed);
  let t = await target(seed);
  let snapshot = heads(t.ex);
  const stats = { ok: 0, errors: 0, rebuilt: 0 };
  for (let i = 0; i < cases; i++) {
    if (i > 0 && i % 2000 === 0) {
      await t.runtime.close().catch(() => undefined);
      t = await target(seed + i);
      snapshot = heads(t.ex);
      stats.rebuilt++;
    }
    if (i > 0 && i % 10_000 === 0) log(`  abi: ${i}/${cases}`);
    const op = i % 50 === 49 ? rng.pick(['', 'session.', 'SESSION.LIST', 'trace.verify\u0000', 'atlas.load ', '\u00ff', 'x'.repeat(300)]) : OPERATIONS[i % OPERATIONS.length]!;
    const inputs = t.corpus.get(op) ?? ['{}'];
    const valid = JSON.parse(rng.pick(inputs)) as unknown;
    let cls: MutationClass;
    let bytes: Uint8Array;
    let at = '';
    if (rng.chance(0.05)) {
      cls = 'garbage';
      bytes = new Uint8Array(rng.int(40)).map(() => rng.int(256));
    } else {
      const m = mutate(valid, rng, pool, rng.chance(0.05) ? 'none' : undefined);
      ({ cls, bytes, at } = m);
    }
    const where = `abi ${op} (${cls} at ${at})`;
    const answer = rawCall(t.ex, encoder.encode(op), bytes);
    if ('trap' in answer) {
      failures.add('trap', where, `${answer.trap}; input ${show(bytes)}`);
      await t.runtime.close().catch(() => undefined);
      t = await target(seed + i + 1);
      snapshot = heads(t.ex);
      stats.rebuilt++;
      continue;
    }
    let env: { ok?: unknown; error?: { code?: unknown; message?: unknown; path?: unknown } };
    try {
      env = JSON.parse(answer.text);
    } catch {
      failures.add('bad_envelope', where, `not JSON: ${answer.text.slice(0, 200)}`);
      continue;
    }
    const keys = Object.keys(env ?? {});
    if (keys.length === 1 && keys[0] === 'ok') {
      stats.ok++;
      if (MALFORMED.has(cls)) {
        failures.add('accepted_malformed', where, `answered ok to ${show(bytes)}`);
      }
      snapshot = heads(t.ex);
      continue;
    }
    if (keys.length !== 1 || keys[0] !== 'error' || typeof env.error !== 'object' || env.error === null) {
      failures.add('bad_envelope', where, answer.text.slice(0, 200));
      continue;
    }
    stats.errors++;
    const e = env.error;
    if (typeof e.code !== 'string' || !CORE_CODES.has(e.code)) failures.add('unlisted_code', where, `code ${String(e.code)}: ${String(e.message)}`);
    else if (e.code === 'internal') failures.add('internal_error', where, `${String(e.message)}; input ${show(bytes)}`);
    if (typeof e.message !== 'string') failures.add('bad_envelope', where, `message ${String(e.message)}`);
    if (!(e.path === undefined || e.path === null || (typeof e.path === 'string' && (e.path === '' || e.path.startsWith('/'))))) {
      failures.add('bad_path', where, `path ${JSON.stringify(e.path)}`);
    }
    const now = heads(t.ex);
    if (now !== snapshot) {
      failures.add('state_changed_on_error', where, `${String(e.code)}: heads moved; input ${show(bytes)}`);
      snapshot = now;
    }
  }
  await t.runtime.close().catch(() => undefined);
  return stats;
}
