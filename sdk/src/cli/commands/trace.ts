/**
 * `cra trace export | diff | replay`: a stored session's trace out of a data folder (through the JSONL store, as
 * the server keeps it), where two traces part, and whether the core reproduces a trace's resolutions. Replay says
 * what it did not re-check: action decisions, whose parameters a trace records only as a hash.
 *
 * @module
 */

import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadAtlasDir } from '../../atlas/dir.ts';
import { canonicalHash, diffTraces, fromJsonl, replayTrace } from '../../runtime/tools.ts';
import { jsonlStore } from '../../storage/jsonl.ts';
import type { AtlasBundle, ReplayResult, TraceEvent } from '../../types.ts';
import { readAtlases } from '../../../../server/src/adapter/files/atlases.ts';
import { dispatch, flag, parseCommand, str, strs, usageError } from '../args.ts';
import { type CliIO, describeError, fail, writeJson } from '../output.ts';
import { readText } from '../files.ts';

export const TRACE_USAGE = `Usage: cra trace <export|diff|replay> [options]

Commands:
  export <session-id>               a stored session's trace (JSONL) from a data folder
  diff <a.jsonl> <b.jsonl>          where two traces part: the first event whose hash differs, and how
  replay <trace.jsonl> --atlas <dir> whether the core reproduces the trace's resolutions (action decisions are
                                    not re-checked: their parameters are recorded only as hashes)

Run cra trace <command> --help for its options. To check a trace's hash chain: cra verify <trace.jsonl>.
`;

export const TRACE_EXPORT_USAGE = `Usage: cra trace export <session-id> [--data <dir>] [--out <file>] [--json]

Writes a stored session's trace, JSONL as the server keeps it, to stdout or to <file>. Reads the data folder of a
server or an MCP proxy (<data>/traces); writes nothing there.

Options:
  --data <dir>    the data folder (default: $CRA_DATA_DIR, else .data)
  --out <file>    write the trace to <file> instead of stdout
  --json          with --out: one JSON object on stdout, {session_id, events, file}
  -h, --help      this help
`;

export const TRACE_DIFF_USAGE = `Usage: cra trace diff <a.jsonl> <b.jsonl> [--json]

Compares two traces event by event by their hashes: the first index where they part, and what differs there (the
event type, the payload members the core sees changed; ids, timestamps and hashes aside), or that one ends first.

Options:
  --json          one JSON object on stdout: {same, length_a, length_b, index, a, b, paths}
  -h, --help      this help

Exit: 0 the same, 1 different (or unreadable), 2 usage error.
`;

export const TRACE_REPLAY_USAGE = `Usage: cra trace replay <trace.jsonl> --atlas <dir> [--atlas <dir>...] [--json]

Replays the trace in a fresh core with the atlases loaded (the versions it was recorded with) and reports which
recorded decisions it re-checked, whether they are reproduced, and where the replay diverges.

What is re-checked: every resolution (carp.request.received): the core resolves the recorded request again and
compares the capabilities, policies and context it decides with those recorded. What is not: action decisions
(approved, denied, waiting for approval). A trace records an action's parameters only as a hash, so the replay
cannot ask the policies again; it copies those events as recorded. The trace names the atlases its resolutions
used (their ids, not their versions): one that no --atlas gives is warned about on stderr.

Options:
  --atlas <dir>   an atlas folder or manifest file, or a folder of atlas folders (as cra serve reads it);
                  repeat for several (required)
  --json          one JSON object on stdout: {reproduced, original_length, replayed_length, divergences,
                  resolutions: {recorded, reproduced}, not_rechecked: {action_decisions, reason}, warnings}
  -h, --help      this help

Exit: 0 reproduced (every resolution; action decisions are not re-checked), 1 not reproduced (or unreadable),
2 usage error.
`;

const EXPORT = {
  name: 'trace export',
  usage: TRACE_EXPORT_USAGE,
  options: { data: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } },
  positionals: ['session-id'],
} as const;
const DIFF = { name: 'trace diff', usage: TRACE_DIFF_USAGE, options: { json: { type: 'boolean' } }, positionals: ['a.jsonl', 'b.jsonl'] } as const;
const REPLAY = {
  name: 'trace replay',
  usage: TRACE_REPLAY_USAGE,
  options: { atlas: { type: 'string', multiple: true }, json: { type: 'boolean' } },
  positionals: ['trace.jsonl'],
} as const;

export async function trace(argv: readonly string[], io: CliIO): Promise<number> {
  return dispatch(io, { name: 'trace', usage: TRACE_USAGE }, { export: exportTrace, diff, replay }, argv);
}

async function exportTrace(argv: readonly string[], io: CliIO): Promise<number> {
  const args = parseCommand(io, EXPORT, argv);
  if (typeof args === 'number') return args;
  // Session ids are stored lowercase; the server reads its path ids the same way.
  const id = args.positionals[0]!.toLowerCase();
  const out = str(args, 'out');
  if (flag(args, 'json') && out === undefined) return usageError(io, EXPORT, '--json needs --out <file> (without it, stdout is the trace itself)');
  const data = str(args, 'data') ?? (io.env ?? process.env).CRA_DATA_DIR ?? '.data';
  const dir = join(data, 'traces');
  // The store creates its folder when missing: a data folder that is not one is said, not made.
  if (!(await stat(dir).then((s) => s.isDirectory(), () => false))) return fail(io, 'trace export', `no traces in ${data} (no folder ${dir})`);
  // Read only: without open() the store loads no index and so records nothing on close.
  const store = jsonlStore({ dir, fsyncIntervalMs: 0 });
  let text: string;
  try {
    text = await store.readText(id);
  } catch (err) {
    return fail(io, 'trace export', describeError(err));
  } finally {
    await store.close().catch(() => undefined);
  }
  if (text === '') return fail(io, 'trace export', `no trace of session ${id} in ${dir}`);
  if (out === undefined) {
    io.stdout.write(text);
    return 0;
  }
  try {
    await writeFile(out, text);
  } catch (err) {
    return fail(io, 'trace export', `cannot write ${out}: ${(err as Error).message}`);
  }
  const events = text.split('\n').length - 1;
  if (flag(args, 'json')) writeJson(io, { session_id: id, events, file: out });
  else io.stdout.write(`wrote ${events} events of session ${id} to ${out}\n`);
  return 0;
}

/** The events of a JSONL file, read by the core (a malformed line is an error naming it). */
async function readTrace(file: string): Promise<TraceEvent[]> {
  const text = await readText(file);
  try {
    return await fromJsonl(text);
  } catch (err) {
    throw new Error(`${file}: ${describeError(err)}`);
  }
}

async function diff(argv: readonly string[], io: CliIO): Promise<number> {
  const args = parseCommand(io, DIFF, argv);
  if (typeof args === 'number') return args;
  const [fileA, fileB] = args.positionals as [string, string];
  let a: TraceEvent[];
  let b: TraceEvent[];
  try {
    [a, b] = await Promise.all([readTrace(fileA), readTrace(fileB)]);
  } catch (err) {
    return fail(io, 'trace diff', (err as Error).message);
  }
  const json = flag(args, 'json');
  const shared = Math.min(a.length, b.length);
  // By hash: the recorded hashes, and the hash of what each event holds (a copy changed after it was recorded keeps
  // its recorded hash); the canonical hash is the core's, asked only when the two serialize differently.
  let index = 0;
  try {
    while (index < shared && (await sameEvent(a[index]!, b[index]!))) index++;
  } catch (err) {
    return fail(io, 'trace diff', describeError(err));
  }
  if (index === shared && a.length === b.length) {
    const head = a.at(-1)?.event_hash ?? null;
    if (json) writeJson(io, { same: true, length_a: a.length, length_b: b.length, head_hash: head });
    else io.stdout.write(`same: ${a.length} events${head ? `, head ${head}` : ''}\n`);
    return 0;
  }
  const ea = a[index];
  const eb = b[index];
  // What differs in the parting events, as the core compares events (ids, timestamps and hashes aside).
  let paths: string[] = [];
  if (ea && eb) {
    try {
      paths = (await diffTraces([ea], [eb])).differences.flatMap((d) => d.paths);
    } catch (err) {
      return fail(io, 'trace diff', describeError(err));
    }
  }
  const side = (e: TraceEvent | undefined) => (e ? { event_type: e.event_type, event_hash: e.event_hash } : null);
  if (json) {
    writeJson(io, { same: false, length_a: a.length, length_b: b.length, index, a: side(ea), b: side(eb), paths });
    return 1;
  }
  const lines = [`different from event ${index} (${a.length} events in ${fileA}, ${b.length} in ${fileB})`];
  if (!ea || !eb) {
    const [longer, shorter] = ea ? [fileA, fileB] : [fileB, fileA];
    lines.push(`  ${shorter} ends there; ${longer} goes on with ${(ea ?? eb)!.event_type}`);
  } else {
    lines.push(ea.event_hash === eb.event_hash ? `  hash: ${ea.event_hash} recorded in both, but their content differs` : `  hash: ${ea.event_hash} / ${eb.event_hash}`);
    lines.push(ea.event_type === eb.event_type ? `  event type: ${ea.event_type} (both)` : `  event type: ${ea.event_type} / ${eb.event_type}`);
    lines.push(paths.length > 0 ? `  differs in: ${paths.join(', ')}` : '  the same content: they differ in ids, timestamps or the hashes they link to');
  }
  io.stdout.write(`${lines.join('\n')}\n`);
  return 1;
}

async function sameEvent(x: TraceEvent, y: TraceEvent): Promise<boolean> {
  if (x.event_hash !== y.event_hash) return false;
  if (JSON.stringify(x) === JSON.stringify(y)) return true;
  const [hx, hy] = await Promise.all([canonicalHash(x), canonicalHash(y)]);
  return hx.sha256 === hy.sha256;
}

async function replay(argv: readonly string[], io: CliIO): Promise<number> {
  const args = parseCommand(io, REPLAY, argv);
  if (typeof args === 'number') return args;
  const atlases = strs(args, 'atlas');
  if (atlases.length === 0) return usageError(io, REPLAY, 'missing --atlas <dir>');
  const file = args.positionals[0]!;
  let events: TraceEvent[];
  const bundles: AtlasBundle[] = [];
  let result: ReplayResult;
  try {
    events = await readTrace(file);
    for (const dir of atlases) bundles.push(...(await atlasesAt(dir)));
    result = await replayTrace(events, bundles);
  } catch (err) {
    return fail(io, 'trace replay', describeError(err));
  }
  const scope = replayScope(events, result);
  const warnings = missingAtlases(events, bundles).map(
    (id) => `the trace's resolutions used atlas ${id}, which no --atlas gives: they cannot be reproduced without it`,
  );
  for (const w of warnings) io.stderr.write(`cra trace replay: warning: ${w}\n`);
  const reproduced = result.identical;
  if (flag(args, 'json')) {
    writeJson(io, {
      reproduced,
      original_length: result.original_length,
      replayed_length: result.replayed_length,
      divergences: result.divergences,
      resolutions: scope.resolutions,
      not_rechecked: { action_decisions: scope.actionDecisions, reason: NOT_RECHECKED },
      warnings,
    });
    return reproduced ? 0 : 1;
  }
  const { recorded, reproduced: same } = scope.resolutions;
  const resolutions = recorded === 0 ? 'no resolution recorded, none re-checked' : `resolutions reproduced (${same} of ${recorded})`;
  const actions =
    scope.actionDecisions === 0
      ? 'no action decisions recorded'
      : `${scope.actionDecisions} action decision(s) not re-checked: ${NOT_RECHECKED}`;
  if (reproduced) {
    io.stdout.write(`${resolutions}; ${actions} (${result.original_length} events replayed)\n`);
    return 0;
  }
  const lines = [`NOT reproduced: ${result.divergences.length} divergence(s) (${result.original_length} events recorded, ${result.replayed_length} replayed); ${resolutions}`];
  const SHOWN = 20;
  for (const d of result.divergences.slice(0, SHOWN)) lines.push(`  ${divergence(d)}`);
  if (result.divergences.length > SHOWN) lines.push(`  … and ${result.divergences.length - SHOWN} more (--json lists them all)`);
  lines.push(actions);
  io.stdout.write(`${lines.join('\n')}\n`);
  return 1;
}

/** Why the replay copies action decisions instead of deciding them again. */
const NOT_RECHECKED = 'their parameters are recorded only as hashes';

/**
 * What the core's replay re-checked: it resolves each recorded request again (from `carp.request.received` to its
 * `carp.resolution.completed`) and copies the other events; a resolution is reproduced when no divergence falls in
 * its events. Action decisions (one per `action.requested`) are copied, never decided again.
 */
function replayScope(events: readonly TraceEvent[], result: ReplayResult): { resolutions: { recorded: number; reproduced: number }; actionDecisions: number } {
  const diverged = new Set(result.divergences.map((d) => (d as { index?: unknown }).index).filter((i): i is number => typeof i === 'number'));
  let recorded = 0;
  let reproduced = 0;
  let actionDecisions = 0;
  events.forEach((e, start) => {
    if (e.event_type === 'action.requested') actionDecisions++;
    if (e.event_type !== 'carp.request.received') return;
    recorded++;
    let end = start + 1;
    while (end < events.length && events[end]!.event_type !== 'carp.resolution.completed' && events[end]!.event_type !== 'carp.request.received') end++;
    let same = true;
    for (let i = start; i <= Math.min(end, events.length - 1); i++) if (diverged.has(i)) same = false;
    if (same) reproduced++;
  });
  return { resolutions: { recorded, reproduced }, actionDecisions };
}

/**
 * The atlases at an `--atlas` path: an atlas folder or manifest file, or a folder of atlas folders read as
 * `cra serve` reads its atlas folder. Replay needs every atlas it is given: one that does not load is an error.
 */
async function atlasesAt(path: string): Promise<AtlasBundle[]> {
  const folder = await stat(path).then((s) => s.isDirectory(), () => false);
  const manifest = folder && (await stat(join(path, 'atlas.json')).then(() => true, () => false));
  if (!folder || manifest) {
    try {
      return [await loadAtlasDir(path)];
    } catch (err) {
      throw new Error(`${path}: ${describeError(err)}`);
    }
  }
  const { bundles, report } = await readAtlases(path);
  const skipped = report.skipped[0];
  if (skipped) throw new Error(`${skipped.path}: ${skipped.code}: ${skipped.message}`);
  if (bundles.length === 0) throw new Error(`${path}: it holds no atlas.json, and none of its subfolders does`);
  return bundles;
}

/** The atlas ids the trace's resolutions name (`atlas_ids` of `carp.request.received`) that no given atlas has. */
function missingAtlases(events: readonly TraceEvent[], bundles: readonly AtlasBundle[]): string[] {
  const given = new Set(bundles.map((b) => (b.manifest as { atlas_id?: unknown }).atlas_id));
  const missing = new Set<string>();
  for (const e of events) {
    if (e.event_type !== 'carp.request.received') continue;
    const ids = (e.payload as { atlas_ids?: unknown }).atlas_ids;
    if (Array.isArray(ids)) for (const id of ids) if (typeof id === 'string' && !given.has(id)) missing.add(id);
  }
  return [...missing].sort();
}

/** One divergence of the core's replay, in a line. */
function divergence(d: unknown): string {
  const o = (d ?? {}) as { index?: number; kind?: string; event_type?: string; paths?: string[]; error?: { code?: string; message?: string } };
  const where = `event ${o.index ?? '?'} ${o.event_type ?? ''}`.trim();
  if (o.kind === 'error') return `${where}: the replay failed: ${o.error?.message ?? 'error'} [${o.error?.code ?? 'unknown'}]`;
  if (o.kind === 'added') return `${where}: only in the replay`;
  if (o.kind === 'removed') return `${where}: recorded, not replayed`;
  return `${where}: ${o.kind ?? 'changed'}${o.paths?.length ? ` in ${o.paths.join(', ')}` : ''}`;
}
