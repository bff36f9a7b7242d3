/**
 * A scenario run outside Node: a Deno script that prints `{runtime, report}` as JSON, or a worker whose response is
 * the report. Suites that check one behaviour in every runtime (guard, ABI version) share these two drivers.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { denoBinary, denoEnv } from './deno.ts';
import { run } from './proc.ts';
import { bundleWorker, startWorker } from './workers.ts';

/** Runs `script` with Deno (read access only) and answers the report it printed; the runtime must be Deno 2. */
export async function reportFromDeno<T>(script: URL): Promise<T> {
  const r = await run(denoBinary(), ['run', '--no-prompt', '--allow-read', fileURLToPath(script)], { env: denoEnv(), timeoutMs: 30_000 });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout) as { runtime: string; report: T };
  expect(out.runtime).toMatch(/^deno 2\./);
  return out.report;
}

/** Bundles `worker` (the SDK's sources, for workerd), fetches it once in Miniflare and answers the report. */
export async function reportFromWorkerd<T>(worker: URL): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'cra-scenario-workerd-'));
  const bundle = await bundleWorker(fileURLToPath(worker), dir, { sources: true });
  const { mf, url } = await startWorker(bundle);
  try {
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-runtime')).toBe('Cloudflare-Workers');
    return (await res.json()) as T;
  } finally {
    await mf.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}
