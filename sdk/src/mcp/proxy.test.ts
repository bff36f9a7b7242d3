/**
 * `cra mcp-proxy` end to end, no mocks: the official MCP `Client` spawns the CLI from the sources over stdio, which
 * spawns the fixture upstream (`fixtures/upstream.ts`) over stdio; then the JSONL trace it left under `--data` is
 * read back and verified.
 */

import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromJsonl, verifyTrace } from '../index.ts';
import type { TraceEvent } from '../types.ts';
import { NO_APPROVER } from './proxy.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(ROOT, 'sdk/src/cli/main.ts');
const FIXTURE = join(ROOT, 'sdk/src/mcp/fixtures/upstream.ts');
const ATLAS = join(ROOT, 'examples/atlases/support');

type ToolResult = { content: Array<{ type: string; text?: string }>; isError?: boolean; structuredContent?: unknown };
const text = (r: ToolResult) => r.content.map((c) => c.text ?? '').join('\n');

/** Spawns `cra mcp-proxy <args> -- <fixture>` from the sources through the official stdio client. */
async function startProxy(args: string[], calls: string) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--import', 'tsx', CLI, 'mcp-proxy', ...args, '--', process.execPath, '--import', 'tsx', FIXTURE, '--log', calls],
    cwd: ROOT,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((done) => {
    transport.onclose = () => done();
  });
  const client = new Client({ name: 'proxy-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport, exited, stderr: () => stderr };
}

async function readTrace(data: string): Promise<TraceEvent[]> {
  const files = (await readdir(join(data, 'traces'))).filter((f) => f.endsWith('.trace.jsonl'));
  expect(files).toHaveLength(1);
  return fromJsonl(await readFile(join(data, 'traces', files[0]!), 'utf8'));
}

describe('cra mcp-proxy (stdio)', () => {
  let tmp: string;
  let data: string;
  let calls: string;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  const upstreamCalls = async () => (await readFile(calls, 'utf8').catch(() => '')).split('\n').filter(Boolean).map((l) => JSON.parse(l).name as string);

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'cra-mcp-proxy-'));
    data = join(tmp, 'data');
    calls = join(tmp, 'calls.jsonl');
    proxy = await startProxy(['--atlas', ATLAS, '--data', data, '--agent', 'support-bot', '--goal', 'Handle ticket T-10042'], calls);
  }, 20_000);

  afterAll(async () => {
    await proxy?.client.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('lists only the tools that can run: no denied action, no tool without an action, nothing that needs a human', async () => {
    const { tools } = await proxy.client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['ticket_lookup', 'ticket_reply']);
    expect(tools[0]!.inputSchema).toMatchObject({ type: 'object', required: ['ticket_id'] });
  });

  it('a good call returns the upstream result', async () => {
    const r = (await proxy.client.callTool({ name: 'ticket_lookup', arguments: { ticket_id: 'T-10042' } })) as ToolResult;
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ ticket_id: 'T-10042', status: 'open' });
    expect(JSON.parse(r.content[0]!.text!)).toMatchObject({ ticket_id: 'T-10042' });
  });

  it('a schema-invalid call is an error result saying what is wrong', async () => {
    const r = (await proxy.client.callTool({ name: 'ticket_lookup', arguments: { ticket_id: 42, extra: true } })) as ToolResult;
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/invalid parameters/);
    const refusal = JSON.parse(text(r).split('\n')[1]!) as { code: string; reason: string; details: { errors?: Array<{ path: string }> } | null };
    if (refusal.details?.errors) expect(refusal.details.errors.map((e) => e.path).sort()).toEqual(['/extra', '/ticket_id']);
  });

  it('a denied action is an error result with the policy reason', async () => {
    const r = (await proxy.client.callTool({ name: 'customer_delete', arguments: { customer_id: 'C-7' } })) as ToolResult;
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/^Customer data is deleted only by the privacy team/);
  });

  it('the approval-gated refund, called anyway, is refused: no approver on stdio', async () => {
    const r = (await proxy.client.callTool({ name: 'refund_issue', arguments: { customer_id: 'C-7', payment_id: 'P-19', amount: 25, currency: 'USD' } })) as ToolResult;
    expect(r.isError).toBe(true);
    expect(text(r).split('\n')[0]).toBe(NO_APPROVER);
  });

  it('an upstream tool with no action is not callable either', async () => {
    const r = (await proxy.client.callTool({ name: 'debug_dump', arguments: {} })) as ToolResult;
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/unknown action/);
  });

  it('only allowed, approved calls reached the upstream', async () => {
    expect(await upstreamCalls()).toEqual(['ticket_lookup']);
  });

  it('on close: the session ends, the JSONL trace under --data verifies; logs went to stderr', async () => {
    await proxy.client.close();
    await proxy.exited;
    const trace = await readTrace(data);
    expect(await verifyTrace(trace)).toMatchObject({ valid: true, length: trace.length });
    expect(trace[0]!.payload).toMatchObject({ agent_id: 'support-bot', goal: 'Handle ticket T-10042' });
    const actions = trace.filter((e) => e.event_type.startsWith('action.') || e.event_type === 'policy.violated').map((e) => `${e.event_type} ${e.payload.action_id}`);
    expect(actions).toEqual([
      'action.requested ticket.lookup',
      'action.approved ticket.lookup',
      'action.executed ticket.lookup',
      'action.requested ticket.lookup',
      'policy.violated ticket.lookup',
      'action.requested customer.delete',
      'action.denied customer.delete',
      'action.requested refund.issue',
      'action.denied refund.issue',
      'action.requested debug.dump',
      'action.denied debug.dump',
    ]);
    expect([trace.at(-1)!.event_type, trace.at(-1)!.payload.reason]).toEqual(['session.ended', 'completed']);
    expect(proxy.stderr()).toContain(`session ${trace[0]!.session_id}`);
  });
});

describe('cra mcp-proxy shutdown', () => {
  it('SIGTERM ends the session (cancelled) and syncs the trace', async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'cra-mcp-proxy-'));
    try {
      const data = join(tmp, 'data');
      const proxy = await startProxy(['--atlas', ATLAS, '--data', data], join(tmp, 'calls.jsonl'));
      await proxy.client.callTool({ name: 'ticket_lookup', arguments: { ticket_id: 'T-10042' } });
      process.kill(proxy.transport.pid!, 'SIGTERM');
      await proxy.exited;
      const trace = await readTrace(data);
      expect(await verifyTrace(trace)).toMatchObject({ valid: true });
      expect(trace[0]!.payload).toMatchObject({ agent_id: 'mcp-proxy' });
      expect([trace.at(-1)!.event_type, trace.at(-1)!.payload.reason]).toEqual(['session.ended', 'cancelled']);
      await proxy.client.close();
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
