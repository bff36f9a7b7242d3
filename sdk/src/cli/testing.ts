/**
 * For the command line's tests: `cra <argv>` with in-memory streams, and a real trace recorded by the runtime into
 * a data folder laid out as the server keeps it (`<data>/traces/<id>.trace.jsonl`).
 *
 * @module
 */

import { Writable } from 'node:stream';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAtlasDir } from '../atlas/dir.ts';
import { createRuntime } from '../runtime/runtime.ts';
import { jsonlStore } from '../storage/jsonl.ts';
import { runCli } from './commands.ts';
import type { CliIO } from './output.ts';

export const EXAMPLE_ATLAS = fileURLToPath(new URL('../../../examples/atlases/support/', import.meta.url));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

function sink(): { stream: Writable; text(): string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, text: () => text };
}

/** Runs `cra <argv>` to its exit code. */
export async function cli(argv: readonly string[], extra: Omit<CliIO, 'stdout' | 'stderr'> = {}): Promise<CliRun> {
  const out = sink();
  const err = sink();
  const code = await runCli(argv, { stdout: out.stream, stderr: err.stream, env: {}, ...extra });
  return { code, stdout: out.text(), stderr: err.text() };
}

/** A session with the example atlas: resolved, a ticket looked up and completed, a refund asked, ended. */
export async function recordSession(dataDir: string): Promise<{ sessionId: string; file: string }> {
  const runtime = await createRuntime({ storage: jsonlStore({ dir: join(dataDir, 'traces') }), atlases: [await loadAtlasDir(EXAMPLE_ATLAS)] });
  try {
    const session = await runtime.createSession({ agentId: 'support-bot', goal: 'Answer ticket T-10042' });
    await session.resolve({ requiredCapabilities: ['tickets.read', 'billing.refund'] });
    const lookup = await session.requestAction({ actionId: 'ticket.lookup', parameters: { ticket_id: 'T-10042' } });
    await session.complete(lookup, { result: { status: 'open' } });
    await session.requestAction({ actionId: 'refund.issue', parameters: { customer_id: 'c-1', payment_id: 'p-1', amount: 25, currency: 'USD' } });
    await session.end();
    return { sessionId: session.id, file: join(dataDir, 'traces', `${session.id}.trace.jsonl`) };
  } finally {
    await runtime.close();
  }
}

/** What {@link recordSignedSession} wrote. */
export interface SignedSession {
  sessionId: string;
  /** `<dir>/traces/<id>.trace.jsonl` */
  file: string;
  /** `<dir>/traces/<id>.checkpoints.jsonl` */
  checkpoints: string;
  /** The execution of its `ticket.lookup` (requested, approved, executed). */
  executionId: string;
}

/**
 * A session recorded by a runtime that signs checkpoints with `signerKey` (every 3 events and at its end) into
 * `<dir>/traces`: created, resolved, one lookup run and completed, ended.
 */
export async function recordSignedSession(dir: string, signerKey: string): Promise<SignedSession> {
  const traces = join(dir, 'traces');
  const runtime = await createRuntime({ storage: jsonlStore({ dir: traces }), atlases: [await loadAtlasDir(EXAMPLE_ATLAS)], signing: { key: signerKey, every: 3 } });
  try {
    const session = await runtime.createSession({ agentId: 'support-bot', goal: 'Answer ticket T-10042' });
    await session.resolve({ requiredCapabilities: ['tickets.read', 'billing.refund'] });
    const lookup = await session.requestAction({ actionId: 'ticket.lookup', parameters: { ticket_id: 'T-10042' } });
    await session.complete(lookup, { result: { status: 'open' } });
    await session.end();
    const base = join(traces, session.id);
    return { sessionId: session.id, file: `${base}.trace.jsonl`, checkpoints: `${base}.checkpoints.jsonl`, executionId: lookup.execution_id };
  } finally {
    await runtime.close();
  }
}
