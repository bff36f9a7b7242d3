/**
 * The page's side of a sync ([Sync](../../docs/protocol.md#sync)): the tab governs its sessions and signs their logs;
 * the CRA server beside the page (`serve.ts`, at `/cra`) takes each log with its checkpoints and keeps it. The server
 * decides what it accepts — a chain that extends what it holds, checkpoints signed by the session's key that fix the
 * log's Merkle root — and this file only carries the page's log there, and, to show a refusal, a rewritten one.
 */
import { createClient, createRuntime, memoryStore, type EmbeddedRuntime, type HttpRuntime } from '../../sdk/src/index.ts';
import type { SyncResult, SyncUpload } from '../../sdk/src/proof/sync.ts';
import type { AtlasBundle, TraceEvent } from '../../sdk/src/types.ts';
import type { CoreSource } from '../../sdk/src/runtime/load.ts';

/** What `/config.json` says (`serve.ts`'s `PageConfig`): where the server is and the key to call it with. */
interface PageConfig {
  cra: string;
  apiKey: string;
}

/** A client of the server beside the page, or null when the page is served without one (any static server). */
export async function connect(page: string): Promise<HttpRuntime | null> {
  const res = await fetch(new URL('./config.json', page), { cache: 'no-store' }).catch(() => null);
  if (!res?.ok) return null;
  const config = (await res.json()) as PageConfig;
  return createClient({ baseUrl: new URL(config.cra, page).href, apiKey: config.apiKey, telemetry: false });
}

/**
 * Syncs a session of `runtime` to the server: asks what it holds, signs a checkpoint when the newest one does not
 * cover the log, and sends what the server lacks. When it lacks nothing, the log's last event and newest checkpoint
 * go anyway (the server checks them against what it holds and appends nothing): a sync always says where both sides
 * stand.
 */
export async function syncSession(runtime: EmbeddedRuntime, client: HttpRuntime, sessionId: string): Promise<SyncResult> {
  const state = await client.syncState(sessionId);
  const trace = await runtime.trace(sessionId);
  let newest = (await runtime.checkpoints(sessionId)).at(-1);
  if (!newest || newest.size < trace.length) newest = await (await runtime.getSession(sessionId)).checkpoint();
  let upload: SyncUpload = await runtime.syncUpload(sessionId, state);
  if (upload.events.length === 0) upload = { ...upload, events: trace.slice(-1), checkpoints: [newest.note] };
  return client.sync(upload);
}

/**
 * Where a rewritten history parts from the one the server holds (`held` events): after the first executed action
 * (half the log without one), and always before the server's last event, so that it differs from what is held
 * rather than extending it.
 */
export function forkPoint(events: readonly TraceEvent[], held: number): number {
  const executed = events.findIndex((e) => e.event_type === 'action.executed');
  const at = executed >= 0 ? executed + 1 : Math.floor(events.length / 2);
  return Math.max(1, Math.min(at, held - 1));
}

export interface RewriteOptions {
  wasm: CoreSource;
  atlas: AtlasBundle;
  /** The page's signer key: the rewritten log is signed as validly as the real one. */
  signer: string;
}

/**
 * Rewrites a session's history and syncs it: a second runtime holds the session's first events (up to
 * {@link forkPoint}) in a memory store, restores the session, records another event where the real log went on,
 * signs a checkpoint with the same key and sends the whole log. Every event and signature is valid; only the
 * history differs from what the server holds — which the server refuses (`history_rewritten`). Answers what the
 * server answered (a rejection is thrown as its `CraError`).
 */
export async function syncRewritten(events: readonly TraceEvent[], client: HttpRuntime, options: RewriteOptions): Promise<SyncResult> {
  const sessionId = events[0]!.session_id;
  const { length: held } = await client.syncState(sessionId);
  if (held < 2) throw new Error('the server holds less than two events of this session: sync it first, there is no history to rewrite yet');
  const storage = memoryStore();
  await storage.append(sessionId, events.slice(0, forkPoint(events, held)));
  const fork = await createRuntime({ wasm: options.wasm, storage, atlases: [options.atlas], signing: { key: options.signer, every: 0 } });
  try {
    const session = await fork.getSession(sessionId);
    await session.record('error.occurred', { code: 'rewritten', message: 'this event replaces what really happened next' });
    await session.checkpoint();
    return await client.sync(await fork.syncUpload(sessionId));
  } finally {
    await fork.close();
  }
}
