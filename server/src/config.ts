/**
 * Server configuration from environment variables (no Node imports: the caller passes the environment).
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | `CRA_PORT` | 8420 | TCP port (0: any free port) |
 * | `CRA_HOST` | 127.0.0.1 | interface to listen on |
 * | `CRA_ATLAS_DIR` | the bundled `examples/atlases` | atlases loaded at start: the folder itself if it holds `atlas.json`, else each subfolder that does |
 * | `CRA_DATA_DIR` | `.data` | traces (`traces/*.trace.jsonl`) and session owners (`owners.jsonl`) |
 * | `CRA_AUTH` | on | `off` turns authentication off (local use only) |
 * | `CRA_API_KEYS` | — | comma-separated API keys; with auth on and none set, a key is generated and printed at start |
 * | `CRA_ADMIN_KEYS` | — | comma-separated keys that may also load/unload atlases over HTTP |
 * | `CRA_MAX_BODY_BYTES` | 1048576 | largest request body (413 above) |
 * | `CRA_CORS_ORIGINS` | — (off) | comma-separated allowed origins, or `*` |
 * | `CRA_RATE_LIMIT` | — (off) | requests a minute per key (token bucket, burst = the same number; 429 above) |
 *
 * @module
 */

import { CraError } from '../../sdk/src/errors.ts';
import { DEFAULT_MAX_BODY_BYTES } from './app.ts';

export interface ServerConfig {
  port: number;
  host: string;
  /** `undefined`: the bundled example atlases. */
  atlasDir: string | undefined;
  dataDir: string;
  auth: boolean;
  apiKeys: string[];
  adminKeys: string[];
  maxBodyBytes: number;
  corsOrigins: string[];
  /** Requests a minute per key; 0 = off. */
  rateLimit: number;
}

export type Env = Record<string, string | undefined>;

const list = (v: string | undefined): string[] =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new CraError('invalid_request', `${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(raw)}`, { path: `/${name}` });
  }
  return Number(raw);
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
  return {
    port: integer(env, 'CRA_PORT', 8420, 0, 65535),
    host: nonEmpty('CRA_HOST') ?? '127.0.0.1',
    atlasDir: nonEmpty('CRA_ATLAS_DIR'),
    dataDir: nonEmpty('CRA_DATA_DIR') ?? '.data',
    auth: authRaw !== 'off',
    apiKeys: list(env.CRA_API_KEYS),
    adminKeys: list(env.CRA_ADMIN_KEYS),
    maxBodyBytes: integer(env, 'CRA_MAX_BODY_BYTES', DEFAULT_MAX_BODY_BYTES, 1, 1024 * 1024 * 1024),
    corsOrigins: list(env.CRA_CORS_ORIGINS),
    rateLimit: integer(env, 'CRA_RATE_LIMIT', 0, 0, 1_000_000),
  };
}
