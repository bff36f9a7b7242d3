/**
 * What the cold-start figures stand on: the layout of the builds that are loaded without a bundler (a page's
 * `import()` of `index.web.js` is one request, not a chain; Node resolves one file for `cra-runtime`), and the
 * fresh-process child of the bench, run once on the built package.
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { DIST, ensureDist } from '../../test/support/dist.ts';
import { processColdStart } from './cold-start.ts';

/** The specifiers a module imports statically (`import … from`, `export … from`, bare `import '…'`). */
async function staticImports(file: string): Promise<string[]> {
  const info = ts.preProcessFile(await readFile(file, 'utf8'), true, false);
  return info.importedFiles.map((f) => f.fileName);
}

describe('the builds loaded without a bundler', () => {
  beforeAll(async () => {
    await ensureDist();
  }, 180_000);

  it('index.web.js is one file: it imports nothing (no chunk, no dependency to map)', async () => {
    expect(await staticImports(join(DIST, 'index.web.js'))).toEqual([]);
  });

  it('index.node.js imports Node built-ins only', async () => {
    const imports = await staticImports(join(DIST, 'index.node.js'));
    expect(imports.filter((s) => !s.startsWith('node:'))).toEqual([]);
  });

  it('the other entries share its classes: they import from index.<build>.js', async () => {
    for (const build of ['web', 'node']) {
      expect(await staticImports(join(DIST, `client.${build}.js`))).toContain(`./index.${build}.js`);
      expect(await staticImports(join(DIST, `server.${build}.js`))).toContain(`./index.${build}.js`);
    }
  });

});

describe('the fresh-process cold start of the bench', () => {
  beforeAll(async () => {
    await ensureDist();
  }, 180_000);

  it('a fresh process starts from the built package and times each step', async () => {
    const [plain] = await processColdStart(1);
    expect(plain).toMatchObject({ from: 'dist' });
    expect(plain!.create_runtime_ms).toBeCloseTo(plain!.core_ms! + plain!.configure_ms!, 6);
    for (const k of ['import_ms', 'core_ms', 'configure_ms', 'atlas_ms', 'first_check_ms'] as const) expect(plain![k]).toBeGreaterThan(0);
    const [atlas] = await processColdStart(1, true);
    expect(atlas).toMatchObject({ from: 'dist' });
    expect(atlas!.create_runtime_ms).toBeGreaterThan(0);
    expect(atlas!.core_ms).toBeUndefined();
  }, 60_000);

  it('without a build, the same child runs on the sources (through tsx) and says so', async () => {
    const [plain] = await processColdStart(1, false, 'sources');
    expect(plain).toMatchObject({ from: 'sources' });
    expect(plain!.atlas_ms).toBeGreaterThan(0);
  }, 60_000);
});
