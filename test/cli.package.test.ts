/**
 * The `cra` command from the installed package, the way a user runs it: `npm run build` (reused while fresh),
 * `npm pack`, the tarball installed into a scratch project without dev dependencies (`--omit=dev`: no tsx, no
 * vitest, no TypeScript), then `npx cra …` from there: a server over real HTTP stopped by SIGTERM, its trace
 * verified (and a damaged copy refused), a new atlas made, validated, broken and refused, and every command's help.
 */

import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDist } from './support/dist.ts';
import { ROOT, run, start } from './support/proc.ts';

/** npm for the child: none of the `npm test` run's own settings, no audit, no funding, no update check. */
function npmEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('npm_') && !/^npm_config_(cache|registry|userconfig|globalconfig)$/.test(k)) continue;
    if (k.startsWith('CRA_') || k === 'NODE_OPTIONS') continue;
    env[k] = v;
  }
  return { ...env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false', ...extra };
}

const KEY = 'cra_package_test_key_0123456789abcdef';

describe('cra from the installed package (no dev dependencies)', () => {
  let tmp: string;
  let app: string;
  const npx = (args: string[], env: NodeJS.ProcessEnv = {}) => run('npx', ['--no-install', 'cra', ...args], { cwd: app, env: npmEnv(env), timeoutMs: 60_000 });

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'cra-cli-package-'));
    app = join(tmp, 'app');
    await ensureDist();
    const pack = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { env: npmEnv() });
    expect(pack.code, pack.stderr).toBe(0);
    const [info] = JSON.parse(pack.stdout) as Array<{ filename: string }>;
    await run('mkdir', ['-p', app]);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'cra-cli-scratch', private: true, type: 'module' }, null, 2));
    const flags = ['--omit=dev', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock'];
    const tarball = join(tmp, info!.filename);
    let install = await run('npm', ['install', tarball, '--offline', ...flags], { cwd: app, env: npmEnv() });
    // Offline needs the dependencies in npm's cache (npm ci put them there); else ask the registry.
    if (install.code !== 0) install = await run('npm', ['install', tarball, '--prefer-offline', ...flags], { cwd: app, env: npmEnv() });
    expect(install.code, install.stderr).toBe(0);
  }, 240_000);

  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('installs no dev dependency: the scratch project has no tsx, vitest, typescript or rollup', async () => {
    const installed = await readdir(join(app, 'node_modules'));
    for (const dev of ['tsx', 'vitest', 'typescript', 'rollup', 'esbuild']) expect(installed).not.toContain(dev);
    expect(installed).toContain('cra-runtime');
  });

  it('serve → HTTP (health, session, action, end) → SIGTERM; verify the trace it wrote, and refuse a changed copy', async () => {
    const data = join(tmp, 'data');
    // The bin npx runs, run directly: npx, signalled, ends by the signal itself, hiding the server's exit code.
    const server = await start(join(app, 'node_modules/.bin/cra'), ['serve', '--port', '0', '--data', data], {
      cwd: app,
      env: npmEnv({ CRA_API_KEYS: KEY }),
      ready: /CRA server listening on (http:\/\/\S+) /,
      timeoutMs: 60_000,
    });
    let id: string;
    try {
      const url = server.match[1]!;
      // No --atlas: the example the package ships, from inside the installed package.
      expect(server.output().stdout).toContain(`  atlases: the bundled examples (${join(app, 'node_modules/cra-runtime/examples/atlases/')}); set CRA_ATLAS_DIR or --atlas for your own\n`);
      expect(server.output().stdout).toContain('  atlas com.example.support@1.2.0 (');
      const call = async (method: string, path: string, body?: unknown) => {
        const res = await fetch(`${url}${path}`, {
          method,
          headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      };
      expect((await call('GET', '/health')).status).toBe(200);
      const created = await call('POST', '/v1/sessions', { agent_id: 'support-bot', goal: 'From the installed package' });
      expect(created.status).toBe(201);
      id = created.body.session_id as string;
      expect((await call('POST', `/v1/sessions/${id}/resolve`, { required_capabilities: ['tickets.read'] })).status).toBe(200);
      const action = await call('POST', `/v1/sessions/${id}/actions`, { action_id: 'ticket.lookup', parameters: { ticket_id: 'T-10042' } });
      expect(action.body.status).toBe('approved');
      expect((await call('POST', `/v1/sessions/${id}/end`, {})).status).toBe(200);
      expect(await server.stop('SIGTERM', 15_000)).toBe(0);
      expect(server.output().stdout).toMatch(/SIGTERM: shutting down\nstopped\n$/);
    } finally {
      await server.stop('SIGKILL');
    }

    const trace = join(data, 'traces', `${id}.trace.jsonl`);
    const verified = await npx(['verify', trace]);
    expect(verified.stderr).toBe('');
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/^valid: \d+ events, head [0-9a-f]{64}\n$/);
    const head = /head ([0-9a-f]{64})/.exec(verified.stdout)![1]!;
    expect((await npx(['verify', trace, '--head', head, '--json'])).code).toBe(0);

    // One byte changed in the third event: a digit of its timestamp.
    const lines = (await readFile(trace, 'utf8')).split('\n');
    lines[2] = lines[2]!.replace(/"timestamp":"(\d)/, (_m, d: string) => `"timestamp":"${d === '1' ? '2' : '1'}`);
    const changed = join(tmp, 'changed.trace.jsonl');
    await writeFile(changed, lines.join('\n'));
    const refused = await npx(['verify', changed]);
    expect([refused.code, refused.stdout]).toEqual([1, 'INVALID at event 2: its content does not match its event_hash (changed after it was recorded) (hash_mismatch)\n']);
    expect(JSON.parse((await npx(['verify', changed, '--json'])).stdout)).toEqual({ file: changed, valid: false, index: 2, reason: 'hash_mismatch' });

    // The stored session out of the data folder, byte for byte.
    const exported = await npx(['trace', 'export', id, '--data', data]);
    expect(exported.stdout).toBe(await readFile(trace, 'utf8'));
  }, 120_000);

  it('atlas init → validate (ok) → a policy of a wrong type → validate: exit 1 with the JSON pointer', async () => {
    const init = await npx(['atlas', 'init']);
    expect([init.code, init.stderr]).toEqual([0, '']);
    expect(init.stdout).toMatch(/^created atlases\/support: the example atlas com\.example\.support@1\.2\.0/);
    expect((await npx(['atlas', 'init'])).code).toBe(1); // not over an existing atlas
    const ok = await npx(['atlas', 'validate', 'atlases/support']);
    expect([ok.code, ok.stdout]).toEqual([0, 'valid: com.example.support@1.2.0 in atlases/support/atlas.json: 0 error(s), 0 warning(s)\n']);
    const file = join(app, 'atlases/support/atlas.json');
    const manifest = JSON.parse(await readFile(file, 'utf8')) as { policies: Array<{ type: string }> };
    manifest.policies[0]!.type = 'forbid';
    await writeFile(file, JSON.stringify(manifest, null, 2));
    const bad = await npx(['atlas', 'validate', 'atlases/support', '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ valid: false, errors: [{ code: 'atlas_invalid', path: '/policies/0/type', file: 'atlases/support/atlas.json' }] });
    const text = await npx(['atlas', 'validate', 'atlases/support']);
    expect(text.stdout).toContain('(at /policies/0/type in atlases/support/atlas.json)');
    await cp(join(ROOT, 'examples/atlases/support/atlas.json'), file); // the scratch atlas again as shipped
  }, 120_000);

  it('--help of every command and subcommand (exit 0, stdout); a usage mistake exits 2', async () => {
    const bin = join(app, 'node_modules/.bin/cra');
    for (const command of [[], ['serve'], ['verify'], ['atlas'], ['atlas', 'init'], ['atlas', 'validate'], ['trace'], ['trace', 'export'], ['trace', 'diff'], ['trace', 'replay'], ['mcp-proxy']]) {
      const r = await run(bin, [...command, '--help'], { cwd: app, env: npmEnv() });
      expect([command, r.code, r.stderr]).toEqual([command, 0, '']);
      expect(r.stdout).toMatch(new RegExp(`^Usage: cra ${command.length ? command.join(' ') : '<command>'} `));
    }
    const usage = await npx(['verify']);
    expect([usage.code, usage.stdout]).toEqual([2, '']);
    expect(usage.stderr).toMatch(/^cra verify: missing <trace\.jsonl>\n\nUsage: cra verify/);
  }, 120_000);
});
