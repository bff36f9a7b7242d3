/**
 * `cra serve`: the CRA server from the installed package (built JavaScript, no TypeScript loader), the same program
 * as `npm start`: `serveFromEnv` with the flags written over the `CRA_*` variables.
 *
 * @module
 */

import { parseCommand, str, usageError } from '../args.ts';
import type { CliIO } from '../output.ts';

export const SERVE_USAGE = `Usage: cra serve [--port <n>] [--host <h>] [--atlas <dir>] [--data <dir>]

The CRA server (HTTP API, OpenAPI at /openapi.json), as npm start runs it. Configured by the server's CRA_*
environment variables (CRA_API_KEYS, CRA_ADMIN_KEYS, CRA_AUTH, CRA_DURABILITY, CRA_MCP_UPSTREAM and the others);
these flags override theirs. The start report ends with the line "CRA server listening on <url>" (with
--port 0, the port chosen). SIGINT / SIGTERM stop it gracefully.

Options:
  --port <n>      TCP port, 0 for any free one (CRA_PORT; default 8420)
  --host <h>      interface to listen on (CRA_HOST; default 127.0.0.1)
  --atlas <dir>   atlases loaded at start: the folder itself if it holds atlas.json, else each subfolder that does
                  (CRA_ATLAS_DIR; default: the example atlases the package ships)
  --data <dir>    traces and session owners (CRA_DATA_DIR; default .data)
  -h, --help      this help

With auth on and no CRA_API_KEYS, a key is generated and printed once.
`;

const SPEC = {
  name: 'serve',
  usage: SERVE_USAGE,
  options: { port: { type: 'string' }, host: { type: 'string' }, atlas: { type: 'string' }, data: { type: 'string' } },
  positionals: [],
} as const;

/** The flag of each variable it overrides. */
const FLAGS = { port: 'CRA_PORT', host: 'CRA_HOST', atlas: 'CRA_ATLAS_DIR', data: 'CRA_DATA_DIR' } as const;

export async function serve(argv: readonly string[], io: CliIO): Promise<number> {
  const args = parseCommand(io, SPEC, argv);
  if (typeof args === 'number') return args;
  const port = str(args, 'port');
  if (port !== undefined && (!/^\d+$/.test(port) || Number(port) > 65_535)) return usageError(io, SPEC, `--port takes a port number from 0 to 65535, not ${JSON.stringify(port)}`);
  for (const name of ['host', 'atlas', 'data'] as const) {
    if (str(args, name) === '') return usageError(io, SPEC, `--${name} needs a value`);
  }
  const env = { ...(io.env ?? process.env) };
  for (const [name, variable] of Object.entries(FLAGS)) {
    const value = str(args, name);
    if (value !== undefined) env[variable] = value;
  }
  // The server is loaded only here: the other commands need none of it.
  const { serveFromEnv } = await import('../../../../server/src/adapter/node/main.ts');
  const { startFailure } = await import('../../../../server/src/adapter/process.ts');
  const log = (line: string) => io.stdout.write(`${line}\n`);
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
