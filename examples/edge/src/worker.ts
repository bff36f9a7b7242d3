/**
 * CRA on Cloudflare Workers: the same Hono app as the Node server (`createApp`), the core imported as a WebAssembly
 * module (the package's `workerd` build does `import core from './cra_core.wasm'`), and every session in its own
 * Durable Object.
 *
 * - Requests about a session (`/v1/sessions/:id/…`, `/v1/traces/:id/…`, and `POST /v1/resolve|execute|carp` naming
 *   it) go to the Durable Object named by the session id, so each chain is appended in one place, in order.
 * - `POST /v1/sessions` picks the id (a UUIDv7 unless the body names one) and creates the session in its object.
 * - The object holds an embedded runtime and the app, its trace and owner in Durable Object storage
 *   (`storage.ts`): after an eviction or a deploy it restores the session and checks its chain.
 * - `GET /v1/sessions` asks the object of every session listed in a directory object (each answers only what the
 *   caller's key may see, with the filters), then pages the merged list (`limit`, `offset`; `total` before paging).
 * - Everything else (health, OpenAPI, atlases, diff) is answered by the app over a runtime with the atlases and no
 *   sessions. The atlases are deployed with the worker (`src/atlases/`): loading one over HTTP would change one
 *   object only, so it is refused.
 *
 * Configuration: the server's variables (`CRA_API_KEYS` as a secret, `CRA_AUTH`, `CRA_MAX_BODY_BYTES`,
 * `CRA_CORS_ORIGINS`, `CRA_RATE_LIMIT`); see wrangler.toml.
 */

import { createRuntime, CraError, systemIds, type AtlasBundle, type EmbeddedRuntime, type SessionSummary } from 'cra-runtime';
import { createApp, observeStore, parseConfig, TraceEvents, type App, type AppOptions } from 'cra-runtime/server';
import support from './atlases/support.json';
import type { DurableObjectNamespace, DurableObjectState, ExecutionContext } from './cloudflare.ts';
import { DurableOwners, DurableTraceStore } from './storage.ts';

export interface Env {
  /** One object per session (class CraSession). */
  SESSIONS: DurableObjectNamespace;
  /** The list of sessions (class CraDirectory, one object). */
  DIRECTORY: DurableObjectNamespace;
  CRA_AUTH?: string;
  CRA_API_KEYS?: string;
  CRA_ADMIN_KEYS?: string;
  CRA_MAX_BODY_BYTES?: string;
  CRA_CORS_ORIGINS?: string;
  CRA_RATE_LIMIT?: string;
}

/** The atlases every runtime of this worker loads. */
export const ATLASES: AtlasBundle[] = [support as unknown as AtlasBundle];

/** The app's options from the environment (the server's variables). */
function appOptions(env: Env): Pick<AppOptions, 'auth' | 'maxBodyBytes' | 'corsOrigins' | 'rateLimit'> {
  const config = parseConfig(env as unknown as Record<string, string | undefined>);
  if (config.auth && config.apiKeys.length + config.adminKeys.length === 0) {
    throw new CraError('invalid_request', 'no API key configured: set CRA_API_KEYS (wrangler secret put CRA_API_KEYS), or CRA_AUTH=off for local use', {
      path: '/CRA_API_KEYS',
    });
  }
  return {
    auth: config.auth ? { keys: config.apiKeys, adminKeys: config.adminKeys } : false,
    maxBodyBytes: config.maxBodyBytes,
    corsOrigins: config.corsOrigins,
    rateLimit: config.rateLimit > 0 ? { perMinute: config.rateLimit } : false,
  };
}

function errorResponse(status: number, code: string, message: string, path: string | null = null): Response {
  return Response.json({ error: { code, message, path } }, { status });
}

function failure(err: unknown): Response {
  if (err instanceof CraError) return errorResponse(500, err.code, err.message, err.path ?? null);
  return errorResponse(500, 'internal', err instanceof Error ? err.message : String(err));
}

/** One session: an embedded runtime, the app over it, the trace and the owner in this object's storage. */
export class CraSession {
  private app: App | null = null;
  private runtime: EmbeddedRuntime | null = null;
  private failed: unknown = null;

  constructor(state: DurableObjectState, env: Env) {
    void state.blockConcurrencyWhile(async () => {
      try {
        const events = new TraceEvents();
        const owners = await DurableOwners.load(state.storage);
        this.runtime = await createRuntime({
          storage: observeStore(new DurableTraceStore(state.storage), events),
          atlases: ATLASES,
        });
        this.app = createApp({ ...appOptions(env), runtime: this.runtime, events, owners });
      } catch (err) {
        this.failed = err;
      }
    });
  }

  async fetch(request: Request): Promise<Response> {
    if (!this.app) return failure(this.failed);
    return this.app.fetch(request);
  }
}

/** The ids of the sessions created through this worker, oldest first. */
export class CraDirectory {
  constructor(private readonly state: DurableObjectState) {}

  async fetch(request: Request): Promise<Response> {
    if (request.method === 'POST') {
      const { session_id } = (await request.json()) as { session_id: string };
      const seq = ((await this.state.storage.get<number>('seq')) ?? 0) + 1;
      await this.state.storage.put({ seq, [`session:${String(seq).padStart(12, '0')}`]: session_id });
      return new Response(null, { status: 204 });
    }
    const rows = await this.state.storage.list<string>({ prefix: 'session:', limit: LIST_LIMIT, reverse: true });
    return Response.json([...rows.values()].reverse());
  }
}

/** The sessions a listing asks about (the newest ones). */
const LIST_LIMIT = 1000;

let front: Promise<App> | null = null;

/** The app for requests about no particular session: the atlases, no sessions. */
function frontApp(env: Env): Promise<App> {
  front ??= (async () => {
    const runtime = await createRuntime({ atlases: ATLASES });
    return createApp({ ...appOptions(env), runtime });
  })();
  front.catch(() => (front = null));
  return front;
}

const SESSION_PATH = /^\/v1\/(?:sessions|traces)\/([^/]+)(?:\/|$)/;
const CARP_PATH = /^\/v1\/(?:resolve|execute|carp)$/;

function session(env: Env, id: string) {
  return env.SESSIONS.get(env.SESSIONS.idFromName(id));
}

function directory(env: Env) {
  return env.DIRECTORY.get(env.DIRECTORY.idFromName('directory'));
}

/** The same request with another body. */
function withBody(request: Request, body: string): Request {
  return new Request(request.url, { method: request.method, headers: request.headers, body });
}

async function jsonBody(request: Request): Promise<{ text: string; value: unknown }> {
  const text = await request.text();
  try {
    return { text, value: JSON.parse(text) };
  } catch {
    return { text, value: undefined };
  }
}

/** Oldest first, as the Node server lists them (a stable sort: the directory's order breaks ties). */
function inCreationOrder(sessions: SessionSummary[]): SessionSummary[] {
  return [...sessions].sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export default {
  async fetch(request: Request, env: Env, _ctx: ExecutionContext): Promise<Response> {
    try {
      const { pathname } = new URL(request.url);
      const method = request.method;

      const path = SESSION_PATH.exec(pathname);
      if (path && !(pathname === '/v1/traces/diff')) return session(env, decodeURIComponent(path[1]!)).fetch(request);

      if (method === 'POST' && pathname === '/v1/sessions') {
        const { text, value } = await jsonBody(request);
        if (!isObject(value)) return (await frontApp(env)).fetch(withBody(request, text)); // answers the error
        const id = value.session_id === undefined || value.session_id === null ? systemIds() : value.session_id;
        if (typeof id !== 'string') return (await frontApp(env)).fetch(withBody(request, text));
        const res = await session(env, id).fetch(withBody(request, JSON.stringify({ ...value, session_id: id })));
        if (res.status === 201) {
          await directory(env).fetch(new Request('https://directory/', { method: 'POST', body: JSON.stringify({ session_id: id }) }));
        }
        return res;
      }

      if (method === 'POST' && CARP_PATH.test(pathname)) {
        const { text, value } = await jsonBody(request);
        const requester = isObject(value) && isObject(value.requester) ? value.requester : value;
        const id = isObject(requester) ? requester.session_id : undefined;
        const forwarded = withBody(request, text);
        return typeof id === 'string' ? session(env, id).fetch(forwarded) : (await frontApp(env)).fetch(forwarded);
      }

      if (method === 'GET' && pathname === '/v1/sessions') {
        // The front app checks the key and the query (and answers an empty list); then each object answers for its session.
        // Paging applies to the whole list: each object gets the filters only, `limit`/`offset` are applied here to
        // the merged list, and `total` counts every matching session (before paging), as the Node server answers.
        const checked = await (await frontApp(env)).fetch(request);
        if (checked.status !== 200) return checked;
        const query = new URL(request.url);
        const limit = query.searchParams.get('limit');
        const offset = query.searchParams.get('offset');
        query.searchParams.delete('limit');
        query.searchParams.delete('offset');
        const ids = (await (await directory(env).fetch(new Request('https://directory/'))).json()) as string[];
        const lists = await Promise.all(
          ids.map(async (id) => {
            const res = await session(env, id).fetch(new Request(query, { headers: request.headers }));
            return res.ok ? ((await res.json()) as { items: SessionSummary[] }).items : [];
          }),
        );
        const matching = inCreationOrder(lists.flat());
        const from = offset === null ? 0 : Number(offset);
        const items = matching.slice(from, from + (limit === null ? 100 : Number(limit))); // the Node server's default page
        return Response.json({ items, total: matching.length });
      }

      if ((method === 'POST' && pathname === '/v1/atlases') || (method === 'DELETE' && pathname.startsWith('/v1/atlases/'))) {
        return errorResponse(403, 'forbidden', 'atlases are deployed with the worker (src/atlases/); they cannot be loaded or unloaded over HTTP here');
      }

      return (await frontApp(env)).fetch(request);
    } catch (err) {
      return failure(err);
    }
  },
};
