/**
 * `cra atlas init` (a new atlas folder from the package's example) and `cra atlas validate` (an atlas as the core
 * judges it: `validateAtlas` in a runtime with nothing loaded, on what `loadAtlasDir` reads, as the server reads it).
 *
 * @module
 */

import { cp, readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { loadAtlasDir } from '../../atlas/dir.ts';
import { CraError } from '../../errors.ts';
import { createRuntime } from '../../runtime/runtime.ts';
import type { AtlasBundle, AtlasValidation, ErrorInfo } from '../../types.ts';
import { dispatch, flag, parseCommand } from '../args.ts';
import { type CliIO, describeError, fail, writeJson } from '../output.ts';
import { exampleAtlas } from '../package.ts';

export const ATLAS_USAGE = `Usage: cra atlas <init|validate> [options]

An atlas is a folder with atlas.json (actions, capabilities, policies, context packs) and the files it names.

Commands:
  init [dir]               a new atlas folder from the package's example (default: atlases/support)
  validate <dir|file>      check an atlas folder or manifest file as the server would load it

Run cra atlas <command> --help for its options.
`;

export const ATLAS_INIT_USAGE = `Usage: cra atlas init [dir] [--json]

Copies the example atlas that ships with the package (a customer-support atlas: ticket and refund actions, an
approval policy, context packs) into <dir> (default: atlases/support), to edit into your own. Refuses a folder
that exists and is not empty.

Options:
  --json          one JSON object on stdout: {created, atlas_id, version, files}
  -h, --help      this help

Next: cra atlas validate <dir>, then cra serve --atlas <dir>.
`;

export const ATLAS_VALIDATE_USAGE = `Usage: cra atlas validate <dir|file> [--json]

Validates an atlas: a folder with atlas.json (and the context files it names, read as the server reads them) or a
manifest file. Prints each error and warning with its code, message, JSON pointer and file; exit 1 on errors.

Options:
  --json          one JSON object on stdout: {valid, file, atlas_id, version, errors, warnings}, each problem as
                  {code, message, path, file}
  -h, --help      this help

Exit: 0 valid (warnings allowed), 1 invalid or unreadable, 2 usage error.
`;

const INIT = { name: 'atlas init', usage: ATLAS_INIT_USAGE, options: { json: { type: 'boolean' } }, positionals: ['dir?'] } as const;
const VALIDATE = { name: 'atlas validate', usage: ATLAS_VALIDATE_USAGE, options: { json: { type: 'boolean' } }, positionals: ['dir|file'] } as const;

export async function atlas(argv: readonly string[], io: CliIO): Promise<number> {
  return dispatch(io, { name: 'atlas', usage: ATLAS_USAGE }, { init, validate }, argv);
}

async function init(argv: readonly string[], io: CliIO): Promise<number> {
  const args = parseCommand(io, INIT, argv);
  if (typeof args === 'number') return args;
  const dir = args.positionals[0] ?? 'atlases/support';
  const example = exampleAtlas();
  if (!example) return fail(io, 'atlas init', 'the example atlas is not in this installation (examples/atlases/support)');
  try {
    if ((await stat(dir)).isDirectory() ? (await readdir(dir)).length > 0 : true) {
      return fail(io, 'atlas init', `${dir} exists and is not an empty folder: choose another (cra atlas init <dir>)`);
    }
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOENT') return fail(io, 'atlas init', `cannot use ${dir}: ${(err as Error).message}`);
  }
  try {
    await cp(example, dir, { recursive: true, errorOnExist: true, force: false });
  } catch (err) {
    return fail(io, 'atlas init', `cannot copy the example atlas to ${dir}: ${(err as Error).message}`);
  }
  const manifest = JSON.parse(await readFile(join(dir, 'atlas.json'), 'utf8')) as { atlas_id: string; version: string };
  const files = (await listFiles(dir)).map((f) => relative(dir, f).split('\\').join('/'));
  if (flag(args, 'json')) writeJson(io, { created: dir, atlas_id: manifest.atlas_id, version: manifest.version, files });
  else {
    io.stdout.write(
      `created ${dir}: the example atlas ${manifest.atlas_id}@${manifest.version} (${files.join(', ')})\n` +
        `next: edit ${join(dir, 'atlas.json')} (give it your own atlas_id), check it with cra atlas validate ${dir}, serve it with cra serve --atlas ${dir}\n`,
    );
  }
  return 0;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(path)));
    else out.push(path);
  }
  return out.sort();
}

interface Problem extends ErrorInfo {
  file: string;
}

async function validate(argv: readonly string[], io: CliIO): Promise<number> {
  const args = parseCommand(io, VALIDATE, argv);
  if (typeof args === 'number') return args;
  const target = args.positionals[0]!;
  const json = flag(args, 'json');
  let manifestFile = target;
  try {
    if ((await stat(target)).isDirectory()) manifestFile = join(target, 'atlas.json');
  } catch {
    // loadAtlasDir names what is missing
  }

  let bundle: AtlasBundle;
  let result: AtlasValidation;
  try {
    bundle = await loadAtlasDir(target);
    const runtime = await createRuntime();
    try {
      result = await runtime.validateAtlas(bundle);
    } finally {
      await runtime.close();
    }
  } catch (err) {
    // What cannot be read (no folder, broken JSON, a context file outside the folder) is the one error.
    if (!(err instanceof CraError)) return fail(io, 'atlas validate', `${target}: ${describeError(err)}`);
    const message = err.code === 'invalid_json' ? await withLineColumn(err.message, manifestFile) : err.message;
    result = { valid: false, errors: [{ code: err.code, message, path: err.path ?? null }], warnings: [] };
    bundle = { manifest: {} as AtlasBundle['manifest'], files: {} };
  }

  // Every pointer the core reports is into the manifest (a context file's problem points at its entry there).
  const at = (p: ErrorInfo): Problem => ({ ...p, file: manifestFile });
  const errors = result.errors.map(at);
  const warnings = result.warnings.map(at);
  const { atlas_id, version } = bundle.manifest as { atlas_id?: unknown; version?: unknown };
  const id = typeof atlas_id === 'string' ? atlas_id : null;
  const ver = typeof version === 'string' ? version : null;
  if (json) {
    writeJson(io, { valid: result.valid, file: manifestFile, atlas_id: id, version: ver, errors, warnings });
  } else {
    const line = (kind: string, p: Problem) => `${kind} ${p.code}: ${p.message}${p.path ? ` (at ${p.path} in ${p.file})` : ` (in ${p.file})`}\n`;
    for (const e of errors) io.stdout.write(line('error', e));
    for (const w of warnings) io.stdout.write(line('warning', w));
    const name = id ? `${id}${ver ? `@${ver}` : ''} in ` : '';
    io.stdout.write(`${result.valid ? 'valid' : 'INVALID'}: ${name}${manifestFile}: ${errors.length} error(s), ${warnings.length} warning(s)\n`);
  }
  return result.valid ? 0 : 1;
}

/**
 * A JSON parse error of `file` with the line and column of the fault (1-based) beside the character position the
 * parser gives (`…in JSON at position 6711`), or at the end of the text for one that stops early. Unchanged when the
 * message has neither, or names the line already.
 */
async function withLineColumn(message: string, file: string): Promise<string> {
  if (/\bline \d+/.test(message)) return message;
  const at = /at position (\d+)/.exec(message);
  const early = /Unexpected end of JSON input/.test(message);
  if (!at && !early) return message;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return message;
  }
  const position = at ? Math.min(Number(at[1]), text.length) : text.length;
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - (before.lastIndexOf('\n') + 1) + 1;
  return `${message} (line ${line}, column ${column})`;
}
