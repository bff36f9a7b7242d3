/**
 * The server as `npm start` runs it, a child process: built (`node dist/server-main.node.js`, `node dist/cli.js
 * serve`: no loader), and from its sources for the rest (`node --import tsx server/src/adapter/node/main.ts`, the
 * same code without a build): durable traces and ownership across a SIGKILL, a graceful SIGTERM, the generated key,
 * and the atlas folder.
 */

import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../../../sdk/src/types.ts';
import { EXAMPLES } from '../../../../sdk/test/helpers.ts';
import { childServers } from '../../../../test/support/children.ts';
import { ensureDist } from '../../../../test/support/dist.ts';
import { ROOT, start as startProcess } from '../../../../test/support/proc.ts';
import { http, KEY_A, KEY_B, openSse, startChild } from '../../testing.ts';

const REFUND = { customer_id: 'c-1', payment_id: 'p-1', amount: 25, currency: 'USD' };

describe('npm start (child process)', () => {
  const { start, dataDir } = childServers();

  /** A session with a resolution, a completed action and an approved refund, through HTTP. */
  const work = async (url: string) => {
    const call = (method: string, path: string, body?: unknown) => http(url, method, path, { key: KEY_A, ...(body === undefined ? {} : { body }) });
    const id = (await call('POST', '/v1/sessions', { agent_id: 'support-bot', goal: 'Durable work' })).body.session_id as string;
    await call('POST', `/v1/sessions/${id}/resolve`, { required_capabilities: ['tickets.read', 'billing.refund'] });
    const lookup = (await call('POST', `/v1/sessions/${id}/actions`, { action_id: 'ticket.lookup', parameters: { ticket_id: 'T-10042' } })).body;
    expect((await call('POST', `/v1/sessions/${id}/actions/${lookup.execution_id}/complete`, { result: { ok: 1 } })).body.status).toBe('executed');
    const refund = (await call('POST', `/v1/sessions/${id}/actions`, { action_id: 'refund.issue', parameters: REFUND })).body;
    const approved = await call('POST', `/v1/sessions/${id}/actions/${refund.execution_id}/approve`, { approval_hash: refund.approval_hash });
    expect(approved.body.status).toBe('approved');
    return { id, refund: refund.execution_id as string, call };
  };

  it('runs built with plain node (no TypeScript loader), with the example atlases, and serves over loopback', async () => {
    const { scripts } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(['node dist/cli.js serve', 'node dist/server-main.node.js']).toContain(scripts.start);
    expect(scripts.prestart).toBe('node scripts/ensure-build.mjs');
    await ensureDist(); // reused while the sources are unchanged
    const server = await startChild({ CRA_DATA_DIR: await dataDir(), CRA_API_KEYS: KEY_A }, 20_000, 'built');
    try {
      expect(server.child.spawnargs.slice(1)).toEqual(['dist/server-main.node.js']);
      // No CRA_ATLAS_DIR: the package's examples, said plainly.
      expect(server.output()).toContain(`  atlases: the bundled examples (${join(ROOT, 'examples/atlases/')}); set CRA_ATLAS_DIR or --atlas for your own\n`);
      expect(server.output()).toContain('atlas com.example.support@');
      expect(server.output()).toContain('durability: fsync (a request is answered once its events are on disk');
      const created = await http(server.url, 'POST', '/v1/sessions', { key: KEY_A, body: { agent_id: 'support-bot', goal: 'Built' } });
      expect(created.status).toBe(201);
      const id = created.body.session_id as string;
      const resolved = await http(server.url, 'POST', `/v1/sessions/${id}/resolve`, { key: KEY_A, body: { required_capabilities: ['tickets.read'] } });
      expect(resolved.status).toBe(200);
      expect(await server.stop('SIGTERM')).toBe(0);
    } finally {
      await server.stop('SIGKILL');
    }
  }, 200_000);

  it('`node dist/cli.js serve` is the same server: flags over variables, the same graceful SIGTERM', async () => {
    await ensureDist();
    const data = await dataDir();
    const child = await startProcess(process.execPath, ['dist/cli.js', 'serve', '--port', '0', '--data', data], {
      env: { ...process.env, CRA_API_KEYS: KEY_A, CRA_PORT: 'not-a-port' },
      ready: /listening on (http:\/\/\S+) /,
    });
    try {
      const url = child.match[1]!;
      expect(child.output().stdout).toContain('  atlases: the bundled examples (');
      expect((await http(url, 'POST', '/v1/sessions', { key: KEY_A, body: { agent_id: 'a', goal: 'cli' } })).status).toBe(201);
      expect(await child.stop('SIGTERM')).toBe(0);
      expect(child.output().stdout).toMatch(/SIGTERM: shutting down\nstopped\n$/);
      expect((await readdir(join(data, 'traces'))).filter((f) => f.endsWith('.trace.jsonl'))).toHaveLength(1);
    } finally {
      await child.stop('SIGKILL');
    }
  }, 200_000);

  it('keeps every session, its verified chain and its owner across a SIGKILL', async () => {
    const env = { CRA_DATA_DIR: await dataDir(), CRA_API_KEYS: `${KEY_A},${KEY_B}` };
    const first = await start(env);
    const { id, refund } = await work(first.url);
    const before = (await http(first.url, 'GET', `/v1/traces/${id}`, { key: KEY_A })).body as TraceEvent[];
    expect(before.length).toBeGreaterThan(5);
    expect(await first.stop('SIGKILL')).toBeNull();

    const second = await start({ ...env, CRA_DURABILITY: 'interval' });
    expect(second.output()).toContain('1 session(s) indexed, 1 active');
    expect(second.output()).toContain('durability: interval (answered once written');
    const after = await http(second.url, 'GET', `/v1/traces/${id}`, { key: KEY_A });
    expect(after.status).toBe(200);
    expect(after.body).toEqual(before);
    expect((await http(second.url, 'GET', `/v1/traces/${id}/verify`, { key: KEY_A })).body).toEqual({
      valid: true,
      length: before.length,
      head_hash: before.at(-1)!.event_hash,
    });
    // Still Alice's, and only Alice's.
    expect((await http(second.url, 'GET', `/v1/sessions/${id}`, { key: KEY_B })).status).toBe(404);
    expect((await http(second.url, 'GET', '/v1/sessions', { key: KEY_B })).body.items).toEqual([]);
    // The session goes on where it stopped: the approved refund can be reported.
    const done = await http(second.url, 'POST', `/v1/sessions/${id}/actions/${refund}/complete`, { key: KEY_A, body: { result: { refund_id: 'rf-1' } } });
    expect(done.body.status).toBe('executed');
    expect((await http(second.url, 'GET', `/v1/traces/${id}/verify`, { key: KEY_A })).body).toMatchObject({ valid: true, length: before.length + 1 });
  });

  it('stops gracefully on SIGTERM: streams end, traces are synced, the exit code is 0', async () => {
    const dir = await dataDir();
    const env = { CRA_DATA_DIR: dir, CRA_API_KEYS: KEY_A };
    const server = await start(env);
    const { id } = await work(server.url);
    const stream = await openSse(server.url, `/v1/traces/${id}/stream`, { key: KEY_A });
    expect((await stream.next())!.id).toBe('0');
    const trace = (await http(server.url, 'GET', `/v1/traces/${id}`, { key: KEY_A })).body as TraceEvent[];
    for (let i = 1; i < trace.length; i++) await stream.next();
    expect(await server.stop('SIGTERM')).toBe(0);
    expect(server.output()).toMatch(/SIGTERM: shutting down\nstopped\n/);
    expect(await stream.next()).toBeNull();
    // Synced on close: the durable head is in the store's index beside the trace.
    expect((await readdir(join(dir, 'traces'))).sort()).toEqual([`${id}.trace.jsonl`, 'sessions.index.jsonl']);

    const again = await start(env);
    expect((await http(again.url, 'GET', `/v1/traces/${id}`, { key: KEY_A })).body).toEqual(trace);
    expect((await http(again.url, 'GET', `/v1/traces/${id}/verify`, { key: KEY_A })).body.valid).toBe(true);
  });

  it('generates and prints a key when auth is on and none is configured; CRA_AUTH=off needs none', async () => {
    const server = await start({ CRA_DATA_DIR: await dataDir() });
    expect(server.generatedKey).toMatch(/^cra_[A-Za-z0-9_-]{43}$/);
    expect(server.output().split(server.generatedKey!).length).toBe(2); // printed once
    expect((await http(server.url, 'GET', '/v1/sessions')).status).toBe(401);
    expect((await http(server.url, 'GET', '/v1/sessions', { key: server.generatedKey })).status).toBe(200);
    // The generated key is an admin key: a newcomer can load atlases.
    const tiny = { atlas_version: '1.0', atlas_id: 'com.example.tiny', version: '1.0.0', name: 'Tiny', description: 'Tiny' };
    expect((await http(server.url, 'POST', '/v1/atlases', { key: server.generatedKey, body: tiny })).status).toBe(201);

    const open = await start({ CRA_DATA_DIR: await dataDir(), CRA_AUTH: 'off' });
    expect(open.generatedKey).toBeNull();
    expect(open.output()).toContain('auth: OFF');
    expect((await http(open.url, 'POST', '/v1/sessions', { body: { agent_id: 'a', goal: 'g' } })).status).toBe(201);
  });

  it('signs checkpoints with CRA_SIGNING_KEY, stores them beside the trace, and prints the verifier key to publish', async () => {
    const { generateSigningKey } = await import('../../../../sdk/src/proof/signer.ts');
    const key = await generateSigningKey('cra.test/server');
    const data = await dataDir();
    const server = await start({ CRA_DATA_DIR: data, CRA_API_KEYS: KEY_A, CRA_SIGNING_KEY: key.signer, CRA_CHECKPOINT_EVERY: '0', CRA_TRUSTED_KEYS: key.verifier });
    expect(server.output()).toContain(`checkpoints: signed at each session's end; verifier key (publish it): ${key.verifier}`);
    expect(server.output()).toContain('sync: checkpoints of 1 trusted key(s) accepted (CRA_TRUSTED_KEYS)');
    expect(server.output()).not.toContain('PRIVATE+KEY');
    expect((await http(server.url, 'GET', '/v1/checkpoint-key')).body).toEqual({ key: key.verifier });
    const id = (await http(server.url, 'POST', '/v1/sessions', { key: KEY_A, body: { agent_id: 'a', goal: 'g' } })).body.session_id as string;
    await http(server.url, 'POST', `/v1/sessions/${id}/end`, { key: KEY_A });
    const notes = (await readFile(join(data, 'traces', `${id}.checkpoints.jsonl`), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as string);
    expect(notes).toHaveLength(1);
    expect(notes[0]!.split('\n')[1]).toBe('2'); // session.started, session.ended
    const unsigned = await start({ CRA_DATA_DIR: await dataDir(), CRA_API_KEYS: KEY_A });
    expect(unsigned.output()).toContain('checkpoints: none signed (CRA_SIGNING_KEY');
    expect((await http(unsigned.url, 'GET', '/v1/checkpoint-key')).body).toEqual({ key: null });
  });

  it('reports and skips duplicate or invalid atlases without aborting start-up; refuses a bad configuration', async () => {
    const atlases = await dataDir();
    await cp(join(EXAMPLES, 'atlases/support'), join(atlases, 'a-support'), { recursive: true });
    await cp(join(EXAMPLES, 'atlases/support'), join(atlases, 'b-support-copy'), { recursive: true });
    await mkdir(join(atlases, 'c-broken'));
    await writeFile(join(atlases, 'c-broken/atlas.json'), '{"atlas_version": "1.0", "atlas_id": "com.example.broken"');
    const server = await start({ CRA_DATA_DIR: await dataDir(), CRA_API_KEYS: KEY_A, CRA_ATLAS_DIR: atlases });
    expect(server.output()).toMatch(/atlas skipped: .*b-support-copy: atlas_exists: duplicate atlas id com\.example\.support/);
    expect(server.output()).toMatch(/atlas skipped: .*c-broken: invalid_json/);
    expect((await http(server.url, 'GET', '/v1/atlases', { key: KEY_A })).body.items.map((a: { atlas_id: string }) => a.atlas_id)).toEqual([
      'com.example.support',
    ]);

    await expect(startChild({ CRA_PORT: 'http' })).rejects.toThrow(/CRA server failed to start: invalid_request: CRA_PORT must be an integer/);
    await expect(startChild({ CRA_API_KEYS: 'has space' })).rejects.toThrow(/not a usable API key/);
    await expect(startChild({ CRA_DEFAULT_DECISION: 'maybe' })).rejects.toThrow(/CRA server failed to start: invalid_request: CRA_DEFAULT_DECISION/);
  });

  it('starts with a short key (CRA_API_KEYS=k1), warning once; without admin keys, that key may not change atlases', async () => {
    const server = await start({ CRA_DATA_DIR: await dataDir(), CRA_API_KEYS: 'k1' });
    const warnings = server.output().split('\n').filter((l) => l.includes('warning'));
    expect(warnings).toEqual(['  auth: warning: CRA_API_KEYS[0] shorter than 16 characters, easy to guess: use long random keys beyond local tests']);
    expect((await http(server.url, 'GET', '/v1/sessions', { key: 'k1' })).status).toBe(200);
    expect((await http(server.url, 'GET', '/v1/sessions', { key: 'k2' })).status).toBe(401);
    const tiny = { atlas_version: '1.0', atlas_id: 'com.example.tiny', version: '1.0.0', name: 'Tiny', description: 'Tiny' };
    expect((await http(server.url, 'POST', '/v1/atlases', { key: 'k1', body: tiny })).status).toBe(403);
    const shared = await start({ CRA_DATA_DIR: await dataDir(), CRA_API_KEYS: 'k1', CRA_ATLAS_WRITES: 'any-key' });
    expect((await http(shared.url, 'POST', '/v1/atlases', { key: 'k1', body: tiny })).status).toBe(201);
  });
});
