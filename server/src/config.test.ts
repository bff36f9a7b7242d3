import { open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { tempDir } from '../../sdk/test/helpers.ts';
import { describe as describeSettings, parseConfig } from './config.ts';
import { startServer } from './adapter/node/index.ts';
import { http, KEY_A } from './testing.ts';

describe('parseConfig', () => {
  it('has safe defaults: auth on, loopback, port 8420, atlas writes for admins, 1 MiB bodies, bounded waits and connections, no CORS, no rate limit', () => {
    expect(parseConfig({})).toEqual({
      port: 8420,
      host: '127.0.0.1',
      atlasDir: undefined,
      dataDir: '.data',
      durability: 'fsync',
      auth: true,
      apiKeys: [],
      adminKeys: [],
      atlasWrites: 'admin',
      maxBodyBytes: 1024 * 1024,
      headersTimeoutSeconds: 10,
      bodyTimeoutSeconds: 30,
      maxConnectionsPerAddress: 64,
      maxConnections: 1024,
      corsOrigins: [],
      rateLimit: 0,
      runtime: {},
      logFormat: 'text',
      metricsHost: '127.0.0.1',
    });
  });

  it('reads every variable', () => {
    expect(
      parseConfig({
        CRA_PORT: '9000',
        CRA_HOST: '0.0.0.0',
        CRA_ATLAS_DIR: '/atlases',
        CRA_DATA_DIR: '/var/lib/cra',
        CRA_DURABILITY: 'interval',
        CRA_AUTH: 'on',
        CRA_API_KEYS: ' key-one-0123456789 , key-two-0123456789,,',
        CRA_ADMIN_KEYS: 'admin-key-0123456789',
        CRA_ATLAS_WRITES: 'any-key',
        CRA_MAX_BODY_BYTES: '2048',
        CRA_HEADERS_TIMEOUT_SECONDS: '5',
        CRA_BODY_TIMEOUT_SECONDS: '20',
        CRA_MAX_CONNECTIONS_PER_ADDRESS: '16',
        CRA_MAX_CONNECTIONS: '256',
        CRA_CORS_ORIGINS: 'https://a.example, https://b.example',
        CRA_RATE_LIMIT: '120',
        CRA_CLOCK_SKEW_SECONDS: '60',
        CRA_DEFAULT_DECISION: 'allow',
        CRA_MAX_CONTEXT_TOKENS: '2000',
        CRA_DEFAULT_TTL_SECONDS: '120',
        CRA_MAX_LIVE_SESSIONS: '500',
        CRA_SESSION_IDLE_SECONDS: '60',
        CRA_LOG_FORMAT: 'JSON',
        CRA_METRICS_PORT: '9464',
        CRA_METRICS_HOST: '0.0.0.0',
      }),
    ).toEqual({
      port: 9000,
      host: '0.0.0.0',
      atlasDir: '/atlases',
      dataDir: '/var/lib/cra',
      durability: 'interval',
      auth: true,
      apiKeys: ['key-one-0123456789', 'key-two-0123456789'],
      adminKeys: ['admin-key-0123456789'],
      atlasWrites: 'any-key',
      maxBodyBytes: 2048,
      headersTimeoutSeconds: 5,
      bodyTimeoutSeconds: 20,
      maxConnectionsPerAddress: 16,
      maxConnections: 256,
      corsOrigins: ['https://a.example', 'https://b.example'],
      rateLimit: 120,
      runtime: { clockSkewSeconds: 60, defaultDecision: 'allow', maxContextTokens: 2000, defaultTtlSeconds: 120, sessions: { maxLiveSessions: 500, idleSeconds: 60 } },
      logFormat: 'json',
      metricsPort: 9464,
      metricsHost: '0.0.0.0',
    });
  });

  it('turns auth off only when told exactly', () => {
    expect(parseConfig({ CRA_AUTH: 'off' }).auth).toBe(false);
    expect(parseConfig({ CRA_AUTH: 'OFF' }).auth).toBe(false);
    expect(() => parseConfig({ CRA_DURABILITY: 'sometimes' })).toThrow(expect.objectContaining({ code: 'invalid_request', path: '/CRA_DURABILITY' }));
    expect(() => parseConfig({ CRA_AUTH: 'no' })).toThrow(expect.objectContaining({ code: 'invalid_request', path: '/CRA_AUTH' }));
    expect(() => parseConfig({ CRA_AUTH: 'false' })).toThrow(expect.objectContaining({ path: '/CRA_AUTH' }));
  });

  it('reads the request log format as one of three words, naming them when refused', () => {
    expect(parseConfig({ CRA_LOG_FORMAT: ' Off ' }).logFormat).toBe('off');
    expect(() => parseConfig({ CRA_LOG_FORMAT: 'yaml' })).toThrow(
      expect.objectContaining({ path: '/CRA_LOG_FORMAT', message: 'CRA_LOG_FORMAT must be "text", "json" or "off", not "yaml"' }),
    );
    expect(() => parseConfig({ CRA_DURABILITY: 'x' })).toThrow(expect.objectContaining({ message: 'CRA_DURABILITY must be "fsync" or "interval", not "x"' }));
    expect(() => parseConfig({ CRA_METRICS_PORT: '65536' })).toThrow(expect.objectContaining({ path: '/CRA_METRICS_PORT' }));
  });

  it('refuses malformed numbers, naming the variable', () => {
    expect(() => parseConfig({ CRA_PORT: 'eighty' })).toThrow(expect.objectContaining({ path: '/CRA_PORT' }));
    expect(() => parseConfig({ CRA_PORT: '70000' })).toThrow(expect.objectContaining({ path: '/CRA_PORT' }));
    expect(() => parseConfig({ CRA_MAX_BODY_BYTES: '0' })).toThrow(expect.objectContaining({ path: '/CRA_MAX_BODY_BYTES' }));
    expect(() => parseConfig({ CRA_RATE_LIMIT: '-1' })).toThrow(expect.objectContaining({ path: '/CRA_RATE_LIMIT' }));
    expect(parseConfig({ CRA_PORT: '0' }).port).toBe(0);
  });

  it('reads the runtime options, within the core’s ranges; empty means the runtime’s default', () => {
    expect(parseConfig({ CRA_DEFAULT_DECISION: ' DENY ', CRA_CLOCK_SKEW_SECONDS: '0', CRA_DEFAULT_TTL_SECONDS: '86400' }).runtime).toEqual({
      defaultDecision: 'deny',
      clockSkewSeconds: 0,
      defaultTtlSeconds: 86400,
    });
    expect(parseConfig({ CRA_DEFAULT_DECISION: '', CRA_MAX_CONTEXT_TOKENS: ' ' }).runtime).toEqual({});
    for (const [name, value] of [
      ['CRA_DEFAULT_DECISION', 'maybe'],
      ['CRA_DEFAULT_DECISION', 'allowed'],
      ['CRA_CLOCK_SKEW_SECONDS', '-5'],
      ['CRA_CLOCK_SKEW_SECONDS', '31536001'],
      ['CRA_CLOCK_SKEW_SECONDS', '1.5'],
      ['CRA_MAX_CONTEXT_TOKENS', 'lots'],
      ['CRA_MAX_CONTEXT_TOKENS', '1e4'],
      ['CRA_DEFAULT_TTL_SECONDS', '86401'],
      ['CRA_DEFAULT_TTL_SECONDS', '1h'],
      ['CRA_ATLAS_WRITES', 'everyone'],
      ['CRA_HEADERS_TIMEOUT_SECONDS', '0'],
      ['CRA_BODY_TIMEOUT_SECONDS', '3601'],
      ['CRA_MAX_CONNECTIONS_PER_ADDRESS', '0'],
      ['CRA_MAX_CONNECTIONS', 'many'],
      ['CRA_MAX_LIVE_SESSIONS', '0'],
      ['CRA_SESSION_IDLE_SECONDS', '-1'],
    ] as const) {
      expect(() => parseConfig({ [name]: value }), `${name}=${value}`).toThrow(
        expect.objectContaining({ code: 'invalid_request', path: `/${name}`, message: expect.stringContaining(JSON.stringify(value)) }),
      );
    }
  });

  it('answers a request that records events once they are fdatasynced (CRA_DURABILITY=fsync, the default), not with interval', async () => {
    const probe = await open(new URL(import.meta.url), 'r');
    const proto = Object.getPrototypeOf(probe) as FileHandle;
    await probe.close();
    const real = proto.datasync;
    /** The inodes of the files fdatasynced so far. */
    const synced = new Set<number>();
    vi.spyOn(proto, 'datasync').mockImplementation(async function (this: FileHandle) {
      const { ino } = await this.stat();
      await real.call(this);
      synced.add(ino);
    });
    try {
      for (const [env, durable] of [[{}, true], [{ CRA_DURABILITY: 'interval' }, false]] as const) {
        synced.clear();
        const data = await tempDir();
        const server = await startServer({ ...parseConfig({ CRA_PORT: '0', CRA_API_KEYS: KEY_A, ...env }), dataDir: data.dir }, { log: () => undefined });
        try {
          const created = await http(server.url, 'POST', '/v1/sessions', { key: KEY_A, body: { agent_id: 'support-bot', goal: 'Durable' } });
          const { ino } = await stat(join(data.dir, 'traces', `${created.body.session_id}.trace.jsonl`));
          expect(synced.has(ino), JSON.stringify(env)).toBe(durable);
        } finally {
          await server.close();
          await data.cleanup();
        }
      }
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('passes the runtime options to the embedded runtime at start', async () => {
    const data = await tempDir();
    const server = await startServer(
      {
        ...parseConfig({
          CRA_PORT: '0',
          CRA_API_KEYS: KEY_A,
          CRA_CLOCK_SKEW_SECONDS: '5',
          CRA_DEFAULT_DECISION: 'allow',
          CRA_MAX_CONTEXT_TOKENS: '2000',
          CRA_DEFAULT_TTL_SECONDS: '120',
          CRA_HEADERS_TIMEOUT_SECONDS: '7',
          CRA_BODY_TIMEOUT_SECONDS: '9',
          CRA_MAX_CONNECTIONS: '99',
        }),
        dataDir: data.dir,
      },
      { log: () => undefined },
    );
    try {
      expect(server.runtime.configuration).toMatchObject({
        clock_skew_seconds: 5,
        default_decision: 'allow',
        max_context_tokens: 2000,
        default_ttl_seconds: 120,
      });
      const call = (path: string, body: unknown) => http(server.url, 'POST', path, { key: KEY_A, body });
      const id = (await call('/v1/sessions', { agent_id: 'support-bot', goal: 'Configured' })).body.session_id;
      expect((await call(`/v1/sessions/${id}/resolve`, {})).body.ttl_seconds).toBe(120);
      // And the listener's limits to Node.
      expect([server.server.headersTimeout, server.server.requestTimeout, server.server.maxConnections]).toEqual([7000, 7000 + 9000 + 5000, 99]);
      const late = await call(`/v1/sessions/${id}/resolve`, { timestamp: new Date(Date.now() - 60_000).toISOString() });
      expect([late.status, late.body.error.code]).toEqual([400, 'clock_skew']);
    } finally {
      await server.close();
      await data.cleanup();
    }
  });
});

describe('the table of settings (describe)', () => {
  /** The variables `parseConfig(env)` reads, recorded as it reads them. */
  const readBy = (env: Record<string, string>): Set<string> => {
    const read = new Set<string>();
    parseConfig(
      new Proxy(env, {
        get(target, name) {
          if (typeof name === 'string') read.add(name);
          return Reflect.get(target, name);
        },
      }),
    );
    return read;
  };

  it('names every variable parseConfig reads, once each, with a default and a meaning', () => {
    // With an upstream MCP server configured, its approval timeout is read too.
    const read = new Set([...readBy({}), ...readBy({ CRA_MCP_UPSTREAM: 'node server.js' })]);
    const names = describeSettings().map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    expect([...read].filter((v) => !names.includes(v))).toEqual([]);
    expect(names.filter((v) => !read.has(v))).toEqual([]);
    for (const s of describeSettings()) expect([s.name, s.default.length > 0, s.meaning.length > 0]).toEqual([s.name, true, true]);
  });

  it("server/README.md's Configuration table names the same variables", async () => {
    const readme = await readFile(join(import.meta.dirname, '..', 'README.md'), 'utf8');
    const table = (readme.split('\n## Configuration\n')[1] ?? '').split('\n## ')[0]!;
    const documented = [...table.matchAll(/^\| `(CRA_[A-Z_]+)` \|/gm)].map((m) => m[1]!);
    expect([...documented].sort()).toEqual(describeSettings().map((s) => s.name).sort());
  });
});
