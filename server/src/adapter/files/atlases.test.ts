/** The atlases of a folder, as the servers on files (Node, Deno) read them at start. */

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadAtlasDir } from '../../../../sdk/src/atlas/dir.ts';
import { createRuntime } from '../../../../sdk/src/runtime/runtime.ts';
import { EXAMPLES, tempDir } from '../../../../sdk/test/helpers.ts';
import { ROOT } from '../../testing.ts';
import { readAtlases } from './atlases.ts';
import { BUNDLED_ATLASES, bundledAtlasesFor, defaultAtlasesFor, packageAtlasesFor } from './index.ts';

describe('readAtlases', () => {
  it('loads a folder’s atlases in an order that satisfies dependencies; skips what cannot load', async () => {
    const t = await tempDir();
    try {
      const manifest = (id: string, extra: object = {}) => ({ atlas_version: '1.0', atlas_id: id, version: '1.0.0', name: id, description: id, ...extra });
      for (const [folder, m] of [
        ['a-dependent', manifest('com.example.dependent', { dependencies: { 'com.example.base': '^1.0.0' } })],
        ['b-base', manifest('com.example.base')],
        ['c-orphan', manifest('com.example.orphan', { dependencies: { 'com.example.missing': '^1.0.0' } })],
        ['d-invalid', manifest('com.example.invalid', { version: 'not-semver' })],
      ] as const) {
        await mkdir(join(t.dir, folder));
        await writeFile(join(t.dir, folder, 'atlas.json'), JSON.stringify(m));
      }
      await mkdir(join(t.dir, 'e-not-an-atlas'));
      const { bundles, report } = await readAtlases(t.dir);
      expect(report.loaded.map((l) => l.atlas_id)).toEqual(['com.example.base', 'com.example.dependent']);
      expect(report.skipped.map((s) => [s.path.split('/').at(-1), s.code])).toEqual([
        ['c-orphan', 'atlas_not_found'],
        ['d-invalid', 'atlas_invalid'],
      ]);
      const rt = await createRuntime({ atlases: bundles });
      expect((await rt.listAtlases()).map((a) => a.atlas_id)).toEqual(['com.example.base', 'com.example.dependent']);
      await rt.close();
      // A folder that is itself an atlas.
      expect((await readAtlases(join(EXAMPLES, 'atlases/support'))).report.loaded).toHaveLength(1);
      expect((await readAtlases(join(t.dir, 'nowhere'))).report.skipped[0]!.code).toBe('atlas_not_found');
      expect(await loadAtlasDir(join(t.dir, 'b-base'))).toEqual({ manifest: manifest('com.example.base'), files: {} });
    } finally {
      await t.cleanup();
    }
  });
});

describe('the default atlas folder', () => {
  it('is the repository examples from the sources, and none from a build (never a folder outside the package)', () => {
    const source = pathToFileURL(join(ROOT, 'server/src/adapter/files/index.ts')).href;
    expect(bundledAtlasesFor(source)).toBe(join(ROOT, 'examples/atlases/'));
    expect(BUNDLED_ATLASES).toBe(join(ROOT, 'examples/atlases/'));
    for (const built of ['/srv/app/node_modules/cra-runtime/dist/server-node.node.js', '/tmp/x/dist/server-node.js']) {
      expect(bundledAtlasesFor(pathToFileURL(built).href)).toBeNull();
    }
  });
});

describe('the package\'s example atlases, for its own built programs', () => {
  it('beside dist/cli.js and dist/server-main.node.js when the package ships them; for no other file', async () => {
    const t = await tempDir();
    try {
      const pkg = join(t.dir, 'node_modules/cra-runtime');
      await mkdir(join(pkg, 'dist'), { recursive: true });
      const url = (name: string) => pathToFileURL(join(pkg, 'dist', name)).href;
      expect(packageAtlasesFor(url('cli.js'))).toBeNull(); // not shipped (yet): none
      await mkdir(join(pkg, 'examples/atlases/support'), { recursive: true });
      expect(packageAtlasesFor(url('cli.js'))).toBe(join(pkg, 'examples/atlases/'));
      expect(packageAtlasesFor(url('server-main.node.js'))).toBe(join(pkg, 'examples/atlases/'));
      // Bundled into someone's own dist/, the same path would be a folder of theirs.
      for (const other of ['app.js', 'server-node.node.js', 'index-abc123.node.js']) expect(packageAtlasesFor(url(other))).toBeNull();
      // From the sources, the repository's examples come first.
      expect(defaultAtlasesFor(url('cli.js'))).toBe(BUNDLED_ATLASES);
    } finally {
      await t.cleanup();
    }
  });
});
