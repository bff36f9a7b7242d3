/**
 * The host types that the SDK's public signatures name, declared so that the shipped declarations check in any
 * project: one type-checked without the DOM library or @types/node (`lib: ["es2022"], types: []`) has no
 * `WebAssembly`, `URL` or `Response`. Each type is the host's own where the project has it (read off
 * `typeof globalThis`, which names no missing type), so callers pass and get a real `WebAssembly.Module`, `URL` or
 * `Response` as before; else the least of it the SDK uses.
 *
 * @module
 */

/** A compiled WebAssembly module: `WebAssembly.Module`, or any object where the project has no such type. */
export type WasmModule = typeof globalThis extends { WebAssembly: { Module: { prototype: infer M } } } ? M : object;

/** The linear memory a module exports: `WebAssembly.Memory`, or its `buffer`. */
export type WasmMemory = typeof globalThis extends { WebAssembly: { Memory: { prototype: infer M } } } ? M : { readonly buffer: ArrayBuffer };

/** A parsed URL: `URL`, or {@link UrlLike}. */
export type HostUrl = typeof globalThis extends { URL: { prototype: infer U } } ? U : UrlLike;

/** An HTTP response (what `fetch` answers): `Response`, or {@link ResponseLike}. */
export type HostResponse = typeof globalThis extends { Response: { prototype: infer R } } ? R : ResponseLike;

/** What the SDK reads of a URL. */
export interface UrlLike {
  readonly href: string;
  readonly protocol: string;
}

/** What loading the core reads of a response. */
export interface ResponseLike {
  readonly ok: boolean;
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** A signal that aborts a request: `AbortSignal`, or what a listener reads of one. */
export type HostAbortSignal = typeof globalThis extends { AbortSignal: { prototype: infer S } } ? S : { readonly aborted: boolean };

/** The `fetch` function, or the least of it the HTTP client calls. */
export type HostFetch = typeof globalThis extends { fetch: infer F } ? F : (input: string, init?: FetchInit) => Promise<ResponseLike>;

/** What the HTTP client passes to `fetch`. */
export interface FetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: unknown;
}
