/**
 * `POST /v1/sessions/:id/mcp` end to end, no mocks: the official MCP `Client` over Streamable HTTP to a real server
 * on loopback, whose upstream is the fixture MCP server (`sdk/src/mcp/fixtures/upstream.ts`) spawned over stdio.
 */

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAtlasDir } from '../../../sdk/src/atlas/dir.ts';
import { connectUpstream, type McpUpstream } from '../../../sdk/src/mcp/upstream.ts';
import { canonicalHash } from '../../../sdk/src/runtime/tools.ts';
import type { TraceEvent } from '../../../sdk/src/types.ts';
import { parseConfig } from '../config.ts';
import { http, KEY_A, KEY_B, ROOT, startTestServer, type TestServer } from '../testing.ts';

const FIXTURE = join(ROOT, 'sdk/src/mcp/fixtures/upstream.ts');
const ATLAS = join(ROOT, 'examples/atlases/support');
const REFUND = { customer_id: 'C-7', payment_id: 'P-19', amount: 25, currency: 'USD' };

type ToolResult = { content: Array<{ type: string; text?: string }>; isError?: boolean; structuredContent?: unknown };

async function connect(url: string, sessionId: string, key: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/v1/sessions/${sessionId}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${key}` } },
  });
  const client = new Client({ name: 'mcp-route-test', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

const text = (r: ToolResult) => r.content.map((c) => c.text ?? '').join('\n');

describe('POST /v1/sessions/:id/mcp', () => {
  let s: TestServer;
  let upstream: McpUpstream;
  let tmp: string;
  let calls: string;
  let session: string;
  let client: Client;

  /** Upstream calls so far (the fixture logs each one it receives). */
  const upstreamCalls = async () =>
    (await readFile(calls, 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { name: string; arguments: Record<string, unknown> });

  const trace = async (): Promise<TraceEvent[]> => (await http(s.url, 'GET', `/v1/traces/${session}`, { key: KEY_A })).body;

  /** The refund.issue execution waiting for a human: polled from the trace, as an approver's UI would. */
  async function pendingRefund(): Promise<{ execution_id: string; approval_hash: string }> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const events = await trace();
      const decided = new Set(events.filter((e) => e.event_type === 'action.approved' || e.event_type === 'action.denied').map((e) => e.payload.execution_id));
      const requested = events.find((e) => e.event_type === 'action.requested' && e.payload.action_id === 'refund.issue' && !decided.has(e.payload.execution_id));
      if (requested) {
        const p = requested.payload;
        // The protocol's approval hash (docs/protocol.md): SHA-256 of the canonical {action_id, parameters_hash, resolution_id, session_id}.
        const { sha256 } = await canonicalHash({ action_id: p.action_id, parameters_hash: p.parameters_hash, resolution_id: p.resolution_id, session_id: session });
        return { execution_id: p.execution_id as string, approval_hash: sha256 };
      }
      if (Date.now() > deadline) throw new Error('no pending refund in the trace');
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'cra-mcp-route-'));
    calls = join(tmp, 'calls.jsonl');
    upstream = await connectUpstream({ command: process.execPath, args: ['--import', 'tsx', FIXTURE, '--log', calls], cwd: ROOT });
    s = await startTestServer({ app: { mcp: { upstream, approvalTimeoutMs: 1500 } } });
    await s.runtime.loadAtlas(await loadAtlasDir(ATLAS));
    const created = await http(s.url, 'POST', '/v1/sessions', { key: KEY_A, body: { agent_id: 'support-bot', goal: 'Handle ticket T-10042' } });
    expect(created.status).toBe(201);
    session = created.body.session_id;
    client = await connect(s.url, session, KEY_A);
  }, 20_000);

  afterAll(async () => {
    await client?.close();
    await s?.close();
    await upstream?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('lists only the allowed actions that the upstream has a tool for, with the atlas schemas', async () => {
    const { tools } = await client.listTools();
    // customer.delete is denied by policy; debug_dump has no action; customer.lookup and ticket.close have no upstream tool.
    expect(tools.map((t) => t.name)).toEqual(['ticket_lookup', 'ticket_reply', 'refund_issue']);
    const lookup = tools.find((t) => t.name === 'ticket_lookup')!;
    expect(lookup.inputSchema).toMatchObject({ type: 'object', required: ['ticket_id'], additionalProperties: false });
    expect(tools.find((t) => t.name === 'refund_issue')!.description).toMatch(/human approves/);
    expect(client.getServerVersion()?.name).toBe('cra-mcp-gateway');
  });

  it('a call runs the upstream tool and answers its result; the outcome is traced', async () => {
    const r = (await client.callTool({ name: 'ticket_lookup', arguments: { ticket_id: 'T-10042' } })) as ToolResult;
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toEqual({ ticket_id: 'T-10042', status: 'open', subject: 'Charged twice for order #4411', customer_id: 'C-7' });
    expect(await upstreamCalls()).toContainEqual({ name: 'ticket_lookup', arguments: { ticket_id: 'T-10042' } });
    const types = (await trace()).map((e) => e.event_type);
    expect(types.slice(-3)).toEqual(['action.requested', 'action.approved', 'action.executed']);
  });

  it('refusals are error results with the reason; the upstream never sees them', async () => {
    const before = (await upstreamCalls()).length;
    const invalid = (await client.callTool({ name: 'ticket_lookup', arguments: { ticket_id: 'nope' } })) as ToolResult;
    expect(invalid.isError).toBe(true);
    expect(text(invalid)).toMatch(/invalid parameters/);
    const denied = (await client.callTool({ name: 'customer_delete', arguments: { customer_id: 'C-7' } })) as ToolResult;
    expect(denied.isError).toBe(true);
    expect(text(denied)).toMatch(/privacy team/);
    const refusal = JSON.parse(text(denied).split('\n')[1]!) as { code: string; reason: string; details: { code?: string } | null };
    expect(refusal.reason).toMatch(/privacy team/);
    if (refusal.details?.code) expect(refusal.code).toBe(refusal.details.code);
    expect((await upstreamCalls()).length).toBe(before);
  });

  it("an upstream error result is an error result carrying the upstream's content, traced as action.failed", async () => {
    const r = (await client.callTool({ name: 'ticket_reply', arguments: { ticket_id: 'T-10042', body: 'fail' } })) as ToolResult;
    expect(r.isError).toBe(true);
    expect(r.content[0]).toEqual({ type: 'text', text: 'mail relay unavailable' });
    expect(JSON.parse(r.content[1]!.text!.split('\n')[1]!)).toMatchObject({ code: 'action_failed', details: { error_code: 'upstream_error' } });
    const failed = (await trace()).at(-1)!;
    expect([failed.event_type, failed.payload.error_code]).toEqual(['action.failed', 'upstream_error']);
  });

  it('an approval-gated call waits until POST …/approve (with the approval hash), then runs', async () => {
    const call = client.callTool({ name: 'refund_issue', arguments: REFUND }) as Promise<ToolResult>;
    const pending = await pendingRefund();
    expect((await upstreamCalls()).some((c) => c.name === 'refund_issue')).toBe(false);
    const approved = await http(s.url, 'POST', `/v1/sessions/${session}/actions/${pending.execution_id}/approve`, {
      key: KEY_A,
      body: { approver: 'lead@example.com', approval_hash: pending.approval_hash },
    });
    expect([approved.status, approved.body.status]).toEqual([200, 'approved']);
    const r = await call;
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toEqual({ refund_id: 'RF-P-19', amount: 25, currency: 'USD' });
    const events = (await trace()).filter((e) => e.payload.execution_id === pending.execution_id);
    expect(events.map((e) => e.event_type)).toEqual(['action.requested', 'action.approved', 'action.executed']);
    expect(events[1]!.payload.approver).toBe('lead@example.com');
  });

  it('… and POST …/deny refuses it, with the reason given', async () => {
    const call = client.callTool({ name: 'refund_issue', arguments: REFUND }) as Promise<ToolResult>;
    const pending = await pendingRefund();
    const denied = await http(s.url, 'POST', `/v1/sessions/${session}/actions/${pending.execution_id}/deny`, { key: KEY_A, body: { reason: 'duplicate request' } });
    expect([denied.status, denied.body.status]).toEqual([200, 'denied']);
    const r = await call;
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/duplicate request/);
    // The guard got the deny route's own answer (not a copy rebuilt from the event): same refusal code.
    const refusal = JSON.parse(text(r).split('\n')[1]!) as { code: string };
    expect(refusal.code).toBe(denied.body.details?.code ?? 'denied');
    expect((await upstreamCalls()).filter((c) => c.name === 'refund_issue')).toHaveLength(1);
  });

  it('a decision taken outside the HTTP routes (embedded, on the same runtime) releases the call too', async () => {
    const call = client.callTool({ name: 'refund_issue', arguments: { ...REFUND, amount: 30 } }) as Promise<ToolResult>;
    const pending = await pendingRefund();
    await (await s.runtime.getSession(session)).approve(pending.execution_id, { approver: 'ops', approvalHash: pending.approval_hash });
    const r = await call;
    expect(r.structuredContent).toEqual({ refund_id: 'RF-P-19', amount: 30, currency: 'USD' });
  });

  it('an approval nobody gives is denied after approvalTimeoutMs', async () => {
    const t0 = Date.now();
    const r = (await client.callTool({ name: 'refund_issue', arguments: REFUND })) as ToolResult;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1400);
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/approval timed out/);
    const last = (await trace()).at(-1)!;
    expect([last.event_type, last.payload.reason]).toEqual(['action.denied', 'approval timed out after 2 s']);
  });

  it('has the auth and ownership of every session route: another key 404, no key 401; GET and DELETE 405', async () => {
    const body = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} };
    const headers = { accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };
    const other = await http(s.url, 'POST', `/v1/sessions/${session}/mcp`, { key: KEY_B, body, headers });
    expect([other.status, other.body.error.code]).toEqual([404, 'session_not_found']);
    const none = await http(s.url, 'POST', `/v1/sessions/${session}/mcp`, { body, headers });
    expect([none.status, none.body.error.code]).toEqual([401, 'unauthorized']);
    await expect(connect(s.url, session, KEY_B)).rejects.toThrow();
    const mine = await http(s.url, 'POST', `/v1/sessions/${session}/mcp`, { key: KEY_A, body, headers });
    expect(mine.status).toBe(200);
    expect(mine.body.result.tools.map((t: { name: string }) => t.name)).toEqual(['ticket_lookup', 'ticket_reply', 'refund_issue']);
    for (const method of ['GET', 'DELETE']) {
      const r = await http(s.url, method, `/v1/sessions/${session}/mcp`, { key: KEY_A, headers: { accept: 'text/event-stream' } });
      expect([method, r.status, r.body.error.code, r.headers.get('allow')]).toEqual([method, 405, 'method_not_allowed', 'POST']);
    }
  });

  it("the session's trace verifies, and every MCP call is in it", async () => {
    const verdict = await http(s.url, 'GET', `/v1/traces/${session}/verify`, { key: KEY_A });
    expect(verdict.body).toMatchObject({ valid: true });
    const requested = (await trace()).filter((e) => e.event_type === 'action.requested').map((e) => e.payload.action_id);
    expect(requested).toEqual(['ticket.lookup', 'ticket.lookup', 'customer.delete', 'ticket.reply', 'refund.issue', 'refund.issue', 'refund.issue', 'refund.issue']);
  });
});

describe('the MCP route without an upstream', () => {
  it('answers 501 mcp_not_configured (after auth and ownership)', async () => {
    const s = await startTestServer();
    try {
      const id = (await http(s.url, 'POST', '/v1/sessions', { key: KEY_A, body: { agent_id: 'a', goal: 'g' } })).body.session_id;
      const body = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
      const r = await http(s.url, 'POST', `/v1/sessions/${id}/mcp`, { key: KEY_A, body });
      expect([r.status, r.body.error.code]).toEqual([501, 'mcp_not_configured']);
      expect((await http(s.url, 'POST', `/v1/sessions/${id}/mcp`, { key: KEY_B, body })).status).toBe(404);
    } finally {
      await s.close();
    }
  });
});

describe('CRA_MCP_UPSTREAM', () => {
  it('is a JSON array, or words split on whitespace; with the approval timeout', () => {
    expect(parseConfig({}).mcp).toBeUndefined();
    expect(parseConfig({ CRA_MCP_UPSTREAM: '["npx", "some server"]' }).mcp).toEqual({ command: ['npx', 'some server'], approvalTimeoutSeconds: 300 });
    expect(parseConfig({ CRA_MCP_UPSTREAM: ' node  server.js --flag ', CRA_MCP_APPROVAL_TIMEOUT_SECONDS: '30' }).mcp).toEqual({
      command: ['node', 'server.js', '--flag'],
      approvalTimeoutSeconds: 30,
    });
    for (const bad of ['[]', '[1]', '["a"', '[""]']) {
      expect(() => parseConfig({ CRA_MCP_UPSTREAM: bad })).toThrow(expect.objectContaining({ code: 'invalid_request', path: '/CRA_MCP_UPSTREAM' }));
    }
  });
});
