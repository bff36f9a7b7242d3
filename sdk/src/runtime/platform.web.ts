/**
 * The package's `deno` and `browser` build: the core beside the bundle is fetched,
 * `fetch(new URL('./cra_core.wasm', import.meta.url))` (Deno's fetch reads `file:` URLs with `--allow-read`;
 * bundlers rewrite the URL to the emitted asset).
 *
 * @module
 */

import type { HostUrl, WasmModule } from './host-types.ts';

export function bundledCore(): WasmModule | undefined {
  return undefined;
}

export async function readFileUrl(url: HostUrl): Promise<Uint8Array<ArrayBuffer>> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`reading ${url.href} answered HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}
