/**
 * Module size: raw bytes of sdk/src/runtime/cra_core.wasm (target ≤ 250 KB, read as 250 KiB = 256 000 bytes) and
 * what it costs over the wire compressed (gzip -9, brotli q11). Sizes are exact; there is no noise to average.
 */

import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { fmtBytes, printTable, summary } from './harness.ts';

const LIMIT = 250 * 1024;

export function run(bytes: Uint8Array): void {
  const gzip = gzipSync(bytes, { level: 9 }).length;
  const brotli = brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  const pass = bytes.length <= LIMIT;
  summary.push({ group: 'size', name: 'cra_core.wasm raw', value: fmtBytes(bytes.length), target: '≤ 250 KiB', pass });
  const pct = (n: number) => `${((100 * n) / bytes.length).toFixed(1)}%`;
  printTable(
    'module size (sdk/src/runtime/cra_core.wasm)',
    [
      ['encoding', 'bytes', 'size', 'of raw', 'target', 'status'],
      ['raw', String(bytes.length), fmtBytes(bytes.length), '100%', '≤ 250 KiB', pass ? 'PASS' : 'MISS'],
      ['gzip -9', String(gzip), fmtBytes(gzip), pct(gzip), '', ''],
      ['brotli q11', String(brotli), fmtBytes(brotli), pct(brotli), '', ''],
    ],
  );
}
