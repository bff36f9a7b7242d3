/**
 * The CRA server for the HTTP bench, in a process of its own (as it is deployed): `startServer` on a free loopback
 * port, auth on with the key given in `CRA_BENCH_KEY`, the support atlas, and the server's default durable store
 * (JSONL traces) in a fresh temp folder that is removed on exit. Prints one JSON line `{url}` once listening; stops
 * when its stdin closes (so it never outlives the bench) or on SIGTERM.
 *
 * With `CRA_BENCH_COUNT_SYNCS=1` it counts the fdatasync and fsync calls of the process (`FileHandle.prototype`
 * wrapped before the server starts), and answers each `syncs` line on its stdin with a line `{"syncs": n}`: the bench
 * divides the count by the operations of a row, so a store that stops grouping the appends of concurrent requests
 * shows at once as one sync per append.
 *
 *   CRA_BENCH_KEY=k node --import tsx sdk/bench/http-server.ts
 */

import { type FileHandle, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../server/src/adapter/node/index.ts';
import { parseConfig } from '../../server/src/config.ts';

const key = process.env.CRA_BENCH_KEY;
if (!key) throw new Error('http-server: CRA_BENCH_KEY is required');
const dataDir = await mkdtemp(join(tmpdir(), 'cra-bench-http-'));
const syncs = process.env.CRA_BENCH_COUNT_SYNCS === '1' ? await countSyncs(dataDir) : null;
const config = parseConfig({
  CRA_PORT: '0',
  CRA_HOST: '127.0.0.1',
  CRA_AUTH: 'on',
  CRA_API_KEYS: key,
  CRA_DATA_DIR: dataDir,
  CRA_ATLAS_DIR: fileURLToPath(new URL('../../examples/atlases/support', import.meta.url)),
});
const server = await startServer(config, { log: () => undefined });
process.stdout.write(`${JSON.stringify({ url: server.url, dataDir })}\n`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await server.close(1000).catch(() => undefined);
  await rm(dataDir, { recursive: true, force: true });
  process.exit(0);
};
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'syncs') process.stdout.write(`${JSON.stringify({ syncs: syncs?.count ?? null })}\n`);
});
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.on('SIGTERM', stop);

/** Wraps `datasync` and `sync` of every FileHandle (the class is reached through a handle of a scratch file). */
async function countSyncs(dir: string): Promise<{ count: number }> {
  const counter = { count: 0 };
  const probe = await open(join(dir, '.probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as FileHandle;
  await probe.close();
  await rm(join(dir, '.probe'));
  for (const name of ['datasync', 'sync'] as const) {
    const original = proto[name];
    proto[name] = function (this: FileHandle) {
      counter.count++;
      return original.call(this);
    };
  }
  return counter;
}
