/**
 * Node's run of the parity scenario: it must reproduce the committed `expected.trace.jsonl` byte for byte (the other
 * runtimes' suites compare against the same file), and that trace must verify.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createRuntime, fromJsonl, verifyTrace } from '../../src/index.ts';
import type { AtlasBundle } from '../../src/types.ts';
import { parityHost, runParityScenario } from './scenario.ts';

const here = new URL('./', import.meta.url);

describe('parity scenario (Node)', () => {
  it('gives the committed trace byte for byte, and it verifies', async () => {
    const atlas = JSON.parse(await readFile(new URL('support-bundle.json', here), 'utf8')) as AtlasBundle;
    const runtime = await createRuntime(parityHost());
    try {
      const jsonl = await runParityScenario(runtime, atlas);
      const expected = await readFile(new URL('expected.trace.jsonl', here), 'utf8');
      expect(jsonl).toBe(expected);
      const events = await fromJsonl(jsonl);
      expect(await verifyTrace(events)).toMatchObject({ valid: true, length: events.length });
      expect(events.map((e) => e.event_type)).toContain('policy.violated');
    } finally {
      await runtime.close();
    }
  });
});
