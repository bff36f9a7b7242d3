/**
 * The same authorization question asked of CRA and of Cedar (`@cedar-policy/cedar-wasm`, `statefulIsAuthorized`:
 * policies and schema preparsed, entities a constant list): may agent `bench` run `ticket.lookup` (allow) and
 * `customer.delete` (deny) on the support atlas? Both answers are asserted before anything is timed. Cedar decides
 * and records nothing; the target row is what an agent pays per tool call with us, decided AND traced: the governed
 * call (`requestAction` → `complete`, four events hashed into the chain) for allow, a denied `requestAction` (its
 * events traced) for deny. The SDK's `session.check` (a decision with no audit, Cedar's kind of answer) and
 * `Core.check` (the raw ABI, sync) are shown beside them. Target: ours faster than Cedar's (ratio = ours / Cedar's).
 */

import { CHECK_CODES } from '../src/abi.ts';
import { createRuntime } from '../src/runtime/runtime.ts';
import { cedarDecider } from './cedar-fixture.ts';
import { fmtRatio, measure, nowUs, printRows, rawCore, resolveRequest, supportAtlas, target } from './harness.ts';

const N = 1000; // sync calls per sample
const M = 100; // awaited calls per sample

const GOVERNED = {
  allow: 'governed call: requestAction → complete, traced (allow)',
  deny: 'denied requestAction, traced (deny)',
} as const;

const PAIRS = [
  { action: 'ticket.lookup', answer: 'allow' as const },
  { action: 'customer.delete', answer: 'deny' as const },
];

export async function run(module: WebAssembly.Module): Promise<void> {
  const cedar = cedarDecider();
  const rt = await createRuntime({ wasm: module, atlases: [await supportAtlas()] });
  const session = await rt.createSession({ agentId: 'bench', goal: 'Answer ticket T-10042' });
  await session.resolve();
  const { core, newSession } = await rawCore(module);
  const s = newSession();
  core.call('session.resolve', { request: resolveRequest(s.id, new Date().toISOString()) }, nowUs());

  for (const p of PAIRS) {
    const ours = await session.check(p.action);
    const theirs = cedar.decide(p.action);
    const code = core.check(s.handle, core.call<{ handle: number }>('action.handle', { action_id: p.action }, nowUs()).handle, nowUs());
    if (theirs !== p.answer) throw new Error(`cedar bench: Cedar answers ${theirs} for ${p.action}, expected ${p.answer}`);
    if (ours.allowed !== (p.answer === 'allow')) throw new Error(`cedar bench: CRA answers ${ours.result} for ${p.action}, expected ${p.answer}`);
    if ((code === CHECK_CODES.allow) !== (p.answer === 'allow')) throw new Error(`cedar bench: Core.check answers ${code} for ${p.action}`);
  }

  let sink = 0;
  const tasks = PAIRS.flatMap((p) => {
    const call = cedar.call(p.action);
    const handle = core.call<{ handle: number }>('action.handle', { action_id: p.action }, nowUs()).handle;
    return [
      {
        name: `Cedar statefulIsAuthorized (${p.answer})`,
        batch: N / 10,
        fn: () => {
          for (let i = 0; i < N / 10; i++) sink += cedar.statefulIsAuthorized(call).type.length;
        },
      },
      {
        name: GOVERNED[p.answer],
        batch: M / 5,
        async: true,
        fn: async () => {
          for (let i = 0; i < M / 5; i++) {
            if (p.answer === 'allow') {
              const execution = await session.requestAction({ actionId: p.action, parameters: { ticket_id: 'T-10042' } });
              sink += (await session.complete(execution, { result: { status: 'open' } })).status.length;
            } else {
              sink += (await session.requestAction({ actionId: p.action, parameters: { customer_id: 'C-1' } })).status.length;
            }
          }
        },
      },
      {
        name: `SDK session.check('${p.action}') (${p.answer})`,
        batch: M,
        async: true,
        fn: async () => {
          for (let i = 0; i < M; i++) sink += (await session.check(p.action)).code + 1;
        },
      },
      {
        name: `Core.check raw ABI (${p.answer})`,
        batch: N,
        fn: () => {
          const now = nowUs();
          for (let i = 0; i < N; i++) sink += core.check(s.handle, handle, now) + 1;
        },
      },
    ];
  });
  const stats = await measure(tasks);
  await rt.close();
  if (sink === 0) throw new Error('cedar bench: nothing was decided');

  const get = (n: string) => stats.get(n)!;
  const rows = PAIRS.flatMap((p) => {
    const base = `Cedar statefulIsAuthorized (${p.answer})`;
    const ours = `SDK session.check('${p.action}') (${p.answer})`;
    const governed = GOVERNED[p.answer];
    const ratio = get(governed).median / get(base).median;
    target({ group: 'cedar', name: `${p.answer}: ${governed} vs Cedar statefulIsAuthorized`, value: fmtRatio(ratio), target: '< 1× (ours faster, with audit)', pass: ratio < 1 });
    return [
      { name: base, stats: get(base), isBaseline: true },
      { name: governed, stats: get(governed), baseline: base },
      { name: ours, stats: get(ours), baseline: base },
      { name: `Core.check raw ABI (${p.answer})`, stats: get(`Core.check raw ABI (${p.answer})`), baseline: base },
    ];
  });
  printRows('authorization: CRA vs Cedar (same decision)', rows, [
    `Cedar ${cedar.version} (@cedar-policy/cedar-wasm, Node.js entry), preparsed policy set and schema, validateRequest on`,
    'answers asserted before timing: ticket.lookup → allow on both, customer.delete → deny on both; "vs baseline" = ours / Cedar',
  ]);
}
