/**
 * Proof routes over real HTTP, as a client without the SDK calls them: one key or several, a note as text or as
 * listed, sync errors pointed into the body sent, the first sync claiming the session for its key (another key then
 * gets a missing session), and the public verifier key.
 */

import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadAtlasDir } from '../../../sdk/src/atlas/dir.ts';
import { generateSigningKey } from '../../../sdk/src/proof/signer.ts';
import type { SigningKeyPair } from '../../../sdk/src/proof/types.ts';
import { createRuntime } from '../../../sdk/src/runtime/runtime.ts';
import type { AtlasBundle } from '../../../sdk/src/types.ts';
import { EXAMPLES } from '../../../sdk/test/helpers.ts';
import { http, KEY_A, KEY_B, startTestServer, type TestServer } from '../testing.ts';

let support: AtlasBundle;
let key: SigningKeyPair;
beforeAll(async () => {
  support = await loadAtlasDir(join(EXAMPLES, 'atlases/support'));
  key = await generateSigningKey('cra.test/routes');
});

describe('proof routes', () => {
  const servers: TestServer[] = [];
  const start = async () => {
    const s = await startTestServer({ runtime: { signing: { key: key.signer, every: 0 } } });
    servers.push(s);
    await s.runtime.loadAtlas(support);
    return s;
  };
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });

  it('takes one key or several, and a note as its text or as GET …/checkpoints lists it', async () => {
    const s = await start();
    const id = (await http(s.url, 'POST', '/v1/sessions', { key: KEY_A, body: { agent_id: 'support-bot', goal: 'g' } })).body.session_id as string;
    await http(s.url, 'POST', `/v1/sessions/${id}/end`, { key: KEY_A });
    const listed = (await http(s.url, 'GET', `/v1/sessions/${id}/checkpoints`, { key: KEY_A })).body.items as Array<{ note: string }>;
    expect(listed).toHaveLength(1);
    for (const keys of [key.verifier, [key.verifier]]) {
      for (const note of [listed[0]!.note, listed[0]!]) {
        const r = await http(s.url, 'POST', '/v1/checkpoints/verify', { key: KEY_A, body: { note, keys } });
        expect([r.status, r.body.valid]).toEqual([200, true]);
      }
    }
    const proof = (await http(s.url, 'GET', `/v1/sessions/${id}/proof?index=1`, { key: KEY_A })).body;
    const checked = await http(s.url, 'POST', '/v1/proofs/verify', { key: KEY_A, body: { proof, checkpoint: listed[0], keys: key.verifier } });
    expect(checked.body).toMatchObject({ valid: true, key: key.verifier });
    expect((await http(s.url, 'GET', '/v1/checkpoint-key')).body).toEqual({ key: key.verifier });
    const bad = await http(s.url, 'GET', `/v1/sessions/${id}/proof?index=1&first=0`, { key: KEY_A });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'invalid_request']);
  });

  it("claims a synced session for the key of its first sync, and points a rewritten event into the body's events", async () => {
    const s = await start();
    const tabKey = await generateSigningKey('cra.test/tab');
    const tab = await createRuntime({ signing: { key: tabKey.signer, every: 0 } });
    await tab.loadAtlas(support);
    const session = await tab.createSession({ agentId: 'support-bot', goal: 'Answer ticket T-10042' });
    await session.resolve({ requiredCapabilities: ['tickets.read'] });
    await session.checkpoint();
    const upload = await tab.syncUpload(session.id);
    const first = await http(s.url, 'POST', `/v1/sessions/${session.id}/sync`, { key: KEY_A, body: upload });
    expect([first.status, first.body.appended]).toEqual([200, upload.events.length]);
    // Another key: the session does not exist for it, to read or to sync.
    expect((await http(s.url, 'GET', `/v1/sessions/${session.id}/sync`, { key: KEY_B })).status).toBe(404);
    expect((await http(s.url, 'POST', `/v1/sessions/${session.id}/sync`, { key: KEY_B, body: upload })).body.error.code).toBe('session_not_found');
    expect((await http(s.url, 'GET', `/v1/traces/${session.id}`, { key: KEY_B })).status).toBe(404);
    // The owner's own resend with an event changed under its old hash.
    const changed = structuredClone(upload);
    changed.events[2]!.payload = { ...changed.events[2]!.payload, changed: true };
    const refused = await http(s.url, 'POST', `/v1/sessions/${session.id}/sync`, { key: KEY_A, body: changed });
    expect([refused.status, refused.body.error.code, refused.body.error.path]).toEqual([409, 'history_rewritten', '/events/2']);
    // The session of the events must be the one of the path.
    const elsewhere = await http(s.url, 'POST', `/v1/sessions/00000000-0000-7000-8000-000000000001/sync`, { key: KEY_A, body: upload });
    expect([elsewhere.status, elsewhere.body.error.path]).toEqual([400, '/events/0/session_id']);
    await tab.close();
  });
});
