/**
 * The HTTP rows, written once for the bench (`http.ts`, under autocannon) and its test (`bench.test.ts`, one request
 * of each): the CRA server and a bare Hono app as child processes (`http-server.ts`, `hono-bare.ts`), sessions
 * created and resolved before any row runs (one that every connection shares, and one per connection), and each
 * row's requests with the status and body every answer must have. An answer that differs is counted, so that
 * errors can never pass for throughput.
 *
 * The durable governed request runs twice: every connection on one session (its appends queue on one file and share
 * its fsyncs), and one session per connection, as agents use a server (each its own file: one fsync per append).
 */

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** Connections of the load generator; also the number of sessions of the per-connection rows. */
export const CONNECTIONS = 20;

export interface Child {
  url: string;
  /** The fdatasync and fsync calls of the child so far (it counts them with `CRA_BENCH_COUNT_SYNCS=1`), else null. */
  syncs(): Promise<number | null>;
  /** Closes the child's stdin (it stops) and waits for it to exit. */
  stop(): Promise<void>;
}

/** Starts `script` (a file of this folder) under tsx and waits for its `{url}` line. */
export function startChild(script: string, env: Record<string, string> = {}): Promise<Child> {
  const file = fileURLToPath(new URL(script, import.meta.url));
  const p = spawn(process.execPath, ['--import', 'tsx', file], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  p.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((ok) => p.once('exit', () => ok()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      p.kill();
      reject(new Error(`${script} did not start within 30 s: ${stderr}`));
    }, 30_000);
    p.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (${code}) before listening: ${stderr}`));
    });
    const lines = createInterface({ input: p.stdout });
    const waiting: ((line: string) => void)[] = [];
    lines.once('line', (line) => {
      clearTimeout(timer);
      const { url } = JSON.parse(line) as { url: string };
      lines.on('line', (next) => waiting.shift()?.(next));
      resolve({
        url,
        syncs() {
          return new Promise((answer) => {
            waiting.push((next) => answer((JSON.parse(next) as { syncs: number | null }).syncs));
            p.stdin.write('syncs\n');
          });
        },
        async stop() {
          p.stdin.end();
          const killer = setTimeout(() => p.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(killer);
        },
      });
    });
  });
}

/** What a step may keep for the next one (the governed row's execution id). */
export type Ctx = Record<string, unknown>;

export interface Step {
  method: 'GET' | 'POST';
  path: (ctx: Ctx) => string;
  body?: string;
  /** The status every answer must have. */
  status: number;
  /** A fragment every answer's body must contain. */
  has: string;
  /** Keeps what the next step needs. */
  save?: (body: string, ctx: Ctx) => void;
}

export interface HttpRow {
  name: string;
  server: 'cra' | 'hono';
  /**
   * The session of a CRA row's operations: the one every connection shares (default), or one per connection (the
   * row's steps are then built again for each, from `httpRows(connectionSessions[i])`).
   */
  sessions?: 'shared' | 'per-connection';
  /** One operation: its requests in order (req/s of the row counts operations, not requests). */
  steps: Step[];
}

export interface Servers {
  cra: Child;
  hono: Child;
  key: string;
  /** The session every CRA row works on (created and resolved). */
  sessionId: string;
  /** One session per connection (created and resolved), for the rows with `sessions: 'per-connection'`. */
  connectionSessions: string[];
}

const json = (v: unknown) => JSON.stringify(v);

export function headers(s: Servers, server: 'cra' | 'hono', method: string): Record<string, string> {
  return {
    ...(server === 'cra' ? { authorization: `Bearer ${s.key}` } : {}),
    ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
  };
}

/**
 * Starts both servers (the CRA server counting its syncs) and creates and resolves the sessions of the CRA rows: the
 * shared one and one per connection.
 */
export async function startServers(): Promise<Servers> {
  const key = `bench_${randomBytes(16).toString('hex')}`;
  const [cra, hono] = await Promise.all([startChild('./http-server.ts', { CRA_BENCH_KEY: key, CRA_BENCH_COUNT_SYNCS: '1' }), startChild('./hono-bare.ts')]);
  try {
    const sessionId = await resolvedSession(cra.url, key);
    const connectionSessions: string[] = [];
    for (let i = 0; i < CONNECTIONS; i++) connectionSessions.push(await resolvedSession(cra.url, key));
    return { cra, hono, key, sessionId, connectionSessions };
  } catch (err) {
    await Promise.all([cra.stop(), hono.stop()]);
    throw err;
  }
}

async function resolvedSession(url: string, key: string): Promise<string> {
  const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const created = await fetch(`${url}/v1/sessions`, { method: 'POST', headers: auth, body: json({ agent_id: 'bench', goal: 'Answer ticket T-10042' }) });
  if (created.status !== 201) throw new Error(`http bench: POST /v1/sessions answered ${created.status}: ${await created.text()}`);
  const sessionId = ((await created.json()) as { session_id: string }).session_id;
  const resolved = await fetch(`${url}/v1/sessions/${sessionId}/resolve`, { method: 'POST', headers: auth, body: '{}' });
  if (resolved.status !== 200) throw new Error(`http bench: resolve answered ${resolved.status}: ${await resolved.text()}`);
  return sessionId;
}

export async function stopServers(s: Servers): Promise<void> {
  await Promise.all([s.cra.stop(), s.hono.stop()]);
}

const EXECUTION_ID = /"execution_id":"([0-9a-f-]{36})"/;

/** The rows, in the order they run. */
export function httpRows(sessionId: string): HttpRow[] {
  const session = `/v1/sessions/${sessionId}`;
  const governed = (name: string, sessions: HttpRow['sessions']): HttpRow => ({
    name,
    server: 'cra',
    sessions,
    steps: [
      {
        method: 'POST',
        path: () => `${session}/actions`,
        body: json({ action_id: 'ticket.lookup', parameters: { ticket_id: 'T-10042' } }),
        status: 200,
        has: '"status":"approved"',
        save: (body, ctx) => (ctx.execution = EXECUTION_ID.exec(body)?.[1]),
      },
      {
        method: 'POST',
        path: (ctx) => `${session}/actions/${String(ctx.execution)}/complete`,
        body: json({ result: { status: 'open' } }),
        status: 200,
        has: '"status":"executed"',
      },
    ],
  });
  return [
    { name: 'bare Hono: GET /hello', server: 'hono', steps: [{ method: 'GET', path: () => '/hello', status: 200, has: '"status":"ok"' }] },
    {
      name: 'bare Hono: POST /echo',
      server: 'hono',
      steps: [{ method: 'POST', path: () => '/echo', body: json({ action_id: 'ticket.lookup', parameters: { ticket_id: 'T-10042' } }), status: 200, has: '"T-10042"' }],
    },
    { name: 'CRA GET /health', server: 'cra', steps: [{ method: 'GET', path: () => '/health', status: 200, has: '"status":"healthy"' }] },
    { name: 'CRA check (GET …/check/ticket.lookup)', server: 'cra', steps: [{ method: 'GET', path: () => `${session}/check/ticket.lookup`, status: 200, has: '"allowed":true' }] },
    {
      name: 'CRA denied request (POST …/actions customer.delete)',
      server: 'cra',
      steps: [{ method: 'POST', path: () => `${session}/actions`, body: json({ action_id: 'customer.delete', parameters: { customer_id: 'C-1' } }), status: 200, has: '"status":"denied"' }],
    },
    { name: 'CRA resolve (POST …/resolve)', server: 'cra', steps: [{ method: 'POST', path: () => `${session}/resolve`, body: '{}', status: 200, has: '"resolution_id"' }] },
    governed('CRA durable governed request, one session per connection (POST …/actions + …/complete)', 'per-connection'),
    governed('CRA durable governed request, all connections on one session (POST …/actions + …/complete)', 'shared'),
  ];
}

/** Runs one operation of `row` with fetch; answers the problems found (none: []). */
export async function probe(s: Servers, row: HttpRow): Promise<string[]> {
  const base = row.server === 'cra' ? s.cra.url : s.hono.url;
  const ctx: Ctx = {};
  const problems: string[] = [];
  for (const step of row.steps) {
    const path = step.path(ctx);
    const res = await fetch(`${base}${path}`, { method: step.method, headers: headers(s, row.server, step.method), ...(step.body === undefined ? {} : { body: step.body }) });
    const body = await res.text();
    if (res.status !== step.status) problems.push(`${step.method} ${path}: status ${res.status}, expected ${step.status}: ${body.slice(0, 200)}`);
    else if (!body.includes(step.has)) problems.push(`${step.method} ${path}: body lacks ${step.has}: ${body.slice(0, 200)}`);
    step.save?.(body, ctx);
  }
  return problems;
}
