/**
 * Node as a separate process, for what the test process itself cannot show: the warnings Node prints while running
 * the scenario (none), and what each function answers in a Node without the global WebCrypto
 * (`--no-experimental-global-webcrypto`). Prints `{ runtime, scenario? , refusals? }` as JSON.
 */
import { CraError } from '../../src/errors.ts';
import { generateKeyPair, signerFromSeed, verifySignature } from '../../src/proof/ed25519.ts';
import { runProofScenario } from './scenario.ts';

async function answer(run: () => Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    return { code: 'answered', message: String(await run()) };
  } catch (err) {
    return err instanceof CraError ? { code: err.code, message: err.message } : { code: `not a CraError: ${String(err)}`, message: '' };
  }
}

const runtime = `node ${process.versions.node}`;
if (globalThis.crypto === undefined) {
  const seed = new Uint8Array(32);
  console.log(
    JSON.stringify({
      runtime,
      refusals: {
        generateKeyPair: await answer(() => generateKeyPair()),
        signerFromSeed: await answer(() => signerFromSeed(seed)),
        verifySignature: await answer(() => verifySignature(new Uint8Array(32), new Uint8Array(64), seed)),
      },
    }),
  );
} else {
  console.log(JSON.stringify({ runtime, scenario: await runProofScenario() }));
}
