/**
 * The SDK surface: every public method of the embedded runtime and of a session handle (`sdk/src/interface.ts`)
 * called with arbitrary arguments from fast-check — any JS value (bigints, symbols, functions, null-prototype
 * objects, cycles), and near-valid option objects with one member replaced.
 *
 * Invariants: a call that fails rejects with a `CraError` whose code is in the contract (never a `TypeError`,
 * never `core_failure` or `internal`), and a rejected call records nothing: every session's length and head are
 * what they were.
 *
 * @module
 */

import fc from 'fast-check';
import { CraError } from '../../../sdk/src/errors.ts';
import type { CraSession } from '../../../sdk/src/interface.ts';
import { createRuntime, type EmbeddedRuntime } from '../../../sdk/src/runtime/runtime.ts';
import { REFUND, supportAtlas } from '../common/atlas.ts';
import { ALL_CODES } from '../common/contract.ts';
import type { Failures } from '../common/summary.ts';
import { clip } from '../common/summary.ts';

const RUNTIME_METHODS = [
  'loadAtlas', 'validateAtlas', 'unloadAtlas', 'listAtlases', 'getAtlas', 'createSession', 'getSession', 'listSessions',
  'carp', 'trace', 'verify', 'replay', 'diff', 'stats', 'flush', 'close',
] as const;
const SESSION_METHODS = [
  'info', 'resolve', 'validate', 'check', 'requestAction', 'execution', 'approve', 'deny', 'complete', 'fail', 'record', 'end', 'trace',
] as const;
const ACTIONS = ['ticket.lookup', 'customer.lookup', 'ticket.reply', 'ticket.close', 'refund.issue', 'customer.delete'];

interface Call {
  on: 'runtime' | 'session';
  method: string;
  args: unknown[];
}

/** Any value, and near-valid shapes of each method's arguments with one member arbitrary. */
function arbitraryCall(): fc.Arbitrary<Call> {
  const any = fc.oneof(
    { weight: 3, arbitrary: fc.anything({ withBigInt: true, withNullPrototype: true, withBoxedValues: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true, maxDepth: 3 }) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>(undefined, null, NaN, Infinity, -0, '', Symbol('s'), () => 1, Object.create(null), cyclic(), JSON.parse('{"__proto__":{"x":1}}'), { toJSON: () => { throw new Error('toJSON'); } }) },
  );
  const member = (shape: Record<string, unknown>) =>
    fc.tuple(fc.constantFrom(...Object.keys(shape), '__proto__', 'constructor', 'extra'), any).map(([k, v]) => {
      const o: Record<string, unknown> = { ...shape };
      Object.defineProperty(o, k, { value: v, enumerable: true, configurable: true, writable: true });
      return o;
    });
  const idish = fc.oneof(fc.constantFrom(...ACTIONS, 'com.example.support', ''), fc.string(), any);
  const nearValid = fc.oneof(
    member({ actionId: 'ticket.lookup', parameters: { ticket_id: 'T-10042' } }),
    member({ actionId: 'refund.issue', parameters: REFUND }),
    member({ agentId: 'support-bot', goal: 'g', metadata: { a: 1 } }),
    member({ requiredCapabilities: ['tickets.read'], riskTier: 'low', context: {} }),
    member({ approver: 'x', approvalHash: 'h', reason: 'r', result: { ok: 1 }, durationMs: 1, errorCode: 'e', errorMessage: 'm' }),
    member({ manifest: { atlas_id: 'x' }, files: {} }),
    member({ carp_version: '1.0', operation: 'resolve', requester: { agent_id: 'a' }, task: { goal: 'g' } }),
  );
  const arg = fc.oneof(any, nearValid, idish);
  return fc.oneof(
    fc.record({ on: fc.constant<'runtime'>('runtime'), method: fc.constantFrom(...RUNTIME_METHODS.filter((m) => m !== 'close')), args: fc.array(arg, { maxLength: 3 }) }),
    { weight: 2, arbitrary: fc.record({ on: fc.constant<'session'>('session'), method: fc.constantFrom(...SESSION_METHODS), args: fc.array(arg, { maxLength: 3 }) }) },
  );
}

function cyclic(): unknown {
  const o: Record<string, unknown> = { a: 1 };
  o.self = o;
  return o;
}

async function fresh(): Promise<{ runtime: EmbeddedRuntime; sessions: CraSession[] }> {
  const runtime = await createRuntime({ atlases: [await supportAtlas()] });
  const sessions: CraSession[] = [];
  for (let i = 0; i < 3; i++) {
    const s = await runtime.createSession({ agentId: 'support-bot', goal: `fuzz ${i}` });
    await s.resolve({ requiredCapabilities: ['tickets.read', 'tickets.write', 'billing.refund'] });
    sessions.push(s);
  }
  const pending = await sessions[0]!.requestAction({ actionId: 'refund.issue', parameters: REFUND });
  await sessions[0]!.requestAction({ actionId: 'ticket.lookup', parameters: { ticket_id: 'T-1' } });
  void pending;
  return { runtime, sessions };
}

async function heads(runtime: EmbeddedRuntime): Promise<string> {
  return (await runtime.listSessions({ limit: 1e6 })).items
    .map((s) => `${s.session_id}:${s.event_count}:${s.head_hash}:${s.status}`)
    .sort()
    .join(',');
}

function describe(v: unknown): string {
  try {
    return clip(fc.stringify(v), 300);
  } catch {
    return String(v);
  }
}

export async function fuzzSdk(cases: number, seed: number, failures: Failures, log: (l: string) => void): Promise<Record<string, number>> {
  const stats = { resolved: 0, rejected: 0, rebuilt: 0 };
  let t = await fresh();
  const CHUNK = 500;
  for (let done = 0; done < cases; done += CHUNK) {
    const calls = fc.sample(arbitraryCall(), { seed: seed + done, numRuns: Math.min(CHUNK, cases - done) });
    if (done > 0 && done % 1000 === 0) {
      await t.runtime.close().catch(() => undefined);
      t = await fresh();
      stats.rebuilt++;
      if (done % 10_000 === 0) log(`  sdk: ${done}/${cases}`);
    }
    for (const [k, call] of calls.entries()) {
      const before = await heads(t.runtime);
      const target: Record<string, unknown> = call.on === 'runtime' ? (t.runtime as never) : (t.sessions[k % t.sessions.length] as never);
      const where = `sdk ${call.on}.${call.method}(${describe(call.args)})`;
      let error: unknown = null;
      try {
        await (target[call.method] as (...a: unknown[]) => Promise<unknown>).apply(target, call.args);
        stats.resolved++;
      } catch (err) {
        error = err;
        stats.rejected++;
      }
      if (error !== null) {
        if (!(error instanceof CraError)) {
          failures.add('not_cra_error', where, `${(error as Error)?.constructor?.name}: ${(error as Error)?.message ?? String(error)}`);
        } else if (!ALL_CODES.has(error.code)) {
          failures.add('unlisted_code', where, `${error.code}: ${error.message}`);
        } else if (error.code === 'core_failure' || error.code === 'internal') {
          failures.add(error.code, where, error.message);
        }
        const after = await heads(t.runtime).catch(() => before);
        if (after !== before) failures.add('state_changed_on_error', where, `rejected with ${(error as CraError).code ?? error} yet a session head moved`);
      }
      // A session the call ended, or an atlas it unloaded, would starve the next calls: start over.
      const s = t.sessions[k % t.sessions.length]!;
      if ((await s.info().catch(() => null))?.status !== 'active') {
        const next = await t.runtime.createSession({ agentId: 'support-bot', goal: 'fuzz again' });
        await next.resolve({ requiredCapabilities: ['tickets.read', 'tickets.write', 'billing.refund'] }).catch(() => undefined);
        t.sessions[k % t.sessions.length] = next;
      }
      if (call.method === 'unloadAtlas' && !(await t.runtime.listAtlases()).some((a) => a.atlas_id === 'com.example.support')) {
        await t.runtime.loadAtlas(await supportAtlas());
      }
    }
  }
  // close() last: it must settle, and every call after it must reject with `closed`.
  await t.runtime.close();
  const after = await t.runtime.listSessions().then(
    () => 'resolved',
    (e: unknown) => (e instanceof CraError ? e.code : String(e)),
  );
  if (after !== 'closed') failures.add('not_closed', 'sdk runtime.close()', `a call after close answered ${after}`);
  return stats;
}
