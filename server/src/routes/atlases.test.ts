import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AtlasBundle } from '../../../sdk/src/types.ts';
import { notesAtlas, simpleAtlas } from '../../../sdk/test/helpers.ts';
import { ADMIN_KEY, http, KEY_A, startTestServer, type TestServer } from '../testing.ts';

describe('atlas routes', () => {
  let s: TestServer;
  let simple: AtlasBundle;
  const admin = (method: string, path: string, body?: unknown) => http(s.url, method, path, { key: ADMIN_KEY, ...(body === undefined ? {} : { body }) });
  beforeAll(async () => {
    s = await startTestServer();
    simple = await simpleAtlas();
  });
  afterAll(() => s.close());

  it('loads a manifest or a bundle (201), refuses a duplicate (409), replaces on request', async () => {
    const loaded = await admin('POST', '/v1/atlases', simple);
    expect(loaded.status).toBe(201);
    expect(loaded.body).toMatchObject({ atlas_id: 'com.cra.conformance.simple', name: 'Simple Conformance Atlas', warnings: [] });
    expect(Object.keys(loaded.body).slice(0, 3)).toEqual(['atlas_id', 'version', 'name']);
    const dup = await admin('POST', '/v1/atlases', simple);
    expect([dup.status, dup.body.error.code, dup.body.error.path]).toEqual([409, 'atlas_exists', '/atlas_id']);
    expect((await admin('POST', '/v1/atlases', { ...simple, replace: true })).status).toBe(201);
    expect((await admin('POST', '/v1/atlases?replace=true', simple)).status).toBe(201);
    const notes = await admin('POST', '/v1/atlases', notesAtlas());
    expect([notes.status, notes.body.name]).toEqual([201, notesAtlas().name]);
    expect((await admin('GET', '/v1/atlases')).body).toMatchObject({
      items: [{ atlas_id: 'com.cra.conformance.simple' }, { atlas_id: 'org.test.notes' }],
      total: 2,
    });
    expect((await admin('GET', '/v1/atlases/org.test.notes')).body).toEqual(notesAtlas());
  });

  it('answers invalid atlases with atlas_invalid and the pointer into the manifest', async () => {
    const bad = await admin('POST', '/v1/atlases', { atlas_version: '1.0', atlas_id: 'com.example.bad', version: 'one', name: 'x', description: 'y' });
    expect([bad.status, bad.body.error.code, bad.body.error.path]).toEqual([400, 'atlas_invalid', '/version']);
    const v = await http(s.url, 'POST', '/v1/atlases/validate', { key: KEY_A, body: { manifest: { atlas_version: '1.0' } } });
    expect(v.body.valid).toBe(false);
    expect(v.body.errors.map((e: { path: string }) => e.path)).toContain('/atlas_id');
  });

  it('unloads (204) and answers unknown atlases with 404', async () => {
    expect((await admin('DELETE', '/v1/atlases/org.test.notes')).status).toBe(204);
    const gone = await admin('GET', '/v1/atlases/org.test.notes');
    expect([gone.status, gone.body.error.code, gone.body.error.path]).toEqual([404, 'atlas_not_found', '/atlas_id']);
    expect((await admin('DELETE', '/v1/atlases/org.test.notes')).status).toBe(404);
  });
});
