/**
 * The server runs on Node, Deno and workerd: `cra-runtime/server` (`index.ts`: the app, `assemble`, the start-up
 * report, the workerd adapter) and everything it imports use Web-standard APIs only (no `node:` module, no Node
 * globals). Code for runtimes with files lives in adapter/node, adapter/deno, adapter/files, auth/owner-file.ts and
 * testing.ts.
 */

import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');

async function graph(entry: string): Promise<Map<string, string>> {
  const seen = new Map<string, string>();
  const visit = async (file: string) => {
    if (seen.has(file)) return;
    const text = await readFile(file, 'utf8');
    seen.set(file, text);
    for (const m of text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'/gm)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) await visit(resolve(dirname(file), spec));
    }
  };
  await visit(entry);
  return seen;
}

describe('portability', () => {
  it('cra-runtime/server and its imports use no Node modules or Node globals', async () => {
    const files = await graph(join(HERE, 'index.ts'));
    const names = [...files.keys()].map((f) => relative(ROOT, f)).sort();
    for (const part of ['app.ts', 'assemble.ts', 'report.ts', 'adapter/workerd/index.ts', 'routes/traces.ts']) expect(names).toContain(`server/src/${part}`);
    expect(names).toContain('sdk/src/errors.ts');
    for (const [file, text] of files) {
      const code = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      expect([relative(ROOT, file), /from\s+'node:|require\(|\bprocess\.|\bBuffer\b|__dirname/.test(code)]).toEqual([relative(ROOT, file), false]);
    }
    expect(names.filter((n) => /owner-file|adapter\/(node|deno|files)\/|testing\.ts/.test(n))).toEqual([]);
  });
});
