/**
 * The hot path: may this session run this action now? Target ≤ 2 µs per call, through the raw ABI and the SDK.
 * Baselines: the same question answered by a JS Map lookup behind a function call (sync), and behind an awaited
 * async function (the floor of any Promise-returning API such as `session.check`).
 */

import { CHECK_CODES } from '../src/abi.ts';
import { createRuntime } from '../src/runtime/runtime.ts';
import { atMost, measure, nowUs, printRows, rawCore, resolveRequest, supportAtlas } from './harness.ts';

const N = 1000; // sync calls per sample
const M = 100; // awaited calls per sample

export async function run(module: WebAssembly.Module): Promise<void> {
  // Raw core: one session resolved on the support atlas; `ticket.lookup` is allowed.
  const { core, exports, newSession } = await rawCore(module);
  const s = newSession();
  core.call('session.resolve', { request: resolveRequest(s.id, new Date().toISOString()) }, nowUs());
  const action = core.call<{ handle: number }>('action.handle', { action_id: 'ticket.lookup' }, nowUs()).handle;
  if (core.check(s.handle, action, nowUs()) !== CHECK_CODES.allow) throw new Error('check bench: ticket.lookup is not allowed');

  // SDK runtime on the same module.
  const rt = await createRuntime({ wasm: module, atlases: [await supportAtlas()] });
  const session = await rt.createSession({ agentId: 'bench', goal: 'Answer ticket T-10042' });
  await session.resolve();
  if (!(await session.check('ticket.lookup')).allowed) throw new Error('check bench: SDK check is not allow');

  // Baseline: the same shape in JS: session table → action table → code, with an expiry test.
  const sessions = new Map<number, { expiresUs: number; actions: Map<number, number> }>([
    [s.handle, { expiresUs: nowUs() + 3600e6, actions: new Map([[action, CHECK_CODES.allow]]) }],
  ]);
  const jsCheck = (sh: number, ah: number, now: number): number => {
    const st = sessions.get(sh);
    if (!st) return CHECK_CODES.unknown_session;
    if (now >= st.expiresUs) return CHECK_CODES.expired;
    return st.actions.get(ah) ?? CHECK_CODES.deny;
  };
  const jsCheckAsync = async (sh: number, ah: number, now: number) => ({ code: jsCheck(sh, ah, now) });

  let sink = 0; // consumed below so that no loop is optimised away
  const stats = await measure([
    {
      name: 'js: Map lookup + call',
      batch: N,
      fn: () => {
        const now = nowUs();
        for (let i = 0; i < N; i++) sink += jsCheck(s.handle, action, now);
      },
    },
    {
      name: 'cra_check export (no wrapper)',
      batch: N,
      fn: () => {
        const now = nowUs();
        for (let i = 0; i < N; i++) sink += exports.cra_check(s.handle, action, now);
      },
    },
    {
      name: 'Core.check (raw ABI)',
      batch: N,
      fn: () => {
        const now = nowUs();
        for (let i = 0; i < N; i++) sink += core.check(s.handle, action, now);
      },
    },
    {
      name: 'js: awaited async Map lookup',
      batch: M,
      async: true,
      fn: async () => {
        const now = nowUs();
        for (let i = 0; i < M; i++) sink += (await jsCheckAsync(s.handle, action, now)).code;
      },
    },
    {
      name: "SDK session.check('ticket.lookup')",
      batch: M,
      async: true,
      fn: async () => {
        for (let i = 0; i < M; i++) sink += (await session.check('ticket.lookup')).code;
      },
    },
  ]);
  await rt.close();
  if (sink === 0) throw new Error('check bench: nothing was checked');

  const target = atMost(2_000, '≤ 2 µs');
  const get = (n: string) => stats.get(n)!;
  printRows(
    'check',
    [
      { name: 'js: Map lookup + call', stats: get('js: Map lookup + call'), isBaseline: true },
      { name: 'cra_check export (no wrapper)', stats: get('cra_check export (no wrapper)'), baseline: 'js: Map lookup + call' },
      { name: 'Core.check (raw ABI)', stats: get('Core.check (raw ABI)'), target, baseline: 'js: Map lookup + call' },
      { name: 'js: awaited async Map lookup', stats: get('js: awaited async Map lookup'), isBaseline: true },
      {
        name: "SDK session.check('ticket.lookup')",
        stats: get("SDK session.check('ticket.lookup')"),
        target,
        baseline: 'js: awaited async Map lookup',
      },
    ],
    [`per call; samples are batches of ${N} sync / ${M} awaited calls`],
  );
}
