/** The root entry must run in browsers and workers: nothing it imports, directly or not, may be Node-only. */

import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = dirname(fileURLToPath(import.meta.url));
const IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm;

/** Every module reachable from `entry` by static imports: local files and bare specifiers. */
async function graph(entry: string): Promise<{ files: Set<string>; external: Set<string> }> {
  const files = new Set<string>();
  const external = new Set<string>();
  const visit = async (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const text = await readFile(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2]!;
      if (spec.startsWith('.')) await visit(resolve(dirname(file), spec));
      else external.add(spec);
    }
  };
  await visit(resolve(SRC, entry));
  return { files, external };
}

describe('entries', () => {
  it('index.ts reaches no Node-only module', async () => {
    const { files, external } = await graph('index.ts');
    expect([...external].sort()).toEqual(['@cfworker/json-schema', '@opentelemetry/api']);
    const rel = [...files].map((f) => f.slice(SRC.length + 1));
    expect(rel).not.toContain('storage/jsonl.ts');
    expect(rel).not.toContain('collector/jsonl-sink.ts');
    expect(rel).not.toContain('atlas/dir.ts');
  });

  it('node.ts adds the Node extras', async () => {
    const { external } = await graph('node.ts');
    expect([...external].filter((s) => s.startsWith('node:')).sort()).toEqual(['node:fs', 'node:fs/promises', 'node:path']);
  });
});
