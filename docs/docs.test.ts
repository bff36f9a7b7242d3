/**
 * The API reference builds clean: TypeDoc reads the package's public entries (typedoc.json, `treatWarningsAsErrors`),
 * emits nothing, and any warning — an undocumented export, a broken `{@link}`, a public type that is referenced but
 * not exported — fails the test, with the warnings as its message.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const run = promisify(execFile);

let warningsOnce: Promise<string[]> | undefined;

/** TypeDoc's warnings, from one run shared by the tests below. */
function typedocWarnings(): Promise<string[]> {
  warningsOnce ??= runTypedoc();
  return warningsOnce;
}

async function runTypedoc(): Promise<string[]> {
  const bin = join(ROOT, 'node_modules', 'typedoc', 'bin', 'typedoc');
  const { stdout, stderr } = await run(process.execPath, [bin, '--emit', 'none', '--logLevel', 'Warn'], {
    cwd: ROOT,
    timeout: 120_000,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
  }).catch((e: { stdout?: string; stderr?: string }) => ({ stdout: e.stdout ?? '', stderr: e.stderr ?? '' }));
  return `${stdout}\n${stderr}`
    .replace(/\x1b\[[0-9;]*m/g, '')
    .split('\n')
    .filter((l) => /^\[(warning|error)\]/.test(l) && !/Found \d+ errors and \d+ warnings/.test(l));
}

describe('API reference (TypeDoc)', () => {
  it('builds with no warning: every public export documented, every link resolved, every referenced type public', async () => {
    expect(await typedocWarnings()).toEqual([]);
  }, 120_000);
});
