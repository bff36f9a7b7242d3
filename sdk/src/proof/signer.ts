/**
 * Signing checkpoints. A signer key string (`PRIVATE+KEY+<name>+<key id>+<base64>`, the C2SP signed-note form) is
 * read by the core; its Ed25519 seed is handed to WebCrypto (`ed25519.ts`), and the public key WebCrypto derives
 * must give back the key id the string states — so a damaged or mismatched key is refused when it is loaded, never
 * discovered later in a signature nobody can verify. The core writes the note; the host only signs its body.
 *
 * @module
 */

import { CraError } from '../errors.ts';
import type { Core } from '../runtime/core.ts';
import { withCore, type ToolOptions } from '../runtime/tools.ts';
import { fromBase64, toBase64 } from './bytes.ts';
import { generateKeyPair, type Ed25519Signer, signerFromSeed } from './ed25519.ts';
import type { SigningKeyPair } from './types.ts';

const encoder = new TextEncoder();

/**
 * A new Ed25519 key pair for signing checkpoints, as key strings. `name` is the log name the checkpoints carry
 * (`<name>/<session id>` is each session's log): 1 to 128 printable ASCII characters, no `+` or spaces, e.g. your
 * domain and a label, `cra.example.com/prod`.
 */
export async function generateSigningKey(name: string, options?: ToolOptions): Promise<SigningKeyPair> {
  const pair = await generateKeyPair();
  try {
    return await withCore(options, (core, now) => {
      const r = core.call<{ name: string; key_id: string; verifier: string; signer: string }>(
        'key.format',
        { name, public_key: toBase64(pair.publicKey), seed: toBase64(pair.seed) },
        now,
      );
      return { signer: r.signer, verifier: r.verifier, name: r.name, key_id: r.key_id };
    });
  } finally {
    pair.seed.fill(0);
  }
}

/** Signs checkpoint bodies with one key. */
export class CheckpointSigner {
  private constructor(
    /** The key's name: the log name of the checkpoints it signs. */
    readonly name: string,
    /** The verifier key string: what a reader of the checkpoints needs. */
    readonly verifier: string,
    private readonly ed25519: Ed25519Signer,
  ) {}

  /**
   * Loads a signer key string. Refused with `invalid_request` at `path` when it is not one, or when the key id it
   * states is not that of its key.
   */
  static async load(signerKey: string, core: Core, path = '/key'): Promise<CheckpointSigner> {
    if (typeof signerKey !== 'string' || !signerKey.startsWith('PRIVATE+KEY+')) {
      throw new CraError('invalid_request', 'a signing key is a signer key string: PRIVATE+KEY+<name>+<key id>+<base64>', { path });
    }
    const parsed = rethrowAt(path, () => core.call<{ name: string; key_id: string; seed: string }>('key.parse', { key: signerKey }, 0));
    const seed = fromBase64(parsed.seed);
    try {
      const ed25519 = await signerFromSeed(seed);
      const formatted = rethrowAt(path, () =>
        core.call<{ verifier: string }>('key.format', { name: parsed.name, public_key: toBase64(ed25519.publicKey), key_id: parsed.key_id }, 0),
      );
      return new CheckpointSigner(parsed.name, formatted.verifier, ed25519);
    } finally {
      seed.fill(0);
    }
  }

  /** The signed note of a checkpoint body the core wrote (`session.checkpoint`). */
  async sign(core: Core, body: string): Promise<string> {
    const signature = await this.ed25519.sign(encoder.encode(body));
    return core.call<{ note: string }>('checkpoint.sign', { body, key: this.verifier, signature: toBase64(signature) }, 0).note;
  }
}

/** Runs `fn`, pointing a refusal of the key string at `path` (the caller's option), not at the core's input. */
function rethrowAt<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof CraError && err.code === 'invalid_request') throw new CraError('invalid_request', err.message, { path });
    throw err;
  }
}

/** Loads a signer on the shared core (for tools that sign outside a runtime). */
export async function loadSigner(signerKey: string, options?: ToolOptions): Promise<CheckpointSigner> {
  const core = await withCore(options, (c) => c);
  return CheckpointSigner.load(signerKey, core);
}
