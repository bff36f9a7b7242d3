/**
 * API keys. A request names its key as `Authorization: Bearer <key>` or `X-API-Key: <key>`. Keys are compared by
 * their SHA-256 (never kept or logged in clear past start-up); the hash of a key is also the owner id of the
 * sessions it creates, so ownership survives a restart without storing a key.
 *
 * Auth is on unless turned off explicitly (`auth: false`): with auth on, the app refuses to start without a key.
 *
 * @module
 */

import type { MiddlewareHandler } from 'hono';
import { CraError } from '../../../sdk/src/errors.ts';
import type { AppEnv } from '../context.ts';
import { httpError } from '../errors.ts';

/** Which API keys the app accepts, and what each may do (`createApp({ auth })`). */
export interface AuthOptions {
  /** Accepted API keys: printable ASCII without spaces (keys shorter than {@link MIN_KEY_LENGTH} are guessable). */
  keys: string[];
  /**
   * Admin keys (accepted API keys too): they alone may load, replace and unload atlases, and read runtime-wide
   * stats. With none, no key changes atlases over HTTP (unless `atlasWrites: 'any-key'`) and no key reads stats.
   */
  adminKeys?: string[];
  /**
   * Who may load, replace and unload atlases: `admin` (default) — admin keys only, so with no admin key, no one over
   * HTTP (an atlas's policies govern every key's sessions: one key must not rewrite them for all); `any-key` — every
   * accepted key (the protocol's HTTP surface, docs/protocol.md, knows no admin), when that is what the deployment wants.
   */
  atlasWrites?: 'admin' | 'any-key';
}

/** Who is calling. `owner` is the id stored with every session the caller creates. */
export interface Principal {
  /** `sha256:<hex>` of the key, or `local` with auth off. */
  owner: string;
  /** An admin key (or auth off): may read runtime-wide stats. */
  admin: boolean;
  /** May load, replace and unload atlases: admin keys, or every key with `atlasWrites: 'any-key'`. */
  atlases: boolean;
  /** A short, loggable id (the first 12 hex digits of the hash). */
  id: string;
}

/** The principal of every request when auth is off (local use): it sees every session. */
export const LOCAL_PRINCIPAL: Principal = Object.freeze({ owner: 'local', admin: true, atlases: true, id: 'local' });

/** Keys shorter than this are accepted (local tests use `k1`) but warned about at start: they can be guessed. */
export const MIN_KEY_LENGTH = 16;
const KEY_SHAPE = /^[\x21-\x7e]+$/; // printable ASCII, no spaces: what a header carries unchanged

const enc = new TextEncoder();
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

type NodeHash = { update(text: string, encoding: 'utf8'): NodeHash; digest(encoding: 'hex'): string };
/**
 * `node:crypto`'s hash where the runtime has it (Node, Deno): every request hashes its key, and Web Crypto's digest
 * is asynchronous, sent to a thread pool and back — most of the cost of an authenticated request. Elsewhere (workerd
 * without Node compatibility), Web Crypto: the same SHA-256.
 */
const nodeCrypto = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.('node:crypto') as
  | { createHash(algorithm: 'sha256'): NodeHash }
  | undefined;

async function sha256hex(text: string): Promise<string> {
  if (nodeCrypto) return nodeCrypto.createHash('sha256').update(text, 'utf8').digest('hex');
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', enc.encode(text)));
  let s = '';
  for (const b of digest) s += HEX[b];
  return s;
}

/** The owner id of a key: `sha256:<hex of SHA-256("cra-api-key:" + key)>`. */
export async function ownerOf(key: string): Promise<string> {
  return `sha256:${await sha256hex(`cra-api-key:${key}`)}`;
}

/** A fresh random key: `cra_` + 43 base64url characters (256 bits). */
export function generateKey(): string {
  const bytes = new Uint8Array(32);
  crypto.getRandomValues(bytes);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return `cra_${btoa(bin).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')}`;
}

/**
 * The app's auth options for a start-up configuration. With auth on and no key configured, one key is generated for
 * this run and made an admin key (so that a newcomer can `npm start` and use the API); it is returned to be printed.
 */
export function startupAuth(config: { auth: boolean; apiKeys: string[]; adminKeys: string[]; atlasWrites?: AuthOptions['atlasWrites'] }): {
  auth: false | { keys: string[]; adminKeys: string[]; atlasWrites: NonNullable<AuthOptions['atlasWrites']> };
  generatedKey: string | null;
} {
  if (!config.auth) return { auth: false, generatedKey: null };
  const atlasWrites = config.atlasWrites ?? 'admin';
  if (config.apiKeys.length + config.adminKeys.length > 0) {
    return { auth: { keys: config.apiKeys, adminKeys: config.adminKeys, atlasWrites }, generatedKey: null };
  }
  const key = generateKey();
  return { auth: { keys: [key], adminKeys: [key], atlasWrites }, generatedKey: key };
}

/**
 * A one-line start-up warning when some configured keys are shorter than {@link MIN_KEY_LENGTH}, else null. Names
 * the entries by position only: keys are never logged.
 */
export function shortKeyWarning(config: { apiKeys: string[]; adminKeys: string[] }): string | null {
  const short = [
    ...config.apiKeys.flatMap((k, i) => (k.length < MIN_KEY_LENGTH ? [`CRA_API_KEYS[${i}]`] : [])),
    ...config.adminKeys.flatMap((k, i) => (k.length < MIN_KEY_LENGTH ? [`CRA_ADMIN_KEYS[${i}]`] : [])),
  ];
  if (short.length === 0) return null;
  return `  auth: warning: ${short.join(', ')} shorter than ${MIN_KEY_LENGTH} characters, easy to guess: use long random keys beyond local tests`;
}

/** Checks the shape of configured keys; throws `invalid_request` naming the bad entry. */
export function checkKeys(options: AuthOptions): void {
  const lists: Array<[string, unknown]> = [
    ['keys', options?.keys],
    ['adminKeys', options?.adminKeys ?? []],
  ];
  for (const [name, list] of lists) {
    if (!Array.isArray(list)) throw new CraError('invalid_request', `auth.${name} must be a list of keys`, { path: `/auth/${name}` });
    for (const [i, key] of list.entries()) {
      if (typeof key !== 'string' || !KEY_SHAPE.test(key)) {
        throw new CraError(
          'invalid_request',
          `auth.${name}[${i}] is not a usable API key: keys are non-empty printable ASCII, without spaces`,
          { path: `/auth/${name}/${i}` },
        );
      }
    }
  }
  if (options.atlasWrites !== undefined && options.atlasWrites !== 'admin' && options.atlasWrites !== 'any-key') {
    throw new CraError('invalid_request', 'auth.atlasWrites must be "admin" or "any-key"', { path: '/auth/atlasWrites' });
  }
  if (options.keys.length + (options.adminKeys?.length ?? 0) === 0) {
    throw new CraError('invalid_request', 'auth is on but no API key is configured (set CRA_API_KEYS, or turn auth off explicitly)', {
      path: '/auth/keys',
    });
  }
}

/** The accepted keys, by hash. */
export class KeyRing {
  private constructor(private readonly principals: Map<string, Principal>) {}

  static async create(options: AuthOptions): Promise<KeyRing> {
    checkKeys(options);
    const map = new Map<string, Principal>();
    const admin = new Set(options.adminKeys ?? []);
    const anyKey = options.atlasWrites === 'any-key';
    for (const key of new Set([...options.keys, ...admin])) {
      const owner = await ownerOf(key);
      const isAdmin = admin.has(key);
      map.set(owner, Object.freeze({ owner, admin: isAdmin, atlases: isAdmin || anyKey, id: owner.slice(7, 19) }));
    }
    return new KeyRing(map);
  }

  /** The principal of `key`, or null. */
  async authenticate(key: string): Promise<Principal | null> {
    return this.principals.get(await ownerOf(key)) ?? null;
  }

  get size(): number {
    return this.principals.size;
  }
}

/** The key a request presents, `undefined` when none, or an error for a malformed header. */
export function presentedKey(headers: { get(name: string): string | null | undefined }): string | undefined {
  const auth = headers.get('authorization');
  if (auth != null && auth !== '') {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(auth);
    if (!m) throw httpError('unauthorized', 'use Authorization: Bearer <key> (or X-API-Key: <key>)');
    return m[1]!;
  }
  const key = headers.get('x-api-key');
  return key != null && key !== '' ? key.trim() : undefined;
}

/** The app's env: auth sets `principal`. */
export type AuthEnv = AppEnv;

/**
 * Sets `c.var.principal`. With a key ring, a request without a key, or with a key not in the ring, is refused with
 * 401 (the same answer for both, so keys cannot be probed). Without one (auth off) every request is
 * {@link LOCAL_PRINCIPAL}.
 */
export function authenticate(ring: Promise<KeyRing> | null): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    if (!ring) {
      c.set('principal', LOCAL_PRINCIPAL);
      return next();
    }
    const key = presentedKey(c.req.raw.headers);
    if (key === undefined) throw httpError('unauthorized', 'an API key is required: Authorization: Bearer <key>');
    const principal = await (await ring).authenticate(key);
    if (!principal) throw httpError('unauthorized', 'the API key is not valid');
    c.set('principal', principal);
    return next();
  };
}

/** Refuses callers that are not admins (runtime-wide stats). */
export function requireAdmin(principal: Principal, what: string): void {
  if (!principal.admin) {
    throw httpError('forbidden', `${what} needs an admin key (CRA_ADMIN_KEYS)`);
  }
}

/** Refuses callers that may not change atlases, saying how to allow it. */
export function requireAtlasAccess(principal: Principal, what: string): void {
  if (!principal.atlases) {
    throw httpError('forbidden', `${what} needs an admin key (set CRA_ADMIN_KEYS, or CRA_ATLAS_WRITES=any-key to let every key change atlases)`);
  }
}
