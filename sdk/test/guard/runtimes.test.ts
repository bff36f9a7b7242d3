/** The guard scenario in Deno (the `deno` binary of the dev dependencies) and in workerd (Miniflare), offline. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Miniflare } from 'miniflare';
import { afterAll, describe, expect, it } from 'vitest';
import { denoBinary, denoEnv } from '../../../test/support/deno.ts';
import { run } from '../../../test/support/proc.ts';
import { bundleWorker, startWorker } from '../../../test/support/workers.ts';
import { expectScenarioReport } from './expectations.ts';
import type { GuardReport } from './scenario.ts';

const here = new URL('./', import.meta.url);

describe('guard scenario in other runtimes', () => {
  let dir: string | undefined;
  let mf: Miniflare | undefined;
  afterAll(async () => {
    await mf?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('Deno', async () => {
    const r = await run(denoBinary(), ['run', '--no-prompt', '--allow-read', fileURLToPath(new URL('deno.ts', here))], { env: denoEnv(), timeoutMs: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { runtime: string; report: GuardReport };
    expect(out.runtime).toMatch(/^deno 2\./);
    expectScenarioReport(out.report);
  }, 60_000);

  it('workerd', async () => {
    dir = await mkdtemp(join(tmpdir(), 'cra-guard-workerd-'));
    const bundle = await bundleWorker(new URL('worker.ts', here).pathname, dir, { sources: true });
    let url: URL;
    ({ mf, url } = await startWorker(bundle));
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-runtime')).toBe('Cloudflare-Workers');
    expectScenarioReport((await res.json()) as GuardReport);
  }, 60_000);
});
