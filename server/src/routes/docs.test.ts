/**
 * `GET /docs` (Swagger UI) and the public paths of an app mounted under a prefix, over real HTTP: the page is public
 * and reads the OpenAPI document by a relative URL; mounted at `/cra`, the health check, the document and the page
 * answer without a key, and every other route still asks for one.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, type Listening } from '../adapter/node/listen.ts';
import { ADMIN_KEY, http, KEY_A, startTestServer, type TestServer } from '../testing.ts';

describe('GET /docs', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(() => s.close());

  it('serves Swagger UI over openapi.json, named relative, without a key', async () => {
    const r = await http<string>(s.url, 'GET', '/docs');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    expect(r.text).toContain("url: 'openapi.json'");
    expect(r.text).toContain('swagger-ui-dist@5/swagger-ui-bundle.js');
    expect(r.text).not.toContain("url: '/openapi.json'");
  });
});

describe('an app mounted under a prefix', () => {
  let s: TestServer;
  let l: Listening;
  beforeAll(async () => {
    s = await startTestServer();
    const root = new OpenAPIHono();
    root.route('/cra', s.app);
    l = await listen({ fetch: (request) => root.fetch(request) }, { port: 0 });
  });
  afterAll(async () => {
    await l.close(100);
    await s.close();
  });

  it('serves its public paths without a key, and the others with one only', async () => {
    for (const path of ['/cra/health', '/cra/v1/health', '/cra/openapi.json', '/cra/docs']) {
      expect((await http(l.url, 'GET', path)).status, path).toBe(200);
    }
    expect((await http(l.url, 'GET', '/cra/v1/sessions')).status).toBe(401);
    expect((await http(l.url, 'GET', '/cra/v1/sessions', { key: KEY_A })).status).toBe(200);
    // A public path of the app is public only where the app is.
    expect((await http(l.url, 'GET', '/cra/v1/health/x')).status).toBe(401);
  });

  it('/docs/ sends the browser to /docs (relative: under the mount point), with no key', async () => {
    const r = await fetch(`${l.url}/cra/docs/`, { redirect: 'manual' });
    expect([r.status, r.headers.get('location')]).toEqual([301, '../docs']);
    expect(new URL(r.headers.get('location')!, `${l.url}/cra/docs/`).pathname).toBe('/cra/docs');
  });

  it("names the mount point as the document's server, so that /docs calls the app where it is", async () => {
    const doc = (await http(l.url, 'GET', '/cra/openapi.json')).body as { servers: Array<{ url: string }> };
    expect(doc.servers.map((s) => s.url)).toEqual(['/cra']);
  });

  it('logs and counts its routes relative to the mount point', async () => {
    const created = await http(l.url, 'POST', '/cra/v1/sessions', { key: KEY_A, body: { agent_id: 'a', goal: 'g' } });
    expect(created.status).toBe(201);
    expect(created.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const id = created.body.session_id as string;
    await http(l.url, 'GET', `/cra/v1/sessions/${id}`, { key: KEY_A });
    const scrape = await http<string>(l.url, 'GET', '/cra/metrics', { key: ADMIN_KEY });
    expect(scrape.text).toContain('cra_http_requests_total{method="POST",route="/v1/sessions",status="201"} 1');
    expect(scrape.text).toContain('cra_http_requests_total{method="GET",route="/v1/sessions/:session_id",status="200"} 1');
  });
});
