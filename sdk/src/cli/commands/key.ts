/**
 * `cra key generate | verifier`: the Ed25519 key pair that signs checkpoints (`generateSigningKey`), and the
 * verifier key of a signer key (`loadSigner`, which also checks that the key's id is its own). The output says which
 * half is secret, because the two look alike and only one of them may be published.
 *
 * @module
 */

import { writeFile } from 'node:fs/promises';
import { generateSigningKey, loadSigner } from '../../proof/signer.ts';
import type { SigningKeyPair } from '../../proof/types.ts';
import { CraError } from '../../errors.ts';
import { dispatch, flag, type Parsed, parseCommand, str, usageError } from '../args.ts';
import { type CliIO, describeError, fail, writeJson } from '../output.ts';
import { keyLabel, readSignerKey } from './verify.ts';

export const KEY_USAGE = `Usage: cra key <generate|verifier> [options]

Commands:
  generate <name>                 a new key pair for signing checkpoints: a signer key (secret) and its verifier key
  verifier <signer key | file>    the verifier key of a signer key

Run cra key <command> --help for its options.
`;

export const KEY_GENERATE_USAGE = `Usage: cra key generate <name> [--out <file prefix>] [--json]

Generates an Ed25519 key pair for signed checkpoints. <name> is the log name every checkpoint carries
(<name>/<session id>): 1 to 128 printable ASCII characters, no "+" or spaces; your domain and a label, e.g.
cra.example.com/prod.

The signer key (PRIVATE+KEY+…) is secret: the runtime that records traces signs with it, set as CRA_SIGNING_KEY
for cra serve, or createRuntime({ signing: { key } }). The verifier key (<name>+<key id>+<base64>) is public: give it
to whoever checks your traces (cra verify --key, cra receipt verify --key, verifyCheckpoint).

Options:
  --out <prefix>  write the signer key to <prefix>.key (mode 0600) and the verifier key to <prefix>.pub instead of
                  printing them; existing files are not overwritten
  --json          one JSON object on stdout: {name, key_id, verifier, signer} (with --out: {name, key_id, verifier,
                  signer_file, verifier_file}, the signer key not printed)
  -h, --help      this help

Exit: 0 generated, 1 failed (a file exists, cannot be written), 2 usage error (a name that is not one).
`;

export const KEY_VERIFIER_USAGE = `Usage: cra key verifier <signer key | file> [--json]

Prints the verifier key of a signer key (PRIVATE+KEY+<name>+<key id>+<base64>, or a file holding one): the public
half, to give to whoever checks the checkpoints it signs. The signer key is checked: its key id must be its own.

Options:
  --json          one JSON object on stdout: {name, key_id, verifier}
  -h, --help      this help

Exit: 0 printed, 1 not a signer key (or unreadable), 2 usage error.
`;

const GENERATE = {
  name: 'key generate',
  usage: KEY_GENERATE_USAGE,
  options: { out: { type: 'string' }, json: { type: 'boolean' } },
  positionals: ['name'],
} as const;
const VERIFIER = { name: 'key verifier', usage: KEY_VERIFIER_USAGE, options: { json: { type: 'boolean' } }, positionals: ['signer key | file'] } as const;

export async function key(argv: readonly string[], io: CliIO): Promise<number> {
  return dispatch(io, { name: 'key', usage: KEY_USAGE }, { generate, verifier }, argv);
}

/** How to use the pair, after it is shown or written. */
function advice(pair: SigningKeyPair, signerWhere: string): string {
  return [
    `Keep the signer key secret (${signerWhere}): the runtime signs with it, set as CRA_SIGNING_KEY for cra serve,`,
    'or createRuntime({ signing: { key } }).',
    `Publish the verifier key (${keyLabel(pair.verifier)}): cra verify <trace.jsonl> --key <verifier key | file> checks`,
    'the checkpoints it signed.',
  ].join('\n');
}

async function generate(argv: readonly string[], io: CliIO): Promise<number> {
  const args = parseCommand(io, GENERATE, argv);
  if (typeof args === 'number') return args;
  let pair: SigningKeyPair;
  try {
    pair = await generateSigningKey(args.positionals[0]!);
  } catch (err) {
    // The core refuses a name that is not a log name: a mistake in the argument.
    if (err instanceof CraError && err.code === 'invalid_request') return usageError(io, GENERATE, describeError(err));
    return fail(io, 'key generate', describeError(err));
  }
  return writePair(args, io, pair);
}

async function writePair(args: Parsed, io: CliIO, pair: SigningKeyPair): Promise<number> {
  const json = flag(args, 'json');
  const out = str(args, 'out');
  const about = { name: pair.name, key_id: pair.key_id, verifier: pair.verifier };
  if (out === undefined) {
    if (json) writeJson(io, { ...about, signer: pair.signer });
    else io.stdout.write(`signer key (secret):\n${pair.signer}\nverifier key (public):\n${pair.verifier}\n\n${advice(pair, 'above')}\n`);
    return 0;
  }
  const signerFile = `${out}.key`;
  const verifierFile = `${out}.pub`;
  try {
    // `wx`: a key is never overwritten (it may be the only copy of the one that signed stored checkpoints).
    await writeFile(signerFile, `${pair.signer}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    return fail(io, 'key generate', `cannot write ${signerFile}: ${(err as Error).message}`);
  }
  try {
    await writeFile(verifierFile, `${pair.verifier}\n`, { flag: 'wx' });
  } catch (err) {
    return fail(io, 'key generate', `wrote ${signerFile} but cannot write ${verifierFile}: ${(err as Error).message} (cra key verifier ${signerFile} prints it)`);
  }
  if (json) writeJson(io, { ...about, signer_file: signerFile, verifier_file: verifierFile });
  else io.stdout.write(`wrote the signer key to ${signerFile} (mode 0600) and the verifier key to ${verifierFile}:\n${pair.verifier}\n\n${advice(pair, `in ${signerFile}`)}\n`);
  return 0;
}

async function verifier(argv: readonly string[], io: CliIO): Promise<number> {
  const args = parseCommand(io, VERIFIER, argv);
  if (typeof args === 'number') return args;
  let verifierKey: string;
  let name: string;
  try {
    const signer = await loadSigner(await readSignerKey(args.positionals[0]!, 'cra key verifier'));
    verifierKey = signer.verifier;
    name = signer.name;
  } catch (err) {
    return fail(io, 'key verifier', describeError(err));
  }
  if (flag(args, 'json')) writeJson(io, { name, key_id: keyLabel(verifierKey).slice(name.length + 1), verifier: verifierKey });
  else io.stdout.write(`${verifierKey}\n`);
  return 0;
}
