/**
 * The OpenAPI document is generated from the real routes: every documented operation answers (not 404/405) over
 * real HTTP, and every registered route is documented.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simpleAtlas } from '../../../sdk/test/helpers.ts';
import { ADMIN_KEY, http, startTestServer, type TestServer } from '../testing.ts';

describe('OpenAPI document', () => {
  let s: TestServer;
  let doc: { openapi: string; paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>; components: Record<string, Record<string, unknown>> };
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    s = await startTestServer();
    await s.runtime.loadAtlas(await simpleAtlas());
    const call = (method: string, path: string, body?: unknown) => http(s.url, method, path, { key: ADMIN_KEY, ...(body === undefined ? {} : { body }) });
    ids.session_id = (await call('POST', '/v1/sessions', { agent_id: 'doc-agent', goal: 'Manage resources' })).body.session_id;
    await call('POST', `/v1/sessions/${ids.session_id}/resolve`, {});
    ids.execution_id = (await call('POST', `/v1/sessions/${ids.session_id}/actions`, { action_id: 'resource.get', parameters: { resource_id: 'r' } })).body.execution_id;
    ids.atlas_id = 'com.cra.conformance.simple';
    ids.action_id = 'resource.get';
    doc = (await http(s.url, 'GET', '/openapi.json')).body;
  });
  afterAll(() => s.close());

  it('is OpenAPI 3.1 with both security schemes, and documents the error shape', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.components.securitySchemes!)).toEqual(['bearerAuth', 'apiKey']);
    expect(doc.components.schemas!.Error).toBeDefined();
    expect(doc.paths['/health']!.get!.security).toEqual([]);
    expect(doc.paths['/v1/sessions']!.post!.responses['401']).toBeDefined();
  });

  it('names the server it was fetched from (any port), not a fixed address', () => {
    expect((doc as unknown as { servers: Array<{ url: string }> }).servers).toEqual([{ url: '/', description: 'this server' }]);
  });

  it('documents the refusals of POST /v1/execute: 403 and 429 carry the error and the execution', () => {
    const responses = doc.paths['/v1/execute']!.post!.responses as Record<string, { content?: Record<string, { schema: { $ref?: string } }>; headers?: Record<string, unknown> }>;
    const schema = (status: string) => responses[status]!.content!['application/json']!.schema.$ref;
    expect(schema('200')).toBe('#/components/schemas/Execution');
    expect(schema('403')).toBe('#/components/schemas/ExecutionRefused');
    expect(schema('429')).toBe('#/components/schemas/ExecutionRefused');
    expect(responses['429']!.headers).toHaveProperty('Retry-After');
    expect(schema('404')).toBe('#/components/schemas/Error');
    const refused = doc.components.schemas!.ExecutionRefused as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(refused.properties)).toEqual(['error', 'execution']);
    expect(refused.required).toEqual(['error']);
    const execution = doc.components.schemas!.Execution as { properties: Record<string, unknown>; required: string[] };
    expect(execution.properties.retry_after_seconds).toMatchObject({ type: 'integer' });
    expect(execution.required).not.toContain('retry_after_seconds');
    // The session routes keep answering executions with 200.
    expect(Object.keys(doc.paths['/v1/sessions/{session_id}/actions']!.post!.responses)).toContain('200');
    expect((doc.components.schemas!.AtlasLoadResult as { required: string[] }).required).toContain('name');
    const list = doc.paths['/v1/sessions']!.get! as unknown as { parameters: Array<{ name: string }> };
    expect(list.parameters.map((p) => p.name)).toEqual(['status', 'agent_id', 'limit', 'offset', 'order']);
  });

  it('documents every registered route, and nothing else', () => {
    const registered = new Set(
      s.app.routes
        .filter((r) => r.method !== 'ALL')
        .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:([^/]+)/g, '{$1}')}`),
    );
    const documented = new Set(Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`)));
    expect([...documented].sort()).toEqual([...registered].sort());
    for (const path of ['/health', '/v1/health', '/v1/sessions', '/v1/resolve', '/v1/execute', '/v1/traces/{session_id}', '/v1/traces/{session_id}/stream', '/v1/atlases/{atlas_id}']) {
      expect(doc.paths[path], path).toBeDefined();
    }
  });

  it('every documented operation answers over HTTP (no 404 for the route, no 405)', async () => {
    // Ending the session last keeps it usable for the other operations.
    const destructive = (o: { method: string; path: string }) => o.method === 'DELETE' || o.path.endsWith('/end');
    const ops = Object.entries(doc.paths)
      .flatMap(([path, methods]) => Object.keys(methods).map((method) => ({ method: method.toUpperCase(), path })))
      .sort((a, b) => Number(destructive(a)) - Number(destructive(b)));
    expect(ops.length).toBeGreaterThanOrEqual(30);
    const statuses: number[] = [];
    for (const { method, path } of ops) {
      const concrete = path.replace(/\{(\w+)\}/g, (_, name: string) => ids[name] ?? name);
      const r = method === 'GET' && path.endsWith('/stream') ? await probeStream(s.url, concrete) : await http(s.url, method, concrete, { key: ADMIN_KEY, ...(method === 'GET' || method === 'DELETE' ? {} : { body: {} }) });
      const routeMissing = r.status === 404 && (r.body as { error?: { code?: string } })?.error?.code === 'not_found';
      expect([method, path, routeMissing, r.status === 405]).toEqual([method, path, false, false]);
      statuses.push(r.status);
    }
    // With real ids, most operations succeed outright.
    expect(statuses.filter((x) => x < 300).length).toBeGreaterThan(ops.length / 2);
  });
});

async function probeStream(url: string, path: string) {
  const controller = new AbortController();
  const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` }, signal: controller.signal });
  controller.abort();
  return { status: res.status, body: null };
}
