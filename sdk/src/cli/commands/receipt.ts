/**
 * `cra receipt`: what one execution did, provable offline — its events, their inclusion proofs and a signed
 * checkpoint covering them (`buildReceipt`) — and the check of one (`verifyReceipt`). A receipt is made under a
 * checkpoint already signed when one covers the execution (the store's file beside the trace, or `--checkpoint`),
 * so that it needs no secret; only when none does is a new checkpoint signed, and only with a signer key given on
 * purpose (`--signing-key` or `CRA_SIGNING_KEY`).
 *
 * @module
 */

import { buildReceipt, signTrace } from '../../proof/tools.ts';
import type { Receipt, ReceiptVerdict } from '../../proof/types.ts';
import { verifyReceipt } from '../../proof/verify.ts';
import { fromJsonl } from '../../runtime/tools.ts';
import type { TraceEvent } from '../../types.ts';
import { isObject } from '../../util.ts';
import { flag, type Parsed, parseCommand, str, strs, usageError } from '../args.ts';
import { type CliIO, describeError, fail, writeJson } from '../output.ts';
import { readText } from '../files.ts';
import { printData, readJsonFile } from './prove.ts';
import { checkpointsBeside, keyLabel, openCheckpoint, readCheckpointFile, readSignerKey, readVerifierKeys } from './verify.ts';

export const RECEIPT_USAGE = `Usage: cra receipt <trace.jsonl> <execution-id> [--checkpoint <file>] [--signing-key <signer key | file>] [--json]
       cra receipt verify <receipt.json> --key <verifier key | file> [--json]

Prints the receipt of one execution of a trace file as JSON: the execution's events, the proof that each is in the
log, and a signed checkpoint covering them. Anyone with the verifier key checks it offline (cra receipt verify,
verifyReceipt), without the trace.

The checkpoint is the newest that covers the execution's events: from --checkpoint, else from <id>.checkpoints.jsonl
beside <id>.trace.jsonl. When none does (the execution is newer than the last checkpoint), one is signed over the
whole trace with --signing-key, or $CRA_SIGNING_KEY; without either, the receipt is refused.

Options:
  --checkpoint <file>           a signed checkpoint, or a checkpoint file (one note per line as a JSON string)
  --signing-key <key | file>    a signer key (PRIVATE+KEY+…, from cra key generate) or a file holding it: signs a
                                checkpoint when none given covers the execution (default: $CRA_SIGNING_KEY)
  --json                        the receipt on one line (without it: indented)
  -h, --help                    this help

Exit: 0 made, 1 refused (no such execution, no checkpoint covering it and no key) or unreadable, 2 usage error.
Run cra receipt verify --help for the check.
`;

export const RECEIPT_VERIFY_USAGE = `Usage: cra receipt verify <receipt.json> --key <verifier key | file> [--json]

Checks a receipt offline: every event hashes to its event_hash and belongs to the execution, every inclusion proof
leads to the checkpoint's root, and one of the keys signed the checkpoint. Prints "valid receipt: execution <id>,
N events, checkpoint size S, key <name>+<key id>" or "INVALID receipt: <why> (<reason>)".

Options:
  --key <key | file>   a verifier key (<name>+<key id>+<base64>) or a file of them, one per line; repeat for several
                       (required)
  --json               one JSON object on stdout: the verdict ({valid, session_id, execution_id, size, root, events,
                       key} or {valid: false, reason, message, path})
  -h, --help           this help

Exit: 0 valid, 1 invalid or unreadable, 2 usage error.
`;

const BUILD = {
  name: 'receipt',
  usage: RECEIPT_USAGE,
  options: { checkpoint: { type: 'string' }, 'signing-key': { type: 'string' }, json: { type: 'boolean' } },
  positionals: ['trace.jsonl', 'execution-id'],
} as const;
const VERIFY = {
  name: 'receipt verify',
  usage: RECEIPT_VERIFY_USAGE,
  options: { key: { type: 'string', multiple: true }, json: { type: 'boolean' } },
  positionals: ['receipt.json'],
} as const;

export async function receipt(argv: readonly string[], io: CliIO): Promise<number> {
  if (argv[0] === 'verify') return verifyCommand(argv.slice(1), io);
  const args = parseCommand(io, BUILD, argv);
  if (typeof args === 'number') return args;
  return build(args, io);
}

async function build(args: Parsed, io: CliIO): Promise<number> {
  const [file, executionId] = args.positionals as [string, string];
  const env = io.env ?? process.env;
  const signingKey = str(args, 'signing-key') ?? (env.CRA_SIGNING_KEY || undefined);
  let text: string;
  let events: TraceEvent[];
  try {
    text = await readText(file);
  } catch (err) {
    return fail(io, 'receipt', (err as Error).message);
  }
  try {
    events = await fromJsonl(text);
  } catch (err) {
    return fail(io, 'receipt', `${file}: ${describeError(err)}`);
  }
  const own = events.filter((e) => isObject(e.payload) && e.payload.execution_id === executionId);
  if (own.length === 0) return fail(io, 'receipt', `no event of execution ${executionId} in ${file} (execution_not_found)`);
  const last = Math.max(...own.map((e) => e.sequence));
  const session = events[0]!.session_id;

  // The newest checkpoint of this trace that covers the execution; those of more events than the trace holds are
  // said (the trace may have been cut) but cannot carry a proof from it.
  const source = str(args, 'checkpoint') ?? (await checkpointsBeside(file));
  let note: string | undefined;
  let coverSize = 0;
  let newest = 0;
  if (source !== null) {
    try {
      const read = await readCheckpointFile(source);
      for (const w of read.warnings) io.stderr.write(`cra receipt: warning: ${w}\n`);
      for (const candidate of read.notes) {
        const opened = await openCheckpoint(candidate);
        if ('malformed' in opened || opened.session_id !== session) continue;
        if (opened.size > events.length) {
          io.stderr.write(`cra receipt: warning: a checkpoint in ${source} covers ${opened.size} events, the trace holds ${events.length} (cut short?): cra verify ${file} says more\n`);
          continue;
        }
        newest = Math.max(newest, opened.size);
        if (opened.size > last && opened.size >= coverSize) {
          note = candidate;
          coverSize = opened.size;
        }
      }
    } catch (err) {
      return fail(io, 'receipt', (err as Error).message);
    }
  }
  if (note === undefined) {
    if (signingKey === undefined) {
      const have = source === null ? 'no checkpoint file (--checkpoint, or <id>.checkpoints.jsonl beside the trace)' : newest > 0 ? `the newest checkpoint in ${source} covers ${newest} events` : `no checkpoint of this trace in ${source}`;
      return fail(
        io,
        'receipt',
        `no signed checkpoint covers execution ${executionId} (its last event is event ${last}; ${have}): give --checkpoint <file> with one that does, or --signing-key <signer key | file> (or CRA_SIGNING_KEY) to sign one`,
      );
    }
    try {
      const key = await readSignerKey(signingKey, str(args, 'signing-key') !== undefined ? '--signing-key' : 'CRA_SIGNING_KEY');
      const signed = await signTrace(text, key);
      note = signed.note;
      io.stderr.write(`cra receipt: signed a checkpoint of ${signed.size} events (no checkpoint given covers the execution)\n`);
    } catch (err) {
      return fail(io, 'receipt', describeError(err));
    }
  }
  let made: Receipt;
  try {
    made = await buildReceipt(text, executionId, note);
  } catch (err) {
    return fail(io, 'receipt', `${file}: ${describeError(err)}`);
  }
  printData(io, made, flag(args, 'json'));
  return 0;
}

async function verifyCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const args = parseCommand(io, VERIFY, argv);
  if (typeof args === 'number') return args;
  const keys = await readVerifierKeys(strs(args, 'key'));
  if ('error' in keys) return usageError(io, VERIFY, keys.error);
  if (keys.keys.length === 0) return usageError(io, VERIFY, 'missing --key <verifier key | file>: a receipt is only as good as its checkpoint’s signature, checked with the log’s verifier key');
  const file = args.positionals[0]!;
  let value: unknown;
  try {
    value = await readJsonFile(file, 'a receipt');
  } catch (err) {
    return fail(io, 'receipt verify', (err as Error).message);
  }
  let verdict: ReceiptVerdict;
  try {
    verdict = await verifyReceipt(value as Receipt, { keys: keys.keys });
  } catch (err) {
    return fail(io, 'receipt verify', `${file}: ${describeError(err)}`);
  }
  if (flag(args, 'json')) writeJson(io, { file, ...verdict });
  else if (verdict.valid) {
    io.stdout.write(`valid receipt: execution ${verdict.execution_id}, ${verdict.events} events, checkpoint size ${verdict.size}, key ${keyLabel(verdict.key)}\n`);
  } else io.stdout.write(`INVALID receipt: ${verdict.message} (${verdict.reason}${verdict.path ? ` at ${verdict.path}` : ''})\n`);
  return verdict.valid ? 0 : 1;
}
