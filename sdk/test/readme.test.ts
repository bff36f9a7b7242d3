/**
 * The README's quick start must run exactly as written: this test takes the code block from README.md, saves it at
 * the repository root (where the README says to save it) and runs it with tsx in a child process.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);

async function quickStart(): Promise<string> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const section = readme.split('## Quick start')[1] ?? '';
  const block = /```ts\n([\s\S]*?)```/.exec(section);
  if (!block?.[1]) throw new Error('README.md has no ts block under "## Quick start"');
  return block[1];
}

describe('README server walk-through', () => {
  it('is the script that server/src/walkthrough.test.ts runs against `npm start`', async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const block = /```bash\n([\s\S]*?)```/.exec(readme.split('## Server')[1] ?? '');
    const script = await readFile(join(ROOT, 'server', 'walkthrough.sh'), 'utf8');
    expect(block?.[1]).toBe(script.split('set -euo pipefail\n')[1]);
  });
});

describe('README quick start', () => {
  it('runs as written and prints an allow, a policy denial and a valid chain', async () => {
    const file = join(ROOT, `.quickstart-${randomUUID()}.ts`);
    await writeFile(file, await quickStart());
    try {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, timeout: 60_000 });
      const lines = stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^allow ticket\.lookup, /);
      expect(lines[0]).not.toContain('customer.delete');
      expect(lines[1]).toBe('denied Customer data is deleted only by the privacy team (GDPR erasure workflow)');
      expect(stdout).toMatch(/valid: true/);
    } finally {
      await rm(file, { force: true });
    }
  });
});
