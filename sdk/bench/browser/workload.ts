/**
 * The timed loops of the Chromium rows, written once and run twice: in the page (served as JavaScript by
 * `../chromium.ts`, against `dist/index.web.js`) and in Node (imported as is, against `dist/index.node.js`), so the
 * two figures come from the same code on the same build. The driver alternates short rounds of the two, so that a
 * change of load on the machine lands on both. Samples are batches timed with `performance.now()` (Chromium
 * coarsens it to 100 µs outside cross-origin isolation, which is why a sample is a batch of a few milliseconds).
 */

import type * as Sdk from '../../src/index.ts';
import type { AtlasBundle } from '../../src/types.ts';

export type SdkModule = typeof Sdk;
export type LoopKind = 'governed' | 'resolve';

/** One open loop: a runtime on the memory store with the support atlas, and one resolved session on it. */
export interface Loop {
  /** Runs `calls` calls untimed (warm-up). */
  run(calls: number): Promise<void>;
  /** Milliseconds per sample, each a batch of `batch` calls. */
  sample(samples: number, batch: number): Promise<number[]>;
  close(): Promise<void>;
}

const ARGS = { ticket_id: 'T-10042' };

export async function openLoop(sdk: SdkModule, atlas: AtlasBundle, kind: LoopKind, wasm?: Sdk.CoreSource): Promise<Loop> {
  const rt = await sdk.createRuntime({ ...(wasm ? { wasm } : {}), storage: sdk.memoryStore(), atlases: [atlas] });
  const session = await rt.createSession({ agentId: 'bench', goal: 'Answer ticket T-10042' });
  await session.resolve();
  const one =
    kind === 'governed'
      ? // A governed call by hand: requestAction('ticket.lookup'), the handler's answer, complete.
        async () => {
          const execution = await session.requestAction({ actionId: 'ticket.lookup', parameters: ARGS });
          const done = await session.complete(execution, { result: { ticket_id: ARGS.ticket_id, status: 'open' } });
          if (done.status !== 'executed') throw new Error(`the governed call answered ${done.status}`);
        }
      : // A fresh, traced resolution each call.
        async () => {
          if ((await session.resolve()).allowed_actions.length === 0) throw new Error('resolve answered no allowed action');
        };
  return {
    async run(calls) {
      for (let i = 0; i < calls; i++) await one();
    },
    async sample(samples, batch) {
      const out: number[] = [];
      for (let s = 0; s < samples; s++) {
        const t0 = performance.now();
        for (let i = 0; i < batch; i++) await one();
        out.push(performance.now() - t0);
      }
      return out;
    },
    close: () => rt.close(),
  };
}
