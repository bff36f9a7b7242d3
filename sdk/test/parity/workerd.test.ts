/**
 * workerd's run of the parity scenario (Miniflare from Node, offline): the trace must be the committed
 * `expected.trace.jsonl`, byte for byte.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromJsonl, verifyTrace } from '../../src/index.ts';
import { bundleWorker, startWorker } from '../../../test/support/workers.ts';

const here = new URL('./', import.meta.url);

describe('parity scenario (workerd)', () => {
  let dir: string;
  let mf: Miniflare | undefined;
  let url: URL;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cra-parity-workerd-'));
    const bundle = await bundleWorker(new URL('worker.ts', here).pathname, dir, { sources: true });
    expect(bundle.modules.map((m) => m.type)).toEqual(['ESModule', 'CompiledWasm']);
    ({ mf, url } = await startWorker(bundle));
  }, 60_000);

  afterAll(async () => {
    await mf?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('gives the committed trace byte for byte, and it verifies', async () => {
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-runtime')).toBe('Cloudflare-Workers');
    const jsonl = await res.text();
    expect(jsonl).toBe(await readFile(new URL('expected.trace.jsonl', here), 'utf8'));
    const events = await fromJsonl(jsonl);
    expect(await verifyTrace(events)).toMatchObject({ valid: true, length: events.length });
  }, 30_000);
});
