/**
 * `cra prove`: Merkle proofs over a trace file, made by the core (`proveTrace`), and their check (`verifyProof`).
 * A proof is data handed to someone else, so it is printed as JSON whatever the flags; its check is the one place
 * where a verdict is printed for people. A proof alone shows only that its hashes lead to its root: bound to a
 * checkpoint signed by a trusted key, it shows that the log that key signed holds the event (or extends the older
 * tree), which is why the check takes `--checkpoint` with `--key`.
 *
 * @module
 */

import { proveTrace } from '../../proof/tools.ts';
import type { Proof, ProofVerdict, ProveQuery } from '../../proof/types.ts';
import { verifyProof } from '../../proof/verify.ts';
import type { TraceEvent } from '../../types.ts';
import { isObject } from '../../util.ts';
import { flag, type Parsed, parseCommand, str, strs, usageError } from '../args.ts';
import { type CliIO, describeError, fail, writeJson } from '../output.ts';
import { readText } from '../files.ts';
import { keyLabel, openCheckpoint, readCheckpointFile, readVerifierKeys } from './verify.ts';

export const PROVE_USAGE = `Usage: cra prove <trace.jsonl> <index> [--size <n>] [--json]
       cra prove <trace.jsonl> --first <m> [--second <n>] [--json]
       cra prove --verify <proof.json> [--event <event.json>] [--checkpoint <file>] [--first-checkpoint <file>]
                 [--key <verifier key | file>] [--json]

Proofs over a trace file's Merkle tree (RFC 9162; one leaf per event, in order), printed as JSON:
  <index>            an inclusion proof: event <index> (its sequence) is in the tree of the first <n> events (all
                     by default); to check it against a signed checkpoint, take --size of that checkpoint
  --first <m>        a consistency proof: the tree of the first <m> events is a prefix of the tree of the first
                     <n> (--second; all by default): the log was only appended to between two checkpoints

--verify checks a proof (as printed above) and prints "valid inclusion proof: …" or "INVALID proof: <why> (<reason>)".
On its own a proof shows only that its hashes lead to its root. With --checkpoint (and --key, required with it) the
root must be the one a checkpoint signed by one of the keys fixes: then the event is in the log that key signed.

Options:
  --size <n>              the inclusion proof's tree size (default: the trace's length)
  --second <n>            the consistency proof's newer tree size (default: the trace's length)
  --verify <proof.json>   check a proof instead of making one
  --event <event.json>    with --verify: the event the inclusion proof is about (one JSON object); its content must
                          hash to the proof's event_hash
  --checkpoint <file>     with --verify: a signed checkpoint, or a checkpoint file (the one of the proof's tree size
                          is taken), the proof's root must be fixed by
  --first-checkpoint <file>
                          with --verify, for a consistency proof: the signed checkpoint of the older tree
  --key <key | file>      a verifier key (<name>+<key id>+<base64>) or a file of them; repeat for several
  --json                  one JSON object on one line (without it: the proof indented; the verdict in words)
  -h, --help              this help

Exit: 0 made / valid, 1 refused or unreadable, 2 usage error.
`;

const SPEC = {
  name: 'prove',
  usage: PROVE_USAGE,
  options: {
    size: { type: 'string' },
    first: { type: 'string' },
    second: { type: 'string' },
    verify: { type: 'string' },
    event: { type: 'string' },
    checkpoint: { type: 'string' },
    'first-checkpoint': { type: 'string' },
    key: { type: 'string', multiple: true },
    json: { type: 'boolean' },
  },
  positionals: ['trace.jsonl?', 'index?'],
} as const;

export async function prove(argv: readonly string[], io: CliIO): Promise<number> {
  const args = parseCommand(io, SPEC, argv);
  if (typeof args === 'number') return args;
  const checking = ['event', 'checkpoint', 'first-checkpoint'].filter((o) => str(args, o) !== undefined);
  if (str(args, 'verify') !== undefined) return verifyCommand(args, io);
  if (checking.length > 0 || strs(args, 'key').length > 0) return usageError(io, SPEC, `--${checking[0] ?? 'key'} goes with --verify <proof.json>`);
  return makeProof(args, io);
}

/** A non-negative integer option or positional; `null` when it is not one. */
function count(value: string | undefined): number | null | undefined {
  if (value === undefined) return undefined;
  return /^\d{1,15}$/.test(value) ? Number(value) : null;
}

async function makeProof(args: Parsed, io: CliIO): Promise<number> {
  const [file, indexArg] = args.positionals;
  if (file === undefined) return usageError(io, SPEC, 'missing <trace.jsonl> (or --verify <proof.json>)');
  const index = count(indexArg);
  const size = count(str(args, 'size'));
  const first = count(str(args, 'first'));
  const second = count(str(args, 'second'));
  for (const [name, value] of [['<index>', index], ['--size', size], ['--first', first], ['--second', second]] as const) {
    if (value === null) return usageError(io, SPEC, `${name} takes a number of events (a non-negative integer)`);
  }
  let query: ProveQuery;
  if (index !== undefined) {
    if (first !== undefined || second !== undefined) return usageError(io, SPEC, 'an inclusion proof (<index>) takes no --first or --second');
    query = { index: index!, ...(size !== undefined ? { size: size! } : {}) };
  } else if (first !== undefined) {
    if (size !== undefined) return usageError(io, SPEC, 'a consistency proof (--first) takes --second, not --size');
    query = { first: first!, ...(second !== undefined ? { second: second! } : {}) };
  } else return usageError(io, SPEC, 'say what to prove: <index> (inclusion) or --first <m> (consistency)');

  let text: string;
  try {
    text = await readText(file);
  } catch (err) {
    return fail(io, 'prove', (err as Error).message);
  }
  let proof: Proof;
  try {
    proof = await proveTrace(text, query);
  } catch (err) {
    return fail(io, 'prove', `${file}: ${describeError(err)}`);
  }
  printData(io, proof, flag(args, 'json'));
  return 0;
}

/** Data for another program or person: indented, or one line with --json. */
export function printData(io: CliIO, value: unknown, oneLine: boolean): void {
  if (oneLine) writeJson(io, value);
  else io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A JSON file's value; throws why it cannot be read. */
export async function readJsonFile(file: string, what: string): Promise<unknown> {
  const text = await readText(file);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`${file} is not ${what} (JSON): ${(err as Error).message}`);
  }
}

/** The note of a checkpoint file of `size` events (a file of several: the one of that size, else its last). */
async function checkpointOfSize(file: string, size: unknown): Promise<string> {
  const { notes } = await readCheckpointFile(file);
  if (notes.length === 0) throw new Error(`${file} holds no checkpoint`);
  if (notes.length === 1) return notes[0]!;
  for (const note of notes) {
    const opened = await openCheckpoint(note);
    if (!('malformed' in opened) && opened.size === size) return note;
  }
  return notes.at(-1)!;
}

async function verifyCommand(args: Parsed, io: CliIO): Promise<number> {
  if (args.positionals.length > 0) return usageError(io, SPEC, `--verify takes no trace: unexpected argument ${JSON.stringify(args.positionals[0])}`);
  for (const o of ['size', 'first', 'second']) if (str(args, o) !== undefined) return usageError(io, SPEC, `--${o} is for making a proof, not for --verify`);
  const keys = await readVerifierKeys(strs(args, 'key'));
  if ('error' in keys) return usageError(io, SPEC, keys.error);
  const checkpointFile = str(args, 'checkpoint');
  const firstFile = str(args, 'first-checkpoint');
  if ((checkpointFile !== undefined || firstFile !== undefined) && keys.keys.length === 0) {
    return usageError(io, SPEC, `--${checkpointFile !== undefined ? 'checkpoint' : 'first-checkpoint'} needs --key <verifier key | file>: a checkpoint counts for its signature`);
  }
  if (keys.keys.length > 0 && checkpointFile === undefined && firstFile === undefined) {
    return usageError(io, SPEC, '--key checks the signature of a checkpoint: give --checkpoint <file>');
  }
  const file = str(args, 'verify')!;
  const json = flag(args, 'json');
  let proof: Proof;
  let event: TraceEvent | undefined;
  let checkpoint: string | undefined;
  let firstCheckpoint: string | undefined;
  try {
    const value = await readJsonFile(file, 'a proof');
    if (!isObject(value)) throw new Error(`${file} is not a proof: a proof is a JSON object (as cra prove prints it)`);
    proof = value as unknown as Proof;
    const eventFile = str(args, 'event');
    if (eventFile !== undefined) {
      const e = await readJsonFile(eventFile, 'an event');
      if (!isObject(e)) throw new Error(`${eventFile} is not an event: one JSON object, as a line of a trace`);
      event = e as unknown as TraceEvent;
    }
    const size = proof.type === 'consistency' ? proof.second : proof.size;
    if (checkpointFile !== undefined) checkpoint = await checkpointOfSize(checkpointFile, size);
    if (firstFile !== undefined) firstCheckpoint = await checkpointOfSize(firstFile, proof.type === 'consistency' ? proof.first : undefined);
  } catch (err) {
    return fail(io, 'prove', (err as Error).message);
  }
  let verdict: ProofVerdict;
  try {
    verdict = await verifyProof(proof, { event, checkpoint, firstCheckpoint, ...(keys.keys.length > 0 ? { keys: keys.keys } : {}) });
  } catch (err) {
    return fail(io, 'prove', `${file}: ${describeError(err)}`);
  }
  if (json) writeJson(io, { file, ...verdict });
  else if (!verdict.valid) io.stdout.write(`INVALID proof: ${verdict.message} (${verdict.reason}${verdict.path ? ` at ${verdict.path}` : ''})\n`);
  else {
    const what =
      proof.type === 'consistency'
        ? `valid consistency proof: the tree of the first ${proof.first} events is a prefix of the tree of the first ${proof.second}, root ${verdict.root}`
        : `valid inclusion proof: event ${proof.index}${event ? ' (the one given)' : ''} is in the tree of ${verdict.size} events, root ${verdict.root}`;
    const bound = verdict.key
      ? `; the root is fixed by a checkpoint signed by ${keyLabel(verdict.key)}`
      : '; not checked against a signed checkpoint (--checkpoint with --key): it shows only that its hashes lead to this root';
    io.stdout.write(`${what}${bound}\n`);
  }
  return verdict.valid ? 0 : 1;
}
