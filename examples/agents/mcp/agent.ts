/**
 * A scripted support agent on MCP, every tool call governed by CRA.
 *
 *   node --import tsx examples/agents/mcp/agent.ts [data folder, default .data]
 *
 * The agent is an official MCP `Client`. It does not talk to the tools' MCP server directly: it starts
 * `cra mcp-proxy` (here from the sources) over stdio, exactly as an MCP client's config entry would, and the proxy
 * spawns the upstream MCP server (the fixture `sdk/src/mcp/fixtures/upstream.ts`, tools of a support desk), loads
 * the example atlas, lists only the tools this session may use, and governs and traces every call. The "model" is a
 * script: it tries what a model might, refused calls included, and prints what it was answered.
 */
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const ATLAS = join(ROOT, 'examples/atlases/support');
const CLI = join(ROOT, 'sdk/src/cli/main.ts'); // `npx cra` once the package is installed
const UPSTREAM = join(ROOT, 'sdk/src/mcp/fixtures/upstream.ts');

/** What the scripted model tries, in order. */
export const SCRIPT: Array<{ tool: string; arguments: Record<string, unknown> }> = [
  { tool: 'ticket_lookup', arguments: { ticket_id: 'T-10042' } },
  { tool: 'ticket_lookup', arguments: { ticket: '10042' } }, // wrong argument name: refused with the schema errors
  { tool: 'ticket_reply', arguments: { ticket_id: 'T-10042', body: 'We are refunding the duplicate charge.' } },
  { tool: 'refund_issue', arguments: { customer_id: 'C-7', payment_id: 'P-19', amount: 25, currency: 'USD' } }, // needs a human: not offered on stdio, and refused
  { tool: 'customer_delete', arguments: { customer_id: 'C-7' } }, // not offered, denied by policy
];

export interface Outcome {
  tool: string;
  ok: boolean;
  /** The first line of the answer: the result, or the reason of the refusal. */
  says: string;
}

export async function runAgent(dataDir: string, log: (line: string) => void = () => undefined) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--import', 'tsx', CLI, 'mcp-proxy', '--atlas', ATLAS, '--data', dataDir, '--agent', 'support-bot', '--goal', 'Handle ticket T-10042',
      '--', process.execPath, '--import', 'tsx', UPSTREAM],
    cwd: ROOT,
    stderr: 'pipe', // the proxy's log lines (stdout is the MCP channel)
  });
  let stderr = '';
  transport.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: 'scripted-support-agent', version: '1.0.0' });
  await client.connect(transport);
  const tools = (await client.listTools()).tools.map((t) => t.name);
  log(`tools offered: ${tools.join(', ')}`);
  const outcomes: Outcome[] = [];
  for (const step of SCRIPT) {
    const result = (await client.callTool({ name: step.tool, arguments: step.arguments })) as { content: Array<{ text?: string }>; isError?: boolean };
    const outcome = { tool: step.tool, ok: result.isError !== true, says: (result.content[0]?.text ?? '').split('\n')[0]! };
    outcomes.push(outcome);
    log(`${outcome.ok ? 'ok     ' : 'refused'} ${step.tool}: ${outcome.says}`);
  }
  const exited = new Promise<void>((done) => (transport.onclose = () => done()));
  await client.close(); // the proxy sees stdin close: ends the session, syncs the trace, exits
  await exited;
  const session = /session ([0-9a-f-]{36})/.exec(stderr)?.[1];
  if (!session) throw new Error(`the proxy did not say its session:\n${stderr}`);
  return { tools, outcomes, session, traceFile: join(dataDir, 'traces', `${session}.trace.jsonl`) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { readFile } = await import('node:fs/promises');
  const { fromJsonl, verifyTrace } = await import('../../../sdk/src/index.ts');
  const { outcomes, traceFile } = await runAgent(process.argv[2] ?? '.data', (line) => console.log(line));
  const trace = await fromJsonl(await readFile(traceFile, 'utf8'));
  console.log(`${outcomes.filter((o) => o.ok).length} of ${outcomes.length} calls ran; trace ${traceFile}:`);
  console.log(trace.map((e) => e.event_type).join(' → '));
  console.log(await verifyTrace(trace));
}
