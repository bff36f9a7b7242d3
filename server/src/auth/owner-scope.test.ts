/**
 * Owners reach the core as host data: every session created over HTTP is created for the hash of its key, so that
 * rate limits of scope `agent` and `global` count per key (another key using the same agent id spends nothing of
 * the first key's limits), across restarts too (the owners file hands each restored session its owner again); the
 * trace stays what the protocol says; and sessions no key owns are counted in the start report (child processes on
 * a real data folder).
 */

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AtlasManifest } from '../../../sdk/src/types.ts';
import { notesAtlas } from '../../../sdk/test/helpers.ts';
import { ownerOf } from './keys.ts';
import { childServers } from '../../../test/support/children.ts';
import { http, KEY_A, KEY_B, startTestServer, type TestServer } from '../testing.ts';

/** `note.write` limited to 2 calls a minute, per agent or across every session (`global`). */
const limited = (scope: 'agent' | 'global'): AtlasManifest =>
  notesAtlas({
    atlas_id: `org.test.notes-${scope}`,
    actions: [{ action_id: `note.${scope}`, name: 'Write', description: 'Write a note' }],
    policies: [
      { policy_id: 'write-rate', type: 'rate_limit', actions: [`note.${scope}`], parameters: { max_calls: 2, window_seconds: 600, scope } },
      { policy_id: 'open', type: 'allow', actions: ['note.*'] },
    ],
  });

describe('owners over HTTP', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ runtime: { atlases: [limited('agent'), limited('global')] } });
  });
  afterAll(async () => {
    await server?.close();
  });
  const call = (key: string, method: string, path: string, body?: unknown) => http(server.url, method, path, { key, ...(body === undefined ? {} : { body }) });
  const session = async (key: string) => {
    const id = (await call(key, 'POST', '/v1/sessions', { agent_id: 'shared-agent', goal: 'write notes' })).body.session_id as string;
    expect((await call(key, 'POST', `/v1/sessions/${id}/resolve`, {})).status).toBe(200);
    return id;
  };
  const write = async (key: string, id: string, action: string) =>
    (await call(key, 'POST', `/v1/sessions/${id}/actions`, { action_id: action, parameters: {} })).body.status as string;

  for (const scope of ['agent', 'global'] as const) {
    it(`another key using the same agent id spends nothing of the first key's ${scope}-scope limit`, async () => {
      const a = await session(KEY_A);
      const b = await session(KEY_B);
      const action = `note.${scope}`;
      expect([await write(KEY_B, b, action), await write(KEY_B, b, action), await write(KEY_B, b, action)]).toEqual(['approved', 'approved', 'denied']);
      expect([await write(KEY_A, a, action), await write(KEY_A, a, action), await write(KEY_A, a, action)]).toEqual(['approved', 'approved', 'denied']);
    });
  }

  it('creates the session for the key hash, and shows it nowhere: not in the trace, not in the session', async () => {
    const a = await session(KEY_A);
    expect((await server.runtime.getSession(a).then((s) => s.info())).owner).toBe(await ownerOf(KEY_A));
    const trace = (await call(KEY_A, 'GET', `/v1/traces/${a}`)).body;
    expect(trace[0].payload).toEqual({ agent_id: 'shared-agent', goal: 'write notes' });
    expect((await call(KEY_A, 'GET', `/v1/sessions/${a}`)).body).not.toHaveProperty('owner');
    const listed = (await call(KEY_A, 'GET', '/v1/sessions')).body.items;
    expect(listed.length).toBeGreaterThan(0);
    for (const item of listed) expect(item).not.toHaveProperty('owner');
    expect((await call(KEY_B, 'GET', `/v1/traces/${a}`)).status).toBe(404);
  });
});

describe('owners across a restart (child process)', () => {
  const children = childServers();

  it("keep each key's agent-scope counts its own, and sessions without an owner line are counted at start", async () => {
    const dir = await children.dataDir();
    const atlasDir = join(dir, 'atlas');
    await mkdir(atlasDir, { recursive: true });
    await writeFile(join(atlasDir, 'atlas.json'), JSON.stringify(limited('agent')));
    const env = { CRA_DATA_DIR: join(dir, 'data'), CRA_ATLAS_DIR: atlasDir, CRA_API_KEYS: `${KEY_A},${KEY_B}` };
    const call = (url: string, key: string, method: string, path: string, body?: unknown) => http(url, method, path, { key, ...(body === undefined ? {} : { body }) });
    const first = await children.start(env);
    const open = async (url: string, key: string) => {
      const id = (await call(url, key, 'POST', '/v1/sessions', { agent_id: 'shared-agent', goal: 'g' })).body.session_id as string;
      await call(url, key, 'POST', `/v1/sessions/${id}/resolve`, {});
      return id;
    };
    const write = async (url: string, key: string, id: string) => (await call(url, key, 'POST', `/v1/sessions/${id}/actions`, { action_id: 'note.agent', parameters: {} })).body.status;
    const a = await open(first.url, KEY_A);
    expect([await write(first.url, KEY_A, a), await write(first.url, KEY_A, a)]).toEqual(['approved', 'approved']);
    const spare = await open(first.url, KEY_B);
    expect(await first.stop('SIGTERM')).toBe(0);
    // As a stop between a trace and its owner line leaves it: B's session has no owner line.
    const ownersFile = join(dir, 'data', 'owners.jsonl');
    const lines = (await readFile(ownersFile, 'utf8')).trimEnd().split('\n');
    await writeFile(ownersFile, lines.filter((l) => !l.includes(spare)).map((l) => `${l}\n`).join(''));

    const second = await children.start(env);
    expect(second.output()).toContain('owners: 1 session(s) have no owner');
    expect((await call(second.url, KEY_B, 'GET', `/v1/sessions/${spare}`)).status).toBe(404);
    // A's restored calls still count for A (and only A): a new session of A's is at its limit, one of B's is not.
    const a2 = await open(second.url, KEY_A);
    expect(await write(second.url, KEY_A, a2)).toBe('denied');
    const b2 = await open(second.url, KEY_B);
    expect(await write(second.url, KEY_B, b2)).toBe('approved');
  });
});
