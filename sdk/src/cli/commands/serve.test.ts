/** `cra serve`: the server started through the command line in this process, over real HTTP on loopback. */

import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describe as describeSettings } from '../../../../server/src/config.ts';
import { tempDir } from '../../../test/helpers.ts';
import { runCli } from '../commands.ts';
import { cli, EXAMPLE_ATLAS } from '../testing.ts';

let tmp: { dir: string; cleanup(): Promise<void> };
beforeEach(async () => {
  tmp = await tempDir();
});
afterEach(async () => {
  await tmp.cleanup();
});

/** `cra serve <argv>` until it listens: its URL, its output so far, and a stop that answers the exit code. */
async function serve(argv: string[], env: Record<string, string>) {
  let out = '';
  const sink = new Writable({
    write(chunk, _enc, done) {
      out += String(chunk);
      done();
    },
  });
  let server: { url: string; close(): Promise<void> } | undefined;
  let listening!: () => void;
  const ready = new Promise<'listening'>((ok) => (listening = () => ok('listening')));
  const exit = runCli(['serve', ...argv], { stdout: sink, stderr: sink, env, onServer: (s) => ((server = s), listening()) });
  const first = await Promise.race([ready, exit]);
  if (first !== 'listening') throw new Error(`cra serve exited (${first}):\n${out}`);
  return {
    url: server!.url,
    output: () => out,
    /** Closes the server; `cra serve` then returns. */
    stop: async () => {
      await server!.close();
      return exit;
    },
  };
}

const post = (url: string, path: string, body: unknown) =>
  fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));

describe('cra serve', () => {
  it('serves the bundled example atlases when none is named, saying so; flags override the environment', async () => {
    const data = join(tmp.dir, 'data');
    // CRA_PORT in the environment is not a port: --port wins, as --data wins over CRA_DATA_DIR.
    const s = await serve(['--port', '0', '--host', '127.0.0.1', '--data', data], { CRA_AUTH: 'off', CRA_PORT: 'http', CRA_DATA_DIR: join(tmp.dir, 'elsewhere') });
    const { url } = s;
    expect(s.output()).toContain('  atlases: the bundled examples (');
    expect(s.output()).toContain('; set CRA_ATLAS_DIR or --atlas for your own\n  atlas com.example.support@1.2.0 (');
    expect(s.output()).toContain(`  data: ${data} (0 session(s) indexed`);
    expect(s.output()).toMatch(new RegExp(`CRA server listening on ${url.replace(/[.]/g, '\\.')} `));
    // The pid to signal, just before the last line (npx, whose pid `&` gives, does not pass SIGTERM on).
    expect(s.output()).toContain(`\n  pid: ${process.pid} (SIGTERM or SIGINT to this pid stops it gracefully)\nCRA server listening on ${url} `);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    const created = await post(url, '/v1/sessions', { agent_id: 'support-bot', goal: 'Through cra serve' });
    expect(created.status).toBe(201);
    const id = created.body.session_id as string;
    expect((await post(url, `/v1/sessions/${id}/resolve`, { required_capabilities: ['tickets.read'] })).status).toBe(200);
    expect((await post(url, `/v1/sessions/${id}/actions`, { action_id: 'ticket.lookup', parameters: { ticket_id: 'T-10042' } })).body.status).toBe('approved');
    expect((await post(url, `/v1/sessions/${id}/end`, {})).status).toBe(200);
    expect(await s.stop()).toBe(0);
    const verified = await cli(['verify', join(data, 'traces', `${id}.trace.jsonl`)]);
    expect(verified.stdout).toMatch(/^valid: \d+ events, head [0-9a-f]{64}\n$/);
  });

  it('--atlas names the atlases, and the bundled ones are not loaded', async () => {
    const atlases = join(tmp.dir, 'atlases');
    await mkdir(atlases);
    expect((await cli(['atlas', 'init', join(atlases, 'mine')])).code).toBe(0);
    const s = await serve(['--port', '0', '--atlas', atlases, '--data', join(tmp.dir, 'data')], { CRA_AUTH: 'off' });
    expect(s.output()).not.toContain('bundled');
    expect(s.output()).toContain(`  atlas com.example.support@1.2.0 (${join(atlases, 'mine')})`);
    expect(await s.stop()).toBe(0);
  });

  it('an atlas folder named but missing, empty, or with only invalid atlases: refused in one line, exit 1', async () => {
    const data = join(tmp.dir, 'data');
    const missing = await cli(['serve', '--port', '0', '--atlas', join(tmp.dir, 'nonexist'), '--data', data], { env: { CRA_AUTH: 'off' } });
    expect(missing).toEqual({
      code: 1,
      stdout: '',
      stderr: `CRA server failed to start: atlas_not_found: no atlas loaded from ${join(tmp.dir, 'nonexist')}: cannot read ${join(tmp.dir, 'nonexist')}: no such folder\n`,
    });
    const empty = join(tmp.dir, 'empty');
    await mkdir(empty);
    expect((await cli(['serve', '--port', '0', '--data', data], { env: { CRA_AUTH: 'off', CRA_ATLAS_DIR: empty } })).stderr).toBe(
      `CRA server failed to start: atlas_not_found: no atlas loaded from ${empty}: it holds no atlas.json, and none of its subfolders does\n`,
    );
    const invalid = join(tmp.dir, 'invalid');
    await mkdir(join(invalid, 'broken'), { recursive: true });
    await writeFile(join(invalid, 'broken/atlas.json'), '{"atlas_version": "1.0"');
    const r = await cli(['serve', '--port', '0', '--data', data], { env: { CRA_AUTH: 'off', CRA_ATLAS_DIR: invalid } });
    expect([r.code, r.stdout]).toEqual([1, '']);
    // Found but refused: the refusal's code, and the command that lists every error with its pointer.
    expect(r.stderr).toMatch(
      new RegExp(`^CRA server failed to start: invalid_json: no atlas loaded from ${invalid}: ${join(invalid, 'broken')}: invalid_json: .*\\(every error with its JSON pointer: npx cra atlas validate ${invalid}\\)\n$`),
    );
    // One valid atlas beside the broken one: it starts, the broken one reported as skipped.
    await cp(EXAMPLE_ATLAS, join(invalid, 'support'), { recursive: true });
    const s = await serve(['--port', '0', '--data', data], { CRA_AUTH: 'off', CRA_ATLAS_DIR: invalid });
    expect(s.output()).toContain(`  atlas com.example.support@1.2.0 (${join(invalid, 'support')})`);
    expect(s.output()).toContain(`  atlas skipped: ${join(invalid, 'broken')}: invalid_json: `);
    expect(await s.stop()).toBe(0);
  });

  it('--help: every setting of the server with its default, and how to run it so that signals reach it', async () => {
    const help = (await cli(['serve', '--help'])).stdout;
    for (const s of describeSettings()) expect(help).toMatch(new RegExp(`\n  ${s.name} +\\[${s.default.replace(/[.*()[\]]/g, '\\$&')}\\]\n`));
    expect(help).toContain('run node_modules/.bin/cra serve (or exec it\nfrom a script) so that signals reach it');
    expect(help).not.toContain('and the others');
  });

  it('a configuration that cannot start: the one-line failure, exit 1; usage mistakes: exit 2', async () => {
    const bad = await cli(['serve', '--data', join(tmp.dir, 'd')], { env: { CRA_DEFAULT_DECISION: 'maybe' } });
    expect([bad.code, bad.stdout]).toEqual([1, '']);
    expect(bad.stderr).toMatch(/^CRA server failed to start: invalid_request: CRA_DEFAULT_DECISION must be "deny" or "allow"/);
    for (const argv of [['serve', '--port', 'http'], ['serve', '--port', '70000'], ['serve', 'now'], ['serve', '--atlas']]) {
      const r = await cli(argv);
      expect([argv, r.code, r.stdout]).toEqual([argv, 2, '']);
      expect(r.stderr).toContain('Usage: cra serve');
    }
    expect(EXAMPLE_ATLAS).toMatch(/examples\/atlases\/support\/$/);
  });
});
