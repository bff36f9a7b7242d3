/**
 * The load suite: many clients on many sessions against a real server process (Node, a data folder, the JSONL
 * store) for N seconds. At the end every session's trace is checked: every acknowledged event and execution is
 * there, no duplicates, no sequence gaps, the chain verifies. The server's RSS is sampled throughout and must stay
 * under a bound; requests/s and the error rate are reported (the load sends only valid requests: any error counts).
 *
 * @module
 */

import { tempDir } from '../../../sdk/test/helpers.ts';
import type { ChildServer } from '../../../server/src/testing.ts';
import { audit, Ledger, newSession, rss, startServer, step } from '../common/child.ts';
import type { CliArgs } from '../common/cli.ts';
import { Rng } from '../common/rng.ts';
import { Failures, type Summary } from '../common/summary.ts';

const MB = 1024 * 1024;

export async function runLoad(args: Pick<CliArgs, 'seed' | 'sizes'>, log: (line: string) => void = () => undefined) {
  const seconds = args.sizes.seconds ?? 10;
  const clients = args.sizes.clients ?? 16;
  const maxRssMb = args.sizes['max-rss-mb'] ?? 512;
  const failures = new Failures();
  const ledger = new Ledger();
  const tmp = await tempDir();
  let server: ChildServer | null = null;
  try {
    server = await startServer(tmp.dir);
    const url = server.url;
    const pid = server.child.pid!;
    const samples: number[] = [];
    const sample = async () => {
      const v = await rss(pid);
      if (v !== null) samples.push(v);
    };
    await sample();
    const timer = setInterval(() => void sample(), 250);
    const until = performance.now() + seconds * 1000;
    let down = 0;
    const workers = Array.from({ length: clients }, async (_, c) => {
      const rng = new Rng(args.seed * 131 + c);
      let sid: string | null = null;
      while (performance.now() < until) {
        sid ??= await newSession(url, ledger);
        if (!sid) {
          down++;
          continue;
        }
        const r = await step(url, ledger, sid, rng);
        if (r === 'ended') sid = null;
        if (r === 'down') down++;
      }
    });
    let last = ledger.requests;
    const progress = setInterval(() => {
      log(`  load: ${ledger.requests} request(s), ${((ledger.requests - last) / 5).toFixed(0)}/s, rss ${((samples.at(-1) ?? 0) / MB).toFixed(0)} MB`);
      last = ledger.requests;
    }, 5000);
    const t0 = performance.now();
    await Promise.all(workers);
    const elapsed = (performance.now() - t0) / 1000;
    clearInterval(progress);
    clearInterval(timer);
    await sample();
    for (const id of ledger.sessions) for (const [cls, detail] of await audit(url, ledger, id)) failures.add(cls, 'end of load', detail);
    if (down > 0) failures.add('connection_failed', 'load', `${down} request(s) got no answer`);
    if (ledger.errors > 0) failures.add('error_answer', 'load', `${ledger.errors} valid request(s) answered with an error`);
    const peak = Math.max(...samples);
    if (peak > maxRssMb * MB) failures.add('rss_over_bound', 'load', `peak RSS ${(peak / MB).toFixed(0)} MB > ${maxRssMb} MB`);
    await server.stop('SIGTERM');
    server = null;
    const acked = [...ledger.events.values()].reduce((n, m) => n + m.size, 0);
    const figures = {
      seconds: elapsed.toFixed(1),
      clients,
      sessions: ledger.sessions.size,
      requests: ledger.requests,
      requests_per_second: (ledger.requests / elapsed).toFixed(0),
      error_rate: `${((100 * (ledger.errors + down)) / Math.max(1, ledger.requests)).toFixed(3)}%`,
      acknowledged_events: acked,
      rss_mb: `start ${(samples[0]! / MB).toFixed(0)}, peak ${(peak / MB).toFixed(0)}, end ${(samples.at(-1)! / MB).toFixed(0)} (bound ${maxRssMb})`,
    };
    const summary: Summary = { suite: 'load', seed: args.seed, cases: ledger.requests, failures: failures.list, figures };
    return { summary, failures };
  } finally {
    await server?.stop('SIGKILL');
    await tmp.cleanup();
  }
}
