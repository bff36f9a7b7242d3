/**
 * Where the core's WebAssembly comes from. The module is compiled once per source and shared: every runtime
 * instantiates the same compiled module, and concurrent first calls wait on the same compilation.
 *
 * @module
 */

import { ABI_VERSION, CORE_EXPORTS } from '../abi.ts';
import { CraError } from '../errors.ts';
import type { HostResponse, HostUrl, WasmModule } from './host-types.ts';
import { bundledCore, readFileUrl } from './platform.ts';

/**
 * A source of the core module:
 * - a `WebAssembly.Module` (edge workers: `import mod from './cra_core.wasm'`), used as is;
 * - bytes (`ArrayBuffer`, any typed array);
 * - a `URL` or URL string (`file:` URLs are read from disk on Node and Deno, others are fetched);
 * - a `Response` or a promise of one (`fetch(...)`).
 */
export type CoreSource = WasmModule | ArrayBuffer | ArrayBufferView | HostUrl | string | HostResponse | PromiseLike<HostResponse>;

/**
 * The URL of the module shipped beside this file. Computed on demand: some bundles for workers give modules no
 * usable `import.meta.url`, and they pass a `WebAssembly.Module` instead.
 */
export function defaultCoreUrl(): HostUrl {
  return new URL('./cra_core.wasm', import.meta.url);
}

const byObject = new WeakMap<object, Promise<WebAssembly.Module>>();
const byUrl = new Map<string, Promise<WebAssembly.Module>>();

/**
 * Compiles the core from `source` (default: the module shipped with the package). Idempotent: the same source
 * compiles once; a failed attempt is forgotten so that a later call can retry.
 */
export function compileCore(source?: CoreSource): Promise<WasmModule> {
  if (source instanceof WebAssembly.Module) return checked(source);
  const bundled = source === undefined ? bundledCore() : undefined; // workerd: the module imported by the package
  if (bundled) return checked(bundled);
  if (source === undefined || typeof source === 'string' || source instanceof URL) {
    let href: string;
    try {
      if (source instanceof URL) href = source.href;
      else if (source === undefined) href = defaultCoreUrl().href;
      else href = URL.canParse(source) ? new URL(source).href : new URL(source, defaultCoreUrl()).href;
    } catch (err) {
      return Promise.reject(unavailable(err));
    }
    return memo(byUrl, href, () => fromUrl(new URL(href)).then(ofThisAbi));
  }
  const key: unknown = source;
  if (typeof key !== 'object' || key === null) {
    return Promise.reject(new CraError('core_unavailable', 'unsupported core source'));
  }
  return memo(byObject, key, () => compileObject(key).then(ofThisAbi));
}

function checked(module: WebAssembly.Module): Promise<WebAssembly.Module> {
  try {
    return Promise.resolve(ofThisAbi(module));
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * Refuses a module that does not have every export of the ABI contract (a core built before the ABI was versioned,
 * or not a CRA core at all). The version itself is a function of the instance: {@link Core.instantiate} reads it.
 */
function ofThisAbi(module: WebAssembly.Module): WebAssembly.Module {
  const names = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  const missing = CORE_EXPORTS.filter((name) => !names.has(name));
  if (missing.length > 0) {
    throw new CraError(
      'core_unavailable',
      `the module is not a CRA core of ABI version ${ABI_VERSION}: export ${missing.join(', ')} is missing (rebuild it or use the package's own)`,
    );
  }
  return module;
}

/** The compilation of `key`, started once; a failed one is forgotten so that a later call can retry. */
function memo<K>(
  cache: { get(k: K): Promise<WebAssembly.Module> | undefined; set(k: K, v: Promise<WebAssembly.Module>): unknown; delete(k: K): unknown },
  key: K,
  make: () => Promise<WebAssembly.Module>,
): Promise<WebAssembly.Module> {
  let p = cache.get(key);
  if (!p) {
    p = make().catch((err) => {
      cache.delete(key);
      throw unavailable(err);
    });
    cache.set(key, p);
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
