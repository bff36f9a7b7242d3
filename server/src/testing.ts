/**
 * Test helpers (Node): a real server over loopback on a free port, in-process or as a child process (`npm start`'s
 * command), and plain HTTP calls. Used by the server's tests and by the dual-mode tests of the SDK (`test/dual-mode/`).
 *
 * @module
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createClient, type HttpRuntime } from '../../sdk/src/client/client.ts';
import type { EmbeddedRuntime, RuntimeOptions } from '../../sdk/src/runtime/runtime.ts';
import type { TraceStore } from '../../sdk/src/storage/store.ts';
import { listen } from './adapter/node/listen.ts';
import type { AppOptions } from './app.ts';
import { assemble, type AssembleOptions } from './assemble.ts';
import { parseConfig } from './config.ts';
import type { App } from './context.ts';
import type { TraceEvents } from './events.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const KEY_A = 'test-key-alice-0123456789';
export const KEY_B = 'test-key-bob-0123456789ab';
export const ADMIN_KEY = 'test-key-admin-0123456789';

export interface TestServer {
  url: string;
  port: number;
  app: App;
  runtime: EmbeddedRuntime;
  events: TraceEvents;
  /** Closes the listener (ending streams), then the runtime. */
  close(): Promise<void>;
}

export interface TestServerOptions {
  runtime?: Omit<RuntimeOptions, 'storage'>;
  storage?: TraceStore;
  /** Default: keys A and B, admin key ADMIN_KEY. */
  auth?: AppOptions['auth'];
  app?: AssembleOptions['app'];
}

/** The server as every adapter assembles it (`assemble()`), served by `@hono/node-server` on 127.0.0.1, a free port. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const auth = options.auth ?? { keys: [KEY_A, KEY_B], adminKeys: [ADMIN_KEY] };
  const { atlases, ...runtime } = options.runtime ?? {};
  const config = { ...parseConfig({}), auth: auth !== false, apiKeys: auth ? auth.keys : [], adminKeys: auth ? (auth.adminKeys ?? []) : [] };
  const server = await assemble(config, {
    runtime,
    ...(options.storage ? { storage: options.storage } : {}),
    ...(atlases ? { atlases } : {}),
    app: { onError: () => undefined, ...options.app },
  });
  const l = await listen(server.app, { port: 0, onClose: server.endStreams });
  return {
    url: l.url,
    port: l.port,
    app: server.app,
    runtime: server.runtime,
    events: server.events,
    async close() {
      await l.close(1000);
      await server.close().catch(() => undefined);
    },
  };
}

/** The SDK's HTTP client (admin key) of a fresh test server; closing the client also stops the server. */
export async function testServerClient(options: TestServerOptions = {}): Promise<HttpRuntime> {
  const server = await startTestServer(options);
  const client = createClient({ baseUrl: server.url, apiKey: ADMIN_KEY });
  const close = client.close.bind(client);
  client.close = async () => {
    await close();
    await server.close();
  };
  return client;
}

export interface HttpAnswer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** One request; `body` objects go as JSON. Answers status, headers and the parsed body (text when not JSON). */
export async function http<T = any>(
  url: string,
  method: string,
  path: string,
  options: { key?: string | null; body?: unknown; raw?: string | Uint8Array; headers?: Record<string, string> } = {},
): Promise<HttpAnswer<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  let body: string | Uint8Array | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${url}${path}`, { method, headers, ...(body === undefined ? {} : { body: body as BodyInit }) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

export interface ChildServer {
  url: string;
  /** The key printed at start, when one was generated. */
  generatedKey: string | null;
  child: ChildProcess;
  /** Everything printed so far. */
  output(): string;
  /** Sends `signal` and answers the exit code (null when killed by the signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts the server of `npm start` and waits for its listening line: from its sources by default
 * (`node --import tsx server/src/adapter/node/main.ts`: no build needed, always the current code), or `built`
 * (`node dist/server-main.node.js`, what `npm start` runs; build `dist/` first).
 */
export async function startChild(env: Record<string, string>, timeoutMs = 20_000, from: 'sources' | 'built' = 'sources'): Promise<ChildServer> {
  const args = from === 'built' ? ['dist/server-main.node.js'] : ['--import', 'tsx', 'server/src/adapter/node/main.ts'];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, CRA_PORT: '0', CRA_HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`the server did not start in ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const check = () => {
      const m = /listening on (http:\/\/[^\s]+) /.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`the server exited (${code}) before listening:\n${out}`));
    });
  });
  return {
    url,
    generatedKey: /export CRA_API_KEY=(\S+)/.exec(out)?.[1] ?? null,
    child,
    output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export interface SseMessage {
  event: string;
  id: string | null;
  data: string;
}

/** Opens an SSE stream and reads it message by message (comments skipped). */
export async function openSse(url: string, path: string, options: { key?: string; headers?: Record<string, string> } = {}) {
  const controller = new AbortController();
  const headers: Record<string, string> = { accept: 'text/event-stream', ...options.headers };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  const res = await fetch(`${url}${path}`, { headers, signal: controller.signal });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let done = false;
  return {
    res,
    /** The next message, or null when the stream ended. */
    async next(timeoutMs = 5000): Promise<SseMessage | null> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const cut = buffer.indexOf('\n\n');
        if (cut >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const lines = block.split('\n').filter((l) => !l.startsWith(':'));
          if (lines.length === 0) continue;
          const msg: SseMessage = { event: 'message', id: null, data: '' };
          const data: string[] = [];
          for (const l of lines) {
            if (l.startsWith('event:')) msg.event = l.slice(6).trim();
            else if (l.startsWith('id:')) msg.id = l.slice(3).trim();
            else if (l.startsWith('data:')) data.push(l.slice(5).replace(/^ /, ''));
          }
          msg.data = data.join('\n');
          return msg;
        }
        if (done) return null;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no SSE message in ${timeoutMs} ms (buffer: ${JSON.stringify(buffer)})`);
        let timer: ReturnType<typeof setTimeout> | undefined;
        const chunk = await Promise.race([
          reader.read(),
          new Promise<never>((_, fail) => (timer = setTimeout(() => fail(new Error(`no SSE message in ${timeoutMs} ms`)), left))),
        ]).finally(() => clearTimeout(timer));
        if (chunk.done) done = true;
        else buffer += chunk.value.replaceAll('\r\n', '\n');
      }
    },
    close() {
      controller.abort();
      reader.cancel().catch(() => undefined);
    },
  };
}

/** Every route that names a session, as [method, path, body]; the ones that end it last. */
export function sessionRoutes(id: string, execution: string): Array<[string, string, unknown?]> {
  return [
    ['GET', `/v1/sessions/${id}`],
    ['GET', `/v1/sessions/${id}/ref`],
    ['POST', `/v1/sessions/${id}/resolve`, { required_capabilities: ['tickets.read'] }],
    ['POST', `/v1/sessions/${id}/validate`, {}],
    ['GET', `/v1/sessions/${id}/check/ticket.lookup`],
    ['POST', `/v1/sessions/${id}/actions`, { action_id: 'ticket.lookup', parameters: { ticket_id: 'T-10042' } }],
    ['GET', `/v1/sessions/${id}/actions/${execution}`],
    ['POST', `/v1/sessions/${id}/actions/${execution}/approve`, {}],
    ['POST', `/v1/sessions/${id}/actions/${execution}/deny`, { reason: 'no' }],
    ['POST', `/v1/sessions/${id}/actions/${execution}/complete`, {}],
    ['POST', `/v1/sessions/${id}/actions/${execution}/fail`, { error_code: 'x', error_message: 'y' }],
    ['POST', `/v1/sessions/${id}/mcp`, { jsonrpc: '2.0', id: 1, method: 'tools/list' }],
    ['POST', `/v1/sessions/${id}/events`, { event_type: 'error.occurred', payload: { code: 'x', message: 'y' } }],
    ['GET', `/v1/traces/${id}`],
    ['GET', `/v1/traces/${id}/verify`],
    ['POST', `/v1/traces/${id}/verify`],
    ['POST', `/v1/traces/${id}/replay`],
    ['GET', `/v1/traces/${id}/stream`],
    ['POST', `/v1/sessions/${id}/end`, {}],
    ['DELETE', `/v1/sessions/${id}`],
  ];
}
