/**
 * The package's `workerd` build (Cloudflare Workers): the core is imported as a compiled module (`CompiledWasm`),
 * since workers may not compile WebAssembly from bytes at run time. Bundlers for workers (wrangler, miniflare's
 * module rules) load `*.wasm` imports that way.
 *
 * @module
 */

import core from './cra_core.wasm';
import type { HostUrl, WasmModule } from './host-types.ts';

export function bundledCore(): WasmModule | undefined {
  return core;
}

export async function readFileUrl(url: HostUrl): Promise<Uint8Array<ArrayBuffer>> {
  throw new Error(`workers have no file system to read ${url.href} from: pass the core as a module`);
}
