/** `cra atlas init` and `cra atlas validate`: real folders in a temp dir, the real core judging. */

import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers.ts';
import { cli, EXAMPLE_ATLAS } from '../testing.ts';

let tmp: { dir: string; cleanup(): Promise<void> };
beforeEach(async () => {
  tmp = await tempDir();
});
afterEach(async () => {
  await tmp.cleanup();
});

describe('cra atlas init', () => {
  it('copies the example atlas into a new folder, which then validates', async () => {
    const dir = join(tmp.dir, 'atlases/support');
    const r = await cli(['atlas', 'init', dir]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toMatch(/^created .*: the example atlas com\.example\.support@1\.2\.0 \(atlas\.json, context\/playbook\.md, context\/refunds\.md\)\n/);
    expect(await readFile(join(dir, 'atlas.json'), 'utf8')).toBe(await readFile(join(EXAMPLE_ATLAS, 'atlas.json'), 'utf8'));
    expect((await cli(['atlas', 'validate', dir])).code).toBe(0);
  });

  it('--json reports what it created', async () => {
    const dir = join(tmp.dir, 'mine');
    const r = await cli(['atlas', 'init', dir, '--json']);
    expect(JSON.parse(r.stdout)).toEqual({ created: dir, atlas_id: 'com.example.support', version: '1.2.0', files: ['atlas.json', 'context/playbook.md', 'context/refunds.md'] });
  });

  it('refuses a folder that is not empty (exit 1), leaving it as it was; an empty one is used', async () => {
    const dir = join(tmp.dir, 'taken');
    await mkdir(dir);
    await writeFile(join(dir, 'notes.txt'), 'mine');
    const r = await cli(['atlas', 'init', dir]);
    expect([r.code, r.stdout]).toEqual([1, '']);
    expect(r.stderr).toBe(`cra atlas init: ${dir} exists and is not an empty folder: choose another (cra atlas init <dir>)\n`);
    expect(await readdir(dir)).toEqual(['notes.txt']);
    const file = join(tmp.dir, 'a-file');
    await writeFile(file, '');
    expect((await cli(['atlas', 'init', file])).code).toBe(1);
    const empty = join(tmp.dir, 'empty');
    await mkdir(empty);
    expect((await cli(['atlas', 'init', empty])).code).toBe(0);
  });

  it('defaults to atlases/support under the working directory', async () => {
    const cwd = process.cwd();
    process.chdir(tmp.dir);
    try {
      expect((await cli(['atlas', 'init'])).code).toBe(0);
      expect(await readdir(join(tmp.dir, 'atlases/support'))).toEqual(['atlas.json', 'context']);
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('cra atlas validate', () => {
  const copy = async () => {
    const dir = join(tmp.dir, 'atlas');
    expect((await cli(['atlas', 'init', dir])).code).toBe(0);
    const manifest = JSON.parse(await readFile(join(dir, 'atlas.json'), 'utf8')) as { policies: Array<{ type: string }> };
    return { dir, manifest, write: (m: unknown) => writeFile(join(dir, 'atlas.json'), JSON.stringify(m)) };
  };

  it('a valid folder, and a manifest file: exit 0', async () => {
    const r = await cli(['atlas', 'validate', EXAMPLE_ATLAS]);
    expect(r).toEqual({ code: 0, stdout: `valid: com.example.support@1.2.0 in ${join(EXAMPLE_ATLAS, 'atlas.json')}: 0 error(s), 0 warning(s)\n`, stderr: '' });
    const file = await cli(['atlas', 'validate', join(EXAMPLE_ATLAS, 'atlas.json'), '--json']);
    expect(file.code).toBe(0);
    // The file alone: its context files are read beside it, as for the folder.
    expect(JSON.parse(file.stdout)).toEqual({ valid: true, file: join(EXAMPLE_ATLAS, 'atlas.json'), atlas_id: 'com.example.support', version: '1.2.0', errors: [], warnings: [] });
  });

  it('an error: its code, message, JSON pointer and file; exit 1', async () => {
    const { dir, manifest, write } = await copy();
    manifest.policies[1]!.type = 'needs_approval';
    await write(manifest);
    const manifestFile = join(dir, 'atlas.json');
    const r = await cli(['atlas', 'validate', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      'error atlas_invalid: `needs_approval` is not a policy type (allow, deny, rate_limit, require_approval, budget, scope) ' +
        `(at /policies/1/type in ${manifestFile})\nINVALID: com.example.support@1.2.0 in ${manifestFile}: 1 error(s), 0 warning(s)\n`,
    );
    const json = await cli(['atlas', 'validate', dir, '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      valid: false,
      errors: [{ code: 'atlas_invalid', path: '/policies/1/type', file: manifestFile }],
      warnings: [],
    });
  });

  it('warnings alone pass (a context file the folder lacks)', async () => {
    const { dir } = await copy();
    await rm(join(dir, 'context/refunds.md'));
    const r = await cli(['atlas', 'validate', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^warning atlas_warning: .*context\/refunds\.md.* \(at \/context_packs\/1\/files\/0 in .*atlas\.json\)\n/);
  });

  it('what cannot be read is the error: no atlas, broken JSON, a context file outside the folder', async () => {
    const none = await cli(['atlas', 'validate', join(tmp.dir, 'nowhere'), '--json']);
    expect(none.code).toBe(1);
    expect(JSON.parse(none.stdout).errors).toEqual([{ code: 'atlas_not_found', message: `no atlas at ${join(tmp.dir, 'nowhere')}`, path: null, file: join(tmp.dir, 'nowhere') }]);
    const { dir, manifest, write } = await copy();
    await writeFile(join(dir, 'atlas.json'), '{"atlas_version": ');
    const broken = await cli(['atlas', 'validate', dir]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/^error invalid_json: cannot read .*atlas\.json: .* \(in .*atlas\.json\)\nINVALID: /);
    // Where: the line and column, not only the character position (a JSON text cut short: its end).
    expect(broken.stdout).toMatch(/Unexpected end of JSON input \(line 1, column 19\)|line 1 column 19/);
    await writeFile(join(dir, 'atlas.json'), '{\n  "atlas_version": "1.0"\n  "atlas_id": "x"\n}\n');
    const json = JSON.parse((await cli(['atlas', 'validate', dir, '--json'])).stdout) as { errors: Array<{ code: string; message: string }> };
    expect(json.errors.map((e) => e.code)).toEqual(['invalid_json']);
    expect(json.errors[0]!.message).toMatch(/\(line 3, column 3\)$|line 3 column 3/);
    await write({ ...manifest, context_packs: [{ pack_id: 'p', name: 'p', description: 'p', files: ['../../secret.md'] }] });
    const outside = await cli(['atlas', 'validate', dir, '--json']);
    expect(outside.code).toBe(1);
    expect(JSON.parse(outside.stdout).errors).toEqual([
      { code: 'atlas_invalid', message: 'context file ../../secret.md is outside the atlas folder', path: '/context_packs/0/files/0', file: join(dir, 'atlas.json') },
    ]);
  });
});
