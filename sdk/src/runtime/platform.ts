/**
 * What differs between runtimes when the core is loaded with no source given. This file (used when running the
 * sources, and by the package's `default` build) detects the runtime at call time; the package's builds for
 * `node`, `deno` / `browser` and `workerd` swap in `platform.node.ts`, `platform.web.ts` and `platform.workerd.ts`
 * (see rollup.config.mjs).
 *
 * @module
 */

import type { HostUrl, WasmModule } from './host-types.ts';
/** The core as a compiled module, on runtimes that import `.wasm` files as modules (workerd); else undefined. */
export function bundledCore(): WasmModule | undefined {
  return undefined;
}

/** The bytes behind a `file:` URL. Node's fetch cannot read `file:` URLs: read them from disk (Deno has its own reader). */
export async function readFileUrl(url: HostUrl): Promise<Uint8Array<ArrayBuffer>> {
  const deno = (globalThis as { Deno?: { readFile(u: URL): Promise<Uint8Array<ArrayBuffer>> } }).Deno;
  if (deno && typeof deno.readFile === 'function') return deno.readFile(url);
  // A computed specifier keeps bundlers for browsers and workers from pulling in `node:fs`.
  const specifier = ['node', 'fs/promises'].join(':');
  const fs = (await import(/* @vite-ignore */ specifier)) as { readFile(u: URL): Promise<Uint8Array<ArrayBuffer>> };
  return fs.readFile(url);
}
