/** The `cra` command line: help, usage errors (exit 2), start failures (exit 1), and the entry as a process. */

import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  ATLAS_INIT_USAGE,
  ATLAS_USAGE,
  ATLAS_VALIDATE_USAGE,
  KEY_GENERATE_USAGE,
  KEY_USAGE,
  KEY_VERIFIER_USAGE,
  MCP_PROXY_USAGE,
  PROVE_USAGE,
  RECEIPT_USAGE,
  RECEIPT_VERIFY_USAGE,
  serveUsage,
  TRACE_DIFF_USAGE,
  TRACE_EXPORT_USAGE,
  TRACE_REPLAY_USAGE,
  TRACE_USAGE,
  USAGE,
  VERIFY_USAGE,
} from './commands.ts';
import { cli as runIn } from './testing.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const run = promisify(execFile);

/** `cra <argv>` with in-memory streams (see `testing.ts`). */
const cli = (...argv: string[]) => runIn(argv);

describe('cra', () => {
  it('--help / help print the usage (exit 0); no command prints it on stderr (exit 2)', async () => {
    for (const flag of ['--help', '-h', 'help']) expect(await cli(flag)).toEqual({ code: 0, stdout: USAGE, stderr: '' });
    expect(await cli()).toEqual({ code: 2, stdout: '', stderr: USAGE });
    expect(USAGE).toContain('mcp-proxy');
  });

  it('--version / version print the package version', async () => {
    const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v', 'version']) expect(await cli(flag)).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('an unknown command: the usage, exit 2', async () => {
    const r = await cli('serve-everything');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`cra: unknown command "serve-everything"\n\n${USAGE}`);
  });

  it('every command and subcommand: --help / -h on stdout (exit 0); its synopsis in the overview', async () => {
    const usages: Array<[string[], string]> = [
      [['serve'], await serveUsage()],
      [['verify'], VERIFY_USAGE],
      [['atlas'], ATLAS_USAGE],
      [['atlas', 'init'], ATLAS_INIT_USAGE],
      [['atlas', 'validate'], ATLAS_VALIDATE_USAGE],
      [['trace'], TRACE_USAGE],
      [['trace', 'export'], TRACE_EXPORT_USAGE],
      [['trace', 'diff'], TRACE_DIFF_USAGE],
      [['trace', 'replay'], TRACE_REPLAY_USAGE],
      [['mcp-proxy'], MCP_PROXY_USAGE],
      [['prove'], PROVE_USAGE],
      [['receipt'], RECEIPT_USAGE],
      [['receipt', 'verify'], RECEIPT_VERIFY_USAGE],
      [['key'], KEY_USAGE],
      [['key', 'generate'], KEY_GENERATE_USAGE],
      [['key', 'verifier'], KEY_VERIFIER_USAGE],
    ];
    for (const [command, usage] of usages) {
      for (const flag of ['--help', '-h']) expect([command, await cli(...command, flag)]).toEqual([command, { code: 0, stdout: usage, stderr: '' }]);
      // Help wins over a mistake beside it.
      expect((await cli(...command, '--bogus', '--help')).code).toBe(0);
      expect(usage).toMatch(new RegExp(`^Usage: cra ${command.join(' ')} `));
      expect(USAGE).toContain(`  ${command.join(' ')}`);
    }
  });

  it('a subcommand missing or unknown, an unknown option, a missing argument: the problem and the usage on stderr, exit 2', async () => {
    const cases: Array<[string[], string, string]> = [
      [['atlas'], 'cra atlas: missing the command (init or validate)', ATLAS_USAGE],
      [['atlas', 'fix'], 'cra atlas: unknown command "fix"', ATLAS_USAGE],
      [['trace'], 'cra trace: missing the command (export, diff or replay)', TRACE_USAGE],
      [['trace', 'show'], 'cra trace: unknown command "show"', TRACE_USAGE],
      [['atlas', 'validate'], 'cra atlas validate: missing <dir|file>', ATLAS_VALIDATE_USAGE],
      [['atlas', 'init', 'a', 'b'], 'cra atlas init: unexpected argument "b"', ATLAS_INIT_USAGE],
      [['trace', 'diff', 'a.jsonl'], 'cra trace diff: missing <b.jsonl>', TRACE_DIFF_USAGE],
      [['trace', 'export'], 'cra trace export: missing <session-id>', TRACE_EXPORT_USAGE],
      [['verify', 'x.jsonl', '--jsn'], "cra verify: Unknown option '--jsn'", VERIFY_USAGE],
      [['serve', '--port'], "cra serve: Option '--port <value>' argument missing", await serveUsage()],
    ];
    for (const [argv, message, usage] of cases) {
      const r = await cli(...argv);
      expect([argv, r.code, r.stdout]).toEqual([argv, 2, '']);
      expect(r.stderr.startsWith(`${message}`)).toBe(true);
      expect(r.stderr.endsWith(`\n\n${usage}`)).toBe(true);
    }
  });

  it('mcp-proxy --help; usage errors exit 2 naming the problem', async () => {
    expect(await cli('mcp-proxy', '--help')).toEqual({ code: 0, stdout: MCP_PROXY_USAGE, stderr: '' });
    const cases: Array<[string[], RegExp]> = [
      [['mcp-proxy', '--', 'node', 'server.js'], /missing --atlas/],
      [['mcp-proxy', '--atlas', 'a'], /missing the upstream command after --/],
      [['mcp-proxy', '--atlas', 'a', '--'], /missing the upstream command after --/],
      [['mcp-proxy', '--atlas', 'a', '--bogus', '--', 'x'], /Unknown option '--bogus'/],
      [['mcp-proxy', '--atlas', 'a', 'stray', '--', 'x'], /Unexpected argument 'stray'/],
      [['mcp-proxy', '--atlas', 'a', '--tool', 'nope', '--', 'x'], /--tool takes <upstream tool name>=<action id>/],
    ];
    for (const [argv, message] of cases) {
      const r = await cli(...argv);
      expect([argv, r.code, r.stdout]).toEqual([argv, 2, '']);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain(MCP_PROXY_USAGE);
    }
  });

  it('mcp-proxy: an atlas or upstream that cannot be used fails with a message (exit 1)', async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'cra-cli-'));
    try {
      const noAtlas = await cli('mcp-proxy', '--atlas', join(tmp, 'missing'), '--data', tmp, '--', process.execPath);
      expect([noAtlas.code, noAtlas.stderr]).toEqual([1, `cra mcp-proxy: no atlas at ${join(tmp, 'missing')} [atlas_not_found]\n`]);
      // An invalid atlas: the message, where in the manifest, which folder, and the code.
      const bad = join(tmp, 'bad');
      await mkdir(bad);
      const manifest = JSON.parse(await readFile(join(ROOT, 'examples/atlases/support/atlas.json'), 'utf8')) as Record<string, unknown>;
      await writeFile(join(bad, 'atlas.json'), JSON.stringify({ ...manifest, adapters: { openai: { settings: { tool_names: { 'ticket.lookup': 'read file!' } } } } }));
      const invalid = await cli('mcp-proxy', '--atlas', bad, '--data', tmp, '--', process.execPath);
      expect([invalid.code, invalid.stderr]).toEqual([
        1,
        `cra mcp-proxy: tool name \`read file!\` must match ^[a-zA-Z0-9_-]{1,64}$ (at /adapters/openai/settings/tool_names/ticket.lookup of ${bad}) [atlas_invalid]\n`,
      ]);
      const atlas = join(ROOT, 'examples/atlases/support');
      const noCommand = await cli('mcp-proxy', '--atlas', atlas, '--data', tmp, '--', join(tmp, 'no-such-mcp-server'), '--flag');
      expect(noCommand.code).toBe(1);
      expect(noCommand.stderr).toMatch(/^cra mcp-proxy: cannot start the upstream MCP server \[".*no-such-mcp-server","--flag"\]: .*ENOENT/);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it('the entry runs as a process: help on stdout, exit codes', async () => {
    const main = join(ROOT, 'sdk/src/cli/main.ts');
    const help = await run(process.execPath, ['--import', 'tsx', main, 'mcp-proxy', '--help'], { cwd: ROOT });
    expect(help.stdout).toBe(MCP_PROXY_USAGE);
    const bad = await run(process.execPath, ['--import', 'tsx', main, 'nope'], { cwd: ROOT }).catch((e: { code: number; stderr: string }) => e);
    expect([(bad as { code: number }).code, (bad as { stderr: string }).stderr]).toEqual([2, `cra: unknown command "nope"\n\n${USAGE}`]);
  });
});
