/**
 * The host types that the SDK's public signatures name, declared so that the shipped declarations check in any
 * project: one type-checked without the DOM library or @types/node (`lib: ["es2022"], types: []`) has no
 * `WebAssembly`, `URL` or `Response`. Each type is the host's own where the project has it (read off
 * `typeof globalThis`, which names no missing type), so callers pass and get a real `WebAssembly.Module`, `URL` or
 * `Response` as before; else the least of it the SDK uses.
 *
 * @module
 */

/** A global constructor `K` whose instances are `T` (a mapped type: it names no missing global). */
type Declares<K extends string, T> = { readonly [P in K]: { readonly prototype: T } };

/** A global namespace `K` with a constructor `C` whose instances are `T`. */
type DeclaresIn<K extends string, C extends string, T> = { readonly [P in K]: Declares<C, T> };

/** A compiled WebAssembly module: `WebAssembly.Module`, or any object where the project has no such type. */
export type WasmModule = typeof globalThis extends DeclaresIn<'WebAssembly', 'Module', infer M> ? M : object;

/** The linear memory a module exports: `WebAssembly.Memory`, or its `buffer`. */
export type WasmMemory = typeof globalThis extends DeclaresIn<'WebAssembly', 'Memory', infer M> ? M : MemoryLike;

/** A parsed URL: `URL`, or {@link UrlLike}. */
export type HostUrl = typeof globalThis extends Declares<'URL', infer U> ? U : UrlLike;

/** An HTTP response (what `fetch` answers): `Response`, or {@link ResponseLike}. */
export type HostResponse = typeof globalThis extends Declares<'Response', infer R> ? R : ResponseLike;

/** What the SDK reads of a WebAssembly memory. */
export interface MemoryLike {
  /** The memory's bytes. */
  readonly buffer: ArrayBuffer;
}

/** What the SDK reads of an abort signal. */
export interface AbortSignalLike {
  /** Whether it fired. */
  readonly aborted: boolean;
}

/** What the SDK reads of a URL. */
export interface UrlLike {
  /** The whole URL. */
  readonly href: string;
  /** The scheme with its colon (`file:`, `https:`). */
  readonly protocol: string;
}

/** What loading the core reads of a response. */
export interface ResponseLike {
  /** A 2xx status. */
  readonly ok: boolean;
  /** The HTTP status. */
  readonly status: number;
  /** The response's headers (`content-type` is read). */
  readonly headers: {
    /** A header's value, or null. */
    get(name: string): string | null;
  };
  /** The body's bytes. */
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** A signal that aborts a request: `AbortSignal`, or what a listener reads of one. */
export type HostAbortSignal = typeof globalThis extends Declares<'AbortSignal', infer S> ? S : AbortSignalLike;

/** The `fetch` function, or the least of it the HTTP client calls. */
export type HostFetch = typeof globalThis extends Readonly<Record<'fetch', infer F>> ? F : (input: string, init?: FetchInit) => Promise<ResponseLike>;

/** What the HTTP client passes to `fetch`. */
export interface FetchInit {
  /** The HTTP method. */
  method?: string;
  /** Request headers. */
  headers?: Record<string, string>;
  /** A JSON body. */
  body?: string;
  /** Aborts the request. */
  signal?: unknown;
}
