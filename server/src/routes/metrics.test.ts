/**
 * `GET /metrics` scraped over real HTTP (a Node listener on loopback): the counters move with requests and governed
 * actions, the decisions counted are the ones the trace records, labels stay bounded (route patterns, no ids), and
 * access is for admin keys — or anyone on a metrics listener of its own (`CRA_METRICS_PORT`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AtlasManifest } from '../../../sdk/src/types.ts';
import { tempDir } from '../../../sdk/test/helpers.ts';
import { startServer } from '../adapter/node/index.ts';
import { parseConfig } from '../config.ts';
import { Counter, escapeLabelValue, EXPOSITION_CONTENT_TYPE, Histogram } from '../metrics/exposition.ts';
import { ADMIN_KEY, http, KEY_A, startTestServer, type TestServer } from '../testing.ts';

const atlas = {
  atlas_version: '1.0',
  atlas_id: 'com.example.metrics',
  version: '1.0.0',
  name: 'Metrics',
  description: 'One action of each decision',
  capabilities: [{ capability_id: 'ops', name: 'Ops', description: 'Ops', actions: ['ops.read', 'ops.wipe', 'ops.deploy'] }],
  policies: [
    { policy_id: 'read-ok', type: 'allow', actions: ['ops.read'] },
    { policy_id: 'no-wipe', type: 'deny', actions: ['ops.wipe'] },
    { policy_id: 'deploy-approval', type: 'require_approval', actions: ['ops.deploy'] },
  ],
  actions: ['ops.read', 'ops.wipe', 'ops.deploy'].map((action_id) => ({
    action_id,
    name: action_id,
    description: action_id,
    risk_tier: 'low',
    parameters_schema: { type: 'object' },
  })),
} as unknown as AtlasManifest;

/** `name{labels} value` lines of an exposition, as a map from the series text to its value. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    out.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return out;
}

const scrape = async (url: string, key: string | null = ADMIN_KEY) => {
  const r = await http<string>(url, 'GET', '/metrics', { key });
  return { ...r, series: r.status === 200 ? parse(r.text) : new Map<string, number>() };
};

describe('GET /metrics', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ runtime: { atlases: [atlas] } });
  });
  afterAll(() => s.close());

  it('answers admin keys only: no key 401, another key 403', async () => {
    expect((await scrape(s.url, null)).status).toBe(401);
    const other = await scrape(s.url, KEY_A);
    expect([other.status, (other.body as unknown as { error: { code: string } }).error.code]).toEqual([403, 'forbidden']);
    const ok = await scrape(s.url);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe(EXPOSITION_CONTENT_TYPE);
  });

  it('counts requests by route pattern and status, and the decisions the trace records', async () => {
    const before = (await scrape(s.url)).series;
    const call = (method: string, path: string, body?: unknown) => http(s.url, method, path, { key: KEY_A, ...(body === undefined ? {} : { body }) });
    const id = (await call('POST', '/v1/sessions', { agent_id: 'agent', goal: 'metrics' })).body.session_id as string;
    await call('POST', `/v1/sessions/${id}/resolve`, {});
    const read = await call('POST', `/v1/sessions/${id}/actions`, { action_id: 'ops.read', parameters: {} });
    const wipe = await call('POST', `/v1/sessions/${id}/actions`, { action_id: 'ops.wipe', parameters: {} });
    const deploy = await call('POST', `/v1/sessions/${id}/actions`, { action_id: 'ops.deploy', parameters: {} });
    expect([read.body.status, wipe.body.status, deploy.body.status]).toEqual(['approved', 'denied', 'pending_approval']);
    await call('POST', `/v1/sessions/${id}/actions/${deploy.body.execution_id}/deny`, { reason: 'not today' });
    await call('GET', `/v1/sessions/${id}`);
    await call('GET', `/v1/sessions/${id}`);
    await http(s.url, 'GET', `/v1/sessions/${id}`, { key: null });

    const after = (await scrape(s.url)).series;
    const moved = (series: string) => (after.get(series) ?? 0) - (before.get(series) ?? 0);
    expect(moved('cra_http_requests_total{method="POST",route="/v1/sessions",status="201"}')).toBe(1);
    expect(moved('cra_http_requests_total{method="GET",route="/v1/sessions/:session_id",status="200"}')).toBe(2);
    expect(moved('cra_http_requests_total{method="GET",route="/v1/sessions/:session_id",status="401"}')).toBe(1);
    expect(moved('cra_http_requests_total{method="POST",route="/v1/sessions/:session_id/actions",status="200"}')).toBe(3);
    expect(moved('cra_http_request_duration_seconds_count{method="POST",route="/v1/sessions/:session_id/actions"}')).toBe(3);
    expect(moved('cra_http_request_duration_seconds_bucket{method="POST",route="/v1/sessions/:session_id/actions",le="+Inf"}')).toBe(3);
    // Decisions, from the events the core recorded: one approved, two denied (a policy, then a person), none violated.
    expect(moved('cra_actions_requested_total')).toBe(3);
    expect(moved('cra_action_decisions_total{result="approved"}')).toBe(1);
    expect(moved('cra_action_decisions_total{result="denied"}')).toBe(2);
    expect(moved('cra_trace_events_total{event_type="session.started"}')).toBe(1);
    expect(moved('cra_trace_events_total{event_type="action.requested"}')).toBe(3);
    const trace = (await call('GET', `/v1/traces/${id}`)).body as Array<{ event_type: string }>;
    const total = [...after].filter(([k]) => k.startsWith('cra_trace_events_total{')).reduce((n, [k, v]) => n + v - (before.get(k) ?? 0), 0);
    expect(total).toBe(trace.length);
    // Gauges read at scrape time, and the process.
    expect(after.get('cra_sessions{state="active"}')).toBeGreaterThanOrEqual(1);
    expect(after.get('cra_atlases_loaded')).toBe(1);
    expect(after.get('cra_server_info{version="0.1.0"}')).toBe(1);
    const start = after.get('process_start_time_seconds')!;
    expect(start).toBeLessThanOrEqual(Date.now() / 1000);
    expect(start).toBeGreaterThan(Date.now() / 1000 - 24 * 3600);
  });

  it('never labels a series with a session id or a raw path', async () => {
    await http(s.url, 'GET', '/no/such/path/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', { key: KEY_A });
    const { text, series } = await scrape(s.url);
    expect(text).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}/);
    expect(series.get('cra_http_requests_total{method="GET",route="unmatched",status="404"}')).toBeGreaterThanOrEqual(1);
  });
});

describe('a metrics listener of its own (CRA_METRICS_PORT)', () => {
  it('serves /metrics without a key on loopback, while the API keeps asking for an admin key', async () => {
    const data = await tempDir();
    const lines: string[] = [];
    const config = { ...parseConfig({ CRA_PORT: '0', CRA_METRICS_PORT: '0', CRA_API_KEYS: KEY_A, CRA_LOG_FORMAT: 'off' }), dataDir: data.dir };
    const server = await startServer(config, { log: (l) => lines.push(l) });
    try {
      expect(server.metrics).not.toBeNull();
      expect(server.metrics!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(lines).toContain(`  metrics: ${server.metrics!.url}/metrics (no key needed there; /metrics on the API needs an admin key)`);
      await http(server.url, 'POST', '/v1/sessions', { key: KEY_A, body: { agent_id: 'a', goal: 'g' } });
      const open = await scrape(server.metrics!.url, null);
      expect(open.status).toBe(200);
      expect(open.series.get('cra_http_requests_total{method="POST",route="/v1/sessions",status="201"}')).toBe(1);
      expect(open.series.get('cra_trace_events_total{event_type="session.started"}')).toBe(1);
      expect((await http(server.metrics!.url, 'GET', '/v1/sessions')).status).toBe(404);
      expect((await scrape(server.url, null)).status).toBe(401);
      expect((await scrape(server.url, KEY_A)).status).toBe(403);
    } finally {
      await server.close();
      await data.cleanup();
    }
  });
});

describe('exposition format', () => {
  it('escapes label values (backslash, quote, line feed) and writes cumulative histograms', () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    const c = new Counter('x_total', 'help with \\ and\nnewline', ['v']);
    c.inc(['say "hi"\n']);
    expect(c.render()).toBe('# HELP x_total help with \\\\ and\\nnewline\n# TYPE x_total counter\nx_total{v="say \\"hi\\"\\n"} 1\n');
    const h = new Histogram('d_seconds', 'd', ['r'], [0.1, 1]);
    h.observe(['a'], 0.05);
    h.observe(['a'], 0.5);
    h.observe(['a'], 5);
    expect(h.render().split('\n').slice(2, 7)).toEqual([
      'd_seconds_bucket{r="a",le="0.1"} 1',
      'd_seconds_bucket{r="a",le="1"} 2',
      'd_seconds_bucket{r="a",le="+Inf"} 3',
      'd_seconds_sum{r="a"} 5.55',
      'd_seconds_count{r="a"} 3',
    ]);
  });
});
