/**
 * The `cra` command line (Node): subcommands dispatched from `argv`, one file each under `commands/`. `main.ts` runs
 * it; the tests call {@link runCli} with their own streams. The usage texts are the command line's reference.
 *
 * Every command answers `--help` (stdout, exit 0) and a usage mistake with the problem and its usage (stderr,
 * exit 2); those that report take `--json` (one JSON object on stdout). Exit codes: 0 done, 1 failed or invalid,
 * 2 usage error.
 *
 * @module
 */

import { atlas } from './commands/atlas.ts';
import { key } from './commands/key.ts';
import { mcpProxy } from './commands/mcp-proxy.ts';
import { prove } from './commands/prove.ts';
import { receipt } from './commands/receipt.ts';
import { serve } from './commands/serve.ts';
import { trace } from './commands/trace.ts';
import { verify } from './commands/verify.ts';
import type { CliIO } from './output.ts';
import { packageInfo } from './package.ts';

export { ATLAS_INIT_USAGE, ATLAS_USAGE, ATLAS_VALIDATE_USAGE } from './commands/atlas.ts';
export { KEY_GENERATE_USAGE, KEY_USAGE, KEY_VERIFIER_USAGE } from './commands/key.ts';
export { MCP_PROXY_USAGE } from './commands/mcp-proxy.ts';
export { PROVE_USAGE } from './commands/prove.ts';
export { RECEIPT_USAGE, RECEIPT_VERIFY_USAGE } from './commands/receipt.ts';
export { SERVE_USAGE, serveUsage } from './commands/serve.ts';
export { TRACE_DIFF_USAGE, TRACE_EXPORT_USAGE, TRACE_REPLAY_USAGE, TRACE_USAGE } from './commands/trace.ts';
export { VERIFY_USAGE } from './commands/verify.ts';
export type { CliIO } from './output.ts';

export const USAGE = `Usage: cra <command> [options]

CRA governs an AI agent's tool calls: every call is checked against an atlas's policies and traced.

Commands:
  serve [--port <n>] [--host <h>] [--atlas <dir>] [--data <dir>]
                      the CRA server (HTTP), configured by CRA_* variables; flags override them
  atlas init [dir]    a new atlas folder from the package's example (default: atlases/support)
  atlas validate <dir|file> [--json]
                      check an atlas as the server would load it: errors and warnings with their JSON pointers
  verify <trace.jsonl> [--checkpoint <file>] [--key <verifier key | file>] [--head <hash>]
         [--json] [--progress]
                      check a trace file's hash chain, and its signed checkpoints (those beside it by default):
                      valid, or the first event or checkpoint that breaks it
  prove <trace.jsonl> <index> [--size <n>] | --first <m> [--second <n>]
                      an inclusion or consistency proof over a trace file (JSON)
  prove --verify <proof.json> [--event <file>] [--checkpoint <file> --key <verifier key | file>]
                      check a proof, and that a checkpoint signed by the key fixes its root
  receipt <trace.jsonl> <execution-id> [--checkpoint <file>] [--signing-key <signer key | file>]
                      the receipt of one execution (JSON): its events, their proofs, a signed checkpoint
  receipt verify <receipt.json> --key <verifier key | file>
                      check a receipt offline
  key generate <name> [--out <file prefix>]
                      a key pair for signing checkpoints: the signer key (secret), the verifier key (public)
  key verifier <signer key | file>
                      the verifier key of a signer key
  trace export <session-id> [--data <dir>] [--out <file>] [--json]
                      a stored session's trace (JSONL) from a data folder
  trace diff <a.jsonl> <b.jsonl> [--json]
                      where two traces part, and what differs there
  trace replay <trace.jsonl> --atlas <dir> [--json]
                      whether the core reproduces a trace's resolutions (action decisions are not re-checked)
  mcp-proxy --atlas <dir> [options] -- <upstream command> [args...]
                      an MCP server on stdio that governs and traces the tools of another MCP server
  help                this help (also: cra --help, cra <command> --help)
  version             the version of cra-runtime (also: cra --version)

Exit codes: 0 done, 1 failed or invalid, 2 usage error. --json: one JSON object on stdout, for scripts.
`;

const COMMANDS: Record<string, (argv: readonly string[], io: CliIO) => Promise<number>> = {
  serve,
  atlas,
  verify,
  prove,
  receipt,
  key,
  trace,
  'mcp-proxy': mcpProxy,
};

/** Runs `cra <argv>`; answers the exit code. */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
      io.stderr.write(USAGE);
      return 2;
    case 'help':
    case '--help':
    case '-h':
      io.stdout.write(USAGE);
      return 0;
    case 'version':
    case '--version':
    case '-v':
      io.stdout.write(`${packageInfo()?.version ?? 'unknown'}\n`);
      return 0;
  }
  const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!run) {
    io.stderr.write(`cra: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
    return 2;
  }
  return run(rest, io);
}
