/**
 * Ed25519 (RFC 8032) for signed checkpoints, through WebCrypto alone.
 *
 * The core has no Ed25519 of its own: it owns every format (the note text, key strings, key ids, base64) and the host
 * owns the signature. WebCrypto is the one API with Ed25519 that Node (20+), Deno, workerd and browsers all share, so
 * this is the same code in every runtime, with no npm crypto dependency and nothing from `node:crypto`. Ed25519 is
 * deterministic: a seed signs a message to the same 64 bytes in every runtime.
 *
 * Keys cross this module as raw bytes: the 32-byte seed (RFC 8032's private key) and the 32-byte public key. A seed
 * enters WebCrypto wrapped in PKCS#8 (RFC 8410) and the signing key made from it is not extractable; the public key
 * is read back through WebCrypto's own JWK export, so no base64 is decoded here.
 *
 * @module
 */

import { CraError } from '../errors.ts';

/** 32-byte seed (the RFC 8032 private key) and 32-byte public key. */
export interface Ed25519KeyPair {
  seed: Uint8Array;
  publicKey: Uint8Array;
}

/** Signs with one seed; `publicKey` is the seed's. */
export interface Ed25519Signer {
  publicKey: Uint8Array;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

export const SEED_LENGTH = 32;
export const PUBLIC_KEY_LENGTH = 32;
export const SIGNATURE_LENGTH = 64;

const ED25519 = { name: 'Ed25519' } as const;

/** RFC 8410 §7: a PKCS#8 OneAsymmetricKey of id-Ed25519 whose privateKey is the 32-byte seed, minus the seed. */
const PKCS8_PREFIX = Uint8Array.of(0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20);

const RUNTIMES = 'Node 20+, Deno, workerd, Chromium 137+, Firefox 129+, Safari 17+';
const NO_WEBCRYPTO =
  'this runtime has no WebCrypto (globalThis.crypto.subtle; browsers expose it in secure contexts only, https or ' +
  `localhost), which Ed25519 signatures need (${RUNTIMES})`;
const NO_ED25519 = `this runtime's WebCrypto (globalThis.crypto.subtle) has no Ed25519, which signatures need (${RUNTIMES})`;

/** A fresh key pair from the runtime's random source. */
export async function generateKeyPair(): Promise<Ed25519KeyPair> {
  const subtle = webCrypto();
  const pair = (await supported(() => subtle.generateKey(ED25519, true, ['sign', 'verify']))) as CryptoKeyPair;
  const pkcs8 = new Uint8Array(await supported(() => subtle.exportKey('pkcs8', pair.privateKey)));
  try {
    // Every runtime exports the RFC 8410 form it imports; anything else is not a seed this module can read back.
    if (pkcs8.length !== PKCS8_PREFIX.length + SEED_LENGTH || !startsWith(pkcs8, PKCS8_PREFIX)) {
      throw new CraError('internal', 'the runtime exported an Ed25519 private key that is not an RFC 8410 PKCS#8 seed');
    }
    const seed = pkcs8.slice(PKCS8_PREFIX.length);
    const publicKey = new Uint8Array(await supported(() => subtle.exportKey('raw', pair.publicKey)));
    return { seed, publicKey };
  } finally {
    pkcs8.fill(0);
  }
}

/**
 * A signer from a seed: the seed wrapped in PKCS#8 and imported non-extractable for signing; its public key derived
 * by WebCrypto (an extractable import, exported once as JWK, whose `x` is imported as a public key and exported raw).
 * A seed that is not 32 bytes is refused with `invalid_request` at `/seed`.
 */
export async function signerFromSeed(seed: Uint8Array): Promise<Ed25519Signer> {
  if (!(seed instanceof Uint8Array) || seed.length !== SEED_LENGTH) {
    const got = seed instanceof Uint8Array ? `${seed.length} bytes` : describe(seed);
    throw new CraError('invalid_request', `\`seed\` must be ${SEED_LENGTH} bytes (an Ed25519 private key seed), got ${got}`, { path: '/seed' });
  }
  const subtle = webCrypto();
  const pkcs8 = new Uint8Array(PKCS8_PREFIX.length + SEED_LENGTH);
  pkcs8.set(PKCS8_PREFIX);
  pkcs8.set(seed, PKCS8_PREFIX.length);
  let signingKey: CryptoKey;
  let publicKey: Uint8Array;
  try {
    signingKey = await supported(() => subtle.importKey('pkcs8', pkcs8, ED25519, false, ['sign']));
    const readable = await supported(() => subtle.importKey('pkcs8', pkcs8, ED25519, true, ['sign']));
    const { x } = await supported(() => subtle.exportKey('jwk', readable));
    if (typeof x !== 'string') throw new CraError('internal', "the runtime's JWK export of an Ed25519 private key has no `x`");
    const verifying = await supported(() => subtle.importKey('jwk', { kty: 'OKP', crv: 'Ed25519', x }, ED25519, true, ['verify']));
    publicKey = new Uint8Array(await supported(() => subtle.exportKey('raw', verifying)));
  } finally {
    pkcs8.fill(0); // the only copy of the seed made here
  }
  return {
    publicKey,
    async sign(message: Uint8Array): Promise<Uint8Array> {
      if (!(message instanceof Uint8Array)) {
        throw new CraError('invalid_request', `the message to sign must be bytes (a Uint8Array), got ${describe(message)}`, { path: '/message' });
      }
      return new Uint8Array(await supported(() => subtle.sign(ED25519, signingKey, Uint8Array.from(message))));
    },
  };
}

/**
 * True when `signature` is `publicKey`'s Ed25519 signature of `message`. False, never a throw, for anything else: a
 * wrong key or message, a key or signature of the wrong length or type, a key that is no curve point or not in its
 * canonical encoding. (Runtimes differ on some of these: workerd throws on a signature that is not 64 bytes where
 * Node answers false; see also `isCanonicalPoint`.) Only a runtime with no Ed25519 throws, since a verifier that
 * cannot verify must not pass for one that refused.
 */
export async function verifySignature(publicKey: Uint8Array, signature: Uint8Array, message: Uint8Array): Promise<boolean> {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_LENGTH) return false;
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_LENGTH) return false;
  if (!(message instanceof Uint8Array)) return false;
  if (!isCanonicalPoint(publicKey)) return false;
  const subtle = webCrypto();
  try {
    const key = await subtle.importKey('raw', Uint8Array.from(publicKey), ED25519, false, ['verify']);
    return await subtle.verify(ED25519, key, Uint8Array.from(signature), Uint8Array.from(message));
  } catch (err) {
    if (isNotSupported(err)) throw unsupported(err);
    return false;
  }
}

/**
 * RFC 8032 §5.1.3's refusals that need no curve arithmetic: a y of p or more (step 1) and a negative zero x, which
 * only y = 1 and y = p - 1 can have (step 4). Runtimes disagree on these encodings (Deno refuses them; Node, workerd
 * and Chromium reduce y mod p and accept), so they are refused here, before WebCrypto, and every runtime answers alike.
 */
function isCanonicalPoint(key: Uint8Array): boolean {
  const top = key[31]! & 0x7f;
  const negative = (key[31]! & 0x80) !== 0;
  // y = 1, and y = p - 1 = 2^255 - 20 (bytes ec ff … ff 7f): with the sign bit, a negative zero.
  let onesAbove = true; // key[1..30] all 0xff
  let zerosAbove = true; // key[1..30] all 0
  for (let i = 1; i < 31; i++) {
    if (key[i] !== 0xff) onesAbove = false;
    if (key[i] !== 0) zerosAbove = false;
  }
  if (negative && zerosAbove && top === 0 && key[0] === 1) return false;
  if (negative && onesAbove && top === 0x7f && key[0] === 0xec) return false;
  // y >= p = 2^255 - 19: bytes 1..30 all ff, top 7f, low byte ed or more.
  return !(onesAbove && top === 0x7f && key[0]! >= 0xed);
}

/** `globalThis.crypto.subtle`, or the refusal that names what the runtime lacks. */
function webCrypto(): SubtleCrypto {
  const subtle = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
  if (subtle === undefined || typeof subtle.importKey !== 'function') throw new CraError('crypto_unavailable', NO_WEBCRYPTO);
  return subtle;
}

/**
 * Runs a WebCrypto call whose arguments are known good: a runtime without Ed25519 answers the refusal above; any
 * other failure is the runtime's, reported as `internal` with the failure as its cause.
 */
async function supported<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof CraError) throw err;
    if (isNotSupported(err)) throw unsupported(err);
    throw new CraError('internal', `WebCrypto Ed25519 failed: ${messageOf(err)}`, { cause: err });
  }
}

function unsupported(cause: unknown): CraError {
  return new CraError('crypto_unavailable', NO_ED25519, { cause });
}

/** WebCrypto's answer for an algorithm it does not know (a DOMException; some runtimes' stand-ins are plain errors). */
function isNotSupported(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'NotSupportedError';
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  return prefix.every((b, i) => bytes[i] === b);
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
