/**
 * What the host supplies to the core: time (microseconds since the Unix epoch) and ids (lowercase UUIDs).
 *
 * @module
 */

import { CraError } from './errors.ts';

/** Microseconds since the Unix epoch, an integer. */
export type Clock = () => number;
/** A fresh lowercase UUID. */
export type IdSource = () => string;

/**
 * The default clock: `performance.timeOrigin + performance.now()` in microseconds where the platform has it (sub-
 * millisecond and monotonic within a process), else `Date.now() * 1000`.
 */
export const systemClock: Clock = (() => {
  const perf = (globalThis as { performance?: Performance }).performance;
  if (perf && typeof perf.now === 'function' && typeof perf.timeOrigin === 'number' && perf.timeOrigin > 0) {
    return () => Math.floor((perf.timeOrigin + perf.now()) * 1000);
  }
  return () => Date.now() * 1000;
})();

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Random bytes drawn from `crypto.getRandomValues` in blocks: one call per 256 ids instead of one per id. */
const RANDOM_BLOCK = 4096;
let randomPool = new Uint8Array(0);
let randomAt = 0;

function random16(): Uint8Array {
  const at = takeRandom16(); // first: it may replace the pool
  return randomPool.subarray(at, at + 16);
}

/** Takes 16 fresh bytes of the pool; answers their offset. */
function takeRandom16(): number {
  if (randomAt + 16 > randomPool.length) {
    randomPool = new Uint8Array(RANDOM_BLOCK);
    crypto.getRandomValues(randomPool);
    randomAt = 0;
  }
  randomAt += 16;
  return randomAt - 16;
}

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits from `crypto.getRandomValues`. Time-ordered
 * ids keep traces and files sorted by creation.
 */
export function uuidv7(nowMs: number = Date.now()): string {
  if (typeof nowMs !== 'number' || !Number.isFinite(nowMs) || nowMs < 0 || nowMs >= 2 ** 48) {
    throw new CraError('invalid_request', `a UUIDv7 needs a time in milliseconds from 0 to 2^48, not ${describe(nowMs)}`);
  }
  const r = random16();
  let ms = Math.floor(nowMs);
  const b = new Array<number>(16);
  for (let i = 5; i >= 0; i--) {
    b[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  for (let i = 6; i < 16; i++) b[i] = r[i]!;
  b[6] = 0x70 | (b[6]! & 0x0f);
  b[8] = 0x80 | (b[8]! & 0x3f);
  return (
    HEX[b[0]!]! + HEX[b[1]!]! + HEX[b[2]!]! + HEX[b[3]!]! + '-' + HEX[b[4]!]! + HEX[b[5]!]! + '-' + HEX[b[6]!]! + HEX[b[7]!]! + '-' +
    HEX[b[8]!]! + HEX[b[9]!]! + '-' + HEX[b[10]!]! + HEX[b[11]!]! + HEX[b[12]!]! + HEX[b[13]!]! + HEX[b[14]!]! + HEX[b[15]!]!
  );
}

/** The default id source: {@link uuidv7}. */
export const systemIds: IdSource = () => uuidv7();

const HEX_ASCII = new TextEncoder().encode('0123456789abcdef');

/** Writes byte `b` as two lowercase hex digits at `out[at]`. */
function writeHex(out: Uint8Array, at: number, b: number): void {
  out[at] = HEX_ASCII[b >>> 4]!;
  out[at + 1] = HEX_ASCII[b & 15]!;
}

/**
 * Writes a {@link uuidv7} as 36 ASCII bytes at `out[at]`: the ids the core takes from {@link systemIds}, written
 * straight into its memory (no string per id; the same ids `uuidv7()` makes).
 */
export function writeUuidv7(out: Uint8Array, at: number, nowMs: number): void {
  const r = takeRandom16();
  const pool = randomPool;
  // 48 bits of milliseconds: the high 32 and the low 16, each exact in a double.
  const ms = Math.floor(nowMs);
  const high = Math.floor(ms / 65536);
  const low = ms - high * 65536;
  writeHex(out, at, high >>> 24);
  writeHex(out, at + 2, (high >>> 16) & 255);
  writeHex(out, at + 4, (high >>> 8) & 255);
  writeHex(out, at + 6, high & 255);
  out[at + 8] = 0x2d;
  writeHex(out, at + 9, low >>> 8);
  writeHex(out, at + 11, low & 255);
  out[at + 13] = 0x2d;
  writeHex(out, at + 14, 0x70 | (pool[r + 6]! & 0x0f));
  writeHex(out, at + 16, pool[r + 7]!);
  out[at + 18] = 0x2d;
  writeHex(out, at + 19, 0x80 | (pool[r + 8]! & 0x3f));
  writeHex(out, at + 21, pool[r + 9]!);
  out[at + 23] = 0x2d;
  for (let i = 0; i < 6; i++) writeHex(out, at + 24 + 2 * i, pool[r + 10 + i]!);
}

/** Lowercase UUID check (the form the core accepts). */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(value);
}

/** RFC 3339 UTC with six fractional digits, e.g. `2026-01-02T03:04:05.123456Z`. */
export function isoFromMicros(us: number): string {
  // Date's range: ±8.64e15 ms.
  if (typeof us !== 'number' || !Number.isSafeInteger(us) || Math.abs(us) > 8.64e18) {
    throw new CraError('invalid_request', `a timestamp needs integral microseconds within Date's range, not ${describe(us)}`);
  }
  const ms = Math.floor(us / 1000);
  const micros = us - ms * 1000;
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  return `${iso.slice(0, 23)}${String(micros).padStart(3, '0')}Z`;
}

/** Microseconds since the epoch of an RFC 3339 timestamp (sub-microsecond digits are cut). */
export function microsFromIso(iso: string): number {
  if (typeof iso !== 'string') return Number.NaN;
  const m = /^(.*?)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/i.exec(iso);
  if (!m) return Number.NaN;
  const base = Date.parse(`${m[1]}${m[3]}`);
  const frac = (m[2] ?? '').padEnd(6, '0').slice(0, 6);
  return base * 1000 + Number(frac);
}

/** A reading of the host clock, refused unless it is integral microseconds since the epoch (fail closed). */
export function readClock(clock: Clock): number {
  let t: unknown;
  try {
    t = clock();
  } catch (err) {
    throw new CraError('invalid_request', `the host clock failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 0) {
    throw new CraError('invalid_request', `the host clock returned ${String(t)}; expected integral microseconds since the epoch`);
  }
  return t;
}

/** A fresh id from the host's id source, refused like the core refuses ids (fail closed). */
export function freshId(ids: IdSource): string {
  let id: unknown;
  try {
    id = ids();
  } catch (err) {
    throw new CraError('host_id_invalid', 'the host id source failed', { cause: err });
  }
  if (!isUuid(id)) throw new CraError('host_id_invalid', `the host id source returned ${JSON.stringify(id)}, not a lowercase UUID`);
  return id;
}

/** A value named in an error message (never throws: symbols and bigints included). */
function describe(value: unknown): string {
  return typeof value === 'number' ? String(value) : typeof value;
}
