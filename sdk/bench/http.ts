/**
 * HTTP: the CRA server (`http-server.ts`: `startServer`, auth on, JSONL traces in a temp folder) and a bare Hono app
 * (`hono-bare.ts`) in child processes, loaded over loopback by autocannon from this process (20 connections; a
 * warm-up run, then a timed one per row). Every answer is checked against its row's status and body (`http-rows.ts`):
 * a row with any other answer says so, and its figure is not a throughput.
 * Targets: `check` ≥ 40 % of bare Hono's GET req/s; durable governed request (request + complete, two HTTP
 * requests, counted as one operation) ≥ 5 k/s with one session per connection, as agents use a server (the row
 * with every connection on one session is measured beside it); resolve ≥ 4 k/s.
 *
 * The CRA server counts its fdatasync/fsync calls: each row shows them per operation, so that appends that stop
 * sharing their fsyncs show as a number, not only as a slower row.
 */

import autocannon from 'autocannon';
import { QUICK, fmtOps, printTable, target } from './harness.ts';
import { CONNECTIONS, type Ctx, type HttpRow, headers, httpRows, probe, type Servers, type Step, startServers, stopServers } from './http-rows.ts';

type Options = Parameters<typeof autocannon>[0];
type Request = NonNullable<Options['requests']>[number];

const SECONDS = QUICK ? 1 : 4;
const WARMUP_SECONDS = QUICK ? 0 : 1;

interface Measured {
  row: HttpRow;
  /** Operations per second (requests per second / steps). */
  opsPerSecond: number;
  requests: number;
  p50Ms: number;
  p99Ms: number;
  /** Answers with another status or body, and connection errors / timeouts. */
  wrong: number;
  errors: number;
  statuses: string;
  /** fdatasync/fsync calls of the CRA server per operation (null: not counted). */
  syncsPerOp: number | null;
}

/** The load generator's requests for `steps`, each answer checked against its step. */
function requests(s: Servers, row: HttpRow, steps: Step[], onWrong: () => void): Request[] {
  return steps.map((step) => ({
    method: step.method,
    headers: headers(s, row.server, step.method),
    ...(step.body === undefined ? {} : { body: step.body }),
    setupRequest: (req: Request, ctx: Ctx) => ({ ...req, path: step.path(ctx) }),
    onResponse: (status: number, body: string, ctx: Ctx) => {
      if (status !== step.status || !body.includes(step.has)) onWrong();
      step.save?.(body, ctx);
    },
  }));
}

async function load(s: Servers, row: HttpRow, seconds: number): Promise<Measured> {
  const url = row.server === 'cra' ? s.cra.url : s.hono.url;
  let wrong = 0;
  const onWrong = () => wrong++;
  // One session per connection: each connection (autocannon's client) gets the row's steps on a session of its own.
  let connection = 0;
  const perConnection = (client: { setRequests(r: Request[]): void }) => {
    const sessionId = s.connectionSessions[connection++ % s.connectionSessions.length]!;
    const own = httpRows(sessionId).find((r) => r.name === row.name)!;
    client.setRequests(requests(s, row, own.steps, onWrong));
  };
  const options: Options = {
    url,
    connections: CONNECTIONS,
    duration: seconds,
    timeout: 10,
    requests: requests(s, row, row.steps, onWrong),
    ...(row.sessions === 'per-connection' ? { setupClient: perConnection } : {}),
  };
  const syncsBefore = row.server === 'cra' ? await s.cra.syncs() : null;
  const result = await autocannon(options);
  const syncsAfter = syncsBefore === null ? null : await s.cra.syncs();
  const requestsMade = result.requests.total;
  const ops = requestsMade / row.steps.length;
  return {
    row,
    opsPerSecond: ops / result.duration,
    requests: requestsMade,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    wrong,
    errors: result.errors + result.timeouts,
    statuses: Object.entries(result.statusCodeStats ?? {})
      .map(([code, v]) => `${code}×${v.count}`)
      .join(' '),
    // Syncs still under way when the run ends are counted with it (a row's fsyncs run behind its answers).
    syncsPerOp: syncsBefore === null || syncsAfter === null || ops === 0 ? null : (syncsAfter - syncsBefore) / ops,
  };
}

export async function run(): Promise<void> {
  const servers = await startServers();
  const measured: Measured[] = [];
  try {
    for (const row of httpRows(servers.sessionId)) {
      const problems = await probe(servers, row);
      if (problems.length > 0) throw new Error(`http bench: ${row.name}: ${problems.join('; ')}`);
      if (WARMUP_SECONDS > 0) await load(servers, row, WARMUP_SECONDS);
      measured.push(await load(servers, row, SECONDS));
    }
  } finally {
    await stopServers(servers);
  }

  const clean = (m: Measured) => m.wrong === 0 && m.errors === 0;
  const figure = (m: Measured) => (clean(m) ? `${fmtOps(m.opsPerSecond)}/s` : `ERRORS (${m.wrong} wrong answers, ${m.errors} errors)`);
  const by = (prefix: string) => measured.find((m) => m.row.name.startsWith(prefix))!;
  const honoGet = by('bare Hono: GET');
  printTable(
    `HTTP over loopback (autocannon, ${CONNECTIONS} connections, ${SECONDS} s per row${WARMUP_SECONDS ? ` after ${WARMUP_SECONDS} s of warm-up` : ''})`,
    [
      ['row', 'ops/s', 'HTTP req', 'p50', 'p99', 'vs Hono GET', 'fsyncs/op', 'answers'],
      ...measured.map((m) => [
        m.row.server === 'hono' ? `(baseline) ${m.row.name}` : m.row.name,
        figure(m),
        String(m.requests),
        `${m.p50Ms} ms`,
        `${m.p99Ms} ms`,
        `${((100 * m.opsPerSecond) / honoGet.opsPerSecond).toFixed(0)} %`,
        m.syncsPerOp === null ? '–' : m.syncsPerOp.toFixed(2),
        clean(m) ? m.statuses : `${m.statuses}; ${m.wrong} wrong, ${m.errors} errors`,
      ]),
    ],
    [
      'ops/s: operations per second (the governed request is two HTTP requests, POST …/actions then …/complete, counted once)',
      'fsyncs/op: fdatasync and fsync calls of the CRA server per operation (a durable step alone on its file pays one; steps of one session share them)',
      'every answer is checked (status and body); a row with a wrong answer or an error shows ERRORS instead of a figure',
      'server and load generator share the machine: the CRA server and Hono each run in a child process, autocannon in this one',
    ],
  );

  const check = by('CRA check');
  const share = check.opsPerSecond / honoGet.opsPerSecond;
  target({
    group: 'http',
    name: 'check req/s vs bare Hono GET req/s',
    value: clean(check) && clean(honoGet) ? `${(share * 100).toFixed(0)} % (${fmtOps(check.opsPerSecond)}/s vs ${fmtOps(honoGet.opsPerSecond)}/s)` : figure(clean(check) ? honoGet : check),
    target: '≥ 40 %',
    pass: clean(check) && clean(honoGet) && share >= 0.4,
  });
  const governed = by('CRA durable governed request, one session per connection');
  target({
    group: 'http',
    name: 'durable governed request (request + complete), one session per connection',
    value: figure(governed),
    target: '≥ 5 k/s',
    pass: clean(governed) && governed.opsPerSecond >= 5000,
  });
  const resolve = by('CRA resolve');
  target({ group: 'http', name: 'resolve', value: figure(resolve), target: '≥ 4 k/s', pass: clean(resolve) && resolve.opsPerSecond >= 4000 });
}
