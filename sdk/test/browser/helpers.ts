/**
 * The browser stand-in for `sdk/test/helpers.ts`. `vitest.browser.config.ts` aliases every import of
 * `…/test/helpers.ts` to this file, so that the Node suites that need nothing but fixtures and portable helpers
 * run unchanged in Chromium. Fixtures come in through Vite (`import.meta.glob` with `?raw`) instead of `node:fs`;
 * everything else is `portable.ts`, shared with Node.
 */
import type { AtlasBundle, AtlasManifest, TraceEvent } from '../../src/types.ts';

export * from '../portable.ts';

const files = import.meta.glob<string>(['../fixtures/**/*.json', '../fixtures/**/*.jsonl', '../fixtures/**/*.md', '../parity/*.json', '../parity/*.jsonl'], {
  query: '?raw',
  import: 'default',
  eager: true,
});

/** The text of a file under `sdk/test/fixtures/` (or `../parity/...`), as committed. */
export function fixtureText(relative: string): string {
  const text = files[`../fixtures/${relative}`] ?? files[relative.replace(/^\.\.\/parity\//, '../parity/')];
  if (text === undefined) throw new Error(`no fixture ${relative} (sdk/test/browser/helpers.ts bundles json, jsonl and md files)`);
  return text;
}

export async function readJson<T = unknown>(relative: string): Promise<T> {
  return JSON.parse(fixtureText(relative)) as T;
}

export async function readJsonl(relative: string): Promise<TraceEvent[]> {
  return fixtureText(relative)
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as TraceEvent);
}

/** The conformance atlas with its context file. */
export async function simpleAtlas(): Promise<AtlasBundle> {
  const manifest = await readJson<AtlasManifest>('simple-resolve/atlas.json');
  return { manifest, files: { 'context/overview.md': fixtureText('simple-resolve/context/overview.md') } };
}

/** The example support atlas (`examples/atlases/support`) as one bundle, as the parity suites use it. */
export function supportAtlas(): AtlasBundle {
  return JSON.parse(fixtureText('../parity/support-bundle.json')) as AtlasBundle;
}

export async function tempDir(): Promise<never> {
  throw new Error('tempDir: there is no file system in the browser (this suite belongs to the Node run only)');
}
