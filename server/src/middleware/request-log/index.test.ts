/**
 * The request log over real HTTP: one line per request with what an operator needs (method, path, status, duration,
 * request id, session, key id) and nothing a caller must keep (the key, its headers, bodies, credential-like query
 * values); the request id kept from a well-formed `X-Request-Id` or made, and answered either way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../../sdk/test/helpers.ts';
import { startServer } from '../../adapter/node/index.ts';
import { parseConfig } from '../../config.ts';
import { ADMIN_KEY, http, KEY_A, startTestServer, type TestServer } from '../../testing.ts';
import { redactQuery, type RequestRecord, textLine } from './index.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('request log (JSON lines)', () => {
  let s: TestServer;
  const lines: string[] = [];
  const records = () => lines.map((l) => JSON.parse(l) as RequestRecord);
  beforeAll(async () => {
    s = await startTestServer({ app: { requestLog: { format: 'json', write: (line) => lines.push(line) } } });
  });
  afterAll(() => s.close());

  it('writes one record per request: method, path, route, status, duration, request id, session, key id', async () => {
    lines.length = 0;
    const created = await http(s.url, 'POST', '/v1/sessions', { key: KEY_A, body: { agent_id: 'agent-7', goal: 'a goal that must not be logged' } });
    const id = created.body.session_id as string;
    await http(s.url, 'GET', `/v1/sessions/${id}`, { key: KEY_A });
    await http(s.url, 'GET', '/v1/sessions', { key: null });
    expect(lines).toHaveLength(3);
    const [create, get, refused] = records();
    expect(create).toMatchObject({ method: 'POST', path: '/v1/sessions', route: '/v1/sessions', status: 201 });
    expect(create!.session_id).toBeUndefined();
    expect(create!.key_id).toMatch(/^[0-9a-f]{12}$/);
    expect(get).toMatchObject({ method: 'GET', path: `/v1/sessions/${id}`, route: '/v1/sessions/:session_id', status: 200, session_id: id, key_id: create!.key_id });
    expect(refused).toMatchObject({ status: 401, route: '/v1/sessions' });
    expect(refused!.key_id).toBeUndefined();
    for (const r of records()) {
      expect(r.request_id).toMatch(UUID);
      expect(r.duration_ms).toBeGreaterThanOrEqual(0);
      expect(Date.parse(r.time)).toBeGreaterThan(Date.now() - 60_000);
    }
    // The answer carries the id of its record.
    expect(created.headers.get('x-request-id')).toBe(create!.request_id);
  });

  it('never writes a key, its headers, a body, or a credential-like query value', async () => {
    lines.length = 0;
    await http(s.url, 'GET', '/v1/sessions?limit=5&api_key=hunter2-secret&token=abc', { key: ADMIN_KEY });
    await http(s.url, 'GET', '/v1/sessions', { headers: { 'x-api-key': KEY_A } });
    await http(s.url, 'POST', '/v1/sessions', { key: KEY_A, body: { agent_id: 'agent', goal: 'body-marker-goal' } });
    await http(s.url, 'GET', '/v1/sessions', { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    const all = lines.join('\n');
    for (const secret of [ADMIN_KEY, KEY_A, 'hunter2-secret', 'abc', 'body-marker-goal', 'dXNlcjpwYXNz', 'authorization', 'x-api-key']) {
      expect(all.toLowerCase()).not.toContain(secret.toLowerCase());
    }
    expect(records()[0]!.path).toBe('/v1/sessions?limit=5&api_key=[redacted]&token=[redacted]');
  });

  it('keeps a well-formed incoming X-Request-Id and replaces any other', async () => {
    lines.length = 0;
    const kept = await http(s.url, 'GET', '/health', { headers: { 'x-request-id': 'edge-7f3a.42:1' } });
    const replaced = await http(s.url, 'GET', '/health', { headers: { 'x-request-id': 'two words "quoted"' } });
    const long = await http(s.url, 'GET', '/health', { headers: { 'x-request-id': 'x'.repeat(129) } });
    expect(kept.headers.get('x-request-id')).toBe('edge-7f3a.42:1');
    expect(replaced.headers.get('x-request-id')).toMatch(UUID);
    expect(long.headers.get('x-request-id')).toMatch(UUID);
    expect(records().map((r) => r.request_id)).toEqual([
      'edge-7f3a.42:1',
      replaced.headers.get('x-request-id'),
      long.headers.get('x-request-id'),
    ]);
  });

  it('names unmatched paths by no pattern, and logs the path as sent (percent-encoded)', async () => {
    lines.length = 0;
    await http(s.url, 'GET', '/nowhere%0Afake%20line', { key: KEY_A });
    expect(lines).toHaveLength(1);
    expect(records()[0]).toMatchObject({ route: 'unmatched', status: 404, path: '/nowhere%0Afake%20line' });
  });
});

describe('request log (text) of the Node server', () => {
  it('is on by default, one line per request through the server log; CRA_LOG_FORMAT=off silences it', async () => {
    const data = await tempDir();
    try {
      for (const format of ['', 'off'] as const) {
        const lines: string[] = [];
        const config = { ...parseConfig({ CRA_PORT: '0', CRA_API_KEYS: KEY_A, CRA_LOG_FORMAT: format }), dataDir: data.dir };
        const server = await startServer(config, { log: (line) => lines.push(line) });
        const before = lines.length;
        try {
          const created = await http(server.url, 'POST', '/v1/sessions', { key: KEY_A, body: { agent_id: 'a', goal: 'g' } });
          const id = created.body.session_id as string;
          await http(server.url, 'GET', `/v1/traces/${id}?since_sequence=0`, { key: KEY_A, headers: { 'x-request-id': 'trace-read-1' } });
          const logged = lines.slice(before);
          if (format === 'off') {
            expect(logged).toEqual([]);
            continue;
          }
          expect(logged).toHaveLength(2);
          expect(logged[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z POST \/v1\/sessions 201 \d+\.\dms id=[0-9a-f-]{36} key=[0-9a-f]{12}$/);
          expect(logged[1]).toMatch(new RegExp(`^\\S+ GET /v1/traces/${id}\\?since_sequence=0 200 \\d+\\.\\dms id=trace-read-1 session=${id} key=[0-9a-f]{12}$`));
        } finally {
          await server.close();
        }
      }
    } finally {
      await data.cleanup();
    }
  });
});

describe('request log helpers', () => {
  it('redacts only credential-like query values, keeping the rest as sent', () => {
    expect(redactQuery('a=1&access_token=x&Api-Key=y&password=z&sig=w&flag')).toBe('a=1&access_token=[redacted]&Api-Key=[redacted]&password=[redacted]&sig=w&flag');
    expect(redactQuery('%61pi_key=x&q=%20')).toBe('%61pi_key=[redacted]&q=%20');
  });

  it('writes a text line without the fields a request lacks', () => {
    const r: RequestRecord = { time: '2025-01-01T00:00:00.000Z', request_id: 'r1', method: 'GET', path: '/health', route: '/health', status: 200, duration_ms: 0.25 };
    expect(textLine(r)).toBe('2025-01-01T00:00:00.000Z GET /health 200 0.3ms id=r1');
  });
});
