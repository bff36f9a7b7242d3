/**
 * The tamper suite: a trace of 1 000 events built by a real runtime with the example atlas, written as JSONL, then
 * changed — every single byte (or a seeded sample), every event deleted, duplicated, swapped with its successor —
 * and read back. Each change must be caught at the right place: the line no longer parses (the core's
 * `trace.from_jsonl`, behind `fromJsonl`, refuses it), or the core's `trace.verify` (behind `verifyTrace`) answers
 * `valid: false` at the changed event's index. A tail cut at any length must be caught through the stored head
 * (`expected_head`), and a store whose file was cut must report `truncated`.
 *
 * A byte change that leaves the event's value unchanged (none is expected: event lines hold no whitespace or
 * escapes that could vary) is counted as `equivalent`, not as a miss.
 *
 * Every question goes to the core's `trace.verify` with a whole chain from genesis, but only up to the changed
 * event (the verifier stops at the first bad one): see `verifier.ts`. `--every-byte` spreads the 734 624 byte
 * changes over worker threads (`--workers N`, default one per core); the seeded choices are all drawn here, in the
 * same order as in a sampled run, so a seed replays the same changes with any number of workers.
 *
 * @module
 */

import { readFile, truncate } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { createRuntime } from '../../../sdk/src/runtime/runtime.ts';
import { fromJsonl } from '../../../sdk/src/runtime/tools.ts';
import { JsonlStore } from '../../../sdk/src/storage/jsonl.ts';
import type { TraceEvent } from '../../../sdk/src/types.ts';
import { tempDir, testClock, testIds } from '../../../sdk/test/helpers.ts';
import { REFUND, supportAtlas } from '../common/atlas.ts';
import type { CliArgs } from '../common/cli.ts';
import { Rng } from '../common/rng.ts';
import { type Failure, Failures, type Summary } from '../common/summary.ts';
import { type ByteCounts, checkBytes, TraceText } from './bytes.ts';
import { PrefixVerifier } from './verifier.ts';

type ByteResult = { counts: ByteCounts; failures: { list: Failure[]; counts: Record<string, number> } };

/** A worker's entry is loaded before `--import` hooks reach it (Node 20), so it registers tsx itself first. */
const WORKER_SHIM = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./worker.ts', import.meta.url).href)}); });`;

/** The byte changes, one line's positions per batch, on `workers` threads; answers each batch's result. */
async function inWorkers(text: TraceText, positions: Int32Array, values: Uint8Array, workers: number, log: (line: string) => void): Promise<ByteResult[]> {
  const batches: Array<{ positions: Int32Array; values: Uint8Array }> = [];
  for (let a = 0; a < positions.length; ) {
    const line = text.lineOf(positions[a]!);
    let b = a;
    while (b < positions.length && text.lineOf(positions[b]!) === line) b++;
    batches.push({ positions: positions.slice(a, b), values: values.slice(a, b) });
    a = b;
  }
  batches.reverse(); // the longest prefixes first, so that the threads end together
  const results: ByteResult[] = [];
  let done = 0;
  let next = 0;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const w = new Worker(WORKER_SHIM, { eval: true, workerData: { lines: text.lines } });
      const feed = () => w.postMessage(next < batches.length ? batches[next++]! : null);
      w.on('message', (m: 'ready' | ByteResult) => {
        if (m !== 'ready') {
          results.push(m);
          done += m.counts.bytes;
          if (results.length % 100 === 0) log(`  bytes: ${done}/${positions.length}`);
        }
        feed();
      });
      w.on('error', reject);
      w.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`a tamper worker exited with ${code}`))));
    });
  await Promise.all(Array.from({ length: Math.max(1, Math.min(workers, batches.length)) }, one));
  return results;
}

/** A session of `length` events through the runtime and its JSONL store; answers the events and the folder. */
export async function buildTrace(length: number, dir: string): Promise<{ events: TraceEvent[]; sessionId: string }> {
  const runtime = await createRuntime({ clock: testClock(), ids: testIds('7a000000'), atlases: [await supportAtlas()], storage: new JsonlStore({ dir, fsyncIntervalMs: 0 }) });
  const s = await runtime.createSession({ agentId: 'support-bot', goal: 'Tamper target', metadata: { ticket: 'T-10042', tags: ['é', '✓'] } });
  await s.resolve({ requiredCapabilities: ['tickets.read', 'tickets.write', 'billing.refund'] });
  let n = 0;
  while ((await s.info()).event_count < length - 1) {
    n++;
    const pick = n % 6;
    if (pick === 0) {
      const ex = await s.requestAction({ actionId: 'ticket.lookup', parameters: { ticket_id: `T-${10000 + n}` } });
      if (ex.status === 'approved') await s.complete(ex, { result: { status: 'open', n }, durationMs: n % 50 });
    } else if (pick === 1) {
      const ex = await s.requestAction({ actionId: 'refund.issue', parameters: { ...REFUND, payment_id: `P-${n}` } });
      if (ex.status === 'pending_approval') {
        await s.approve(ex, { approver: 'lead@example.com' });
        await s.fail(ex, { errorCode: 'psp_down', errorMessage: `provider unavailable ${n}` });
      }
    } else if (pick === 2) await s.requestAction({ actionId: 'customer.delete', parameters: { customer_id: `C-${n}` } });
    else if (pick === 3) await s.requestAction({ actionId: 'refund.issue', parameters: { ...REFUND, amount: 900 + n } });
    else if (pick === 4) await s.record('error.occurred', { code: 'tool_timeout', message: `call ${n} timed out ✗` });
    else await s.resolve({ requiredCapabilities: ['tickets.read'], contextHints: [`hint ${n}`] });
  }
  await s.end('completed');
  await runtime.close();
  const events = (await runtime.trace(s.id).catch(() => null)) ?? (await fromJsonl(await readFile(join(dir, `${s.id}.trace.jsonl`), 'utf8')));
  return { events, sessionId: s.id };
}

export async function runTamper(args: Pick<CliArgs, 'seed' | 'sizes' | 'flags'>, log: (line: string) => void = () => undefined) {
  const length = args.sizes.events ?? 1000;
  const every = args.flags.has('every-byte');
  const sample = args.sizes.cases ?? 3000;
  const workers = args.sizes.workers ?? (every ? availableParallelism() : 1);
  const rng = new Rng(args.seed);
  const failures = new Failures();
  const tmp = await tempDir();
  const started = performance.now();
  const counts = { bytes: 0, bytes_parse: 0, bytes_verify: 0, equivalent: 0, cross_checked: 0, deletions: 0, duplications: 0, swaps: 0, cuts: 0, missed: 0 };
  let bytesSecs = 0;
  try {
    const { events, sessionId } = await buildTrace(length, tmp.dir);
    const trace = events.slice(0, length);
    log(`tamper: a trace of ${trace.length} events (built in ${((performance.now() - started) / 1000).toFixed(1)} s)`);
    const text = new TraceText(trace.map((e) => JSON.stringify(e)));
    const verifier = await PrefixVerifier.create(text.lines);
    const total = text.total;

    // Every byte (or a sample): one seeded replacement byte per position, drawn in position order.
    let positions: Int32Array;
    if (every) positions = Int32Array.from({ length: total }, (_, p) => p);
    else positions = Int32Array.from({ length: sample }, () => rng.int(total)).sort();
    const values = new Uint8Array(positions.length);
    for (let k = 0; k < positions.length; k++) {
      const p = positions[k]!;
      const line = text.lineOf(p);
      values[k] = (text.bytes[line]![p - text.starts[line]!]! + 1 + rng.int(255)) & 0xff;
    }
    log(`tamper: ${positions.length} single-byte change(s) of ${total} bytes${workers > 1 ? ` on ${workers} threads` : ''}`);
    const bytesStarted = performance.now();
    const results = workers > 1 ? await inWorkers(text, positions, values, workers, log) : [await checkBytes(verifier, text, positions, values)];
    bytesSecs = (performance.now() - bytesStarted) / 1000;
    for (const r of results) {
      for (const k of Object.keys(r.counts) as Array<keyof ByteCounts>) counts[k] += r.counts[k];
      failures.merge(r.failures);
    }

    // Every event deleted, duplicated, and swapped with its successor.
    const verifyAt = (keep: number, tail: string[], expected: number, what: string) => {
      const r = verifier.verify(keep, tail);
      if (r.valid) {
        counts.missed++;
        failures.add('undetected', what, 'trace.verify answered valid');
      } else if (r.index !== expected) failures.add('wrong_index', what, `caught at ${r.index} (${r.reason}), expected ${expected}`);
    };
    const lines = text.lines;
    const eventCases = args.sizes['event-cases'] ?? trace.length;
    const indices = eventCases >= trace.length ? trace.map((_, i) => i) : [...new Set(Array.from({ length: eventCases }, () => rng.int(trace.length)))].sort((a, b) => a - b);
    for (const i of indices) {
      if (i < trace.length - 1) {
        counts.deletions++; // the last one deleted is a cut tail, below
        verifyAt(i, [lines[i + 1]!], i, `delete event ${i}`);
      }
      counts.duplications++;
      verifyAt(i + 1, [lines[i]!], i + 1, `duplicate event ${i}`);
      if (i + 1 < trace.length) {
        counts.swaps++;
        verifyAt(i, [lines[i + 1]!, lines[i]!], i, `swap events ${i} and ${i + 1}`);
      }
      if (i > 0 && i % 250 === 0) log(`  events: ${i}/${trace.length}`);
    }
    // A cut tail verifies on its own: only the stored head reveals it.
    const head = { length: trace.length, head_hash: trace.at(-1)!.event_hash };
    for (let keep = 1; keep < trace.length; keep += every ? 1 : 1 + rng.int(40)) {
      counts.cuts++;
      const r = verifier.verifyCut(keep, head);
      if (r.valid) failures.add('undetected', `cut to ${keep} events`, 'trace.verify with expected_head answered valid');
      else if (r.reason !== 'head_mismatch') failures.add('wrong_reason', `cut to ${keep} events`, `${r.reason} at ${r.index}`);
    }
    // The same through the store: the file cut at a line boundary below its synced head is reported `truncated`
    // when the session is first used (start-up reads no trace).
    const file = join(tmp.dir, `${sessionId}.trace.jsonl`);
    const full = await readFile(file);
    const keep = 1 + rng.int(Math.max(1, events.length - 2));
    await truncate(file, full.indexOf('\n'.charCodeAt(0), text.starts[keep]! - 1) + 1);
    const reopened = await createRuntime({ storage: new JsonlStore({ dir: tmp.dir, fsyncIntervalMs: 0 }), atlases: [await supportAtlas()] });
    const used = await (await reopened.getSession(sessionId)).info().then(
      () => 'restored',
      (err: { code?: string }) => err.code,
    );
    const kinds = reopened.storageIssues.filter((i) => i.session_id === sessionId).map((i) => i.kind);
    await reopened.close();
    if (used !== 'storage_corrupt') failures.add('undetected', `store file cut to ${keep} events`, `first use: ${used}`);
    if (!kinds.includes('truncated')) failures.add('undetected', `store file cut to ${keep} events`, `issues: ${JSON.stringify(kinds)}`);
  } finally {
    await tmp.cleanup();
  }
  const secs = (performance.now() - started) / 1000;
  const changes = counts.bytes + counts.deletions + counts.duplications + counts.swaps + counts.cuts;
  const figures: Record<string, number | string> = {
    trace: `${length} events`,
    byte_changes: `${counts.bytes} (${every ? 'every byte' : 'seeded sample'}): ${counts.bytes_parse} refused by trace.from_jsonl, ${counts.bytes_verify} caught by trace.verify, ${counts.equivalent} equivalent; ${counts.cross_checked} cross-checked with verifyTrace`,
    byte_time: `${bytesSecs.toFixed(1)} s on ${workers} thread(s), ${((bytesSecs * 1000 * Math.max(1, workers)) / Math.max(1, counts.bytes)).toFixed(2)} thread-ms per byte`,
    event_changes: `${counts.deletions} deletions, ${counts.duplications} duplications, ${counts.swaps} swaps`,
    tail_cuts: `${counts.cuts} (expected_head) + 1 through the store`,
    detection_rate: `${(((changes - counts.missed - counts.equivalent) / (changes - counts.equivalent)) * 100).toFixed(4)}%`,
    seconds: secs.toFixed(1),
  };
  const summary: Summary = { suite: 'tamper', seed: args.seed, cases: changes, failures: failures.list, figures };
  return { summary, failures };
}
