/**
 * Ed25519 through WebCrypto, in Node: the RFC 8032 vectors, key generation, the refusals of `signerFromSeed` and the
 * `false` answers of `verifySignature`. The same behaviour in Deno, workerd and Chromium is `sdk/test/proof/`.
 */
import { describe, expect, it } from 'vitest';
import { run } from '../../../test/support/proc.ts';
import { CraError } from '../errors.ts';
import { INTEROP } from '../../test/proof/scenario.ts';
import { fromHex, RFC8032_VECTORS, toHex } from '../../test/proof/vectors.ts';
import { generateKeyPair, signerFromSeed, verifySignature } from './ed25519.ts';

const utf8 = (text: string): Uint8Array<ArrayBuffer> => new TextEncoder().encode(text);

function thrown(run: () => unknown): Promise<unknown> {
  return Promise.resolve()
    .then(run)
    .then(
      () => undefined,
      (err: unknown) => err,
    );
}

describe('RFC 8032 §7.1 vectors', () => {
  it('TEST 1024 holds the 1023-byte message and TEST SHA(abc) the SHA-512 of "abc"', async () => {
    expect(fromHex(RFC8032_VECTORS[3]!.message).length).toBe(1023);
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-512', utf8('abc')));
    expect(RFC8032_VECTORS[4]!.message).toBe(toHex(digest));
  });

  for (const v of RFC8032_VECTORS) {
    it(`${v.name}: seed → public key, message → signature, which verifies`, async () => {
      const signer = await signerFromSeed(fromHex(v.seed));
      expect(toHex(signer.publicKey)).toBe(v.publicKey);
      expect(toHex(await signer.sign(fromHex(v.message)))).toBe(v.signature);
      expect(await verifySignature(fromHex(v.publicKey), fromHex(v.signature), fromHex(v.message))).toBe(true);
    });
  }

  it('the fixed seed every runtime signs with gives these bytes in Node', async () => {
    const signer = await signerFromSeed(fromHex(INTEROP.seed));
    expect(toHex(signer.publicKey)).toBe(INTEROP.publicKey);
    expect(toHex(await signer.sign(utf8(INTEROP.message)))).toBe(INTEROP.signature);
  });
});

describe('generateKeyPair', () => {
  it('answers a 32-byte seed whose signer has the pair’s public key, and a fresh pair each time', async () => {
    const a = await generateKeyPair();
    const b = await generateKeyPair();
    expect(a.seed.length).toBe(32);
    expect(a.publicKey.length).toBe(32);
    expect(toHex(a.seed)).not.toBe(toHex(b.seed));
    const signer = await signerFromSeed(a.seed);
    expect(toHex(signer.publicKey)).toBe(toHex(a.publicKey));
    const message = utf8('checkpoint');
    expect(await verifySignature(a.publicKey, await signer.sign(message), message)).toBe(true);
    expect(await verifySignature(b.publicKey, await signer.sign(message), message)).toBe(false);
  });
});

describe('signerFromSeed', () => {
  it.each([
    ['31 bytes', new Uint8Array(31), '31 bytes'],
    ['33 bytes', new Uint8Array(33), '33 bytes'],
    ['empty', new Uint8Array(0), '0 bytes'],
    ['64 bytes (a seed followed by its public key)', new Uint8Array(64), '64 bytes'],
    ['hex text', INTEROP.seed, 'string'],
    ['an array of numbers', Array.from({ length: 32 }, () => 1), 'an array'],
    ['null', null, 'null'],
  ])('refuses a seed of %s with invalid_request at /seed', async (_, seed, got) => {
    const err = await thrown(() => signerFromSeed(seed as Uint8Array));
    expect(err).toBeInstanceOf(CraError);
    expect(err).toMatchObject({ code: 'invalid_request', path: '/seed', message: `\`seed\` must be 32 bytes (an Ed25519 private key seed), got ${got}` });
  });

  it('leaves the caller’s seed as it was, and signs with a key that does not follow later changes to it', async () => {
    const seed = fromHex(INTEROP.seed);
    const signer = await signerFromSeed(seed);
    expect(toHex(seed)).toBe(INTEROP.seed);
    seed.fill(7);
    expect(toHex(await signer.sign(utf8(INTEROP.message)))).toBe(INTEROP.signature);
  });

  it('signs a message held in part of a larger buffer as those bytes alone', async () => {
    const signer = await signerFromSeed(fromHex(INTEROP.seed));
    const message = utf8(INTEROP.message);
    const buffer = new Uint8Array(message.length + 8).fill(0xaa);
    buffer.set(message, 4);
    expect(toHex(await signer.sign(buffer.subarray(4, 4 + message.length)))).toBe(INTEROP.signature);
  });

  it('refuses a message that is not bytes with invalid_request at /message', async () => {
    const signer = await signerFromSeed(fromHex(INTEROP.seed));
    const err = await thrown(() => signer.sign(INTEROP.message as unknown as Uint8Array));
    expect(err).toMatchObject({ code: 'invalid_request', path: '/message' });
  });
});

describe('verifySignature answers false, never a throw', () => {
  const message = utf8(INTEROP.message);
  const key = fromHex(INTEROP.publicKey);
  const signature = fromHex(INTEROP.signature);

  it('true for the right key, signature and message (a view into a larger buffer too)', async () => {
    expect(await verifySignature(key, signature, message)).toBe(true);
    const buffer = new Uint8Array(200);
    buffer.set(signature, 100);
    expect(await verifySignature(key, buffer.subarray(100, 164), message)).toBe(true);
  });

  it('false for each bit of the signature flipped', async () => {
    for (let bit = 0; bit < 512; bit++) {
      const bad = Uint8Array.from(signature);
      bad[bit >> 3]! ^= 1 << (bit & 7);
      expect(await verifySignature(key, bad, message), `bit ${bit}`).toBe(false);
    }
  });

  it.each([0, 1, 32, 63, 65, 128])('false for a signature of %i bytes', async (n) => {
    const other = new Uint8Array(n);
    other.set(signature.subarray(0, Math.min(n, 64)));
    expect(await verifySignature(key, other, message)).toBe(false);
  });

  it.each([0, 31, 33, 64])('false for a public key of %i bytes', async (n) => {
    const other = new Uint8Array(n);
    other.set(key.subarray(0, Math.min(n, 32)));
    expect(await verifySignature(other, signature, message)).toBe(false);
  });

  it('false for values that are not bytes', async () => {
    const values: unknown[] = [null, undefined, 'x', Array.from(key), key.buffer];
    for (const v of values) {
      expect(await verifySignature(v as Uint8Array, signature, message)).toBe(false);
      expect(await verifySignature(key, v as Uint8Array, message)).toBe(false);
      expect(await verifySignature(key, signature, v as Uint8Array)).toBe(false);
    }
  });

  it('false for a public key in a non-canonical encoding, which Node’s WebCrypto would accept', async () => {
    // The identity point (y = 1) signs anything with R = the identity and S = 0; its other encodings must not.
    const trivial = fromHex('01' + '00'.repeat(63));
    const edge = utf8('edge');
    expect(await verifySignature(fromHex('01' + '00'.repeat(31)), trivial, edge)).toBe(true);
    const encodings = ['ee' + 'ff'.repeat(30) + '7f', '01' + '00'.repeat(30) + '80', 'ec' + 'ff'.repeat(31)];
    for (const hex of encodings) {
      const raw = await crypto.subtle.importKey('raw', fromHex(hex), { name: 'Ed25519' }, false, ['verify']);
      expect(await crypto.subtle.verify({ name: 'Ed25519' }, raw, trivial, edge), `WebCrypto, ${hex}`).toBe(true);
      expect(await verifySignature(fromHex(hex), trivial, edge), hex).toBe(false);
    }
  });

  it('keeps the largest canonical y (p - 1, the point of order 2) and refuses it only with the sign bit', async () => {
    // [k]A is the identity when k (a hash of R, A and the message) is even: true for "edge 0", false for "edge 1".
    const trivial = fromHex('01' + '00'.repeat(63));
    const canonical = fromHex('ec' + 'ff'.repeat(30) + '7f');
    expect(await verifySignature(canonical, trivial, utf8('edge 0'))).toBe(true);
    expect(await verifySignature(canonical, trivial, utf8('edge 1'))).toBe(false);
    expect(await verifySignature(fromHex('ec' + 'ff'.repeat(31)), trivial, utf8('edge 0'))).toBe(false);
  });
});

describe('a runtime without WebCrypto', () => {
  it('Node prints no warning while signing and verifying, and without the global WebCrypto each function throws why', async () => {
    const script = 'sdk/test/proof/node.ts';
    const plain = await run(process.execPath, ['--import', 'tsx', script], { timeoutMs: 20_000 });
    expect(plain.stderr).toBe('');
    expect(plain.code).toBe(0);
    expect(JSON.parse(plain.stdout).scenario.interop.signature).toBe(INTEROP.signature);

    const bare = await run(process.execPath, ['--no-experimental-global-webcrypto', '--import', 'tsx', script], { timeoutMs: 20_000 });
    expect(bare.stderr).toBe('');
    expect(bare.code).toBe(0);
    const why = {
      code: 'crypto_unavailable',
      message:
        'this runtime has no WebCrypto (globalThis.crypto.subtle; browsers expose it in secure contexts only, https or localhost), which ' +
        'Ed25519 signatures need (Node 20+, Deno, workerd, Chromium 137+, Firefox 129+, Safari 17+)',
    };
    expect(JSON.parse(bare.stdout).refusals).toEqual({ generateKeyPair: why, signerFromSeed: why, verifySignature: why });
  }, 30_000);
});
