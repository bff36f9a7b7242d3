/**
 * The tamper suite: a trace of 1 000 events built by a real runtime with the example atlas, written as JSONL, then
 * changed — every single byte (or a seeded sample), every event deleted, duplicated, swapped with its successor —
 * and read back. Each change must be caught at the right place: the line no longer parses (`fromJsonl` refuses
 * it), or `verifyTrace` answers `valid: false` at the changed event's index. A tail cut at any length must be
 * caught through the stored head (`expectedHead`), and a store whose file was cut must report `truncated`.
 *
 * A byte change that leaves the event's value unchanged (none is expected: event lines hold no whitespace or
 * escapes that could vary) is counted as `equivalent`, not as a miss.
 *
 * @module
 */

import { readFile, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { createRuntime } from '../../../sdk/src/runtime/runtime.ts';
import { fromJsonl, verifyTrace } from '../../../sdk/src/runtime/tools.ts';
import { JsonlStore } from '../../../sdk/src/storage/jsonl.ts';
import type { TraceEvent } from '../../../sdk/src/types.ts';
import { tempDir, testClock, testIds } from '../../../sdk/test/helpers.ts';
import { REFUND, supportAtlas } from '../common/atlas.ts';
import type { CliArgs } from '../common/cli.ts';
import { Rng } from '../common/rng.ts';
import { Failures, type Summary } from '../common/summary.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder(); // replacement characters, as a lenient reader would decode

/** A session of `length` events through the runtime and its JSONL store; answers the events and the folder. */
async function buildTrace(length: number, dir: string): Promise<{ events: TraceEvent[]; sessionId: string }> {
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
  const rng = new Rng(args.seed);
  const failures = new Failures();
  const tmp = await tempDir();
  const started = performance.now();
  const counts = { bytes: 0, bytes_parse: 0, bytes_verify: 0, equivalent: 0, deletions: 0, duplications: 0, swaps: 0, cuts: 0, missed: 0 };
  try {
    const { events, sessionId } = await buildTrace(length, tmp.dir);
    const trace = events.slice(0, length);
    log(`tamper: a trace of ${trace.length} events (built in ${((performance.now() - started) / 1000).toFixed(1)} s)`);
    const lines = trace.map((e) => JSON.stringify(e));
    const lineBytes = lines.map((l) => encoder.encode(`${l}\n`));
    const starts: number[] = [];
    let total = 0;
    for (const b of lineBytes) {
      starts.push(total);
      total += b.length;
    }
    const verifyAt = async (mutated: TraceEvent[], expected: number, what: string) => {
      const r = await verifyTrace(mutated.slice(0, Math.min(mutated.length, expected + 1)));
      if (r.valid) {
        counts.missed++;
        failures.add('undetected', what, `verifyTrace answered valid`);
      } else if (r.index !== expected) failures.add('wrong_index', what, `caught at ${r.index} (${r.reason}), expected ${expected}`);
    };

    // Every byte (or a sample): one seeded replacement byte per position.
    const positions: number[] = [];
    if (every) for (let p = 0; p < total; p++) positions.push(p);
    else for (let k = 0; k < sample; k++) positions.push(rng.int(total));
    log(`tamper: ${positions.length} single-byte change(s) of ${total} bytes`);
    let line = 0;
    positions.sort((a, b) => a - b);
    for (const [k, p] of positions.entries()) {
      if (k > 0 && k % 50_000 === 0) log(`  bytes: ${k}/${positions.length}`);
      while (line + 1 < starts.length && starts[line + 1]! <= p) line++;
      const own = lineBytes[line]!;
      const off = p - starts[line]!;
      const changed = own.slice();
      changed[off] = (own[off]! + 1 + rng.int(255)) & 0xff;
      counts.bytes++;
      // A changed newline joins this line to the next one; a new newline splits it: either way it is one segment.
      const next = off === own.length - 1 && line + 1 < lineBytes.length ? lineBytes[line + 1]! : new Uint8Array(0);
      const segment = decoder.decode(Buffer.concat([changed, next]));
      const what = `byte ${p} (line ${line + 1}, offset ${off}: ${own[off]} → ${changed[off]})`;
      const parts = segment.endsWith('\n') ? segment : `${segment}\n`;
      let parsed: TraceEvent[];
      try {
        parsed = await fromJsonl(parts);
      } catch {
        counts.bytes_parse++;
        continue;
      }
      const replaced = next.length > 0 ? 2 : 1;
      if (parsed.length === replaced && parsed.every((e, j) => isDeepStrictEqual(e, trace[line + j]))) {
        counts.equivalent++;
        continue;
      }
      counts.bytes_verify++;
      await verifyAt([...trace.slice(0, line), ...parsed, ...trace.slice(line + replaced)], line, what);
    }
    // Every event deleted, duplicated, and swapped with its successor.
    const eventCases = args.sizes['event-cases'] ?? trace.length;
    const indices = eventCases >= trace.length ? trace.map((_, i) => i) : [...new Set(Array.from({ length: eventCases }, () => rng.int(trace.length)))].sort((a, b) => a - b);
    for (const i of indices) {
      if (i < trace.length - 1) {
        counts.deletions++; // the last one deleted is a cut tail, below
        await verifyAt([...trace.slice(0, i), ...trace.slice(i + 1)], i, `delete event ${i}`);
      }
      counts.duplications++;
      await verifyAt([...trace.slice(0, i + 1), trace[i]!, ...trace.slice(i + 1)], i + 1, `duplicate event ${i}`);
      if (i + 1 < trace.length) {
        counts.swaps++;
        await verifyAt([...trace.slice(0, i), trace[i + 1]!, trace[i]!, ...trace.slice(i + 2)], i, `swap events ${i} and ${i + 1}`);
      }
      if (i > 0 && i % 250 === 0) log(`  events: ${i}/${trace.length}`);
    }
    // A cut tail verifies on its own: only the stored head reveals it.
    const head = { length: trace.length, head_hash: trace.at(-1)!.event_hash };
    for (let keep = 1; keep < trace.length; keep += every ? 1 : 1 + rng.int(40)) {
      counts.cuts++;
      const r = await verifyTrace(trace.slice(0, keep), { expectedHead: head });
      if (r.valid) failures.add('undetected', `cut to ${keep} events`, 'verifyTrace with expectedHead answered valid');
      else if (r.reason !== 'head_mismatch') failures.add('wrong_reason', `cut to ${keep} events`, `${r.reason} at ${r.index}`);
    }
    // The same through the store: the file cut at a line boundary below its synced head is reported `truncated`.
    const file = join(tmp.dir, `${sessionId}.trace.jsonl`);
    const full = await readFile(file);
    const keep = 1 + rng.int(Math.max(1, events.length - 2));
    await truncate(file, full.indexOf('\n'.charCodeAt(0), starts[keep]! - 1) + 1);
    const reopened = await createRuntime({ storage: new JsonlStore({ dir: tmp.dir, fsyncIntervalMs: 0 }), onCorruptTrace: 'skip', atlases: [await supportAtlas()] });
    const kinds = reopened.storageIssues.filter((i) => i.session_id === sessionId).map((i) => i.kind);
    await reopened.close();
    if (!kinds.includes('truncated')) failures.add('undetected', `store file cut to ${keep} events`, `issues: ${JSON.stringify(kinds)}`);
  } finally {
    await tmp.cleanup();
  }
  const secs = (performance.now() - started) / 1000;
  const figures: Record<string, number | string> = {
    trace: `${length} events`,
    byte_changes: `${counts.bytes} (${every ? 'every byte' : 'seeded sample'}): ${counts.bytes_parse} refused by fromJsonl, ${counts.bytes_verify} caught by verifyTrace, ${counts.equivalent} equivalent`,
    event_changes: `${counts.deletions} deletions, ${counts.duplications} duplications, ${counts.swaps} swaps`,
    tail_cuts: `${counts.cuts} (expectedHead) + 1 through the store`,
    detection_rate: `${(((counts.bytes + counts.deletions + counts.duplications + counts.swaps + counts.cuts - counts.missed - counts.equivalent) / (counts.bytes + counts.deletions + counts.duplications + counts.swaps + counts.cuts - counts.equivalent)) * 100).toFixed(4)}%`,
    seconds: secs.toFixed(1),
  };
  const summary: Summary = { suite: 'tamper', seed: args.seed, cases: counts.bytes + counts.deletions + counts.duplications + counts.swaps + counts.cuts, failures: failures.list, figures };
  return { summary, failures };
}
