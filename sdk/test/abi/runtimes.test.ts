/** The ABI version check in Node (here), Deno (the `deno` binary of the dev dependencies) and workerd (Miniflare). */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Miniflare } from 'miniflare';
import { afterAll, describe, expect, it } from 'vitest';
import { denoBinary, denoEnv } from '../../../test/support/deno.ts';
import { run } from '../../../test/support/proc.ts';
import { bundleWorker, startWorker } from '../../../test/support/workers.ts';
import { OTHER_VERSION_CORE, UNVERSIONED_CORE } from '../portable.ts';
import { expectAbiReport } from './expectations.ts';
import { type AbiReport, runAbiScenario } from './scenario.ts';

const here = new URL('./', import.meta.url);

describe('ABI version check in every runtime', () => {
  let dir: string | undefined;
  let mf: Miniflare | undefined;
  afterAll(async () => {
    await mf?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('Node', async () => {
    expectAbiReport(await runAbiScenario({ otherVersion: OTHER_VERSION_CORE, unversioned: UNVERSIONED_CORE }));
  });

  it('the module files workerd loads hold the same bytes as the hand-made cores', async () => {
    expect(new Uint8Array(await readFile(new URL('other-version.wasm', here)))).toEqual(OTHER_VERSION_CORE);
    expect(new Uint8Array(await readFile(new URL('unversioned.wasm', here)))).toEqual(UNVERSIONED_CORE);
  });

  it('Deno', async () => {
    const r = await run(denoBinary(), ['run', '--no-prompt', '--allow-read', fileURLToPath(new URL('deno.ts', here))], { env: denoEnv(), timeoutMs: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { runtime: string; report: AbiReport };
    expect(out.runtime).toMatch(/^deno 2\./);
    expectAbiReport(out.report);
  }, 60_000);

  it('workerd', async () => {
    dir = await mkdtemp(join(tmpdir(), 'cra-abi-workerd-'));
    const bundle = await bundleWorker(new URL('worker.ts', here).pathname, dir, { sources: true });
    let url: URL;
    ({ mf, url } = await startWorker(bundle));
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-runtime')).toBe('Cloudflare-Workers');
    expectAbiReport((await res.json()) as AbiReport);
  }, 60_000);
});
