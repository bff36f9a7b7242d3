/**
 * A worker thread of `--every-byte`: its own core instance over the same trace, checking the batches of byte
 * changes the main thread hands it (one line's positions at a time) and answering counts and failures.
 *
 * @module
 */

import { parentPort, workerData } from 'node:worker_threads';
import { checkBytes, TraceText } from './bytes.ts';
import { PrefixVerifier } from './verifier.ts';

const text = new TraceText(workerData.lines as string[]);
const verifier = await PrefixVerifier.create(text.lines);
parentPort!.on('message', async (batch: { positions: Int32Array; values: Uint8Array } | null) => {
  if (batch === null) {
    parentPort!.close();
    return;
  }
  parentPort!.postMessage(await checkBytes(verifier, text, batch.positions, batch.values));
});
parentPort!.postMessage('ready');
