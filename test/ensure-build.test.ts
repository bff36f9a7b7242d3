/**
 * `prestart` (`scripts/ensure-build.mjs`) in a checkout installed without its dev dependencies (`npm ci
 * --omit=dev`): `dist/` cannot be built there, and the script says what to do instead of failing on a missing
 * command. Run on a copy of the script in a scratch checkout layout (no `node_modules/rollup`, no `dist/`).
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './support/proc.ts';

function runScript(cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(cwd, 'scripts/ensure-build.mjs')], { cwd, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('ensure-build without the dev dependencies', () => {
  it('refuses with the two ways forward, and builds nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cra-omit-dev-'));
    try {
      await mkdir(join(dir, 'scripts'));
      await mkdir(join(dir, 'sdk/src'), { recursive: true });
      await mkdir(join(dir, 'server/src'), { recursive: true });
      await mkdir(join(dir, 'node_modules/hono'), { recursive: true });
      await copyFile(join(ROOT, 'scripts/ensure-build.mjs'), join(dir, 'scripts/ensure-build.mjs'));
      await writeFile(join(dir, 'package.json'), '{"name":"cra-runtime","type":"module"}\n');
      const r = await runScript(dir);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('dist/ must be built (dist/cli.js is missing), and building it needs the dev dependencies');
      expect(r.stderr).toContain('npm install cra-runtime (it ships dist/ built), then npx cra serve');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
