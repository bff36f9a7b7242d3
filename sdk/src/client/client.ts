/**
 * The HTTP client: a {@link CraRuntime} whose core is a CRA server. Same methods, same protocol objects, same
 * `CraError` codes and paths as the embedded runtime, so application code runs unchanged in either mode.
 *
 * ```ts
 * const cra = createClient({ baseUrl: 'http://127.0.0.1:8420', apiKey: process.env.CRA_API_KEY });
 * const session = await cra.createSession({ agentId: 'support-bot', goal: 'Handle ticket T-10042' });
 * const resolution = await session.resolve({ requiredCapabilities: ['tickets.read'] });
 * ```
 *
 * @module
 */

import { atlasJson, atlasToValidate } from '../atlas/bundle.ts';
import { createSessionBody, inOptionTerms } from '../carp/actions.ts';
import { CraError } from '../errors.ts';
import type { CarpResult, CraRuntime, CreateSessionOptions, ListSessionsOptions, LoadAtlasOptions } from '../interface.ts';
import type {
  AtlasBundle,
  AtlasLoadResult,
  AtlasManifest,
  AtlasSummary,
  AtlasValidation,
  CarpRequest,
  DiffResult,
  JsonObject,
  ReplayResult,
  RuntimeStats,
  Session,
  SessionList,
  TraceEvent,
  VerifyResult,
} from '../types.ts';
import type { SyncResult, SyncState, SyncUpload } from '../proof/sync.ts';
import type { Checkpoint, CheckpointVerdict, Proof, ProofVerdict, ProveQuery, Receipt, ReceiptVerdict } from '../proof/types.ts';
import type { VerifierKeys, VerifyProofOptions } from '../proof/verify.ts';
import { HttpTransport, type HttpOptions, errorWithStatus, segment } from './http.ts';
import { HttpSession } from './session.ts';
import { checkTelemetry, Telemetry, type TelemetrySetting } from '../telemetry/telemetry.ts';
import { isObject, kindOf, readOptions } from '../util.ts';
import type { HostAbortSignal } from '../runtime/host-types.ts';

/** Verifier keys as the server takes them: an array. */
function keysOf(options: { keys: VerifierKeys } | undefined): string[] {
  const keys = options?.keys;
  return typeof keys === 'string' ? [keys] : Array.isArray(keys) ? [...keys] : (keys as unknown as string[]);
}

/** What `createClient` takes: the server and how to reach it, and where the client's telemetry goes. */
export interface ClientOptions extends HttpOptions {
  /**
   * OpenTelemetry spans and metrics of the client's sessions, as `createRuntime({ telemetry })` takes them
   * (`docs/observability.md`): default the global API's providers, or these, or `false` for none.
   */
  telemetry?: TelemetrySetting;
}

/** A client of the CRA server at `baseUrl`. */
export function createClient(options: ClientOptions): HttpRuntime {
  const transport = new HttpTransport(options);
  checkTelemetry(options.telemetry, '/telemetry');
  return new HttpRuntime(transport, options.telemetry === undefined ? Telemetry.global : new Telemetry(options.telemetry));
}

/**
 * A {@link CraRuntime} whose core is a CRA server: every call is one HTTP request, and errors arrive as the
 * server's `CraError`s with their HTTP status. Made by {@link createClient}.
 */
export class HttpRuntime implements CraRuntime {
  readonly mode = 'http' as const;
  /** @internal how requests reach the server (base URL, key, headers, timeout). */
  readonly transport: HttpTransport;
  /** @internal spans and metrics of this client's sessions (and of guards on them). */
  readonly telemetry: Telemetry;
  private closed = false;

  /** @internal use {@link createClient}. */
  constructor(transport: HttpTransport, telemetry: Telemetry = Telemetry.global) {
    this.transport = transport;
    this.telemetry = telemetry;
  }

  /** @internal one JSON call; refused once the client is closed. */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    if (this.closed) throw new CraError('closed', 'the client is closed');
    return this.transport.request<T>(method, path, body);
  }

  // --- atlases -------------------------------------------------------------------------------------------------

  async loadAtlas(atlas: AtlasManifest | AtlasBundle, options?: LoadAtlasOptions): Promise<AtlasLoadResult> {
    const o = readOptions(options, '');
    return this.call('POST', '/v1/atlases', { ...atlasJson(atlas, o.files), replace: o.replace === true });
  }

  async validateAtlas(atlas: AtlasManifest | AtlasBundle, options?: Pick<LoadAtlasOptions, 'files'>): Promise<AtlasValidation> {
    const sent = atlasToValidate(atlas, readOptions(options, '').files);
    if ('report' in sent) return sent.report;
    const bundle = sent.bundle;
    return this.call('POST', '/v1/atlases/validate', bundle);
  }

  async unloadAtlas(atlasId: string): Promise<void> {
    await this.call('DELETE', `/v1/atlases/${segment(atlasId, '/atlas_id')}`);
  }

  async listAtlases(): Promise<AtlasSummary[]> {
    return (await this.call<{ items: AtlasSummary[] }>('GET', '/v1/atlases')).items;
  }

  async getAtlas(atlasId: string): Promise<AtlasManifest> {
    return this.call('GET', `/v1/atlases/${segment(atlasId, '/atlas_id')}`);
  }

  // --- sessions ------------------------------------------------------------------------------------------------

  async createSession(options: CreateSessionOptions): Promise<HttpSession> {
    const s = await inOptionTerms(async () => this.call<Session>('POST', '/v1/sessions', createSessionBody(options)));
    return new HttpSession(this, s.session_id, s.agent_id, s.goal);
  }

  async getSession(sessionId: string): Promise<HttpSession> {
    const ref = await this.call<{ session_id: string; agent_id: string; goal: string }>('GET', `/v1/sessions/${segment(sessionId, '/session_id')}/ref`);
    return new HttpSession(this, ref.session_id, ref.agent_id, ref.goal);
  }

  async listSessions(options?: ListSessionsOptions): Promise<SessionList> {
    const o = readOptions(options, '');
    const query = new URLSearchParams();
    for (const [key, value] of [['status', o.status], ['agent_id', o.agentId], ['limit', o.limit], ['offset', o.offset], ['order', o.order]] as const) {
      if (value !== undefined) query.set(key, String(value));
    }
    const q = query.toString();
    return this.call<SessionList>('GET', q ? `/v1/sessions?${q}` : '/v1/sessions');
  }

  // --- CARP ----------------------------------------------------------------------------------------------------

  async carp(request: CarpRequest | JsonObject): Promise<CarpResult> {
    if (!isObject(request)) throw new CraError('invalid_request', `the request must be an object, not ${kindOf(request)}`, { path: '' });
    return this.call('POST', '/v1/carp', request);
  }

  // --- traces --------------------------------------------------------------------------------------------------

  async trace(sessionId: string): Promise<TraceEvent[]> {
    return this.call('GET', `/v1/traces/${segment(sessionId, '/session_id')}`);
  }

  async verify(sessionId: string): Promise<VerifyResult> {
    return this.call('GET', `/v1/traces/${segment(sessionId, '/session_id')}/verify`);
  }

  async replay(sessionId: string): Promise<ReplayResult> {
    return this.call('POST', `/v1/traces/${segment(sessionId, '/session_id')}/replay`);
  }

  // --- proofs --------------------------------------------------------------------------------------------------

  async checkpoint(sessionId: string): Promise<Checkpoint> {
    return this.call('POST', `/v1/sessions/${segment(sessionId, '/session_id')}/checkpoints`);
  }

  async checkpointKey(): Promise<string | null> {
    return (await this.call<{ key: string | null }>('GET', '/v1/checkpoint-key')).key;
  }

  async checkpoints(sessionId: string): Promise<Checkpoint[]> {
    return (await this.call<{ items: Checkpoint[] }>('GET', `/v1/sessions/${segment(sessionId, '/session_id')}/checkpoints`)).items;
  }

  async prove(sessionId: string, query: ProveQuery): Promise<Proof> {
    if (!isObject(query)) throw new CraError('invalid_request', 'say what to prove: { index, size? } or { first, second? }', { path: '' });
    const params = new URLSearchParams();
    for (const key of ['index', 'size', 'first', 'second'] as const) {
      const v = (query as Record<string, unknown>)[key];
      if (v !== undefined) params.set(key, String(v));
    }
    return this.call('GET', `/v1/sessions/${segment(sessionId, '/session_id')}/proof?${params}`);
  }

  async receipt(sessionId: string, executionId: string): Promise<Receipt> {
    return this.call('GET', `/v1/sessions/${segment(sessionId, '/session_id')}/receipts/${segment(executionId, '/execution_id')}`);
  }

  async verifyCheckpoint(note: string, options: { keys: VerifierKeys }): Promise<CheckpointVerdict> {
    return this.call('POST', '/v1/checkpoints/verify', { note, keys: keysOf(options) });
  }

  async verifyProof(proof: Proof, options: Omit<VerifyProofOptions, 'wasm'> = {}): Promise<ProofVerdict> {
    const { event, checkpoint, firstCheckpoint, keys } = readOptions(options, '');
    return this.call('POST', '/v1/proofs/verify', {
      proof,
      ...(event !== undefined ? { event } : {}),
      ...(checkpoint !== undefined ? { checkpoint } : {}),
      ...(firstCheckpoint !== undefined ? { first_checkpoint: firstCheckpoint } : {}),
      ...(keys !== undefined ? { keys: keysOf({ keys }) } : {}),
    });
  }

  async verifyReceipt(receipt: Receipt, options: { keys: VerifierKeys }): Promise<ReceiptVerdict> {
    return this.call('POST', '/v1/receipts/verify', { receipt, keys: keysOf(options) });
  }

  async syncState(sessionId: string): Promise<SyncState> {
    return this.call('GET', `/v1/sessions/${segment(sessionId, '/session_id')}/sync`);
  }

  async sync(upload: SyncUpload): Promise<SyncResult> {
    const first = isObject(upload) && Array.isArray(upload.events) && isObject(upload.events[0]) ? upload.events[0].session_id : undefined;
    const id = isObject(upload) && upload.session_id !== undefined ? upload.session_id : first;
    if (typeof id !== 'string') throw new CraError('invalid_request', '`session_id` is required, or a first event naming its session', { path: '/session_id' });
    return this.call('POST', `/v1/sessions/${segment(id, '/session_id')}/sync`, upload);
  }

  async diff(a: readonly TraceEvent[], b: readonly TraceEvent[]): Promise<DiffResult> {
    return this.call('POST', '/v1/traces/diff', { a, b });
  }

  /**
   * The live events of a session (Server-Sent Events): its past events, then each new one as it is recorded; ends
   * after `session.ended`, when `signal` aborts, or when the server stops.
   */
  async *events(sessionId: string, options?: { sinceSequence?: number; signal?: HostAbortSignal }): AsyncGenerator<TraceEvent> {
    if (this.closed) throw new CraError('closed', 'the client is closed');
    const o = readOptions(options, '');
    const since = o.sinceSequence;
    if (since !== undefined && (typeof since !== 'number' || !Number.isSafeInteger(since) || since < 0)) {
      throw new CraError('invalid_request', 'sinceSequence must be a non-negative integer', { path: '/sinceSequence' });
    }
    if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
      throw new CraError('invalid_request', 'signal must be an AbortSignal', { path: '/signal' });
    }
    const query = since !== undefined ? `?since_sequence=${since}` : '';
    const res = await this.transport.send('GET', `/v1/traces/${segment(sessionId, '/session_id')}/stream${query}`, undefined, 'text/event-stream', o.signal);
    yield* parseSse(res, o.signal);
  }

  async stats(): Promise<RuntimeStats> {
    return this.call('GET', '/v1/stats');
  }

  /** Nothing is buffered client-side: the server stores every event before it answers. */
  async flush(): Promise<void> {
    if (this.closed) throw new CraError('closed', 'the client is closed');
  }

  /** Refuses further calls (the server and its sessions are not affected). */
  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Trace events of an SSE response, in order; stops at `event: end`. */
async function* parseSse(res: Response, signal?: AbortSignal): AsyncGenerator<TraceEvent> {
  if (!res.body) throw errorWithStatus('invalid_json', 'the event stream answered no body', null, 502);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      if (signal?.aborted) return;
      const { done, value } = await reader.read();
      if (done) return;
      buffer += value.replaceAll('\r\n', '\n');
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
        }
        if (event === 'end') return;
        if (event === 'message' && data.length > 0) yield sseEvent(data.join('\n'));
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** One event of the stream; a server that sends something else is answered as a bad gateway. */
function sseEvent(data: string): TraceEvent {
  try {
    return JSON.parse(data) as TraceEvent;
  } catch (err) {
    throw errorWithStatus('invalid_json', 'the event stream sent an event that is not JSON', null, 502, err);
  }
}
