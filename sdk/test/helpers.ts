/** Shared test helpers: deterministic host time and ids, fixtures, temporary folders, fault injection. */

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AtlasBundle, AtlasManifest, TraceEvent } from '../src/types.ts';

// Everything that needs no Node API lives in portable.ts (the browser suites import it directly).
export * from './portable.ts';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
export const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));

export async function readJson<T = unknown>(relative: string): Promise<T> {
  return JSON.parse(await readFile(join(FIXTURES, relative), 'utf8')) as T;
}

export async function readJsonl(relative: string): Promise<TraceEvent[]> {
  const text = await readFile(join(FIXTURES, relative), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as TraceEvent);
}

/** The conformance atlas with its context file. */
export async function simpleAtlas(): Promise<AtlasBundle> {
  const manifest = await readJson<AtlasManifest>('simple-resolve/atlas.json');
  const overview = await readFile(join(FIXTURES, 'simple-resolve/context/overview.md'), 'utf8');
  return { manifest, files: { 'context/overview.md': overview } };
}

export async function tempDir(): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'cra-sdk-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

