/** `cra mcp-proxy`: an MCP server on stdio that governs and traces the tools of another MCP server. */

import { parseArgs } from 'node:util';
import { CraError } from '../../errors.ts';
import type { RunningProxy } from '../../mcp/proxy.ts';
import { usageError } from '../args.ts';
import type { CliIO } from '../output.ts';

export const MCP_PROXY_USAGE = `Usage: cra mcp-proxy --atlas <dir> [options] -- <upstream command> [args...]

An MCP server on stdio (point an MCP client at it) that spawns the upstream MCP server (no shell: the command and
its arguments are passed as they are), lists only the tools this session may use, and governs and traces every
call: refusals come back as error results with the reason. One session per run, ended when stdin closes (or on
SIGINT / SIGTERM); its trace is JSONL in <data>/traces/<session>.trace.jsonl. Approval-gated tools are not listed
here and are denied if called (no one to ask on stdio): serve them through the CRA server's /v1/sessions/{id}/mcp
route instead.

Options:
  --atlas <dir>        an atlas folder (with atlas.json); repeat for several
  --data <dir>         where traces are kept (default: .data)
  --agent <id>         the session's agent id (default: mcp-proxy)
  --goal <text>        the session's goal (default: names the upstream command)
  --tool <name=action> map an upstream tool to an action explicitly; repeat for several (default: an upstream
                       tool runs the action whose MCP tool name or id is its name)
  -h, --help           this help

Relative paths are from the working directory, which an MCP client may set anywhere: prefer absolute paths in a
client's config. The upstream gets this process's environment. Logs go to stderr; stdout is the MCP channel.

Example (an MCP client's server entry):
  {"command": "npx", "args": ["cra", "mcp-proxy", "--atlas", "./atlas", "--", "npx", "some-mcp-server"]}
`;

const SPEC = { name: 'mcp-proxy', usage: MCP_PROXY_USAGE };

export async function mcpProxy(argv: readonly string[], io: CliIO): Promise<number> {
  // Everything after `--` is the upstream's, never parsed here.
  const cut = argv.indexOf('--');
  const own = cut >= 0 ? argv.slice(0, cut) : [...argv];
  const upstream = cut >= 0 ? argv.slice(cut + 1) : [];
  let values: { atlas?: string[]; data?: string; agent?: string; goal?: string; tool?: string[]; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: own,
      options: {
        atlas: { type: 'string', multiple: true },
        data: { type: 'string' },
        agent: { type: 'string' },
        goal: { type: 'string' },
        tool: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    if (own.includes('--help') || own.includes('-h')) {
      io.stdout.write(MCP_PROXY_USAGE);
      return 0;
    }
    return usageError(io, SPEC, (err as Error).message);
  }
  if (values.help) {
    io.stdout.write(MCP_PROXY_USAGE);
    return 0;
  }
  if (!values.atlas?.length) return usageError(io, SPEC, 'missing --atlas <dir>');
  if (upstream.length === 0 || upstream[0] === '') return usageError(io, SPEC, 'missing the upstream command after --');
  const tools: Record<string, string> = {};
  for (const entry of values.tool ?? []) {
    const m = /^([^=]+)=(.+)$/.exec(entry);
    if (!m) return usageError(io, SPEC, `--tool takes <upstream tool name>=<action id>, not ${JSON.stringify(entry)}`);
    tools[m[1]!] = m[2]!;
  }

  // Loaded only here: the MCP code needs the optional peer @modelcontextprotocol/sdk.
  const { startMcpProxy } = await import('../../mcp/proxy.ts');
  let proxy: RunningProxy;
  try {
    proxy = await startMcpProxy({
      atlases: values.atlas,
      dataDir: values.data,
      agentId: values.agent,
      goal: values.goal,
      upstream: { command: upstream[0]!, args: upstream.slice(1) },
      ...(Object.keys(tools).length > 0 ? { tools } : {}),
      log: (line) => io.stderr.write(`${line}\n`),
    });
  } catch (err) {
    // A CraError says where (an atlas field's JSON pointer); the atlas folders are the only atlases here.
    const detail =
      err instanceof CraError
        ? `${err.message}${err.path ? ` (at ${err.path}${err.code.startsWith('atlas') ? ` of ${values.atlas.join(', ')}` : ''})` : ''} [${err.code}]`
        : err instanceof Error
          ? err.message
          : String(err);
    io.stderr.write(`cra mcp-proxy: ${detail}\n`);
    return 1;
  }
  io.onProxy?.(proxy);
  const reason = await proxy.closed;
  return reason === 'error' ? 1 : 0;
}
