/**
 * The package's `node` build: the core file beside the bundle is read from disk.
 *
 * @module
 */

import { readFile } from 'node:fs/promises';
import type { HostUrl, WasmModule } from './host-types.ts';

export function bundledCore(): WasmModule | undefined {
  return undefined;
}

export async function readFileUrl(url: HostUrl): Promise<Uint8Array<ArrayBuffer>> {
  const buf = await readFile(url);
  return new Uint8Array(buf.buffer as ArrayBuffer, buf.byteOffset, buf.byteLength);
}
