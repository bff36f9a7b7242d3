/**
 * HTTP: the CRA server (`http-server.ts`: `startServer`, auth on, JSONL traces in a temp folder) and a bare Hono app
 * (`hono-bare.ts`) in child processes, loaded over loopback by autocannon from this process (20 connections; a
 * warm-up run, then a timed one per row). Every answer is checked against its row's status and body (`http-rows.ts`):
 * a row with any other answer says so, and its figure is not a throughput.
 * Targets: `check` ≥ 40 % of bare Hono's GET req/s; durable governed request (request + complete, two HTTP
 * requests, counted as one operation) ≥ 5 k/s; resolve ≥ 4 k/s.
 */

import autocannon from 'autocannon';
import { QUICK, fmtOps, printTable, target } from './harness.ts';
import { type Ctx, type HttpRow, headers, httpRows, probe, type Servers, startServers, stopServers } from './http-rows.ts';

const CONNECTIONS = 20;
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
}

async function load(s: Servers, row: HttpRow, seconds: number): Promise<Measured> {
  const url = row.server === 'cra' ? s.cra.url : s.hono.url;
  let wrong = 0;
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    timeout: 10,
    requests: row.steps.map((step) => ({
      method: step.method,
      headers: headers(s, row.server, step.method),
      ...(step.body === undefined ? {} : { body: step.body }),
      setupRequest: (req, ctx: Ctx) => ({ ...req, path: step.path(ctx) }),
      onResponse: (status: number, body: string, ctx: Ctx) => {
        if (status !== step.status || !body.includes(step.has)) wrong++;
        step.save?.(body, ctx);
      },
    })),
  });
  const requests = result.requests.total;
  return {
    row,
    opsPerSecond: requests / result.duration / row.steps.length,
    requests,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    wrong,
    errors: result.errors + result.timeouts,
    statuses: Object.entries(result.statusCodeStats ?? {})
      .map(([code, v]) => `${code}×${v.count}`)
      .join(' '),
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
      ['row', 'ops/s', 'HTTP req', 'p50', 'p99', 'vs Hono GET', 'answers'],
      ...measured.map((m) => [
        m.row.server === 'hono' ? `(baseline) ${m.row.name}` : m.row.name,
        figure(m),
        String(m.requests),
        `${m.p50Ms} ms`,
        `${m.p99Ms} ms`,
        `${((100 * m.opsPerSecond) / honoGet.opsPerSecond).toFixed(0)} %`,
        clean(m) ? m.statuses : `${m.statuses}; ${m.wrong} wrong, ${m.errors} errors`,
      ]),
    ],
    [
      'ops/s: operations per second (the governed request is two HTTP requests, POST …/actions then …/complete, counted once)',
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
  const governed = by('CRA durable governed');
  target({ group: 'http', name: 'durable governed request (request + complete)', value: figure(governed), target: '≥ 5 k/s', pass: clean(governed) && governed.opsPerSecond >= 5000 });
  const resolve = by('CRA resolve');
  target({ group: 'http', name: 'resolve', value: figure(resolve), target: '≥ 4 k/s', pass: clean(resolve) && resolve.opsPerSecond >= 4000 });
}
