/**
 * The chaos suite: a real server process (Node, a real data folder, the JSONL store) under a seeded, write-heavy
 * client load, killed with SIGKILL at a seeded moment, restarted, for many rounds. After every restart each
 * session's trace must hold every event and execution the server acknowledged (answered 2xx), with no duplicates
 * and no sequence gaps, and verify — through `GET /v1/traces/{id}/verify` and, on the files, the SDK's
 * `verifyTrace`.
 *
 * Then, on a stopped server, each kind of damage is done to its own session — a flipped byte, a line cut in half,
 * a middle line deleted, the last line deleted, a line duplicated, the trace file deleted — and after a restart
 * each must be reported with its kind (start report, or the `storage_corrupt` answer of its first use), while the intact sessions are
 * still served. Last, the store's index is deleted: reported at the next start, every intact session served whole.
 *
 * @module
 */

import { readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromJsonl, verifyTrace } from '../../../sdk/src/runtime/tools.ts';
import type { ChildServer } from '../../../server/src/testing.ts';
import { tempDir } from '../../../sdk/test/helpers.ts';
import { audit, call, Ledger, newSession, startServer, step } from '../common/child.ts';
import type { CliArgs } from '../common/cli.ts';
import { Rng } from '../common/rng.ts';
import { Failures, type Summary } from '../common/summary.ts';

/** The damage done in the corruption phase, and the issue kind each must be reported with. */
export const DAMAGE = {
  flip_byte: ['invalid_chain', 'malformed_line', 'session_mismatch'], // a flip in `session_id` is another session's event
  cut_line_in_half: ['torn_line'],
  delete_middle_line: ['missing_events'],
  delete_last_line: ['truncated'],
  duplicate_line: ['duplicated_events'],
  delete_trace_file: ['missing'],
} as const;

export async function runChaos(args: Pick<CliArgs, 'seed' | 'sizes'>, log: (line: string) => void = () => undefined) {
  const rounds = args.sizes.rounds ?? 3;
  const clients = args.sizes.clients ?? 4;
  const rng = new Rng(args.seed);
  const failures = new Failures();
  const ledger = new Ledger();
  const tmp = await tempDir();
  const dataDir = tmp.dir;
  const started = performance.now();
  let server: ChildServer | null = null;
  let kills = 0;
  let audits = 0;
  try {
    for (let round = 0; round < rounds; round++) {
      server = await startServer(dataDir);
      const url = server.url;
      // Every session acknowledged so far is served, with what was acknowledged.
      for (const id of ledger.sessions) {
        audits++;
        for (const [cls, detail] of await audit(url, ledger, id)) failures.add(cls, `round ${round} (after restart)`, detail);
      }
      // The load, killed at a seeded moment (50–1500 ms in).
      const killAt = 50 + rng.int(1450);
      let alive = true;
      const workers = Array.from({ length: clients }, async (_, c) => {
        const wrng = new Rng(args.seed * 31 + round * 1009 + c);
        let sid: string | null = null;
        while (alive) {
          sid ??= await newSession(url, ledger);
          if (!sid) {
            if (!alive) break;
            continue;
          }
          const r = await step(url, ledger, sid, wrng);
          if (r === 'ended') sid = null;
          if (r === 'down') break;
        }
      });
      await new Promise((r) => setTimeout(r, killAt));
      alive = false;
      await server.stop('SIGKILL');
      kills++;
      server = null;
      await Promise.all(workers);
      log(`chaos round ${round + 1}/${rounds}: killed after ${killAt} ms; ${ledger.sessions.size} session(s), ${ledger.requests} request(s) so far`);
    }
    // Last restart: the files themselves verify with the SDK, and every acknowledged event is served.
    server = await startServer(dataDir);
    for (const id of ledger.sessions) {
      audits++;
      for (const [cls, detail] of await audit(server.url, ledger, id)) failures.add(cls, 'final restart', detail);
    }
    // Enough sessions of a few events for every kind of damage below, however short the run was.
    for (let k = ledger.sessions.size; k < 10; k++) {
      const id = await newSession(server.url, ledger);
      for (let j = 0; id && j < 4; j++) await step(server.url, ledger, id, rng);
    }
    await server.stop('SIGTERM');
    server = null;
    const traces = join(dataDir, 'traces');
    for (const f of (await readdir(traces)).filter((n) => n.endsWith('.trace.jsonl'))) {
      const v = await verifyTrace(await fromJsonl(await readFile(join(traces, f), 'utf8')));
      if (!v.valid) failures.add('file_invalid', f, JSON.stringify(v));
    }

    // The corruption phase: one kind of damage per session, on a stopped server.
    const victims = [...ledger.sessions];
    const lengths = new Map<string, number>();
    for (const id of victims) lengths.set(id, (await readFile(join(traces, `${id}.trace.jsonl`), 'utf8')).split('\n').length - 1);
    const eligible = victims.filter((id) => lengths.get(id)! >= 4);
    const kinds = Object.keys(DAMAGE);
    const assigned = new Map<string, string>();
    for (const kind of kinds) {
      const id = eligible.find((s) => ![...assigned.keys()].includes(s));
      if (!id) break;
      assigned.set(id, kind);
      const file = join(traces, `${id}.trace.jsonl`);
      const lines = (await readFile(file, 'utf8')).split('\n').slice(0, -1);
      const mid = 1 + rng.int(lines.length - 2);
      if (kind === 'flip_byte') {
        const buf = Buffer.from(lines.join('\n') + '\n');
        const at = rng.int(buf.length - 1);
        buf[at] = buf[at] === 0x30 ? 0x31 : buf[at] === 0x0a ? 0x20 : buf[at]! ^ 0x01;
        await writeFile(file, buf);
      } else if (kind === 'cut_line_in_half') await writeFile(file, lines.join('\n') + '\n' + lines.at(-1)!.slice(0, lines.at(-1)!.length >> 1));
      else if (kind === 'delete_middle_line') await writeFile(file, [...lines.slice(0, mid), ...lines.slice(mid + 1)].join('\n') + '\n');
      else if (kind === 'delete_last_line') await writeFile(file, lines.slice(0, -1).join('\n') + '\n');
      else if (kind === 'duplicate_line') await writeFile(file, [...lines.slice(0, mid + 1), lines[mid]!, ...lines.slice(mid + 1)].join('\n') + '\n');
      else if (kind === 'delete_trace_file') await unlink(file);
    }
    if (assigned.size < kinds.length) failures.add('not_enough_sessions', 'corruption phase', `only ${assigned.size} of ${kinds.length} kinds of damage could be done`);
    server = await startServer(dataDir);
    const out = server.output();
    for (const [id, kind] of assigned) {
      const want = (DAMAGE as Record<string, readonly string[]>)[kind]!;
      const got = await call(server.url, 'GET', `/v1/sessions/${id}`);
      const reported = [
        // `damaged trace left out: <file or "session <id>">: <kind>…`: the kind is the word after the id's field.
        ...out
          .split('\n')
          .filter((l) => l.includes('damaged') && l.includes(id))
          .map((l) => /^[^\s:]*: (\w+)/.exec(l.slice(l.indexOf(id) + id.length))?.[1] ?? '?'),
        ...((got?.body?.error?.details ?? []) as Array<{ kind?: string }>).map((d) => String(d.kind)),
        // Found when the session is first used: the answer names the kind, `… is damaged (<kind>): …`.
        ...[/is damaged \((\w+)\)/.exec(String(got?.body?.error?.message ?? ''))?.[1]].filter((k): k is string => k !== undefined),
      ];
      const served = got?.status === 200;
      const code = got?.body?.error?.code;
      if (reported.length === 0 && code !== 'storage_corrupt') failures.add(`unreported_${kind}`, id, `served ${served}, start report ${JSON.stringify(reported)}, answer ${JSON.stringify(got?.body).slice(0, 200)}`);
      else if (!reported.some((k) => want.includes(k))) failures.add(`wrong_kind_${kind}`, id, `reported ${JSON.stringify(reported)}, expected one of ${want.join(', ')}; answer ${code}`);
      if (served) failures.add(`served_damaged_${kind}`, id, 'a damaged session is still served');
    }
    // Intact sessions are still served, whole.
    const intactIds = victims.filter((v) => !assigned.has(v));
    for (const id of intactIds) {
      for (const [cls, detail] of await audit(server.url, ledger, id)) failures.add(cls, 'intact after damage', detail);
    }
    log(`chaos corruption: ${assigned.size} damaged session(s) (${[...assigned.values()].join(', ')}), ${intactIds.length} intact`);
    await server.stop('SIGTERM');
    server = null;

    // The store's own index deleted (any file of the folder that is not a trace): reported, and every intact
    // session still served whole (a cut end cannot be told without it, which is what the report says).
    const index = (await readdir(traces)).filter((n) => !n.endsWith('.trace.jsonl'));
    for (const n of index) await rm(join(traces, n), { recursive: true, force: true });
    server = await startServer(dataDir);
    if (index.length === 0) failures.add('no_index', 'index phase', 'the store keeps no index file');
    else if (!server.output().split('\n').some((l) => l.includes('damaged store file') && l.includes('index_missing'))) {
      failures.add('unreported_delete_index', 'index phase', `start report: ${server.output().slice(0, 400)}`);
    }
    for (const id of intactIds) {
      for (const [cls, detail] of await audit(server.url, ledger, id)) failures.add(cls, 'intact after the index was deleted', detail);
    }
    log(`chaos index: ${index.length} index file(s) deleted, ${intactIds.length} intact session(s) audited`);
    await server.stop('SIGTERM');
    server = null;
    const secs = (performance.now() - started) / 1000;
    const acked = [...ledger.events.values()].reduce((n, m) => n + m.size, 0);
    const execs = [...ledger.executions.values()].reduce((n, m) => n + m.size, 0);
    const figures = {
      rounds,
      kills,
      sessions: ledger.sessions.size,
      requests: ledger.requests,
      acknowledged_events: acked,
      acknowledged_executions: execs,
      audits,
      damaged: [...assigned.values()].join(', '),
      index_files_deleted: index.length,
      seconds: secs.toFixed(1),
    };
    const summary: Summary = { suite: 'chaos', seed: args.seed, cases: rounds, failures: failures.list, figures };
    return { summary, failures };
  } finally {
    await server?.stop('SIGKILL');
    await tmp.cleanup();
  }
}
