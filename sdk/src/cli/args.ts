/**
 * Reading a command's arguments: `node:util` `parseArgs` (strict: an unknown option is a usage error), `--help`
 * answered before anything else, and the number of positionals checked, so that every command answers a mistake the
 * same way: the problem and the command's usage on stderr, exit 2.
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { CliIO } from './output.ts';

export type Options = NonNullable<ParseArgsConfig['options']>;

export interface CommandSpec<O extends Options> {
  /** `atlas validate`: as it appears after `cra` in messages. */
  name: string;
  usage: string;
  options: O;
  /** Names of the positionals, in order; those ending in `?` are optional. */
  positionals?: readonly string[];
}

export interface Parsed {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

/** The parsed arguments, or the exit code when the command is already answered (`--help`: 0, a usage error: 2). */
export function parseCommand<O extends Options>(io: CliIO, spec: CommandSpec<O>, argv: readonly string[]): Parsed | number {
  const options: Options = { ...spec.options, help: { type: 'boolean', short: 'h' } };
  let parsed: Parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true }) as Parsed;
  } catch (err) {
    // Help is answered even beside a mistake: `cra verify --bogus --help` shows what is accepted.
    if (argv.includes('--help') || argv.includes('-h')) return help(io, spec);
    return usageError(io, spec, (err as Error).message);
  }
  if (parsed.values.help) return help(io, spec);
  const names = spec.positionals ?? [];
  const required = names.filter((n) => !n.endsWith('?'));
  if (parsed.positionals.length < required.length) return usageError(io, spec, `missing <${required[parsed.positionals.length]}>`);
  if (parsed.positionals.length > names.length) return usageError(io, spec, `unexpected argument ${JSON.stringify(parsed.positionals[names.length])}`);
  return parsed;
}

function help(io: CliIO, spec: { usage: string }): number {
  io.stdout.write(spec.usage);
  return 0;
}

/** The problem and the usage of the command, on stderr; exit 2. */
export function usageError(io: CliIO, spec: { name: string; usage: string }, message: string): number {
  io.stderr.write(`cra ${spec.name}: ${message}\n\n${spec.usage}`);
  return 2;
}

/** The subcommands of a command (`cra atlas init|validate`): each runs on the arguments after its name. */
export type Subcommands = Readonly<Record<string, (argv: readonly string[], io: CliIO) => Promise<number>>>;

/**
 * Runs the subcommand `argv` names. The command's own usage answers `help`, and `--help` / `-h` without a known
 * subcommand; no subcommand, or an unknown one, is a usage error.
 */
export function dispatch(io: CliIO, spec: { name: string; usage: string }, commands: Subcommands, argv: readonly string[]): Promise<number> | number {
  const [sub, ...rest] = argv;
  const run = sub !== undefined && Object.hasOwn(commands, sub) ? commands[sub] : undefined;
  if (run) return run(rest, io);
  if (sub === 'help' || argv.includes('--help') || argv.includes('-h')) return help(io, spec);
  if (sub === undefined) {
    const names = Object.keys(commands);
    const list = names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : names[0];
    return usageError(io, spec, `missing the command (${list})`);
  }
  return usageError(io, spec, `unknown command ${JSON.stringify(sub)}`);
}

/** A string option (`parseArgs` typed them loosely). */
export function str(parsed: Parsed, name: string): string | undefined {
  const v = parsed.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A repeatable string option. */
export function strs(parsed: Parsed, name: string): string[] {
  const v = parsed.values[name];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export function flag(parsed: Parsed, name: string): boolean {
  return parsed.values[name] === true;
}
