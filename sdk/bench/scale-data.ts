/**
 * Data folders for the scale bench, made by the real runtime so that every trace is one the core wrote and will
 * restore: each session is created, resolved, asks `ticket.lookup` once and completes it, and ends — except the
 * last `active` ones, left open. A folder is generated once and reused while its marker names the same session
 * counts and generator version (a change to how sessions are made bumps the version).
 *
 * Sessions are made a few at a time: the core runs one step after another, and the store's writes and the fsync of
 * an ended session overlap with the next sessions' steps.
 *
 * @module
 */

import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRuntime, type EmbeddedRuntime } from '../src/runtime/runtime.ts';
import type { EmbeddedSession } from '../src/runtime/session.ts';
import { JsonlStore } from '../src/storage/jsonl.ts';
import { supportAtlas } from './harness.ts';

export const GENERATOR_VERSION = 1;
/** Cached folders live here, at the repository root (ignored by git). */
export const BENCH_ROOT = fileURLToPath(new URL('../../.bench', import.meta.url));
const IN_FLIGHT = 32;

/** A valid ticket number for the support atlas (`^T-[0-9]{4,10}$`). */
export const TICKET = { ticket_id: 'T-10042' };

export interface ScaleData {
  /** The store's folder (what `new JsonlStore({ dir })` opens). */
  dir: string;
  sessions: number;
  active: number;
  /** Seconds spent generating, or 0 when the folder was reused. */
  generated_s: number;
}

interface Marker {
  version: number;
  sessions: number;
  active: number;
}

/** One governed call: `ticket.lookup` asked and completed. */
export async function lookup(s: EmbeddedSession): Promise<void> {
  const x = await s.requestAction({ actionId: 'ticket.lookup', parameters: TICKET });
  if (x.status !== 'approved') throw new Error(`scale data: ticket.lookup was ${x.status}`);
  await s.complete(x, { result: { ticket_id: TICKET.ticket_id, status: 'open' } });
}

/** One whole session; ended unless `keepActive`. */
export async function oneSession(rt: EmbeddedRuntime, n: number, keepActive: boolean): Promise<void> {
  const s = await rt.createSession({ agentId: 'bench', goal: `Answer ticket ${n}` });
  await s.resolve();
  await lookup(s);
  if (!keepActive) await s.end();
}

/**
 * The folder for `sessions` sessions of which the last `active` are not ended, under `root` (default `.bench/`):
 * reused when its marker matches, else generated (progress on stderr).
 */
export async function scaleData(sessions: number, active: number, root = BENCH_ROOT): Promise<ScaleData> {
  const base = join(root, `scale-${sessions}`);
  const dir = join(base, 'store');
  const markerPath = join(base, 'marker.json');
  const want: Marker = { version: GENERATOR_VERSION, sessions, active };
  const marker = await readFile(markerPath, 'utf8').then((t) => JSON.parse(t) as Marker, () => null);
  if (marker && marker.version === want.version && marker.sessions === sessions && marker.active === active) {
    return { dir, sessions, active, generated_s: 0 };
  }
  await rm(base, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const t0 = performance.now();
  // Open sessions stay live while the rest are made: the cap must hold them all.
  const rt = await createRuntime({
    atlases: [await supportAtlas()],
    storage: new JsonlStore({ dir, fsyncIntervalMs: 0 }),
    sessions: { maxLiveSessions: Math.max(active, 1) + IN_FLIGHT },
  });
  try {
    let next = 0;
    let done = 0;
    let lastReport = t0;
    const worker = async () => {
      while (next < sessions) {
        const n = next++;
        await oneSession(rt, n, n >= sessions - active);
        done++;
        const now = performance.now();
        if (now - lastReport > 5000) {
          lastReport = now;
          const rate = done / ((now - t0) / 1000);
          process.stderr.write(`   scale data: ${done}/${sessions} sessions (${rate.toFixed(0)}/s, ~${((sessions - done) / rate).toFixed(0)} s left)\n`);
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  } finally {
    await rt.close();
  }
  await writeFile(markerPath, JSON.stringify(want));
  return { dir, sessions, active, generated_s: (performance.now() - t0) / 1000 };
}
