/**
 * Ed25519 through WebCrypto, the same in every runtime (Node, Deno, workerd, Chromium): each runs this scenario and
 * answers its report, and `expectations.ts` holds what every report must say. Ed25519 is deterministic, so whatever a
 * runtime computes from a fixed seed must be byte-identical to what Node computes; the report carries the bytes so the
 * Node side can compare them and verify them itself.
 */
import { CraError } from '../../src/errors.ts';
import { generateKeyPair, signerFromSeed, verifySignature } from '../../src/proof/ed25519.ts';
import { fromHex, RFC8032_VECTORS, toHex } from './vectors.ts';

/** The fixed seed and message every runtime signs, and Node's signature of it (checked in Node by the unit tests). */
export const INTEROP = {
  seed: '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
  message: 'cra.example/checkpoint\n42\nq83ZD9B0Ggyd2wBkD3Cf8dHnlNHbdgHvxQVA9hcyEjk=\n',
  publicKey: '03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8',
  signature:
    '3d6897d9beb978989e5c808f54c3c76b1d99959e4a1c596e3b791e72bac9f037a77c7cd3e49f6cde8239afc2ecc85194384355847a4d6a587f62111aecb97c0b',
};

export interface VectorResult {
  name: string;
  /** The public key the runtime derived from the seed. */
  publicKey: string;
  /** The runtime's signature of the message. */
  signature: string;
  /** Whether the runtime verifies the RFC's signature with the RFC's public key. */
  verifies: boolean;
}

export interface ProofReport {
  vectors: VectorResult[];
  interop: {
    publicKey: string;
    /** This runtime's signature of {@link INTEROP}'s message with its seed. */
    signature: string;
    /** Whether this runtime verifies Node's signature ({@link INTEROP}'s). */
    verifiesNode: boolean;
  };
  /** A pair this runtime generated, and its signature of the interop message: Node verifies it and re-derives the key. */
  generated: { seed: string; publicKey: string; signature: string; verifies: boolean };
  /** What `verifySignature` answered for each input it must refuse (every answer must be `false`). */
  refusals: Record<string, boolean | string>;
  /**
   * Encodings at the edge of RFC 8032, each with the signature (R = the identity, S = 0) that holds for the identity
   * point whatever the message: the runtimes' own answers differ on some, `verifySignature`'s must not.
   */
  edges: Record<string, boolean | string>;
  /** What `signerFromSeed` threw for seeds it must refuse. */
  seedErrors: Record<string, { code: string; path: string | null; message: string }>;
}

const utf8 = (text: string): Uint8Array<ArrayBuffer> => new TextEncoder().encode(text);

function flipped(bytes: Uint8Array, index: number, bit = 0): Uint8Array {
  const out = Uint8Array.from(bytes);
  out[index]! ^= 1 << bit;
  return out;
}

/** The signature with S + L for S: the same point equation, a non-canonical scalar RFC 8032 §5.1.7 refuses. */
function withMalleatedScalar(signature: Uint8Array): Uint8Array {
  const L = (1n << 252n) + 27742317777372353535851937790883648493n;
  let s = 0n;
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(signature[i]!);
  s += L;
  const out = Uint8Array.from(signature);
  for (let i = 32; i < 64; i++) {
    out[i] = Number(s & 0xffn);
    s >>= 8n;
  }
  return out;
}

async function refusal(run: () => Promise<boolean>): Promise<boolean | string> {
  try {
    return await run();
  } catch (err) {
    return `threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
  }
}

async function seedError(seed: unknown): Promise<{ code: string; path: string | null; message: string }> {
  try {
    await signerFromSeed(seed as Uint8Array);
  } catch (err) {
    return err instanceof CraError ? { code: err.code, path: err.path, message: err.message } : { code: `not a CraError: ${String(err)}`, path: null, message: '' };
  }
  return { code: 'accepted', path: null, message: '' };
}

export async function runProofScenario(): Promise<ProofReport> {
  const vectors: VectorResult[] = [];
  for (const v of RFC8032_VECTORS) {
    const signer = await signerFromSeed(fromHex(v.seed));
    const message = fromHex(v.message);
    vectors.push({
      name: v.name,
      publicKey: toHex(signer.publicKey),
      signature: toHex(await signer.sign(message)),
      verifies: await verifySignature(fromHex(v.publicKey), fromHex(v.signature), message),
    });
  }

  const message = utf8(INTEROP.message);
  const signer = await signerFromSeed(fromHex(INTEROP.seed));
  const signature = await signer.sign(message);
  const nodeSignature = fromHex(INTEROP.signature);

  const pair = await generateKeyPair();
  const generatedSignature = await (await signerFromSeed(pair.seed)).sign(message);

  const key = signer.publicKey;
  const t1 = RFC8032_VECTORS[0]!;
  const offCurve = new Uint8Array(32);
  offCurve[0] = 2;
  const refusals: Record<string, boolean | string> = {
    'signature: first bit flipped': await refusal(() => verifySignature(key, flipped(signature, 0), message)),
    'signature: last bit flipped': await refusal(() => verifySignature(key, flipped(signature, 63, 7), message)),
    'signature: S + L (malleated)': await refusal(() => verifySignature(key, withMalleatedScalar(signature), message)),
    'signature: 63 bytes': await refusal(() => verifySignature(key, signature.subarray(0, 63), message)),
    'signature: 65 bytes': await refusal(() => verifySignature(key, Uint8Array.of(...signature, 0), message)),
    'signature: empty': await refusal(() => verifySignature(key, new Uint8Array(0), message)),
    'signature: all zero': await refusal(() => verifySignature(key, new Uint8Array(64), message)),
    'signature: not bytes': await refusal(() => verifySignature(key, Array.from(signature) as unknown as Uint8Array, message)),
    'message: one bit flipped': await refusal(() => verifySignature(key, signature, flipped(message, message.length - 1))),
    'message: one byte longer': await refusal(() => verifySignature(key, signature, Uint8Array.of(...message, 0))),
    'message: empty': await refusal(() => verifySignature(key, signature, new Uint8Array(0))),
    'public key: one bit flipped': await refusal(() => verifySignature(flipped(key, 0), signature, message)),
    "public key: another key's": await refusal(() => verifySignature(fromHex(t1.publicKey), signature, message)),
    'public key: 31 bytes': await refusal(() => verifySignature(key.subarray(0, 31), signature, message)),
    'public key: 33 bytes': await refusal(() => verifySignature(Uint8Array.of(...key, 0), signature, message)),
    'public key: not a curve point': await refusal(() => verifySignature(offCurve, signature, message)),
    'public key: null': await refusal(() => verifySignature(null as unknown as Uint8Array, signature, message)),
  };

  // The identity point: y = 1, x = 0. Its trivial signature holds under the RFC's equation [S]B = R + [k]A.
  const identity = '01' + '00'.repeat(31);
  const trivial = fromHex(identity + '00'.repeat(32));
  const edge = utf8('edge');
  const edges: Record<string, boolean | string> = {
    'identity key, canonical': await refusal(() => verifySignature(fromHex(identity), trivial, edge)),
    'identity key as y = p + 1': await refusal(() => verifySignature(fromHex('ee' + 'ff'.repeat(30) + '7f'), trivial, edge)),
    'identity key with the sign bit (negative zero)': await refusal(() => verifySignature(fromHex('01' + '00'.repeat(30) + '80'), trivial, edge)),
    // (0, -1), of order 2: the trivial signature holds when k is even, as it is for this key and message.
    'y = p - 1, the largest canonical y': await refusal(() => verifySignature(fromHex('ec' + 'ff'.repeat(30) + '7f'), trivial, utf8('edge 0'))),
    'y = p - 1 with the sign bit (negative zero)': await refusal(() => verifySignature(fromHex('ec' + 'ff'.repeat(31)), trivial, edge)),
    'identity R as y = p + 1': await refusal(() => verifySignature(fromHex(identity), fromHex('ee' + 'ff'.repeat(30) + '7f' + '00'.repeat(32)), edge)),
  };

  return {
    vectors,
    interop: { publicKey: toHex(key), signature: toHex(signature), verifiesNode: await verifySignature(key, nodeSignature, message) },
    generated: {
      seed: toHex(pair.seed),
      publicKey: toHex(pair.publicKey),
      signature: toHex(generatedSignature),
      verifies: await verifySignature(pair.publicKey, generatedSignature, message),
    },
    refusals,
    edges,
    seedErrors: {
      '31 bytes': await seedError(new Uint8Array(31)),
      '33 bytes': await seedError(new Uint8Array(33)),
      '64 bytes (seed and public key)': await seedError(new Uint8Array(64)),
      'a string': await seedError(INTEROP.seed),
    },
  };
}
