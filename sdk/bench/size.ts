/**
 * Module size: raw bytes of sdk/src/runtime/cra_core.wasm (target ≤ 200 KB) and what it costs over the wire
 * compressed (gzip -9: target ≤ 80 KB; brotli q11 shown). KB = 1000 bytes here. Sizes are exact; there is no noise
 * to average.
 */

import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { printTable, target } from './harness.ts';

const RAW_LIMIT = 200_000;
const GZIP_LIMIT = 80_000;

const kb = (n: number) => `${(n / 1000).toFixed(1)} KB`;

export function run(bytes: Uint8Array): void {
  const gzip = gzipSync(bytes, { level: 9 }).length;
  const brotli = brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  const rawPass = bytes.length <= RAW_LIMIT;
  const gzipPass = gzip <= GZIP_LIMIT;
  target({ group: 'size', name: 'cra_core.wasm raw', value: kb(bytes.length), target: '≤ 200 KB', pass: rawPass });
  target({ group: 'size', name: 'cra_core.wasm gzip -9', value: kb(gzip), target: '≤ 80 KB', pass: gzipPass });
  const pct = (n: number) => `${((100 * n) / bytes.length).toFixed(1)}%`;
  printTable(
    'module size (sdk/src/runtime/cra_core.wasm)',
    [
      ['encoding', 'bytes', 'size', 'of raw', 'target', 'status'],
      ['raw', String(bytes.length), kb(bytes.length), '100%', '≤ 200 KB', rawPass ? 'PASS' : 'FAIL'],
      ['gzip -9', String(gzip), kb(gzip), pct(gzip), '≤ 80 KB', gzipPass ? 'PASS' : 'FAIL'],
      ['brotli q11', String(brotli), kb(brotli), pct(brotli), '', ''],
    ],
    ['KB = 1000 bytes'],
  );
}
