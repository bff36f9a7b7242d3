import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLES, FIXTURES, tempDir } from '../../test/helpers.ts';
import { loadAtlasDir } from './dir.ts';

describe('loadAtlasDir', () => {
  it('reads atlas.json and the text of every context-pack file', async () => {
    const { manifest, files } = await loadAtlasDir(join(FIXTURES, 'simple-resolve'));
    expect(manifest.atlas_id).toBe('com.cra.conformance.simple');
    expect(Object.keys(files!)).toEqual(['context/overview.md']);
    expect(files!['context/overview.md']).toMatch(/^# Resource overview/);
  });

  it('reads the bundled support atlas', async () => {
    const { manifest, files } = await loadAtlasDir(join(EXAMPLES, 'atlases/support'));
    expect(manifest.atlas_id).toBe('com.example.support');
    expect(Object.keys(files!).sort()).toEqual(['context/playbook.md', 'context/refunds.md']);
  });

  it('accepts a manifest file instead of a folder', async () => {
    const { manifest, files } = await loadAtlasDir(join(FIXTURES, 'simple-resolve/atlas.json'));
    expect(manifest.version).toBe('1.0.0');
    expect(files!['context/overview.md']).toContain('resource.get');
  });

  it('refuses pack files outside the atlas folder, naming the manifest field', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await writeFile(
        join(dir, 'atlas.json'),
        JSON.stringify({ context_packs: [{ pack_id: 'p', name: 'P', files: ['ok.md', '../secret.md'] }] }),
      );
      await writeFile(join(dir, 'ok.md'), 'fine');
      await expect(loadAtlasDir(dir)).rejects.toMatchObject({ code: 'atlas_invalid', path: '/context_packs/0/files/1' });
    } finally {
      await cleanup();
    }
  });

  it('leaves a missing pack file out, and reports an unreadable one, a missing atlas and bad JSON', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await writeFile(join(dir, 'atlas.json'), JSON.stringify({ context_packs: [{ pack_id: 'p', name: 'P', files: ['gone.md', 'here.md'] }] }));
      await writeFile(join(dir, 'here.md'), 'text');
      expect((await loadAtlasDir(dir)).files).toEqual({ 'here.md': 'text' });
      await mkdir(join(dir, 'adir.md'));
      await writeFile(join(dir, 'atlas.json'), JSON.stringify({ context_packs: [{ pack_id: 'p', name: 'P', files: ['adir.md'] }] }));
      await expect(loadAtlasDir(dir)).rejects.toMatchObject({ code: 'atlas_invalid', path: '/context_packs/0/files/0' });
      await expect(loadAtlasDir(join(dir, 'nothing-here'))).rejects.toMatchObject({ code: 'atlas_not_found' });
      await mkdir(join(dir, 'broken'));
      await writeFile(join(dir, 'broken', 'atlas.json'), '{"atlas_id": ');
      await expect(loadAtlasDir(join(dir, 'broken'))).rejects.toMatchObject({ code: 'invalid_json' });
      await mkdir(join(dir, 'empty'));
      await expect(loadAtlasDir(join(dir, 'empty'))).rejects.toMatchObject({ code: 'atlas_not_found' });
    } finally {
      await cleanup();
    }
  });
});
