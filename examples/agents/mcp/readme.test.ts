/**
 * The README's `### MCP` blocks, run: the client config entry drives the real proxy (its arguments, with the atlas
 * and the upstream swapped for the example's), and the `npx cra serve` line plus the HTTP client block run against the
 * server started as the line says (`startChild`: the server `cra serve` runs), its upstream the fixture MCP server.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromJsonl, verifyTrace } from '../../../sdk/src/index.ts';
import { http, startChild } from '../../../server/src/testing.ts';
import { ATLAS, ROOT } from './agent.ts';

const run = promisify(execFile);
const CLI = join(ROOT, 'sdk/src/cli/main.ts');
const FIXTURE = [process.execPath, '--import', 'tsx', join(ROOT, 'sdk/src/mcp/fixtures/upstream.ts')];
const KEY = 'readme-mcp-key-0123456789';

async function mcpSection(): Promise<string> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const section = readme.split('\n### MCP\n')[1]?.split('\n## ')[0];
  if (!section) throw new Error('README.md has no "### MCP" section');
  return section;
}

const block = (section: string, lang: string) => {
  const code = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(section)?.[1];
  if (!code) throw new Error(`README.md's MCP section has no ${lang} block`);
  return code;
};

describe('README › MCP', () => {
  let section: string;
  let tmp: string;
  beforeAll(async () => {
    section = await mcpSection();
    tmp = await mkdtemp(join(tmpdir(), 'cra-mcp-readme-'));
  });
  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('the client config entry runs `cra mcp-proxy` with arguments the CLI takes', async () => {
    const config = JSON.parse(block(section, 'json')) as { mcpServers: Record<string, { command: string; args: string[] }> };
    const entry = Object.values(config.mcpServers)[0]!;
    expect(entry).toEqual({ command: 'npx', args: ['cra', 'mcp-proxy', '--atlas', './atlas', '--', 'npx', 'some-mcp-server'] });
    // `npx cra` is the CLI; ./atlas is the example atlas; the upstream after `--` is the fixture.
    const cut = entry.args.indexOf('--');
    const args = entry.args.slice(1, cut).map((a) => (a === './atlas' ? ATLAS : a));
    const data = join(tmp, 'proxy');
    const transport = new StdioClientTransport({ command: process.execPath, args: ['--import', 'tsx', CLI, ...args, '--data', data, '--', ...FIXTURE], cwd: ROOT, stderr: 'ignore' });
    const client = new Client({ name: 'readme', version: '1.0.0' });
    await client.connect(transport);
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['ticket_lookup', 'ticket_reply']);
    const closed = new Promise<void>((done) => (transport.onclose = () => done()));
    await client.close();
    await closed;
    const [file] = (await readdir(join(data, 'traces'))).filter((f) => f.endsWith('.jsonl'));
    expect(await verifyTrace(await fromJsonl(await readFile(join(data, 'traces', file!), 'utf8')))).toMatchObject({ valid: true });
  });

  it('`CRA_MCP_UPSTREAM=… npx cra serve`, then the HTTP client block: tools listed, the denied call answered with its reason', async () => {
    const line = block(section, 'sh').trim();
    const m = /^CRA_MCP_UPSTREAM='(\[.*\])' npx cra serve$/.exec(line);
    expect(m, line).not.toBeNull();
    expect(JSON.parse(m![1]!)).toEqual(['npx', 'some-mcp-server']);
    const server = await startChild({ CRA_MCP_UPSTREAM: JSON.stringify(FIXTURE), CRA_API_KEYS: KEY, CRA_DATA_DIR: join(tmp, 'server') });
    const file = join(ROOT, `.mcp-readme-${randomUUID()}.ts`);
    try {
      expect(server.output()).toContain('mcp: /v1/sessions/{id}/mcp serves the tools of');
      const session = (await http(server.url, 'POST', '/v1/sessions', { key: KEY, body: { agent_id: 'support-bot', goal: 'Handle ticket T-10042' } })).body.session_id;
      await writeFile(file, block(section, 'ts'));
      const { stdout } = await run(process.execPath, ['--import', 'tsx', file], {
        cwd: ROOT,
        timeout: 30_000,
        env: { ...process.env, CRA_URL: server.url, CRA_API_KEY: KEY, CRA_SESSION: session },
      });
      expect(stdout.trim().split('\n')).toEqual(['ticket_lookup, ticket_reply, refund_issue', 'true Customer data is deleted only by the privacy team (GDPR erasure workflow)']);
      expect((await http(server.url, 'GET', `/v1/traces/${session}/verify`, { key: KEY })).body).toMatchObject({ valid: true });
    } finally {
      await rm(file, { force: true });
      expect(await server.stop('SIGTERM')).toBe(0);
    }
  });
});
