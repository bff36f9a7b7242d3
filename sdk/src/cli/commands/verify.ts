/**
 * `cra verify`: checks a trace file's hash chain in the core (`verifyTrace`, the one implementation of the rule)
 * and says so in one line: valid with its length and head, or the first event that breaks it and why. With signed
 * checkpoints (`--checkpoint`, or the store's `<id>.checkpoints.jsonl` beside `<id>.trace.jsonl`) it also checks that
 * each one fixes this trace: its session, a size the trace reaches and the Merkle root of that many events, and with
 * `--key` its signature. That is what a chain alone cannot show: a trace cut short is still an intact chain, but
 * a checkpoint of more events than it holds gives the cut away.
 *
 * The readers of keys and checkpoint files live here too: `cra prove` and `cra receipt` take the same inputs.
 *
 * @module
 */

import { isObject } from '../../util.ts';
import { stat } from 'node:fs/promises';
import { CraError } from '../../errors.ts';
import { traceTree } from '../../proof/tools.ts';
import type { CheckpointVerdict } from '../../proof/types.ts';
import { verifyCheckpoint } from '../../proof/verify.ts';
import { verifyTrace, withCore } from '../../runtime/tools.ts';
import type { VerifyResult } from '../../types.ts';
import { flag, parseCommand, str, strs, usageError } from '../args.ts';
import { type CliIO, describeError, fail, showProgress, writeJson } from '../output.ts';
import { readText } from '../files.ts';

export const VERIFY_USAGE = `Usage: cra verify <trace.jsonl> [--checkpoint <file>] [--key <verifier key | file>] [--head <hash>] [--json] [--progress]

Verifies a trace file (JSONL, one event per line, as the server and the MCP proxy write them): every event's hash,
the link to the event before, the sequence. Prints "valid: N events, head <hash>" or the first event that breaks
the chain: "INVALID at event <index>: <reason> (<code>)". A file with no event is a valid (empty) chain, with a
warning on stderr: a session's trace starts with session.started.

Then its signed checkpoints, if any: those of --checkpoint, else those of <id>.checkpoints.jsonl when it sits
beside <id>.trace.jsonl (as a data folder keeps them; stderr says it is used). Each must be of the trace's session,
cover no more events than the trace holds (more: events were cut from its end) and fix the Merkle root of that
many of its events; with --key, carry a signature by one of the keys that verifies. Checkpoints are numbered from
1, in the file's order. Without --key their signatures are not checked (and the output says so). Prints
"valid: …; checkpoints: K verified (newest: size S, key <name>+<key id>)" or "INVALID checkpoint <n> of K …".

Options:
  --checkpoint <file>  a signed checkpoint (the note's text) or a checkpoint file (<id>.checkpoints.jsonl: one
                       note per line as a JSON string); every checkpoint in it is checked
  --key <key | file>   a verifier key (<name>+<key id>+<base64>, from cra key generate) or a file of them, one per
                       line; repeat for several. A checkpoint signed by any of them is accepted
  --head <hash>        also check that the chain ends at this event hash (a copy kept elsewhere, a receipt): a trace
                       cut short or extended fails
  --json               one JSON object on stdout: the core's verdict ({valid, length, head_hash, warnings} or
                       {valid, index, reason}), with checkpoints: {file, source, count, signatures_checked, keys,
                       newest, checked} when some were checked, or {valid: false, reason, message, checkpoint, …}
  --progress           progress on stderr (also when stderr is a terminal)
  -h, --help           this help

Exit: 0 valid (and every checkpoint checked holds), 1 invalid or unreadable, 2 usage error.
`;

const SPEC = {
  name: 'verify',
  usage: VERIFY_USAGE,
  options: {
    checkpoint: { type: 'string' },
    key: { type: 'string', multiple: true },
    head: { type: 'string' },
    json: { type: 'boolean' },
    progress: { type: 'boolean' },
  },
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
  const keys = await readVerifierKeys(strs(args, 'key'));
  if ('error' in keys) return usageError(io, SPEC, keys.error);
  const json = flag(args, 'json');
  const progress = showProgress(io, flag(args, 'progress'));

  if (progress) {
    const size = await stat(file).then((s) => s.size, () => undefined);
    if (size !== undefined) io.stderr.write(`reading ${file} (${size} bytes)…\n`);
  }
  let text: string;
  try {
    text = await readText(file);
  } catch (err) {
    return fail(io, 'verify', (err as Error).message);
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

  // The checkpoints: those asked for, else the store's file beside the trace.
  let source: CheckpointSource | null = null;
  const asked = str(args, 'checkpoint');
  if (asked !== undefined) source = { file: asked, source: 'option' };
  else {
    const beside = await checkpointsBeside(file);
    if (beside !== null) {
      source = { file: beside, source: 'beside' };
      io.stderr.write(`cra verify: checking the checkpoints in ${beside} (beside the trace; --checkpoint <file> for others)\n`);
    }
  }
  if (source === null && keys.keys.length > 0) {
    return fail(io, 'verify', `--key is given but there is no checkpoint to check: no --checkpoint <file>, and no <id>.checkpoints.jsonl beside ${file}`);
  }
  const warnings = verdict.length === 0 ? [`${file} holds no event: a session's trace starts with session.started`] : [];
  let checked: (Omit<CheckpointsChecked, 'valid'> & { signatures_checked: boolean }) | null = null;
  if (source !== null) {
    let notes: string[];
    try {
      const read = await readCheckpointFile(source.file);
      notes = read.notes;
      warnings.push(...read.warnings);
    } catch (err) {
      return fail(io, 'verify', (err as Error).message);
    }
    // A checkpoint file the store created holds at least one note; an empty one asked for is not a check.
    if (notes.length === 0 && source.source === 'option') return fail(io, 'verify', `${source.file} holds no checkpoint`);
    if (progress) io.stderr.write(`checking ${notes.length} checkpoint(s)…\n`);
    let outcome: CheckpointsChecked | CheckpointRefusal;
    try {
      outcome = await checkCheckpoints(text, verdict.length, notes, keys.keys);
    } catch (err) {
      return fail(io, 'verify', `${source.file}: ${describeError(err)}`);
    }
    const about = { ...source, count: notes.length, signatures_checked: keys.keys.length > 0, keys: keys.keys };
    if (!outcome.valid) {
      if (json) writeJson(io, { file, ...outcome, length: verdict.length, head_hash: verdict.head_hash, checkpoints: about });
      else io.stdout.write(`INVALID checkpoint ${outcome.checkpoint} of ${notes.length} (${source.file}): ${outcome.message} (${outcome.reason})\n`);
      return 1;
    }
    checked = { ...about, newest: outcome.newest, checked: outcome.checked };
  }
  for (const w of warnings) io.stderr.write(`cra verify: warning: ${w}\n`);
  if (json) {
    writeJson(io, { file, ...verdict, warnings, ...(checked ? { checkpoints: checked } : {}) });
    return 0;
  }
  io.stdout.write(`valid: ${verdict.length} events, head ${verdict.head_hash}${checked ? `; ${checkpointSummary(checked, verdict.length)}` : ''}\n`);
  return 0;
}

/** Lines of a JSONL text (a last line without its newline counts). */
function lineCount(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return text.length > 0 && !text.endsWith('\n') ? n + 1 : n;
}

interface CheckpointSource {
  file: string;
  /** `option`: --checkpoint; `beside`: the store's file next to the trace. */
  source: 'option' | 'beside';
}

/** One checkpoint that holds. */
interface CheckedCheckpoint {
  /** Its number in the file, from 1. */
  checkpoint: number;
  size: number;
  root: string;
  time: string | null;
  /** The verifier key whose signature verifies; `null` when signatures are not checked. */
  key: string | null;
}

interface CheckpointsChecked {
  valid: true;
  checked: CheckedCheckpoint[];
  /** The checkpoint of the most events (the last of them in the file). */
  newest: CheckedCheckpoint | null;
}

interface CheckpointRefusal {
  valid: false;
  /** `checkpoint_malformed`, `unknown_key`, `bad_signature`, `wrong_session`, `trace_truncated` or `root_mismatch`. */
  reason: string;
  message: string;
  /** Its number in the file, from 1. */
  checkpoint: number;
  size?: number;
}

/** "checkpoints: K verified (newest: size S, key …)", or without keys what was checked and what was not. */
function checkpointSummary(c: Omit<CheckpointsChecked, 'valid'> & { signatures_checked: boolean }, length: number): string {
  if (c.newest === null) return 'checkpoints: none in the file';
  const after = length - c.newest.size;
  const uncovered = after > 0 ? `; the last ${after} event(s) are after it` : '';
  if (!c.signatures_checked) return `checkpoints: ${c.checked.length} checked, roots match (newest: size ${c.newest.size}${uncovered}); signatures not checked (no --key)`;
  return `checkpoints: ${c.checked.length} verified (newest: size ${c.newest.size}, key ${keyLabel(c.newest.key!)}${uncovered})`;
}

/**
 * Checks each checkpoint against the trace (whose chain verified): signed by one of `keys` when given, of the
 * trace's session, no larger than the trace, and with the root of that many of its events. The first that fails is
 * the answer.
 */
async function checkCheckpoints(text: string, length: number, notes: readonly string[], keys: readonly string[]): Promise<CheckpointsChecked | CheckpointRefusal> {
  // The trace's session and every root the checkpoints need, from one reading of the trace (sizes past its end are
  // refused below).
  const sizes = new Set<number>();
  for (const note of notes) {
    const opened = await openCheckpoint(note);
    if (!('malformed' in opened) && opened.size <= length) sizes.add(opened.size);
  }
  const wanted = [...sizes];
  const tree = length > 0 ? await traceTree(text, { size: 0, sizes: wanted }) : null;
  const session = tree?.session_id ?? null;
  const roots = new Map<number, string>(wanted.map((n, i) => [n, tree!.roots![i]!]));
  const checked: CheckedCheckpoint[] = [];
  for (const [i, note] of notes.entries()) {
    const n = i + 1;
    const opened = await openCheckpoint(note);
    if ('malformed' in opened) return { valid: false, reason: 'checkpoint_malformed', message: `it does not read as a signed checkpoint: ${opened.malformed}`, checkpoint: n };
    let key: string | null = null;
    if (keys.length > 0) {
      const v: CheckpointVerdict = await verifyCheckpoint(note, { keys });
      if (!v.valid) return { valid: false, reason: v.reason === 'malformed' ? 'checkpoint_malformed' : v.reason, message: v.message, checkpoint: n, size: opened.size };
      key = v.key;
    }
    const size = opened.size;
    if (session !== null && opened.session_id !== session) {
      return { valid: false, reason: 'wrong_session', message: `it is a checkpoint of session ${opened.session_id ?? '(none)'}, the trace is of session ${session}`, checkpoint: n, size };
    }
    if (size > length) {
      return {
        valid: false,
        reason: 'trace_truncated',
        message: `it covers ${size} events, the trace holds ${length}: events were cut from the trace's end`,
        checkpoint: n,
        size,
      };
    }
    const root = roots.get(size)!;
    if (root !== opened.root) {
      return {
        valid: false,
        reason: 'root_mismatch',
        message: `it fixes the root ${opened.root} of ${size} events, the trace's first ${size} events have the root ${root}: they are not the events it covers`,
        checkpoint: n,
        size,
      };
    }
    checked.push({ checkpoint: n, size, root, time: opened.time, key });
  }
  const newest = checked.reduce<CheckedCheckpoint | null>((a, c) => (a === null || c.size >= a.size ? c : a), null);
  return { valid: true, checked, newest };
}

// ---- Inputs shared with `cra prove` and `cra receipt` ----

/** `<name>+<key id>` of a verifier key string (its base64 may hold `+`: split on the first two only). */
export function keyLabel(key: string): string {
  const first = key.indexOf('+');
  const second = first < 0 ? -1 : key.indexOf('+', first + 1);
  return second < 0 ? key : key.slice(0, second);
}

/** What the core reads of a key string (`key.parse`). */
async function parseKey(key: string): Promise<{ kind: 'verifier' | 'signer'; name: string; key_id: string }> {
  return withCore(undefined, (core, now) => core.call<{ kind: 'verifier' | 'signer'; name: string; key_id: string }>('key.parse', { key }, now));
}

/** Whether `path` names a file (a key or a checkpoint given by its file rather than its text). */
async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

/**
 * The verifier keys of `--key` values: each a key string or a file of them (one per line; blank lines and lines
 * starting with `#` skipped). A value that is neither, or a signer key (which must stay secret), is a usage error.
 */
export async function readVerifierKeys(values: readonly string[]): Promise<{ keys: string[] } | { error: string }> {
  const keys: string[] = [];
  for (const value of values) {
    const fromFile = await isFile(value);
    let lines: Array<{ key: string; where: string }>;
    if (fromFile) {
      let text: string;
      try {
        text = await readText(value, 'the key file');
      } catch (err) {
        return { error: (err as Error).message };
      }
      lines = text
        .split('\n')
        .map((l, i) => ({ key: l.trim(), where: `line ${i + 1} of ${value}` }))
        .filter((l) => l.key !== '' && !l.key.startsWith('#'));
      if (lines.length === 0) return { error: `the key file ${value} holds no key` };
    } else lines = [{ key: value.trim(), where: `--key ${JSON.stringify(value)}` }];
    for (const { key, where } of lines) {
      let parsed: { kind: string };
      try {
        parsed = await parseKey(key);
      } catch (err) {
        const reason = err instanceof CraError ? err.message : String(err);
        return { error: fromFile ? `${where}: not a verifier key: ${reason}` : `--key takes a verifier key (<name>+<key id>+<base64>) or a file of them: ${where} is neither (${reason})` };
      }
      if (parsed.kind !== 'verifier') {
        return { error: `${where} is a signer key, which must stay secret: --key takes its verifier key (cra key verifier <signer key | file> prints it)` };
      }
      keys.push(key);
    }
  }
  return { keys };
}

/**
 * A signer key given as its string or as a file holding it (the first line that is not blank or a `#` comment).
 * Throws why it is not one; the key itself is read (and its id checked) by whoever signs with it.
 */
export async function readSignerKey(value: string, where: string): Promise<string> {
  if (value.startsWith('PRIVATE+KEY+')) return value.trim();
  if (!(await isFile(value))) throw new Error(`${where} takes a signer key (PRIVATE+KEY+<name>+<key id>+<base64>) or a file holding one: it is neither`);
  const text = await readText(value, 'the key file');
  const key = text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '' && !l.startsWith('#'));
  if (key === undefined) throw new Error(`the key file ${value} holds no key`);
  if (!key.startsWith('PRIVATE+KEY+')) throw new Error(`${value} holds no signer key (PRIVATE+KEY+…): a verifier key cannot sign`);
  return key;
}

/** The store's checkpoint file of a trace file `<id>.trace.jsonl`: `<id>.checkpoints.jsonl` beside it, if it exists. */
export async function checkpointsBeside(traceFile: string): Promise<string | null> {
  if (!traceFile.endsWith('.trace.jsonl')) return null;
  const path = `${traceFile.slice(0, -'.trace.jsonl'.length)}.checkpoints.jsonl`;
  return (await isFile(path)) ? path : null;
}

/**
 * The signed notes of a checkpoint file: a checkpoint file of the store (one note per line as a JSON string), the
 * text of one note (blank lines after it, as `jq -r … > file` or an editor leaves them, are not part of it), or the
 * JSON of checkpoints as the server lists them (`{note, …}`, an array of them, or `{items: […]}`). A last line cut
 * short (a write the store never acknowledged) is left out with a warning, as the store reads it; any other line that
 * is not a JSON string is an error naming it.
 */
export async function readCheckpointFile(file: string): Promise<{ notes: string[]; warnings: string[] }> {
  const text = await readText(file);
  const listed = listedNotes(text);
  if (listed !== null) return { notes: listed, warnings: [] };
  if (!text.startsWith('"')) return { notes: text.trim() === '' ? [] : [text.replace(/\n+$/, '\n')], warnings: [] };
  const notes: string[] = [];
  const warnings: string[] = [];
  const lines = text.split('\n');
  const torn = !text.endsWith('\n');
  for (const [i, line] of lines.entries()) {
    if (line === '' && i === lines.length - 1) break;
    let note: unknown;
    try {
      note = JSON.parse(line);
    } catch {
      note = undefined;
    }
    if (typeof note === 'string') notes.push(note);
    else if (torn && i === lines.length - 1) warnings.push(`${file}: line ${i + 1} is cut short (a write that did not finish) and is left out`);
    else throw new Error(`${file}: line ${i + 1} is not a signed checkpoint as a JSON string`);
  }
  return { notes, warnings };
}

/** The notes of checkpoints in the JSON the server answers (`{note}`, `[{note}]`, `{items: [{note}]}`), else null. */
function listedNotes(text: string): string[] | null {
  if (!/^\s*[[{]/.test(text)) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const items = Array.isArray(value) ? value : isObject(value) && Array.isArray(value.items) ? value.items : [value];
  const notes = items.map((c) => (typeof c === 'string' ? c : isObject(c) && typeof c.note === 'string' ? c.note : null));
  return notes.every((n): n is string => n !== null) ? notes : null;
}

/** What a signed note states (`checkpoint.open`, no signature checked). */
export interface OpenedCheckpoint {
  origin: string;
  session_id: string | null;
  size: number;
  root: string;
  time: string | null;
}

/** Reads a signed note in the core: what it states, or why it does not read as a checkpoint. */
export async function openCheckpoint(note: string): Promise<OpenedCheckpoint | { malformed: string }> {
  try {
    return await withCore(undefined, (core, now) => core.call<OpenedCheckpoint>('checkpoint.open', { note }, now));
  } catch (err) {
    if (err instanceof CraError && err.code === 'checkpoint_invalid') return { malformed: err.message };
    throw err;
  }
}
