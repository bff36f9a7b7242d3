/**
 * `cra verify`: checks a trace file's hash chain in the core (`verifyTrace`, the one implementation of the rule)
 * and says so in one line: valid with its length and head, or the first event that breaks it and why.
 *
 * @module
 */

import { readFile, stat } from 'node:fs/promises';
import { CraError } from '../../errors.ts';
import { verifyTrace } from '../../runtime/tools.ts';
import type { VerifyResult } from '../../types.ts';
import { flag, parseCommand, str, usageError } from '../args.ts';
import { type CliIO, describeError, fail, showProgress, writeJson } from '../output.ts';

export const VERIFY_USAGE = `Usage: cra verify <trace.jsonl> [--head <hash>] [--json] [--progress]

Verifies a trace file (JSONL, one event per line, as the server and the MCP proxy write them): every event's hash,
the link to the event before, the sequence. Prints "valid: N events, head <hash>" or the first event that breaks
the chain: "INVALID at event <index>: <reason> (<code>)". A file with no event is a valid (empty) chain, with a
warning on stderr: a session's trace starts with session.started.

Options:
  --head <hash>   also check that the chain ends at this event hash (a copy kept elsewhere, a receipt): a trace cut
                  short or extended fails
  --json          one JSON object on stdout: the core's verdict ({valid, length, head_hash, warnings} or
                  {valid, index, reason})
  --progress      progress on stderr (also when stderr is a terminal)
  -h, --help      this help

Exit: 0 valid, 1 invalid or unreadable, 2 usage error.
`;

const SPEC = {
  name: 'verify',
  usage: VERIFY_USAGE,
  options: { head: { type: 'string' }, json: { type: 'boolean' }, progress: { type: 'boolean' } },
  positionals: ['trace.jsonl'],
} as const;

/** What each of the core's verdicts means, for people (the code is printed beside it). */
const REASONS: Record<string, string> = {
  malformed_event: 'it is not a well-formed trace event',
  bad_genesis: 'the first event does not start a chain',
  sequence_gap: 'its sequence number does not follow the event before',
  broken_link: 'its previous_event_hash is not the hash of the event before',
  hash_mismatch: 'its content does not match its event_hash (changed after it was recorded)',
  session_mismatch: 'it belongs to another session than the events before',
};
const DETAILS: Record<string, string> = {
  missing_events: 'events are missing before it',
  duplicated_event: 'it repeats the event before',
  out_of_order: 'it is out of order',
};

export async function verify(argv: readonly string[], io: CliIO): Promise<number> {
  const args = parseCommand(io, SPEC, argv);
  if (typeof args === 'number') return args;
  const file = args.positionals[0]!;
  const head = str(args, 'head');
  if (head !== undefined && !/^[0-9a-f]{64}$/.test(head)) return usageError(io, SPEC, `--head takes an event hash (64 lowercase hex digits), not ${JSON.stringify(head)}`);
  const json = flag(args, 'json');
  const progress = showProgress(io, flag(args, 'progress'));

  let text: string;
  try {
    if (progress) io.stderr.write(`reading ${file} (${(await stat(file)).size} bytes)…\n`);
    text = await readFile(file, 'utf8');
  } catch (err) {
    return fail(io, 'verify', `cannot read ${file}: ${(err as Error).message}`);
  }
  if (progress) io.stderr.write(`verifying ${lineCount(text)} events…\n`);
  let verdict: VerifyResult;
  try {
    verdict = await verifyTrace(text);
  } catch (err) {
    // A line that is not JSON is the core's error naming the line (1-based): the trace is invalid from that event.
    const line = err instanceof CraError && err.code === 'invalid_json' ? /^line (\d+): (.*)$/s.exec(err.message) : null;
    if (!line) return fail(io, 'verify', `${file}: ${describeError(err)}`);
    const index = Number(line[1]) - 1;
    if (json) writeJson(io, { file, valid: false, index, reason: 'invalid_json', message: line[2] });
    else io.stdout.write(`INVALID at event ${index}: line ${line[1]}: ${line[2]} (invalid_json)\n`);
    return 1;
  }

  if (!verdict.valid) {
    if (json) writeJson(io, { file, ...verdict });
    else {
      const why = [REASONS[verdict.reason] ?? verdict.reason, verdict.detail ? DETAILS[verdict.detail] ?? verdict.detail : null].filter(Boolean).join(': ');
      io.stdout.write(`INVALID at event ${verdict.index}: ${why} (${verdict.reason}${verdict.detail ? `, ${verdict.detail}` : ''})\n`);
    }
    return 1;
  }
  if (head !== undefined && verdict.head_hash !== head) {
    if (json) writeJson(io, { file, valid: false, reason: 'head_mismatch', length: verdict.length, head_hash: verdict.head_hash, expected_head: head });
    else io.stdout.write(`INVALID: the chain is intact but ends at ${verdict.head_hash} (${verdict.length} events), not at ${head} (head_mismatch)\n`);
    return 1;
  }
  // An empty chain is intact, but no session's trace is empty: the file is likely not the one meant.
  const warnings = verdict.length === 0 ? [`${file} holds no event: a session's trace starts with session.started`] : [];
  for (const w of warnings) io.stderr.write(`cra verify: warning: ${w}\n`);
  if (json) writeJson(io, { file, ...verdict, warnings });
  else io.stdout.write(`valid: ${verdict.length} events, head ${verdict.head_hash}\n`);
  return 0;
}

/** Lines of a JSONL text (a last line without its newline counts). */
function lineCount(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return text.length > 0 && !text.endsWith('\n') ? n + 1 : n;
}
