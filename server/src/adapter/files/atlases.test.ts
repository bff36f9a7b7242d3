/** The atlases of a folder, as the servers on files (Node, Deno) read them at start. */

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAtlasDir } from '../../../../sdk/src/atlas/dir.ts';
import { createRuntime } from '../../../../sdk/src/runtime/runtime.ts';
import { EXAMPLES, tempDir } from '../../../../sdk/test/helpers.ts';
import { readAtlases } from './atlases.ts';

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
