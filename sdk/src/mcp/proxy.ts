/**
 * The stdio MCP proxy (Node): an MCP server on stdin/stdout that spawns an upstream MCP server (no shell), and
 * governs and traces every call to it with an embedded runtime — `cra mcp-proxy` is this, from the command line.
 *
 * One session per run: the atlases of `atlases` are loaded, the session is created at start, the tool list is the
 * session's allowed actions that the upstream has a tool for, and the trace is kept as JSONL under
 * `<dataDir>/traces/<session>.trace.jsonl` (synced on close). The session ends (`completed`) when the client
 * closes stdin, and `cancelled` on {@link RunningProxy.close} with that reason (SIGINT / SIGTERM in the CLI), or
 * `error` when the upstream goes away; then the upstream is stopped and the store synced and closed.
 *
 * Approval: a stdio proxy has no one to ask, so approval-gated calls are denied (traced as `action.denied`) with
 * {@link NO_APPROVER}. Serve such tools through the CRA server's `/v1/sessions/{id}/mcp` route, where a human
 * approves with `POST …/actions/{execution_id}/approve`.
 *
 * Logs go to `log` (default: stderr); stdout is the MCP channel.
 *
 * @module
 */

import { join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { loadAtlasDir } from '../atlas/dir.ts';
import type { CraSession } from '../interface.ts';
import { createRuntime, type EmbeddedRuntime } from '../runtime/runtime.ts';
import { jsonlStore } from '../storage/jsonl.ts';
import type { EndReason } from '../types.ts';
import { McpGateway } from './gateway.ts';
import { stdioServerSdk } from './sdk.ts';
import { connectUpstream, type McpUpstream, type StdioUpstream } from './upstream.ts';

/** Why approval-gated calls are denied by the stdio proxy. */
export const NO_APPROVER =
  'approval required, and the stdio MCP proxy has no approver: approval-gated actions are denied here ' +
  '(serve them through the CRA server route /v1/sessions/{id}/mcp, where a human approves)';

const IDLE_GRACE_MS = 10_000;

/** What {@link startMcpProxy} serves: atlas folders and an upstream to spawn are required, the rest has defaults. */
export interface McpProxyOptions {
  /** Atlas folders (each holds `atlas.json`), loaded in order. */
  atlases: string[];
  /** Where traces are kept (`<dataDir>/traces`); default `.data`. Relative paths are from the working directory. */
  dataDir?: string;
  /** The session's agent id. Default `mcp-proxy`. */
  agentId?: string;
  /** The session's goal. Default: names the upstream command. */
  goal?: string;
  /** The upstream MCP server to spawn (no shell). Its environment defaults to this process's. */
  upstream: StdioUpstream;
  /** Explicit `{upstreamToolName: actionId}` mapping. */
  tools?: Record<string, string>;
  /** Where MCP messages from the client arrive. Default `process.stdin`. */
  stdin?: Readable;
  /** Where MCP messages to the client go; nothing else is written there. Default `process.stdout`. */
  stdout?: Writable;
  /** One line per message (default: to stderr). */
  log?: (line: string) => void;
}

/** A proxy serving on stdio: its parts, for inspection, and how to stop it. */
export interface RunningProxy {
  /** The embedded runtime, with its JSONL store under `<dataDir>/traces`. */
  runtime: EmbeddedRuntime;
  /** The run's one session. */
  session: CraSession;
  /** The gateway serving the session's tools. */
  gateway: McpGateway;
  /** The spawned upstream MCP server. */
  upstream: McpUpstream;
  /** Resolves once the proxy closed (whatever closed it), with the reason the session ended with. */
  closed: Promise<EndReason>;
  /** Ends the session with `reason` (default `cancelled`), stops the upstream, syncs and closes the store. */
  close(reason?: EndReason): Promise<EndReason>;
}

/** Starts the proxy; answers once it serves on stdio. */
export async function startMcpProxy(options: McpProxyOptions): Promise<RunningProxy> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const bundles = [];
  for (const dir of options.atlases) bundles.push(await loadAtlasDir(resolve(dir)));
  const dataDir = resolve(options.dataDir ?? '.data');
  const runtime = await createRuntime({ storage: jsonlStore({ dir: join(dataDir, 'traces') }), atlases: bundles, onCorruptTrace: 'skip' });
  for (const issue of runtime.storageIssues) log(`cra mcp-proxy: damaged trace left out: ${issue.location ?? issue.session_id}: ${issue.kind}: ${issue.message}`);

  let upstream: McpUpstream;
  try {
    upstream = await connectUpstream(
      { env: process.env as Record<string, string>, stderr: 'inherit', ...options.upstream },
      options.tools ? { tools: options.tools } : {},
    );
  } catch (err) {
    await runtime.close().catch(() => undefined);
    throw err;
  }

  let session: CraSession;
  let gateway: McpGateway;
  try {
    const command = [options.upstream.command, ...(options.upstream.args ?? [])].join(' ');
    session = await runtime.createSession({ agentId: options.agentId ?? 'mcp-proxy', goal: options.goal ?? `Use the tools of the MCP server: ${command}`.slice(0, 1000) });
    gateway = await McpGateway.create({ session, upstream, noApproverReason: NO_APPROVER });
  } catch (err) {
    await upstream.close().catch(() => undefined);
    await runtime.close().catch(() => undefined);
    throw err;
  }
  const governed = [...gateway.routes].map(([action, tool]) => `${tool}→${action}`).join(', ');
  const routed = new Set(gateway.routes.values());
  const leftOut = (await upstream.listTools()).map((t) => t.name).filter((name) => !routed.has(name));
  log(
    `cra mcp-proxy: session ${session.id}, traces in ${join(dataDir, 'traces')}; upstream tools governed: ${governed || 'none'}` +
      (leftOut.length > 0 ? `; not exposed (no action runs them): ${leftOut.join(', ')}` : ''),
  );

  const { StdioServerTransport } = await stdioServerSdk();
  const stdin = options.stdin ?? process.stdin;
  const server = await gateway.createServer();
  const transport = new StdioServerTransport(stdin, options.stdout ?? process.stdout);

  let finish!: (reason: EndReason) => void;
  const closed = new Promise<EndReason>((done) => (finish = done));
  let closing: Promise<EndReason> | undefined;
  const close = (reason: EndReason = 'cancelled'): Promise<EndReason> => {
    closing ??= (async () => {
      stdin.off('end', onEnd);
      stdin.off('close', onEnd);
      const errors: unknown[] = [];
      // Calls under way finish (and are traced) before the session ends; a call that hangs is given 10 s.
      await Promise.race([gateway.idle(), new Promise((done) => setTimeout(done, IDLE_GRACE_MS).unref())]);
      await session.end(reason).catch((e) => errors.push(e));
      await server.close().catch(() => undefined);
      await upstream.close().catch(() => undefined);
      await runtime.close().catch((e) => errors.push(e));
      for (const e of errors) log(`cra mcp-proxy: closing: ${e instanceof Error ? e.message : String(e)}`);
      log(`cra mcp-proxy: session ${session.id} ended (${reason})`);
      finish(reason);
      return reason;
    })();
    return closing;
  };
  const onEnd = () => void close('completed');
  stdin.once('end', onEnd);
  stdin.once('close', onEnd);
  upstream.onClose(() => {
    if (!closing) log('cra mcp-proxy: the upstream MCP server exited');
    void close('error');
  });
  transport.onerror = (err) => log(`cra mcp-proxy: ${err.message}`);
  await server.connect(transport);
  return { runtime, session, gateway, upstream, closed, close };
}
