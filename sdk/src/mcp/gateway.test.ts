/**
 * The gateway in process: an official MCP `Client` talks to `gateway.createServer()` over the SDK's in-memory
 * transport; the upstream is the fixture MCP server, spawned over stdio by an official `Client` the test connects
 * itself (the "already connected client" form of `connectUpstream`). Also the tool mapping rules.
 */

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAtlasDir } from '../atlas/dir.ts';
import { createRuntime, type EmbeddedRuntime } from '../runtime/runtime.ts';
import { verifyTrace } from '../runtime/tools.ts';
import { ToolNames } from '../tools/names.ts';
import type { AtlasManifest } from '../types.ts';
import { createGateway, type McpGateway, refusalResult } from './gateway.ts';
import { connectUpstream, mapUpstreamTools, type McpUpstream } from './upstream.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURE = join(ROOT, 'sdk/src/mcp/fixtures/upstream.ts');

type ToolResult = { content: Array<{ type: string; text?: string }>; isError?: boolean; structuredContent?: unknown };

const atlas = (actions: string[], mcpNames?: Record<string, string>) =>
  ({ actions: actions.map((action_id) => ({ action_id })), ...(mcpNames ? { adapters: { mcp: { settings: { tool_names: mcpNames } } } } : {}) }) as unknown as AtlasManifest;

describe('mapUpstreamTools', () => {
  const tools = ['ticket_lookup', 'lookup_ticket', 'refund.issue', 'customer_lookup', 'debug_dump', 'tickets'].map((name) => ({ name }));

  it('matches the MCP tool name (default or atlas-named), then the action id; unclaimed tools are dropped', () => {
    const ids = ['ticket.lookup', 'refund.issue', 'customer.lookup', 'ticket.close'];
    const plain = mapUpstreamTools(tools, ids, ToolNames.fromAtlases([atlas(ids)]));
    expect([...plain]).toEqual([
      ['ticket.lookup', 'ticket_lookup'],
      ['refund.issue', 'refund.issue'], // refund_issue is not upstream; the id is
      ['customer.lookup', 'customer_lookup'],
    ]);
    const named = mapUpstreamTools(tools, ids, ToolNames.fromAtlases([atlas(ids, { 'ticket.lookup': 'lookup_ticket' })]));
    expect(named.get('ticket.lookup')).toBe('lookup_ticket');
  });

  it('an explicit {tool: action} map wins, and its tools are not matched by name to other actions', () => {
    const ids = ['ticket.lookup', 'customer.lookup', 'ticket.search'];
    const map = mapUpstreamTools(tools, ids, ToolNames.fromAtlases([atlas(ids)]), { customer_lookup: 'ticket.lookup', tickets: 'ticket.search', missing: 'ticket.close' });
    expect([...map]).toEqual([
      ['ticket.lookup', 'customer_lookup'],
      ['ticket.search', 'tickets'],
    ]);
  });
});

describe('McpGateway', () => {
  let runtime: EmbeddedRuntime;
  let upstreamClient: Client;
  let upstream: McpUpstream;
  let gateway: McpGateway;
  let client: Client;
  const approvals: string[] = [];

  beforeAll(async () => {
    upstreamClient = new Client({ name: 'gateway-test', version: '1.0.0' });
    await upstreamClient.connect(new StdioClientTransport({ command: process.execPath, args: ['--import', 'tsx', FIXTURE], cwd: ROOT }));
    // ticket.lookup is `lookup_ticket` on MCP (atlas-named) and runs the upstream's ticket_lookup (explicit map);
    // customer.lookup runs the upstream's debug_dump (explicit map).
    upstream = await connectUpstream(upstreamClient, { tools: { ticket_lookup: 'ticket.lookup', debug_dump: 'customer.lookup' } });
    const bundle = await loadAtlasDir(join(ROOT, 'examples/atlases/support'));
    runtime = await createRuntime({ atlases: [{ ...bundle, manifest: { ...bundle.manifest, adapters: { mcp: { settings: { tool_names: { 'ticket.lookup': 'lookup_ticket' } } } } } }] });
    const session = await runtime.createSession({ agentId: 'support-bot', goal: 'Handle ticket T-10042' });
    gateway = await createGateway({
      session,
      upstream,
      approve: (execution) => {
        approvals.push(execution.action_id);
        return approvals.length === 1 ? { approved: true, approver: 'lead@example.com' } : { approved: false, reason: 'over my limit' };
      },
    });
    const [a, b] = InMemoryTransport.createLinkedPair();
    await (await gateway.createServer()).connect(a);
    client = new Client({ name: 'agent', version: '1.0.0' });
    await client.connect(b);
  }, 20_000);

  afterAll(async () => {
    await client?.close();
    await upstream?.close();
    await runtime?.close();
  });

  it('refuses an explicit mapping that names a missing upstream tool or an undeclared action', async () => {
    const session = await runtime.createSession({ agentId: 'a', goal: 'g' });
    const withMap = (tools: Record<string, string>) => connectUpstream(upstreamClient, { tools });
    await expect(createGateway({ session, upstream: await withMap({ read_file: 'ticket.lookup' }) })).rejects.toMatchObject({
      code: 'invalid_request',
      message: expect.stringMatching(/^cannot map read_file=ticket.lookup: the upstream has no tool "read_file" \(it has: .*ticket_lookup/),
      path: '/tools/read_file',
    });
    await expect(createGateway({ session, upstream: await withMap({ ticket_lookup: 'nope.action' }) })).rejects.toMatchObject({
      message: 'cannot map ticket_lookup=nope.action: no loaded atlas declares the action "nope.action"',
    });
  });

  it('routes each action to its upstream tool', () => {
    expect(Object.fromEntries(gateway.routes)).toEqual({
      'ticket.lookup': 'ticket_lookup',
      'customer.lookup': 'debug_dump',
      'ticket.reply': 'ticket_reply',
      'refund.issue': 'refund_issue',
      'customer.delete': 'customer_delete', // routed, but denied by policy: never listed, never run
    });
  });

  it('tools/list: the allowed, routed actions under their MCP names, with the announced instructions', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['lookup_ticket', 'customer_lookup', 'ticket_reply', 'refund_issue']);
    expect(tools[0]).toMatchObject({ title: 'Look up ticket', annotations: { idempotentHint: true, destructiveHint: false } });
    expect(tools[3]!.annotations).toMatchObject({ destructiveHint: true });
    expect(client.getInstructions()).toMatch(/governed by CRA/);
  });

  it('tools/call through the MCP names runs the mapped upstream tools', async () => {
    const lookup = (await client.callTool({ name: 'lookup_ticket', arguments: { ticket_id: 'T-10042' } })) as ToolResult;
    expect(lookup.structuredContent).toMatchObject({ ticket_id: 'T-10042', status: 'open' });
    const customer = (await client.callTool({ name: 'customer_lookup', arguments: { customer_id: 'C-7' } })) as ToolResult;
    expect(customer.isError).toBeFalsy();
    expect(customer.structuredContent).toHaveProperty('env'); // debug_dump's answer
    // The upstream's own name stands for the action it runs.
    const byUpstreamName = (await client.callTool({ name: 'debug_dump', arguments: { customer_id: 'C-7' } })) as ToolResult;
    expect(byUpstreamName.structuredContent).toHaveProperty('env');
    const lookups = (await gateway.session.trace()).filter((e) => e.event_type === 'action.executed').map((e) => e.payload.action_id);
    expect(lookups.slice(-2)).toEqual(['customer.lookup', 'customer.lookup']);
    // The action id names the same action (the guard's rule), governed the same way.
    const byId = (await client.callTool({ name: 'ticket.lookup', arguments: { ticket_id: 'bad' } })) as ToolResult;
    expect([byId.isError, byId.content.at(-1)!.text]).toEqual([true, expect.stringMatching(/invalid parameters/)]);
  });

  it('approval: the approve option decides; an approved call runs, a refused one is an error result', async () => {
    const args = { customer_id: 'C-7', payment_id: 'P-19', amount: 25, currency: 'USD' };
    const approved = (await client.callTool({ name: 'refund_issue', arguments: args })) as ToolResult;
    expect(approved.structuredContent).toEqual({ refund_id: 'RF-P-19', amount: 25, currency: 'USD' });
    const refused = (await client.callTool({ name: 'refund_issue', arguments: args })) as ToolResult;
    expect(refused.isError).toBe(true);
    expect(refused.content.at(-1)!.text).toMatch(/^over my limit\n/);
    expect(approvals).toEqual(['refund.issue', 'refund.issue']);
    const trace = await gateway.session.trace();
    expect(trace.find((e) => e.event_type === 'action.approved' && e.payload.action_id === 'refund.issue')!.payload.approver).toBe('lead@example.com');
  });

  it('calls under way are awaited by idle(); the trace verifies', async () => {
    const calls = [1, 2, 3].map((n) => gateway.callTool('lookup_ticket', { ticket_id: `T-1000${n}` }));
    await gateway.idle();
    for (const call of calls) expect((await call).isError).toBeFalsy();
    expect(await verifyTrace(await gateway.session.trace())).toMatchObject({ valid: true });
  });

  it('an upstream that went away: the call fails (action.failed upstream_unavailable), as an error result', async () => {
    await upstream.close();
    expect(upstream.closed).toBe(true);
    const r = await gateway.callTool('lookup_ticket', { ticket_id: 'T-10042' });
    expect(r.isError).toBe(true);
    expect(JSON.parse((r.content.at(-1) as { text: string }).text.split('\n')[1]!)).toMatchObject({ code: 'action_failed', details: { error_code: 'upstream_unavailable' } });
    const last = (await gateway.session.trace()).at(-1)!;
    expect([last.event_type, last.payload.error_code]).toEqual(['action.failed', 'upstream_unavailable']);
  });
});

describe('refusalResult', () => {
  it('is an MCP error result: the reason, then the refusal as JSON, after any upstream content', () => {
    const refusal = { code: 'policy_denied', reason: 'not today', details: { code: 'policy_denied', policy_id: 'p' } };
    expect(refusalResult(refusal)).toEqual({ content: [{ type: 'text', text: `not today\n${JSON.stringify(refusal)}` }], isError: true });
    expect(refusalResult(refusal, [{ type: 'text', text: 'upstream says no' }]).content).toHaveLength(2);
  });
});
