/**
 * The ABI glue between JavaScript and the core (see `wasm/ABI.md`), in one place: instantiate the module with its
 * two imports, copy UTF-8 JSON in, call, read the `{ok}` / `{error}` envelope back.
 *
 * Failure model: an `{error}` envelope is an ordinary rejection of bad input and leaves the core unchanged. Anything
 * else — a trap, an exception thrown through the module, an unreadable or malformed result — means the instance can
 * no longer be trusted: it is marked poisoned, every later call on it throws `core_failure`, and the owner
 * rebuilds a fresh instance from stored traces.
 *
 * @module
 */

import { ABI_VERSION, CHECK_RESULTS, CORE_EXPORTS } from '../abi.ts';
import { CraError } from '../errors.ts';
import { type IdSource, systemIds, writeUuidv7 } from '../host.ts';
import { isObject } from '../util.ts';
import type { WasmMemory, WasmModule } from './host-types.ts';

/** The exports of the core module. */
export interface CoreExports {
  memory: WasmMemory;
  cra_alloc(len: number): number;
  cra_free(ptr: number, len: number): void;
  cra_call(opPtr: number, opLen: number, inPtr: number, inLen: number, nowUs: number): number;
  cra_check(sessionHandle: number, actionHandle: number, nowUs: number): number;
  cra_abi_version(): number;
}

export interface CoreOptions {
  /** Fresh lowercase UUIDs for the `cra_host_ids` import. */
  ids: IdSource;
  /**
   * Wraps the module's exports before use. For fault injection in tests (forcing traps and garbage answers);
   * production code has no reason to set it.
   * @internal
   */
  instrument?: (exports: CoreExports) => CoreExports;
}

/** What `cra_host_tz_offset` answers for a zone the host does not know. */
export const UNKNOWN_ZONE = -2147483648;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const ERROR_CODE = /^[a-z][a-z0-9_]*$/;
/** Inputs longer than this (UTF-16 units) are encoded to their exact size before they are copied in. */
const LARGE_INPUT = 64 * 1024;

/** The input buffer of a call with an attachment: the JSON, a NUL byte (never in JSON text), the attachment. */
function attached(json: string, attachment: string): Uint8Array {
  const head = encoder.encode(json);
  const tail = encoder.encode(attachment);
  const out = new Uint8Array(head.length + 1 + tail.length);
  out.set(head);
  out.set(tail, head.length + 1);
  return out;
}

/** One instance of the core. Not reentrant: calls run to completion synchronously. */
export class Core {
  private ex!: CoreExports;
  private failure: CraError | null = null;
  private readonly ids: IdSource;
  private lastIdError: unknown = undefined;

  private constructor(ids: IdSource) {
    this.ids = ids;
  }

  /** Instantiates `module` with the host imports. Throws `core_unavailable` when the module does not fit. */
  static async instantiate(module: WasmModule, options: CoreOptions): Promise<Core> {
    const core = new Core(options.ids);
    const imports = {
      env: {
        cra_host_ids: (outPtr: number, count: number) => core.hostIds(outPtr, count),
        cra_host_tz_offset: (namePtr: number, nameLen: number, epochSecs: number) => core.hostTz(namePtr, nameLen, epochSecs),
      },
    };
    let instance: WebAssembly.Instance;
    try {
      instance = await WebAssembly.instantiate(module, imports);
    } catch (err) {
      throw new CraError('core_unavailable', `cannot instantiate the CRA core: ${describe(err)}`, { cause: err });
    }
    const ex = instance.exports as unknown as CoreExports;
    for (const name of CORE_EXPORTS) {
      const present = name === 'memory' ? ex.memory instanceof WebAssembly.Memory : typeof ex[name] === 'function';
      if (!present) throw new CraError('core_unavailable', `the module is not a CRA core: export ${name} is missing`);
    }
    let version: unknown;
    try {
      version = ex.cra_abi_version();
    } catch (err) {
      throw new CraError('core_unavailable', `the core's cra_abi_version() failed: ${describe(err)}`, { cause: err });
    }
    if (version !== ABI_VERSION) {
      throw new CraError(
        'core_unavailable',
        `the core implements ABI version ${String(version)}, this SDK speaks version ${ABI_VERSION}: use the module shipped with this package (or rebuild it)`,
      );
    }
    core.ex = options.instrument ? options.instrument(ex) : ex;
    return core;
  }

  /** True once the instance trapped or answered garbage; it must then be replaced. */
  get poisoned(): boolean {
    return this.failure !== null;
  }

  /** Size of the linear memory in bytes. */
  get memoryBytes(): number {
    return this.ex.memory.buffer.byteLength;
  }

  /**
   * Runs one operation. `attachment`: the raw JSONL text of a trace, for the operations that read one (ABI.md,
   * "Attachments"): it crosses as UTF-8 bytes after the JSON, not as a JSON string escaped here and unescaped in
   * the core. Returns the `ok` value; throws a {@link CraError} with the core's code for an `{error}`
   * envelope, or `core_failure` (and poisons the instance) for anything else.
   */
  call<T = unknown>(op: string, input: unknown, nowUs: number, attachment?: string): T {
    this.usable();
    checkTime(nowUs);
    let json: string;
    try {
      json = JSON.stringify(input);
    } catch (err) {
      throw new CraError('invalid_json', `the input cannot be serialised as JSON: ${describe(err)}`, { path: '', cause: err });
    }
    if (json === undefined) throw new CraError('invalid_json', 'the input is not a JSON value', { path: '' });
    const opBytes = encoder.encode(op);
    let text: string;
    this.lastIdError = undefined;
    try {
      // One buffer for the op name and the input, the input encoded straight into it (UTF-8 takes at most 3 bytes
      // per UTF-16 unit). A large input (an atlas, a trace) is encoded apart first, so that its buffer is its size:
      // the core's memory grows to its largest buffer and never shrinks.
      const inBytes = attachment !== undefined ? attached(json, attachment) : json.length > LARGE_INPUT ? encoder.encode(json) : null;
      const room = opBytes.length + (inBytes ? inBytes.length : json.length * 3);
      const ptr = this.reserve(room);
      const mem = new Uint8Array(this.ex.memory.buffer, ptr, room);
      mem.set(opBytes);
      let inLen: number;
      if (inBytes) {
        mem.set(inBytes, opBytes.length);
        inLen = inBytes.length;
      } else {
        inLen = encoder.encodeInto(json, mem.subarray(opBytes.length)).written;
      }
      const res = this.ex.cra_call(ptr, opBytes.length, ptr + opBytes.length, inLen, nowUs);
      text = this.readResult(res);
      this.ex.cra_free(ptr, room);
    } catch (err) {
      throw this.poison(err, op);
    }
    return this.envelope<T>(text, op);
  }

  /** The hot path: one `cra_check` (see {@link CHECK}). Throws rather than answer when anything is off. */
  check(sessionHandle: number, actionHandle: number, nowUs: number): number {
    this.usable();
    checkTime(nowUs);
    let code: number;
    try {
      code = this.ex.cra_check(sessionHandle, actionHandle, nowUs);
    } catch (err) {
      throw this.poison(err, 'check');
    }
    if (!CHECK_RESULTS.has(code)) {
      throw this.poison(garbage(`cra_check answered ${code}, which is not a result code`), 'check');
    }
    return code;
  }

  /** Marks the instance poisoned (for a garbage answer detected by the caller) and returns the error to throw. */
  reject(message: string, op: string): CraError {
    return this.poison(garbage(message), op);
  }

  // -------------------------------------------------------------------------------------------------------------

  private usable(): void {
    if (this.failure) {
      throw new CraError('core_failure', `the core instance failed earlier and must be rebuilt: ${this.failure.message}`, {
        cause: this.failure,
      });
    }
  }

  private poison(err: unknown, op: string): CraError {
    const failure =
      err instanceof CraError && err.code === 'core_failure'
        ? err
        : new CraError(
            'core_failure',
            err instanceof WebAssembly.RuntimeError ? `the core trapped in ${op}: ${err.message}` : `the core failed in ${op}: ${describe(err)}`,
            { cause: err },
          );
    this.failure ??= failure;
    return failure;
  }

  /** A buffer of `len` bytes in the core's memory, for the host to write into (freed with the same length). */
  private reserve(len: number): number {
    const ptr = this.ex.cra_alloc(len) >>> 0;
    if (ptr === 0) throw garbage(`cra_alloc(${len}) failed: out of memory`);
    if (ptr + len > this.ex.memory.buffer.byteLength) throw garbage('cra_alloc returned a buffer outside memory');
    return ptr;
  }

  private readResult(rawPtr: number): string {
    const ptr = rawPtr >>> 0;
    const mem = this.ex.memory.buffer; // re-read: the call may have grown memory
    if (ptr === 0 || ptr + 4 > mem.byteLength) throw garbage(`result pointer ${ptr} is outside memory`);
    const len = new DataView(mem).getUint32(ptr, true);
    if (ptr + 4 + len > mem.byteLength) throw garbage(`result length ${len} runs past memory`);
    let text: string;
    try {
      text = decoder.decode(new Uint8Array(mem, ptr + 4, len));
    } catch {
      throw garbage('the result is not UTF-8');
    }
    this.ex.cra_free(ptr, 4 + len);
    return text;
  }

  private envelope<T>(text: string, op: string): T {
    let env: unknown;
    try {
      env = JSON.parse(text);
    } catch {
      throw this.poison(garbage(`the result is not JSON: ${clip(text)}`), op);
    }
    if (isObject(env)) {
      const keys = Object.keys(env);
      if (keys.length === 1 && keys[0] === 'ok') return env.ok as T;
      if (keys.length === 1 && keys[0] === 'error') {
        const e = env.error;
        const path = isObject(e) ? e.path : undefined;
        if (
          isObject(e) &&
          typeof e.code === 'string' &&
          ERROR_CODE.test(e.code) &&
          e.code !== 'core_failure' &&
          typeof e.message === 'string' &&
          (path === undefined || path === null || (typeof path === 'string' && (path === '' || path.startsWith('/'))))
        ) {
          const cause = e.code === 'host_id_invalid' ? this.lastIdError : undefined;
          throw new CraError(e.code, e.message, { path: (path as string | null | undefined) ?? null, cause });
        }
      }
    }
    throw this.poison(garbage(`the result is not an {ok} or {error} envelope: ${clip(text)}`), op);
  }

  private hostIds(outPtr: number, count: number): void {
    const start = outPtr >>> 0;
    const n = count >>> 0;
    const mem = new Uint8Array(this.ex.memory.buffer);
    if (start + 36 * n > mem.length) throw garbage(`cra_host_ids(${start}, ${n}) points outside memory`);
    if (this.ids === systemIds) {
      const ms = Date.now();
      for (let k = 0; k < n; k++) writeUuidv7(mem, start + 36 * k, ms);
      return;
    }
    for (let k = 0; k < n; k++) {
      let id: unknown;
      try {
        id = this.ids();
      } catch (err) {
        this.lastIdError = err;
        id = undefined;
      }
      // Exactly 36 bytes per id; a character that is not printable ASCII (or an id of another length) writes '?'s,
      // which the core refuses with host_id_invalid (fail closed) instead of reading a half-written id.
      const at = start + 36 * k;
      const ok = typeof id === 'string' && id.length === 36;
      for (let i = 0; i < 36; i++) {
        const c = ok ? (id as string).charCodeAt(i) : 0;
        mem[at + i] = c > 0x20 && c < 0x7f ? c : 0x3f;
      }
    }
  }

  private hostTz(namePtr: number, nameLen: number, epochSecs: number): number {
    try {
      const name = decoder.decode(new Uint8Array(this.ex.memory.buffer, namePtr >>> 0, nameLen >>> 0));
      return tzOffsetMinutes(name, epochSecs);
    } catch {
      return UNKNOWN_ZONE;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------

const zoneFormats = new Map<string, Intl.DateTimeFormat | null>();
const MAX_CACHED_ZONES = 1024;

/**
 * UTC offset in minutes of the IANA zone `zone` at `epochSecs`, from `Intl.DateTimeFormat`; {@link UNKNOWN_ZONE}
 * when the platform does not know the zone.
 */
export function tzOffsetMinutes(zone: string, epochSecs: number): number {
  if (typeof zone !== 'string' || zone.length === 0 || zone.length > 64 || typeof epochSecs !== 'number' || !Number.isFinite(epochSecs)) {
    return UNKNOWN_ZONE;
  }
  let fmt = zoneFormats.get(zone);
  if (fmt === undefined) {
    try {
      fmt = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        era: 'short',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      fmt = null;
    }
    if (zoneFormats.size < MAX_CACHED_ZONES) zoneFormats.set(zone, fmt);
  }
  if (!fmt) return UNKNOWN_ZONE;
  const secs = Math.floor(epochSecs);
  const date = new Date(secs * 1000);
  if (Number.isNaN(date.getTime())) return UNKNOWN_ZONE;
  const f: Record<string, string> = {};
  for (const p of fmt.formatToParts(date)) f[p.type] = p.value;
  let year = Number(f.year);
  if (f.era === 'BC' || f.era === 'B') year = 1 - year;
  const local = new Date(0);
  local.setUTCFullYear(year, Number(f.month) - 1, Number(f.day));
  local.setUTCHours(Number(f.hour), Number(f.minute), Number(f.second), 0);
  const offset = Math.round((local.getTime() - secs * 1000) / 60000);
  return Number.isFinite(offset) ? offset : UNKNOWN_ZONE;
}

function checkTime(nowUs: number): void {
  if (!Number.isSafeInteger(nowUs) || nowUs < 0) {
    throw new CraError('invalid_request', `the host clock returned ${nowUs}; expected integral microseconds since the epoch`);
  }
}

function garbage(message: string): CraError {
  return new CraError('core_failure', `the core answered garbage: ${message}`);
}

function clip(text: string): string {
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
