/**
 * Where the core's WebAssembly comes from. The module is compiled once per source and shared: every runtime
 * instantiates the same compiled module, and concurrent first calls wait on the same compilation.
 *
 * @module
 */

import { CraError } from '../errors.ts';
import { bundledCore, readFileUrl } from './platform.ts';

/**
 * A source of the core module:
 * - a `WebAssembly.Module` (edge workers: `import mod from './cra_core.wasm'`), used as is;
 * - bytes (`ArrayBuffer`, any typed array);
 * - a `URL` or URL string (`file:` URLs are read from disk on Node and Deno, others are fetched);
 * - a `Response` or a promise of one (`fetch(...)`).
 */
export type CoreSource = WebAssembly.Module | ArrayBuffer | ArrayBufferView | URL | string | Response | PromiseLike<Response>;

/**
 * The URL of the module shipped beside this file. Computed on demand: some bundles for workers give modules no
 * usable `import.meta.url`, and they pass a `WebAssembly.Module` instead.
 */
export function defaultCoreUrl(): URL {
  return new URL('./cra_core.wasm', import.meta.url);
}

const byObject = new WeakMap<object, Promise<WebAssembly.Module>>();
const byUrl = new Map<string, Promise<WebAssembly.Module>>();

/**
 * Compiles the core from `source` (default: the module shipped with the package). Idempotent: the same source
 * compiles once; a failed attempt is forgotten so that a later call can retry.
 */
export function compileCore(source?: CoreSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return Promise.resolve(source);
  const bundled = source === undefined ? bundledCore() : undefined; // workerd: the module imported by the package
  if (bundled) return Promise.resolve(bundled);
  if (source === undefined || typeof source === 'string' || source instanceof URL) {
    let href: string;
    try {
      if (source instanceof URL) href = source.href;
      else if (source === undefined) href = defaultCoreUrl().href;
      else href = URL.canParse(source) ? new URL(source).href : new URL(source, defaultCoreUrl()).href;
    } catch (err) {
      return Promise.reject(unavailable(err));
    }
    return memo(byUrl, href, () => fromUrl(new URL(href)));
  }
  const key: unknown = source;
  if (typeof key !== 'object' || key === null) {
    return Promise.reject(new CraError('core_unavailable', 'unsupported core source'));
  }
  return memoObject(key, () => compileObject(key));
}

function memo(map: Map<string, Promise<WebAssembly.Module>>, key: string, make: () => Promise<WebAssembly.Module>) {
  let p = map.get(key);
  if (!p) {
    p = make().catch((err) => {
      map.delete(key);
      throw unavailable(err);
    });
    map.set(key, p);
  }
  return p;
}

function memoObject(key: object, make: () => Promise<WebAssembly.Module>) {
  let p = byObject.get(key);
  if (!p) {
    p = make().catch((err) => {
      byObject.delete(key);
      throw unavailable(err);
    });
    byObject.set(key, p);
  }
  return p;
}

function unavailable(err: unknown): CraError {
  if (err instanceof CraError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new CraError('core_unavailable', `cannot load the CRA core: ${msg}`, { cause: err });
}

async function compileObject(source: object): Promise<WebAssembly.Module> {
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) {
    return WebAssembly.compile(toBytes(source as ArrayBuffer | ArrayBufferView));
  }
  if (isResponse(source)) return fromResponse(source);
  if (typeof (source as PromiseLike<Response>).then === 'function') {
    const res = await (source as PromiseLike<Response>);
    if (!isResponse(res)) throw new Error('the promise did not resolve to a Response');
    return fromResponse(res);
  }
  throw new Error('unsupported core source');
}

function toBytes(source: ArrayBuffer | ArrayBufferView): Uint8Array<ArrayBuffer> {
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  return new Uint8Array(source.buffer as ArrayBuffer, source.byteOffset, source.byteLength);
}

function isResponse(value: unknown): value is Response {
  return typeof Response !== 'undefined' && value instanceof Response;
}

async function fromResponse(res: Response): Promise<WebAssembly.Module> {
  if (!res.ok) throw new Error(`fetching the core answered HTTP ${res.status}`);
  const type = res.headers.get('content-type') ?? '';
  // compileStreaming insists on the exact media type; anything else goes through a buffer.
  if (typeof WebAssembly.compileStreaming === 'function' && type.split(';')[0]!.trim() === 'application/wasm') {
    return WebAssembly.compileStreaming(res);
  }
  return WebAssembly.compile(new Uint8Array(await res.arrayBuffer()));
}

async function fromUrl(url: URL): Promise<WebAssembly.Module> {
  if (url.protocol === 'file:') return WebAssembly.compile(await readFileUrl(url));
  return fromResponse(await fetch(url));
}
