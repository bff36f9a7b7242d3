/**
 * `cra serve`: the CRA server from the installed package (built JavaScript, no TypeScript loader), the same program
 * as `npm start`: `serveFromEnv` with the flags written over the `CRA_*` variables. Its help lists every variable
 * from the server's own table (`describe` in `server/src/config.ts`), loaded only when this command runs.
 *
 * @module
 */

import { parseCommand, str, usageError } from '../args.ts';
import type { CliIO } from '../output.ts';

/** The first part of `cra serve --help`; the whole help adds the table of settings ({@link serveUsage}). */
export const SERVE_USAGE = `Usage: cra serve [--port <n>] [--host <h>] [--atlas <dir>] [--data <dir>]

The CRA server (HTTP API, OpenAPI at /openapi.json), as npm start runs it. Configured by the CRA_* environment
variables below; these flags override theirs. The start report ends with the line "CRA server listening on <url>"
(with --port 0, the port chosen); the line before gives the pid of the process that serves. SIGINT / SIGTERM
to that pid stop it gracefully. For a service or a background job, run node_modules/.bin/cra serve (or exec it
from a script) so that signals reach it: npx and npm exec do not pass SIGTERM on.

Options:
  --port <n>      TCP port, 0 for any free one (CRA_PORT; default 8420)
  --host <h>      interface to listen on (CRA_HOST; default 127.0.0.1)
  --atlas <dir>   atlases loaded at start: the folder itself if it holds atlas.json, else each subfolder that does
                  (CRA_ATLAS_DIR; default: the example atlases the package ships). A folder named here from which
                  no atlas loads (missing, empty, every atlas invalid) stops the start
  --data <dir>    traces and session owners (CRA_DATA_DIR; default .data)
  -h, --help      this help

With auth on and no CRA_API_KEYS, a key is generated and printed once.
`;

/** `cra serve --help`: {@link SERVE_USAGE} and every variable of the server's configuration, its default and meaning. */
export async function serveUsage(): Promise<string> {
  const { describe } = await import('../../../../server/src/config.ts');
  const settings = describe();
  const width = Math.max(...settings.map((s) => s.name.length));
  const lines = ['', 'Settings (environment variables; default in brackets):'];
  for (const s of settings) {
    lines.push(`  ${s.name.padEnd(width)}  [${s.default}]`);
    lines.push(...wrap(s.meaning, 116, ' '.repeat(6)));
  }
  return `${SERVE_USAGE}${lines.join('\n')}\n`;
}

/** `text` in lines of at most `width` characters (a longer word keeps its own line), each after `indent`. */
function wrap(text: string, width: number, indent: string): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && indent.length + line.length + 1 + word.length > width) {
      out.push(indent + line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') out.push(indent + line);
  return out;
}

const SPEC = {
  name: 'serve',
  usage: SERVE_USAGE,
  options: { port: { type: 'string' }, host: { type: 'string' }, atlas: { type: 'string' }, data: { type: 'string' } },
  positionals: [],
} as const;

/** The flag of each variable it overrides. */
const FLAGS = { port: 'CRA_PORT', host: 'CRA_HOST', atlas: 'CRA_ATLAS_DIR', data: 'CRA_DATA_DIR' } as const;

export async function serve(argv: readonly string[], io: CliIO): Promise<number> {
  const spec = { ...SPEC, usage: await serveUsage() };
  const args = parseCommand(io, spec, argv);
  if (typeof args === 'number') return args;
  const port = str(args, 'port');
  if (port !== undefined && (!/^\d+$/.test(port) || Number(port) > 65_535)) return usageError(io, spec, `--port takes a port number from 0 to 65535, not ${JSON.stringify(port)}`);
  for (const name of ['host', 'atlas', 'data'] as const) {
    if (str(args, name) === '') return usageError(io, spec, `--${name} needs a value`);
  }
  const env = { ...(io.env ?? process.env) };
  for (const [name, variable] of Object.entries(FLAGS)) {
    const value = str(args, name);
    if (value !== undefined) env[variable] = value;
  }
  // The server is loaded only here: the other commands need none of it.
  const { serveFromEnv } = await import('../../../../server/src/adapter/node/main.ts');
  const { startFailure } = await import('../../../../server/src/adapter/process.ts');
  const write = (line: string) => io.stdout.write(`${line}\n`);
  // The pid goes just before the report's last line: `npx cra serve &` gives the pid of npx, which does not pass
  // SIGTERM on; this is the process to signal.
  const log = (line: string) => {
    if (line.startsWith('CRA server listening on ')) write(`  pid: ${process.pid} (SIGTERM or SIGINT to this pid stops it gracefully)`);
    write(line);
  };
  let serving: Awaited<ReturnType<typeof serveFromEnv>>;
  try {
    // `npm start` runs this command too; the report's hints name the command the operator typed.
    const command = env.npm_lifecycle_event === 'start' ? 'npm start' : 'npx cra serve';
    serving = await serveFromEnv(env, { log, command });
  } catch (err) {
    io.stderr.write(`${startFailure(err)}\n`);
    return 1;
  }
  io.onServer?.(serving);
  await serving.closed;
  return 0;
}
