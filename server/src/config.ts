/**
 * Server configuration from environment variables (no Node imports: the caller passes the environment).
 *
 * Every variable, its default and its meaning: {@link describe} (rendered by `cra serve --help`).
 *
 * @module
 */

import { CraError } from '../../sdk/src/errors.ts';
import type { RuntimeOptions } from '../../sdk/src/runtime/runtime.ts';
import { DEFAULT_MAX_BODY_BYTES } from './app.ts';

/** The embedded runtime's options that the environment sets; only those given (the runtime has the defaults). */
export type RuntimeConfig = Pick<RuntimeOptions, 'clockSkewSeconds' | 'defaultDecision' | 'maxContextTokens' | 'defaultTtlSeconds' | 'sessions' | 'signing' | 'trustedKeys'>;

/** The server's settings, as `parseConfig` reads them from `CRA_*` variables (`describe()` lists each with its default). */
export interface ServerConfig {
  /** TCP port to listen on (0: any free port). */
  port: number;
  /** Interface to listen on. */
  host: string;
  /** `undefined`: the bundled example atlases. */
  atlasDir: string | undefined;
  /** Where traces, the session index and session owners are kept. */
  dataDir: string;
  /**
   * When a request that records events is answered: once they are fdatasynced (`fsync`, the default: what the
   * server acknowledged survives a machine crash), or once written and synced within a second (`interval`).
   */
  durability: JsonlDurability;
  /** Whether requests need an API key. */
  auth: boolean;
  /** The API keys. */
  apiKeys: string[];
  /** Admin keys: they alone load, replace and unload atlases (unless `atlasWrites` is `any-key`) and read stats and metrics. */
  adminKeys: string[];
  /** Who may load, replace and unload atlases over HTTP: admin keys only (default), or every key. */
  atlasWrites: AtlasWrites;
  /** Largest request body, bytes. */
  maxBodyBytes: number;
  /** Longest wait for a request's headers (Node listener). */
  headersTimeoutSeconds: number;
  /** Longest wait for a request's body once its headers arrived. */
  bodyTimeoutSeconds: number;
  /** Open connections per client address, and overall (Node listener). */
  maxConnectionsPerAddress: number;
  /** Open connections overall (Node listener). */
  maxConnections: number;
  /** Origins allowed by CORS (`*`: any); empty: no CORS headers. */
  corsOrigins: string[];
  /** Requests a minute per key; 0 = off. */
  rateLimit: number;
  /** Passed to the embedded runtime (absent: `{}`, the runtime's defaults). */
  runtime?: RuntimeConfig;
  /** The upstream MCP server of `/v1/sessions/{id}/mcp` (absent: the route answers 501). */
  mcp?: McpConfig;
  /** The request log of the Node server: a human line (`text`), JSON lines, or none. */
  logFormat?: LogSetting;
  /** A listener of its own for `GET /metrics`, without auth (absent: none; `/metrics` on the API port needs an admin key). */
  metricsPort?: number;
  /** Its interface (default 127.0.0.1: metrics name routes and counts, for the machine's own scraper). */
  metricsHost?: string;
}

/** The request log's format: a human line, JSON lines, or none. */
export type LogSetting = 'text' | 'json' | 'off';

/** The upstream MCP server behind `/v1/sessions/{id}/mcp`. */
export interface McpConfig {
  /** The command and its arguments, spawned without a shell. */
  command: string[];
  /** How long an approval-gated MCP call waits for a human before it is denied. */
  approvalTimeoutSeconds: number;
}

/** Environment variables (`process.env`, `Deno.env.toObject()`, a worker's `env`). */
export type Env = Record<string, string | undefined>;

/** `JsonlDurability` of the JSONL store, spelled here: this module runs where no file store does (workerd). */
export type JsonlDurability = 'fsync' | 'interval';

/** Who may load, replace and unload atlases over HTTP. */
export type AtlasWrites = 'admin' | 'any-key';

/** One variable of the configuration, for people: its name, its default, what it sets. */
export interface Setting {
  /** The environment variable (`CRA_PORT`). */
  name: string;
  /** As people read it: a value, or `off` / `none` when unset turns it off or sets nothing. */
  default: string;
  /** What it sets, and the values it takes. */
  meaning: string;
}

const SETTINGS: readonly Setting[] = [
  { name: 'CRA_PORT', default: '8420', meaning: 'TCP port (0: any free port)' },
  { name: 'CRA_HOST', default: '127.0.0.1', meaning: 'interface to listen on' },
  { name: 'CRA_ATLAS_DIR', default: "the package's example atlases", meaning: 'atlases loaded at start: the folder itself if it holds atlas.json, else each subfolder that does; an invalid or duplicate atlas is reported and skipped, and a folder from which none loads (missing, empty, every atlas invalid) stops the start' },
  { name: 'CRA_DATA_DIR', default: '.data', meaning: 'traces (traces/*.trace.jsonl) and session owners (owners.jsonl)' },
  { name: 'CRA_DURABILITY', default: 'fsync', meaning: 'fsync: a request that records events is answered once they are fdatasynced (concurrent appends to one trace share an fsync); interval: once written, synced within a second (a machine crash can lose that second)' },
  { name: 'CRA_AUTH', default: 'on', meaning: 'off turns authentication off (local use only)' },
  { name: 'CRA_API_KEYS', default: 'none', meaning: 'comma-separated API keys; with auth on and none set, a key is generated and printed at start' },
  { name: 'CRA_ADMIN_KEYS', default: 'none', meaning: 'comma-separated admin keys: they alone load, replace and unload atlases over HTTP, and read stats' },
  { name: 'CRA_ATLAS_WRITES', default: 'admin', meaning: 'admin: atlas writes need an admin key (with none configured, no key may); any-key: every key may' },
  { name: 'CRA_MAX_BODY_BYTES', default: '1048576', meaning: 'largest request body (413 above)' },
  { name: 'CRA_HEADERS_TIMEOUT_SECONDS', default: '10', meaning: 'longest wait for a request\'s headers (408 after; 1–3600)' },
  { name: 'CRA_BODY_TIMEOUT_SECONDS', default: '30', meaning: 'longest wait for a request\'s body once its headers arrived (408 after; 1–3600)' },
  { name: 'CRA_MAX_CONNECTIONS_PER_ADDRESS', default: '64', meaning: 'open connections per client address (one more: 429, closed)' },
  { name: 'CRA_MAX_CONNECTIONS', default: '1024', meaning: 'open connections overall (the excess is closed)' },
  { name: 'CRA_CORS_ORIGINS', default: 'off', meaning: 'comma-separated allowed origins, or *' },
  { name: 'CRA_RATE_LIMIT', default: 'off', meaning: 'requests a minute per key (token bucket, burst = the same number; 429 above)' },
  { name: 'CRA_CLOCK_SKEW_SECONDS', default: '300', meaning: 'accepted skew of CARP request timestamps (0–31536000)' },
  { name: 'CRA_DEFAULT_DECISION', default: 'deny', meaning: 'deny or allow: the decision for actions no policy matched' },
  { name: 'CRA_MAX_CONTEXT_TOKENS', default: '8000', meaning: 'context budget of a resolution when the request names none' },
  { name: 'CRA_DEFAULT_TTL_SECONDS', default: '3600', meaning: 'lifetime of resolutions (0–86400)' },
  { name: 'CRA_MAX_LIVE_SESSIONS', default: '10000', meaning: 'most sessions live in memory at once (the others are restored when used)' },
  { name: 'CRA_SESSION_IDLE_SECONDS', default: '900', meaning: 'a live session unused this long leaves memory (ended ones leave at once)' },
  { name: 'CRA_SIGNING_KEY', default: 'none', meaning: 'a signer key string (PRIVATE+KEY+…, from `cra key generate`): sessions get signed checkpoints, at their end and every CRA_CHECKPOINT_EVERY events; without it none are signed. Keep it secret (an env var or secret store, never a file in the data folder)' },
  { name: 'CRA_CHECKPOINT_EVERY', default: '1000', meaning: 'a signed checkpoint every this many events of a session, besides the one at its end (0: only those); needs CRA_SIGNING_KEY' },
  { name: 'CRA_TRUSTED_KEYS', default: 'none', meaning: 'comma-separated verifier keys whose checkpoints POST /v1/sessions/{id}/sync accepts; none: a session\'s first sync names its key, and later syncs of it must use that key' },
  { name: 'CRA_MCP_UPSTREAM', default: 'off', meaning: 'the upstream MCP server of /v1/sessions/{id}/mcp, spawned without a shell: a JSON array (["npx","some-mcp-server"]), or words split on whitespace (no quoting)' },
  { name: 'CRA_MCP_APPROVAL_TIMEOUT_SECONDS', default: '300', meaning: 'how long an approval-gated MCP call waits for a decision (1–86400)' },
  { name: 'CRA_LOG_FORMAT', default: 'text', meaning: 'the request log of the Node server, one line per request on stdout: text, json (JSON lines) or off' },
  { name: 'CRA_METRICS_PORT', default: 'off', meaning: 'a listener of its own for GET /metrics, without auth (0: any free port); /metrics on the API port needs an admin key either way' },
  { name: 'CRA_METRICS_HOST', default: '127.0.0.1', meaning: 'interface of the metrics listener' },
];

/** Every variable {@link parseConfig} reads, with its default and meaning: the one table of them (`cra serve --help`). */
export function describe(): readonly Setting[] {
  return SETTINGS;
}

/** A variable that takes one of a few words (any case, trimmed); unset or empty is the first. */
function choice<T extends string>(env: Env, name: string, first: T, ...others: T[]): T {
  const raw = (env[name] ?? '').trim().toLowerCase();
  if (raw === '' || raw === first) return first;
  const found = others.find((w) => w === raw);
  if (found !== undefined) return found;
  const words = [first, ...others].map((w) => `"${w}"`);
  const allowed = `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
  throw new CraError('invalid_request', `${name} must be ${allowed}, not ${JSON.stringify(env[name])}`, { path: `/${name}` });
}

const list = (v: string | undefined): string[] =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  return optionalInteger(env, name, min, max) ?? fallback;
}

/** An integer variable, `undefined` when unset or empty. */
function optionalInteger(env: Env, name: string, min: number, max: number): number | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new CraError('invalid_request', `${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(raw)}`, { path: `/${name}` });
  }
  return Number(raw);
}

/** The runtime options of the environment; ranges are the core's, so that a bad value fails here, named. */
function runtimeConfig(env: Env): RuntimeConfig {
  const decision = env.CRA_DEFAULT_DECISION?.trim().toLowerCase();
  if (decision !== undefined && decision !== '' && decision !== 'deny' && decision !== 'allow') {
    throw new CraError('invalid_request', `CRA_DEFAULT_DECISION must be "deny" or "allow", not ${JSON.stringify(env.CRA_DEFAULT_DECISION)}`, {
      path: '/CRA_DEFAULT_DECISION',
    });
  }
  const out: RuntimeConfig = {
    clockSkewSeconds: optionalInteger(env, 'CRA_CLOCK_SKEW_SECONDS', 0, 31_536_000),
    defaultDecision: decision === '' ? undefined : (decision as RuntimeConfig['defaultDecision']),
    maxContextTokens: optionalInteger(env, 'CRA_MAX_CONTEXT_TOKENS', 0, Number.MAX_SAFE_INTEGER),
    defaultTtlSeconds: optionalInteger(env, 'CRA_DEFAULT_TTL_SECONDS', 0, 86_400),
  };
  // Which sessions stay live in the core (the others are restored from their traces when used).
  const maxLiveSessions = optionalInteger(env, 'CRA_MAX_LIVE_SESSIONS', 1, 10_000_000);
  const idleSeconds = optionalInteger(env, 'CRA_SESSION_IDLE_SECONDS', 0, 31_536_000);
  if (maxLiveSessions !== undefined || idleSeconds !== undefined) {
    out.sessions = { ...(maxLiveSessions === undefined ? {} : { maxLiveSessions }), ...(idleSeconds === undefined ? {} : { idleSeconds }) };
  }
  const key = env.CRA_SIGNING_KEY?.trim();
  const every = optionalInteger(env, 'CRA_CHECKPOINT_EVERY', 0, Number.MAX_SAFE_INTEGER);
  if (key) {
    if (!key.startsWith('PRIVATE+KEY+')) {
      throw new CraError('invalid_request', 'CRA_SIGNING_KEY must be a signer key string (PRIVATE+KEY+<name>+<key id>+<base64>, from `cra key generate`)', { path: '/CRA_SIGNING_KEY' });
    }
    out.signing = { key, ...(every === undefined ? {} : { every }) };
  } else if (every !== undefined) {
    throw new CraError('invalid_request', 'CRA_CHECKPOINT_EVERY needs CRA_SIGNING_KEY', { path: '/CRA_CHECKPOINT_EVERY' });
  }
  const trusted = list(env.CRA_TRUSTED_KEYS);
  if (trusted.length > 0) out.trustedKeys = trusted;
  for (const k of Object.keys(out) as Array<keyof RuntimeConfig>) if (out[k] === undefined) delete out[k];
  return out;
}

/**
 * `CRA_MCP_UPSTREAM`: a JSON array of strings when it starts with `[`, else the words of the value split on
 * whitespace (no quoting, no shell: use the JSON form for arguments with spaces).
 */
function mcpConfig(env: Env): McpConfig | undefined {
  const raw = env.CRA_MCP_UPSTREAM?.trim();
  if (raw === undefined || raw === '') return undefined;
  let command: unknown;
  if (raw.startsWith('[')) {
    try {
      command = JSON.parse(raw);
    } catch {
      command = null;
    }
  } else {
    command = raw.split(/\s+/);
  }
  if (!Array.isArray(command) || command.length === 0 || command.some((a) => typeof a !== 'string') || command[0] === '') {
    throw new CraError('invalid_request', `CRA_MCP_UPSTREAM must be a command line or a JSON array of strings, not ${JSON.stringify(env.CRA_MCP_UPSTREAM)}`, {
      path: '/CRA_MCP_UPSTREAM',
    });
  }
  return { command: command as string[], approvalTimeoutSeconds: integer(env, 'CRA_MCP_APPROVAL_TIMEOUT_SECONDS', 300, 1, 86_400) };
}

/** Reads the configuration; throws `invalid_request` naming the variable for a bad value. */
export function parseConfig(env: Env): ServerConfig {
  const authRaw = (env.CRA_AUTH ?? 'on').trim().toLowerCase();
  if (authRaw !== 'on' && authRaw !== 'off' && authRaw !== '') {
    throw new CraError('invalid_request', `CRA_AUTH must be "on" or "off", not ${JSON.stringify(env.CRA_AUTH)}`, { path: '/CRA_AUTH' });
  }
  const nonEmpty = (name: string) => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const mcp = mcpConfig(env);
  const metricsPort = optionalInteger(env, 'CRA_METRICS_PORT', 0, 65535);
  return {
    port: integer(env, 'CRA_PORT', 8420, 0, 65535),
    host: nonEmpty('CRA_HOST') ?? '127.0.0.1',
    atlasDir: nonEmpty('CRA_ATLAS_DIR'),
    dataDir: nonEmpty('CRA_DATA_DIR') ?? '.data',
    durability: choice<JsonlDurability>(env, 'CRA_DURABILITY', 'fsync', 'interval'),
    auth: authRaw !== 'off',
    apiKeys: list(env.CRA_API_KEYS),
    adminKeys: list(env.CRA_ADMIN_KEYS),
    atlasWrites: choice<AtlasWrites>(env, 'CRA_ATLAS_WRITES', 'admin', 'any-key'),
    maxBodyBytes: integer(env, 'CRA_MAX_BODY_BYTES', DEFAULT_MAX_BODY_BYTES, 1, 1024 * 1024 * 1024),
    headersTimeoutSeconds: integer(env, 'CRA_HEADERS_TIMEOUT_SECONDS', 10, 1, 3600),
    bodyTimeoutSeconds: integer(env, 'CRA_BODY_TIMEOUT_SECONDS', 30, 1, 3600),
    maxConnectionsPerAddress: integer(env, 'CRA_MAX_CONNECTIONS_PER_ADDRESS', 64, 1, 1_000_000),
    maxConnections: integer(env, 'CRA_MAX_CONNECTIONS', 1024, 1, 1_000_000),
    corsOrigins: list(env.CRA_CORS_ORIGINS),
    rateLimit: integer(env, 'CRA_RATE_LIMIT', 0, 0, 1_000_000),
    runtime: runtimeConfig(env),
    ...(mcp ? { mcp } : {}),
    logFormat: choice<LogSetting>(env, 'CRA_LOG_FORMAT', 'text', 'json', 'off'),
    ...(metricsPort === undefined ? {} : { metricsPort }),
    metricsHost: nonEmpty('CRA_METRICS_HOST') ?? '127.0.0.1',
  };
}
