/**
 * Deno's run of the parity scenario (the `deno` binary of the dev dependencies, offline): the trace must be the
 * committed `expected.trace.jsonl`, byte for byte.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fromJsonl, verifyTrace } from '../../src/index.ts';
import { denoBinary, denoEnv } from '../../../test/support/deno.ts';
import { run } from '../../../test/support/proc.ts';

const here = new URL('./', import.meta.url);

describe('parity scenario (Deno)', () => {
  it('gives the committed trace byte for byte, and it verifies', async () => {
    const script = fileURLToPath(new URL('deno.ts', here));
    const r = await run(denoBinary(), ['run', '--no-prompt', `--allow-read`, script], { env: denoEnv(), timeoutMs: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { runtime: string; jsonl: string };
    expect(out.runtime).toMatch(/^deno 2\./);
    expect(out.jsonl).toBe(await readFile(new URL('expected.trace.jsonl', here), 'utf8'));
    const events = await fromJsonl(out.jsonl);
    expect(await verifyTrace(events)).toMatchObject({ valid: true, length: events.length });
  }, 60_000);
});
