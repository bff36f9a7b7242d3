/** `cra key`: a key pair generated, written to files, and used: a runtime signs with one half, `cra verify` checks with the other. */

import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers.ts';
import { loadAtlasDir } from '../../atlas/dir.ts';
import { createRuntime } from '../../runtime/runtime.ts';
import { jsonlStore } from '../../storage/jsonl.ts';
import { KEY_GENERATE_USAGE, KEY_USAGE, KEY_VERIFIER_USAGE } from '../commands.ts';
import { cli, EXAMPLE_ATLAS } from '../testing.ts';

let tmp: { dir: string; cleanup(): Promise<void> };

beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(async () => {
  await tmp.cleanup();
});

const SIGNER = /^PRIVATE\+KEY\+cra\.example\.com\/prod\+([0-9a-f]{8})\+[A-Za-z0-9+/]{44}$/;
const VERIFIER = /^cra\.example\.com\/prod\+([0-9a-f]{8})\+[A-Za-z0-9+/]{44}$/;

describe('cra key generate', () => {
  it('prints the signer key (secret) and the verifier key (public), and how to configure each', async () => {
    const r = await cli(['key', 'generate', 'cra.example.com/prod']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const out = r.stdout.split('\n');
    expect(out[0]).toBe('signer key (secret):');
    expect(out[1]).toMatch(SIGNER);
    expect(out[2]).toBe('verifier key (public):');
    expect(out[3]).toMatch(VERIFIER);
    expect(SIGNER.exec(out[1]!)![1]).toBe(VERIFIER.exec(out[3]!)![1]);
    expect(r.stdout).toContain('Keep the signer key secret (above): the runtime signs with it, set as CRA_SIGNING_KEY for cra serve,\nor createRuntime({ signing: { key } }).');
    expect(r.stdout).toContain(`Publish the verifier key (cra.example.com/prod+${VERIFIER.exec(out[3]!)![1]})`);
    // A new pair each time.
    expect((await cli(['key', 'generate', 'cra.example.com/prod'])).stdout.split('\n')[1]).not.toBe(out[1]);
  });

  it('--json: the pair and its name and key id', async () => {
    const r = await cli(['key', 'generate', 'cra.example.com/prod', '--json']);
    const pair = JSON.parse(r.stdout);
    expect(pair).toEqual({ name: 'cra.example.com/prod', key_id: expect.stringMatching(/^[0-9a-f]{8}$/), verifier: expect.stringMatching(VERIFIER), signer: expect.stringMatching(SIGNER) });
  });

  it('--out: <prefix>.key (mode 0600) and <prefix>.pub, never overwritten; a runtime signs with one, cra verify checks with the other', async () => {
    const prefix = join(tmp.dir, 'prod');
    const r = await cli(['key', 'generate', 'cra.example.com/prod', '--out', prefix]);
    expect(r.code).toBe(0);
    const signer = (await readFile(`${prefix}.key`, 'utf8')).trim();
    const verifier = (await readFile(`${prefix}.pub`, 'utf8')).trim();
    expect(signer).toMatch(SIGNER);
    expect(verifier).toMatch(VERIFIER);
    expect((await stat(`${prefix}.key`)).mode & 0o777).toBe(0o600);
    expect(r.stdout).toContain(`wrote the signer key to ${prefix}.key (mode 0600) and the verifier key to ${prefix}.pub:\n${verifier}\n`);
    expect(r.stdout).not.toContain(signer);

    const again = await cli(['key', 'generate', 'cra.example.com/prod', '--out', prefix]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(new RegExp(`^cra key generate: cannot write ${prefix}\\.key: EEXIST`));
    expect((await readFile(`${prefix}.key`, 'utf8')).trim()).toBe(signer);

    const traces = join(tmp.dir, 'traces');
    const runtime = await createRuntime({ storage: jsonlStore({ dir: traces }), atlases: [await loadAtlasDir(EXAMPLE_ATLAS)], signing: { key: signer } });
    let id: string;
    try {
      const session = await runtime.createSession({ agentId: 'support-bot', goal: 'Answer ticket T-10042' });
      await session.end();
      id = session.id;
    } finally {
      await runtime.close();
    }
    const v = await cli(['verify', join(traces, `${id}.trace.jsonl`), '--key', `${prefix}.pub`]);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/; checkpoints: 1 verified \(newest: size 2, key cra\.example\.com\/prod\+[0-9a-f]{8}\)\n$/);
  });

  it('a name that is not a log name: usage error (exit 2) with the core’s reason', async () => {
    const r = await cli(['key', 'generate', 'has space']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^cra key generate: .*\[invalid_request\]\n\nUsage: cra key generate /);
  });
});

describe('cra key verifier', () => {
  it('the verifier key of a signer key, given as the string or a file; --json with its name and id', async () => {
    const pair = JSON.parse((await cli(['key', 'generate', 'cra.example.com/prod', '--json'])).stdout);
    expect(await cli(['key', 'verifier', pair.signer])).toEqual({ code: 0, stdout: `${pair.verifier}\n`, stderr: '' });
    const file = join(tmp.dir, 'signer.key');
    await writeFile(file, `# the prod signer\n${pair.signer}\n`);
    expect((await cli(['key', 'verifier', file])).stdout).toBe(`${pair.verifier}\n`);
    expect(JSON.parse((await cli(['key', 'verifier', file, '--json'])).stdout)).toEqual({ name: pair.name, key_id: pair.key_id, verifier: pair.verifier });
  });

  it('refuses a verifier key, a signer key whose id is not its own, and what is neither (exit 1)', async () => {
    const pair = JSON.parse((await cli(['key', 'generate', 'cra.example.com/prod', '--json'])).stdout);
    const pub = join(tmp.dir, 'only.pub');
    await writeFile(pub, pair.verifier);
    expect(await cli(['key', 'verifier', pub])).toEqual({ code: 1, stdout: '', stderr: `cra key verifier: ${pub} holds no signer key (PRIVATE+KEY+…): a verifier key cannot sign\n` });
    const otherId = pair.key_id === '00000000' ? '00000001' : '00000000';
    const forged = (pair.signer as string).replace(`+${pair.key_id}+`, `+${otherId}+`);
    const r = await cli(['key', 'verifier', forged]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^cra key verifier: .*\(at \/key\) \[invalid_request\]\n$/);
    expect((await cli(['key', 'verifier', 'nothing-here'])).stderr).toBe(
      'cra key verifier: cra key verifier takes a signer key (PRIVATE+KEY+<name>+<key id>+<base64>) or a file holding one: it is neither\n',
    );
  });

  it('usage: --help for the command and each subcommand; cra prove/receipt/key in the overview', async () => {
    expect(await cli(['key', '--help'])).toEqual({ code: 0, stdout: KEY_USAGE, stderr: '' });
    expect(await cli(['key', 'generate', '--help'])).toEqual({ code: 0, stdout: KEY_GENERATE_USAGE, stderr: '' });
    expect(await cli(['key', 'verifier', '-h'])).toEqual({ code: 0, stdout: KEY_VERIFIER_USAGE, stderr: '' });
    expect(await cli(['key'])).toEqual({ code: 2, stdout: '', stderr: `cra key: missing the command (generate or verifier)\n\n${KEY_USAGE}` });
    const overview = (await cli(['--help'])).stdout;
    for (const synopsis of ['  prove <trace.jsonl>', '  prove --verify', '  receipt <trace.jsonl>', '  receipt verify', '  key generate', '  key verifier', '  verify <trace.jsonl> [--checkpoint']) {
      expect(overview).toContain(synopsis);
    }
  });
});
